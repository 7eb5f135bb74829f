// hello (Learning eBPF, chapters 2 and 3): a line for every program started on this machine (pid,
// parent pid, uid, name), and the execs counted per uid in a hash map, printed as the book's
// hello-map prints them ("ID 0: 12	ID 1000: 3") every INTERVAL seconds and on the way out. One
// self-contained binary: the BPF object is in its skeleton (hello.skel.hpp, made by
// corebpf_add_tool from hello.bpf.c). Run as root:
//
//   corebpf-hello [-j] [-i SECONDS] [--duration SECONDS] [--run COMMAND [ARGS...]]
//
// --run starts COMMAND once everything is attached and stops after it exited.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "hello.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

// Starts `command` (execvp); the child's failure to exec is its exit status 127.
pid_t start(const std::vector<std::string>& command) {
  const pid_t child = ::fork();
  if (child == 0) {
    std::vector<char*> argv;
    for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    fmt::print(stderr, "hello: cannot run {}: {}\n", command[0], std::strerror(errno));
    ::_exit(127);
  }
  if (child < 0) throw std::system_error(errno, std::generic_category(), "hello: fork");
  return child;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything after --run is the command, not ours to parse.
  std::vector<std::string> run;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--run") {
      run.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  return tools::run_tool("hello", [&] {
    tools::Cli cli("hello", "Learning eBPF's hello: every exec on the machine, and execs counted per uid");
    cli.add_json().add_perf_buffer();
    double interval = 0;
    double duration = 0;
    auto& app = cli.app();
    app.add_option("-i,--interval", interval, "print the per-uid counts every SECONDS (default: at the end)")
        ->check(CLI::PositiveNumber);
    app.add_option("--duration", duration, "stop after SECONDS (default: at Ctrl-C)")->check(CLI::PositiveNumber);
    app.footer("--run COMMAND [ARGS...]  starts COMMAND once attached, stops after it exited");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = hello::Skeleton::open();  // the object embedded in the skeleton
    const auto stream = tools::prepare_events(skel.object().spec(), options.perf_buffer);
    skel.load();    // CO-RE against the running kernel, maps, programs
    skel.attach();  // handle_execve on its tracepoint

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<hello::types::exec_event>(data);
      if (options.json) {
        tools::JsonLines::emit(
            {{"pid", event.pid}, {"ppid", event.ppid}, {"uid", event.uid}, {"comm", tools::text(event.comm)}});
      } else {
        fmt::print("{:<8} {:<8} {:<6} {}\n", event.pid, event.ppid, event.uid, tools::text(event.comm));
        std::fflush(stdout);
      }
    });
    // The book's output of counter_table: "ID 0: 12\tID 1000: 3".
    const auto print_counts = [&] {
      std::vector<std::pair<std::uint32_t, std::uint64_t>> counts;
      for (const auto& [uid, count] : skel.maps.counter_table) counts.emplace_back(uid, count);
      std::sort(counts.begin(), counts.end());
      if (options.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [uid, count] : counts) list.push_back({{"uid", uid}, {"count", count}});
        tools::JsonLines::emit({{"counts", list}});
        return;
      }
      std::string line;
      for (const auto& [uid, count] : counts) line += fmt::format("ID {}: {}\t", uid, count);
      fmt::print("{}\n", line);
      std::fflush(stdout);
    };

    tools::install_stop_handlers();
    if (!options.json) fmt::print("{:<8} {:<8} {:<6} {}\n", "PID", "PPID", "UID", "COMM");
    tools::ready("hello", fmt::format("tracepoint syscalls/sys_exit_execve; {}", stream));
    const pid_t child = run.empty() ? -1 : start(run);
    const double started = tools::monotonic_ns() / 1e9;
    double next_report = started + interval;
    while (!tools::stop_requested()) {
      events.poll(100);
      const double now = tools::monotonic_ns() / 1e9;
      if (interval > 0 && now >= next_report) {
        print_counts();
        next_report += interval;
      }
      if (child > 0 && ::waitpid(child, nullptr, WNOHANG) == child) break;
      if (duration > 0 && now - started >= duration) break;
    }
    events.drain();  // what arrived before the stop (the child's exec)
    print_counts();
    if (events.lost() != 0) fmt::print(stderr, "hello: {} events lost\n", events.lost());
    return 0;
  });
}
