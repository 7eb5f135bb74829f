// execsnoop: one line per exec() (bcc's columns: PCOMM PID PPID RET ARGS), or a JSON object per
// exec with -j. Ctrl-C ends it.
#include <linux/types.h>

#include <fmt/format.h>

#include "execsnoop.h"
#include "execsnoop.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

std::vector<std::string> split_args(const execsnoop_event& event) {
  std::vector<std::string> args;
  const std::size_t size = std::min<std::size_t>(event.args_size, sizeof(event.args));
  std::size_t start = 0;
  for (std::size_t i = 0; i < size && args.size() < event.args_count; ++i) {
    if (event.args[i] == '\0') {
      args.emplace_back(event.args + start, i - start);
      start = i + 1;
    }
  }
  return args;
}

std::string quoted(const std::string& arg) {
  std::string out = "\"";
  for (const char c : arg) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("execsnoop", [&] {
    tools::Cli cli("execsnoop", "Trace exec() syscalls");
    cli.add_json().add_pid().add_comm("trace this command name only (the name after exec)").add_perf_buffer();
    cli.add_timestamp("include a time column (HH:MM:SS)");
    bool relative = false, failed_only = false, print_uid = false, quote = false;
    std::int64_t uid = -1;
    std::uint32_t max_args = 20;
    auto& app = cli.app();
    app.add_flag("-t,--time", relative, "include a timestamp column (seconds since start)");
    app.add_flag("-x,--fails", failed_only, "failed execs only");
    app.add_flag("-U,--print-uid", print_uid, "include a UID column");
    app.add_option("-u,--uid", uid, "trace this UID only")->check(CLI::NonNegativeNumber);
    app.add_flag("-q,--quote", quote, "quote the arguments");
    app.add_option("--max-args", max_args, "arguments to keep (default 20)")->check(CLI::Range(1, EXECSNOOP_MAX_ARGS));
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = execsnoop::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "max_args", max_args);
    tools::set_rodata(spec, "target_uid", static_cast<std::int64_t>(uid));
    tools::set_rodata(spec, "failed_only", failed_only);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tracepoint, {"execve_enter", "execve_exit"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    const tools::MonotonicStart start;
    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<execsnoop_event>(data);
      const auto args = split_args(event);
      if (options.json) {
        nlohmann::json line = {{"time", tools::time_hms()},
                               {"timestamp", start.seconds(event.time_ns)},
                               {"pcomm", tools::text(event.comm)},
                               {"pid", event.pid},
                               {"ppid", event.ppid},
                               {"uid", event.uid},
                               {"ret", event.retval},
                               {"args", args},
                               {"truncated", event.args_truncated != 0}};
        tools::JsonLines::emit(line);
        return;
      }
      std::string row;
      if (options.timestamp) row += fmt::format("{:<9}", tools::time_hms());
      if (relative) row += fmt::format("{:<8.3f} ", start.seconds(event.time_ns));
      if (print_uid) row += fmt::format("{:<6} ", event.uid);
      std::string joined;
      for (const auto& arg : args) {
        if (!joined.empty()) joined += ' ';
        joined += quote ? quoted(arg) : arg;
      }
      if (event.args_truncated) joined += " ...";
      row += fmt::format("{:<16} {:<7} {:<7} {:>3} {}\n", tools::text(event.comm), event.pid, event.ppid, event.retval,
                         joined);
      std::fputs(row.c_str(), stdout);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) {
      std::string header;
      if (options.timestamp) header += fmt::format("{:<9}", "TIME");
      if (relative) header += fmt::format("{:<8} ", "TIME(s)");
      if (print_uid) header += fmt::format("{:<6} ", "UID");
      header += fmt::format("{:<16} {:<7} {:<7} {:>3} {}\n", "PCOMM", "PID", "PPID", "RET", "ARGS");
      std::fputs(header.c_str(), stdout);
    }
    tools::ready("execsnoop", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "execsnoop: {} events lost\n", events.lost());
    return 0;
  });
}
