// ksyscall (libbpf-bootstrap): kprobes on the kill(2) and tgkill(2) system calls, attached by
// syscall name (SEC("ksyscall/kill")), and a line per call: who sent which signal to whom. Needs
// kprobes (a kernel without them gets a one-line reason). Run as root:
//
//   corebpf-ksyscall [-j]
#include <fmt/format.h>

#include "ksyscall.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("ksyscall", [&] {
    tools::Cli cli("ksyscall", "libbpf-bootstrap's ksyscall: kill() and tgkill() calls through syscall kprobes");
    cli.add_json().add_perf_buffer();
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = ksyscall::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::AttachPlan plan;
    plan.add({tools::HookKind::kprobe, {"kill_entry", "tgkill_entry"}, {}});
    plan.choose(spec);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    skel.load();
    const auto links = plan.attach(skel.object());

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<ksyscall::types::kill_event>(data);
      if (options.json) {
        nlohmann::json line = {{"syscall", e.is_tgkill ? "tgkill" : "kill"},
                               {"pid", e.pid},
                               {"tid", e.tid},
                               {"comm", tools::text(e.comm)},
                               {"target_pid", e.target_pid},
                               {"sig", e.sig}};
        if (e.is_tgkill) line["target_tid"] = e.target_tid;
        tools::JsonLines::emit(line);
        return;
      }
      if (e.is_tgkill)
        fmt::print("TGKILL syscall called by PID {} ({}) for thread id {} with pid {} and signal {}.\n", e.pid,
                   tools::text(e.comm), e.target_tid, e.target_pid, e.sig);
      else
        fmt::print("KILL syscall called by PID {} ({}) for PID {} with signal {}.\n", e.pid, tools::text(e.comm),
                   e.target_pid, e.sig);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("ksyscall", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    return 0;
  });
}
