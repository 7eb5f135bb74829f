// uprobe (libbpf-bootstrap): uprobes and uretprobes on two functions of this binary,
// uprobed_add() and uprobed_sub(), in every process that runs it. Like the original, the tool
// calls both once a second itself; `--call A B` runs the binary only to call them once with A and
// B (another process hitting the same probes). Run as root:
//
//   corebpf-uprobe [-j] [-p PID]          trace (Ctrl-C ends)
//   corebpf-uprobe --call A B             call uprobed_add(A, B) and uprobed_sub(A, B), print, exit
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "tools.hpp"
#include "uprobe.skel.hpp"

namespace tools = corebpf::tools;

// The probed functions: external linkage, C names, never inlined, so each is one symbol in this
// binary's symbol table that every call goes through.
extern "C" __attribute__((noinline)) int uprobed_add(int a, int b) {
  asm volatile("" ::: "memory");
  return a + b;
}

extern "C" __attribute__((noinline)) int uprobed_sub(int a, int b) {
  asm volatile("" ::: "memory");
  return a - b;
}

int main(int argc, char** argv) {
  return tools::run_tool("uprobe", [&] {
    tools::Cli cli("uprobe", "libbpf-bootstrap's uprobe: entry and return of two functions of this binary");
    cli.add_json().add_pid("trace this process only (default: every process running this binary)").add_perf_buffer();
    std::vector<int> call;
    cli.app()
        .add_option("--call", call, "only call uprobed_add(A, B) and uprobed_sub(A, B) once, then exit")
        ->expected(2)
        ->type_name("A B");
    cli.parse(argc, argv);
    const auto& options = cli.options;
    if (!call.empty()) {
      const int sum = uprobed_add(call[0], call[1]);
      const int difference = uprobed_sub(call[0], call[1]);
      fmt::print("uprobed_add({0}, {1}) = {2}, uprobed_sub({0}, {1}) = {3}\n", call[0], call[1], sum, difference);
      return 0;
    }

    const auto self = std::filesystem::read_symlink("/proc/self/exe").string();
    auto skel = uprobe::Skeleton::open();
    const auto stream = tools::prepare_events(skel.object().spec(), options.perf_buffer);
    skel.load();
    std::vector<corebpf::Link> links;
    const auto attach = [&](corebpf::Program& program, const char* function, bool retprobe) {
      corebpf::UprobeOptions probe;
      probe.function = function;
      probe.retprobe = retprobe;
      if (options.pid != 0) probe.pid = options.pid;
      links.push_back(program.attach_uprobe(self, probe));
    };
    attach(skel.progs.uprobe_add, "uprobed_add", false);
    attach(skel.progs.uretprobe_add, "uprobed_add", true);
    attach(skel.progs.uprobe_sub, "uprobed_sub", false);
    attach(skel.progs.uretprobe_sub, "uprobed_sub", true);

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<uprobe::types::uprobe_event>(data);
      const char* function = e.function == 0 ? "uprobed_add" : "uprobed_sub";
      if (options.json) {
        nlohmann::json line = {{"pid", e.pid},
                               {"comm", tools::text(e.comm)},
                               {"function", function},
                               {"probe", e.is_return ? "exit" : "entry"}};
        if (e.is_return)
          line["ret"] = e.ret;
        else
          line["args"] = {e.a, e.b};
        tools::JsonLines::emit(line);
        return;
      }
      if (e.is_return)
        fmt::print("{:<7} {:<16} {} EXIT: return = {}\n", e.pid, tools::text(e.comm), function, e.ret);
      else
        fmt::print("{:<7} {:<16} {} ENTRY: a = {}, b = {}\n", e.pid, tools::text(e.comm), function, e.a, e.b);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) fmt::print("{:<7} {:<16} {}\n", "PID", "COMM", "PROBE");
    tools::ready("uprobe", fmt::format("uprobes on {}: uprobed_add, uprobed_sub; {}", self, stream));
    // As the original: call both functions once a second.
    for (int i = 0; !tools::stop_requested(); ++i) {
      uprobed_add(i, i + 1);
      uprobed_sub(i * i, i);
      for (int slice = 0; slice < 10 && !tools::stop_requested(); ++slice) events.poll(100);
    }
    events.drain();
    return 0;
  });
}
