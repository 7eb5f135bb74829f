// exitsnoop: one line per process exit with its age and how it ended (bcc's columns: PCOMM PID
// PPID TID AGE(s) EXIT_CODE), or a JSON object per exit with -j.
#include <linux/types.h>
#include <signal.h>
#include <string.h>

#include <fmt/format.h>

#include "exitsnoop.h"
#include "exitsnoop.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

std::string signal_name(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return abbrev != nullptr ? abbrev : std::to_string(signal);
}

// bcc's EXIT_CODE column: "0", "code 1", "signal 9 (KILL)", "signal 6 (ABRT), core dumped".
std::string describe(std::uint32_t status) {
  const int signal = status & 0x7f;
  if (signal == 0) {
    const int code = (status >> 8) & 0xff;
    return code == 0 ? "0" : fmt::format("code {}", code);
  }
  auto text = fmt::format("signal {} ({})", signal, signal_name(signal));
  if (status & 0x80) text += ", core dumped";
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("exitsnoop", [&] {
    tools::Cli cli("exitsnoop", "Trace process exits with their age and exit status");
    cli.add_json().add_pid().add_comm().add_perf_buffer();
    bool timestamp = false, utc = false, failed_only = false, per_thread = false;
    auto& app = cli.app();
    app.add_flag("-t,--timestamp", timestamp, "include a time column (local HH:MM:SS)");
    app.add_flag("--utc", utc, "the time column in UTC");
    app.add_flag("-x,--failed", failed_only, "non-zero exits only");
    app.add_flag("--per-thread", per_thread, "every thread's exit, not only processes'");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = exitsnoop::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "per_thread", per_thread);
    tools::set_rodata(spec, "failed_only", failed_only);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tracepoint, {"process_exit"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    const auto clock = [utc] {
      const time_t now = ::time(nullptr);
      struct tm parts {};
      if (utc)
        ::gmtime_r(&now, &parts);
      else
        ::localtime_r(&now, &parts);
      char text[16];
      std::strftime(text, sizeof(text), "%H:%M:%S", &parts);
      return std::string(text);
    };
    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<exitsnoop_event>(data);
      const double age = event.time_ns > event.start_ns ? (event.time_ns - event.start_ns) / 1e9 : 0.0;
      const int signal = event.exit_code & 0x7f;
      if (options.json) {
        nlohmann::json line = {{"time", clock()},           {"pcomm", tools::text(event.comm)},
                               {"pid", event.pid},          {"ppid", event.ppid},
                               {"tid", event.tid},          {"age", age},
                               {"status", event.exit_code}, {"exit", describe(event.exit_code)}};
        if (signal == 0) {
          line["code"] = (event.exit_code >> 8) & 0xff;
        } else {
          line["signal"] = signal;
          line["signal_name"] = signal_name(signal);
          line["core_dumped"] = (event.exit_code & 0x80) != 0;
        }
        tools::JsonLines::emit(line);
        return;
      }
      std::string row;
      if (timestamp) row += fmt::format("{:<13}", clock() + (utc ? "-UTC" : ""));
      row += fmt::format("{:<16} {:<7} {:<7} {:<7} {:<7.2f} {}\n", tools::text(event.comm), event.pid, event.ppid,
                         event.tid, age, describe(event.exit_code));
      std::fputs(row.c_str(), stdout);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) {
      std::string header;
      if (timestamp) header += fmt::format("{:<13}", utc ? "TIME-UTC" : "TIME");
      header +=
          fmt::format("{:<16} {:<7} {:<7} {:<7} {:<7} {}\n", "PCOMM", "PID", "PPID", "TID", "AGE(s)", "EXIT_CODE");
      std::fputs(header.c_str(), stdout);
    }
    tools::ready("exitsnoop", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "exitsnoop: {} events lost\n", events.lost());
    return 0;
  });
}
