// profile (libbpf-bootstrap): samples every CPU at a frequency (the CPU clock software event, which
// every kernel and virtual machine has) and prints each sample's task with its kernel and user
// stacks, symbolized (kernel addresses from /proc/kallsyms, user addresses from the ELF symbols
// of the files the process maps). Output like the original's:
//
//   COMM: burn (pid=4242) @ CPU 1
//   Kernel:
//     0 [<ffffffff81e2a1b0>] asm_sysvec_apic_timer_interrupt+0x16
//   Userspace:
//     0 [<000055d1c1a2b130>] busy_loop+0x10
//
//   corebpf-profile [-j] [-p PID] [-F HZ]
#include <linux/perf_event.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "profile.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("profile", [&] {
    tools::Cli cli("profile", "libbpf-bootstrap's profile: CPU samples with kernel and user stacks, symbolized");
    cli.add_json().add_pid("sample this process only").add_perf_buffer();
    std::uint64_t frequency = 49;
    cli.app()
        .add_option("-F,--frequency", frequency, "samples per second on each CPU (default 49)")
        ->check(CLI::Range(1, 10000));
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = profile::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::require_programs(spec);
    tools::apply_filters(spec, options);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    skel.load();
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.freq = 1;
    attr.sample_freq = frequency;
    const auto links = skel.progs.profile.attach_perf_event_per_cpu(attr);

    tools::Symbolizer symbols;
    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<profile::types::stack_event>(data);
      const auto frames = [&](const auto& stack, int size, bool kernel) {
        std::vector<std::pair<std::uint64_t, std::string>> out;
        if (size <= 0) return out;
        const auto depth = std::min<std::size_t>(size / sizeof(stack[0]), std::size(stack));
        for (std::size_t i = 0; i < depth; ++i)
          out.emplace_back(stack[i], kernel ? symbols.kernel(stack[i]) : symbols.user(e.pid, stack[i]));
        return out;
      };
      const auto kernel = frames(e.kstack, e.kstack_size, true);
      const auto user = frames(e.ustack, e.ustack_size, false);
      if (options.json) {
        const auto names = [](const auto& list) {
          nlohmann::json array = nlohmann::json::array();
          for (const auto& frame : list) array.push_back(frame.second);
          return array;
        };
        tools::JsonLines::emit({{"pid", e.pid},
                                {"comm", tools::text(e.comm)},
                                {"cpu", e.cpu},
                                {"kstack", names(kernel)},
                                {"ustack", names(user)}});
        return;
      }
      std::string text = fmt::format("COMM: {} (pid={}) @ CPU {}\n", tools::text(e.comm), e.pid, e.cpu);
      const auto print = [&](const char* title, const auto& list, int size) {
        if (size < 0) {
          text += fmt::format("No {} stack ({})\n", title, tools::errno_name(-size));
          return;
        }
        if (list.empty()) return;
        text += fmt::format("{}:\n", title);
        for (std::size_t i = 0; i < list.size(); ++i)
          text += fmt::format("  {} [<{:016x}>] {}\n", i, list[i].first, list[i].second);
      };
      print("Kernel", kernel, e.kstack_size);
      print("Userspace", user, e.ustack_size);
      fmt::print("{}\n", text);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("profile",
                 fmt::format("perf_event cpu-clock at {} Hz on {} CPUs; {}", frequency, links.size(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "profile: {} samples lost\n", events.lost());
    return 0;
  });
}
