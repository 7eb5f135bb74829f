// bootstrap (libbpf-bootstrap): process starts and ends on the whole machine, with each process's
// lifetime at its exit, from the sched_process_exec and sched_process_exit tracepoints. Output
// like the original's:
//
//   TIME     EVENT COMM             PID     PPID    FILENAME/EXIT CODE
//   14:02:11 EXEC  ls               41233   41200   /usr/bin/ls
//   14:02:11 EXIT  ls               41233   41200   [0] (3ms)
//
//   corebpf-bootstrap [-j] [-d MIN_MS] [-v]
//
// -d: only processes that lived at least MIN_MS milliseconds (exec events are then not shown).
#include <fmt/format.h>

#include <cstdio>

#include "bootstrap.skel.hpp"
#include "corebpf/log.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("bootstrap", [&] {
    tools::Cli cli("bootstrap", "libbpf-bootstrap's bootstrap: process execs and exits, with their lifetime");
    cli.add_json().add_perf_buffer();
    std::uint64_t min_duration_ms = 0;
    bool verbose = false;
    auto& app = cli.app();
    app.add_option("-d,--duration", min_duration_ms, "minimum process duration (ms) to report");
    app.add_flag("-v,--verbose", verbose, "verbose debug output (the loader's log on stderr)");
    cli.parse(argc, argv);
    const auto& options = cli.options;
    if (verbose) {
      corebpf::set_log_handler([](corebpf::LogLevel, std::string_view message) { fmt::print(stderr, "{}\n", message); },
                               corebpf::LogLevel::debug);
    }

    auto skel = bootstrap::Skeleton::open();
    auto& spec = skel.object().spec();
    skel.rodata().min_duration_ns = min_duration_ms * 1000000ULL;
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    skel.load();
    skel.attach();

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<bootstrap::types::event>(data);
      const auto time = tools::time_hms();
      if (options.json) {
        nlohmann::json line = {{"time", time},
                               {"event", e.exit_event ? "EXIT" : "EXEC"},
                               {"comm", tools::text(e.comm)},
                               {"pid", e.pid},
                               {"ppid", e.ppid}};
        if (e.exit_event) {
          line["exit_code"] = e.exit_code;
          line["duration_ms"] = e.duration_ns / 1000000;
          line["duration_ns"] = e.duration_ns;
        } else {
          line["filename"] = tools::text(e.filename);
        }
        tools::JsonLines::emit(line);
        return;
      }
      std::string row = fmt::format("{:<8} {:<5} {:<16} {:<7} {:<7} ", time, e.exit_event ? "EXIT" : "EXEC",
                                    tools::text(e.comm), e.pid, e.ppid);
      if (e.exit_event) {
        row += fmt::format("[{}]", e.exit_code);
        if (e.duration_ns) row += fmt::format(" ({}ms)", e.duration_ns / 1000000);
      } else {
        row += tools::text(e.filename);
      }
      fmt::print("{}\n", row);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json)
      fmt::print("{:<8} {:<5} {:<16} {:<7} {:<7} {}\n", "TIME", "EVENT", "COMM", "PID", "PPID", "FILENAME/EXIT CODE");
    tools::ready("bootstrap",
                 fmt::format("tracepoints sched/sched_process_exec, sched/sched_process_exit; {}", stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "bootstrap: {} events lost\n", events.lost());
    return 0;
  });
}
