// opensnoop: one line per open(), openat() and openat2() (bcc's columns: PID COMM FD ERR PATH),
// or a JSON object per open with -j. Ctrl-C or -d SECONDS ends it.
#include <linux/types.h>

#include <fmt/format.h>

#include "opensnoop.h"
#include "opensnoop.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("opensnoop", [&] {
    tools::Cli cli("opensnoop", "Trace open() syscalls");
    cli.add_json().add_pid().add_comm().add_perf_buffer();
    cli.add_timestamp("include a timestamp column (seconds since start)");
    bool failed_only = false, print_uid = false, extended = false;
    std::uint32_t tid = 0;
    std::int64_t uid = -1;
    double duration = 0;
    std::string name;
    auto& app = cli.app();
    app.add_option("-t,--tid", tid, "trace this thread only")->check(CLI::PositiveNumber);
    app.add_option("-u,--uid", uid, "trace this UID only")->check(CLI::NonNegativeNumber);
    app.add_flag("-x,--failed", failed_only, "failed opens only");
    app.add_flag("-U,--print-uid", print_uid, "include a UID column");
    app.add_flag("-e,--extended-fields", extended, "include the open flags (octal)");
    app.add_option("-d,--duration", duration, "trace for this many seconds")->check(CLI::PositiveNumber);
    app.add_option("-n,--name", name, "only commands whose name contains NAME");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = opensnoop::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "target_tid", tid);
    tools::set_rodata(spec, "target_uid", uid);
    tools::set_rodata(spec, "failed_only", failed_only);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tracepoint,
              {"openat_enter", "openat_exit"},
              {},
              {"open_enter", "open_exit", "openat2_enter", "openat2_exit"}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    const tools::MonotonicStart start;
    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<opensnoop_event>(data);
      const auto comm = tools::text(event.comm);
      if (!name.empty() && comm.find(name) == std::string::npos) return;
      const int fd = event.ret >= 0 ? event.ret : -1;
      const int error = event.ret >= 0 ? 0 : -event.ret;
      if (options.json) {
        nlohmann::json line = {{"time", tools::time_hms()},
                               {"timestamp", start.seconds(event.time_ns)},
                               {"pid", event.pid},
                               {"tid", event.tid},
                               {"uid", event.uid},
                               {"comm", comm},
                               {"fd", fd},
                               {"err", error},
                               {"flags", event.flags},
                               {"path", tools::text(event.path)}};
        if (error != 0) line["errno"] = tools::errno_name(error);
        tools::JsonLines::emit(line);
        return;
      }
      std::string row;
      if (options.timestamp) row += fmt::format("{:<14.9f} ", start.seconds(event.time_ns));
      if (print_uid) row += fmt::format("{:<6} ", event.uid);
      row += fmt::format("{:<6} {:<16} {:>4} {:>3} ", event.pid, comm, fd, error);
      if (extended) row += fmt::format("{:08o} ", event.flags);
      row += tools::text(event.path) + "\n";
      std::fputs(row.c_str(), stdout);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) {
      std::string header;
      if (options.timestamp) header += fmt::format("{:<14} ", "TIME(s)");
      if (print_uid) header += fmt::format("{:<6} ", "UID");
      header += fmt::format("{:<6} {:<16} {:>4} {:>3} ", "PID", "COMM", "FD", "ERR");
      if (extended) header += fmt::format("{:<8} ", "FLAGS");
      header += "PATH\n";
      std::fputs(header.c_str(), stdout);
    }
    tools::ready("opensnoop", fmt::format("{}; {}", plan.describe(), stream));
    const auto end = tools::monotonic_ns() + static_cast<std::uint64_t>(duration * 1e9);
    while (!tools::stop_requested() && (duration == 0 || tools::monotonic_ns() < end)) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "opensnoop: {} events lost\n", events.lost());
    return 0;
  });
}
