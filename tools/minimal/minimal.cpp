// minimal (libbpf-bootstrap): a tracepoint on write(2) entry for one process (this one unless
// -p says another) that prints "BPF triggered from PID N." to the trace buffer
// (/sys/kernel/tracing/trace_pipe) and counts the calls in its .bss, read live from here. Like the
// original it writes a '.' to stderr every second (so it triggers itself); -j prints the count
// every second as a JSON line instead. Run as root:
//
//   corebpf-minimal [-j] [-p PID]
#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>

#include "minimal.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("minimal", [&] {
    tools::Cli cli("minimal", "libbpf-bootstrap's minimal: write(2) calls of one process, counted and traced");
    cli.add_json().add_pid("watch this process (default: this tool itself)");
    cli.parse(argc, argv);
    auto options = cli.options;
    if (options.pid == 0) options.pid = ::getpid();

    auto skel = minimal::Skeleton::open();
    tools::apply_filters(skel.object().spec(), options);
    skel.load();
    skel.attach();

    tools::install_stop_handlers();
    const auto report = [&] {
      const auto writes = skel.bss().writes;  // the live, mmap()ed .bss
      if (options.json) tools::JsonLines::emit({{"pid", options.pid}, {"writes", writes}});
      return writes;
    };
    if (!options.json)
      fmt::print(
          "Successfully started! Please run `sudo cat /sys/kernel/tracing/trace_pipe` to see output of the BPF "
          "programs.\n");
    std::fflush(stdout);
    tools::ready("minimal", fmt::format("tracepoint syscalls/sys_enter_write, pid {}", options.pid));
    while (tools::sleep_for(1)) {
      if (options.json) {
        report();
      } else {
        std::fputc('.', stderr);
        std::fflush(stderr);
      }
    }
    const auto writes = report();
    if (!options.json) fmt::print(stderr, "\nminimal: {} write(2) calls from pid {}\n", writes, options.pid);
    return 0;
  });
}
