// syscount: system calls counted by name (or by process with -P), the top ones printed every
// interval and at the end (bcc's layout: SYSCALL COUNT [TIME]); -j a JSON object per report;
// --prometheus serves the cumulative counters (syscount_syscalls_total, syscount_syscall_seconds_total).
#include <linux/types.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "syscount.h"
#include "syscount.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

struct Row {
  std::uint64_t count = 0;
  std::uint64_t total_ns = 0;
  std::string comm;
};

// -e: "ENOENT" or a number.
int parse_errno(const std::string& text) {
  for (int error = 1; error < 4096; ++error)
    if (tools::errno_name(error) == text) return error;
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    throw std::runtime_error("-e " + text + ": not an errno name or number");
  }
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("syscount", [&] {
    tools::Cli cli("syscount", "Count system calls, by name or by process");
    cli.add_json().add_pid().add_comm().add_prometheus();
    bool per_process = false, latency = false, millis = false, failed_only = false, list = false;
    double interval = 0, duration = 0;
    std::size_t top = 10;
    std::string errno_text;
    auto& app = cli.app();
    app.add_option("-i,--interval", interval, "print a summary every INTERVAL seconds")->check(CLI::PositiveNumber);
    app.add_option("-d,--duration", duration, "trace for DURATION seconds")->check(CLI::PositiveNumber);
    app.add_option("-T,--top", top, "print this many rows (default 10)")->check(CLI::PositiveNumber);
    app.add_flag("-x,--failures", failed_only, "failed system calls only");
    app.add_option("-e,--errno", errno_text, "system calls that failed with this error (ENOENT or 2) only");
    app.add_flag("-L,--latency", latency, "collect the time spent in the calls too");
    app.add_flag("-m,--milliseconds", millis, "that time in milliseconds (default: microseconds)");
    app.add_flag("-P,--process", per_process, "count by process, not by system call");
    app.add_flag("-l,--list", list, "print the system calls this tool knows and exit");
    cli.parse(argc, argv);
    const auto& options = cli.options;
    if (list) {
      for (std::uint64_t id = 0; id < 1024; ++id)
        if (const auto name = tools::syscall_name(id); name.rfind("syscall_", 0) != 0) fmt::print("{}\n", name);
      return 0;
    }

    auto skel = syscount::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "per_process", per_process);
    tools::set_rodata(spec, "latency", latency);
    tools::set_rodata(spec, "failed_only", failed_only);
    tools::set_rodata(spec, "target_errno", errno_text.empty() ? 0 : parse_errno(errno_text));
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tracepoint, {"sys_enter", "sys_exit"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    std::optional<tools::MetricsEndpoint> metrics;
    if (!options.prometheus.empty()) metrics.emplace(options.prometheus);
    std::map<std::uint32_t, Row> interval_rows, total;
    const auto name_of = [&](std::uint32_t key) { return tools::syscall_name(key); };

    const auto collect = [&] {
      for (const auto& [key, value] : tools::take_entries<std::uint32_t, syscount_value>(skel.maps.counts.map())) {
        for (auto* into : {&interval_rows, &total}) {
          auto& row = (*into)[key];
          row.count += value.count;
          row.total_ns += value.total_ns;
          if (per_process) row.comm = tools::text(value.comm);
        }
      }
      if (!metrics) return;
      tools::MetricSet set;
      for (const auto& [key, row] : total) {
        tools::MetricLabels labels = per_process ? tools::MetricLabels{{"pid", std::to_string(key)}, {"comm", row.comm}}
                                                 : tools::MetricLabels{{"syscall", name_of(key)}};
        set.add_counter("syscount_syscalls_total", "System calls made", labels, static_cast<double>(row.count));
        if (latency)
          set.add_counter("syscount_syscall_seconds_total", "Time spent in system calls", labels,
                          static_cast<double>(row.total_ns) / 1e9);
      }
      metrics->publish(std::move(set));
    };
    const auto report = [&] {
      std::vector<std::pair<std::uint32_t, Row>> rows(interval_rows.begin(), interval_rows.end());
      std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
        return latency ? a.second.total_ns > b.second.total_ns : a.second.count > b.second.count;
      });
      if (rows.size() > top) rows.resize(top);
      const double unit_ns = millis ? 1e6 : 1e3;
      if (options.json) {
        nlohmann::json entries = nlohmann::json::array();
        for (const auto& [key, row] : rows) {
          nlohmann::json entry = {{"count", row.count}};
          if (per_process) {
            entry["pid"] = key;
            entry["comm"] = row.comm;
          } else {
            entry["syscall"] = name_of(key);
            entry["id"] = key;
          }
          if (latency) entry[millis ? "time_ms" : "time_us"] = static_cast<double>(row.total_ns) / unit_ns;
          entries.push_back(entry);
        }
        tools::JsonLines::emit({{"time", tools::time_hms()}, {per_process ? "processes" : "syscalls", entries}});
      } else {
        fmt::print("[{}]\n", tools::time_hms());
        if (per_process)
          fmt::print("{:<6} {:<15} {:>8}", "PID", "COMM", "COUNT");
        else
          fmt::print("{:<22} {:>8}", "SYSCALL", "COUNT");
        if (latency) fmt::print(" {:>16}", millis ? "TIME (ms)" : "TIME (us)");
        fmt::print("\n");
        for (const auto& [key, row] : rows) {
          if (per_process)
            fmt::print("{:<6} {:<15} {:>8}", key, row.comm, row.count);
          else
            fmt::print("{:<22} {:>8}", name_of(key), row.count);
          if (latency) fmt::print(" {:>16.6f}", static_cast<double>(row.total_ns) / unit_ns);
          fmt::print("\n");
        }
        fmt::print("\n");
        std::fflush(stdout);
      }
      interval_rows.clear();
    };

    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("Tracing {}syscalls, printing top {}... Ctrl+C to quit.\n", failed_only ? "failed " : "", top);
      std::fflush(stdout);
    }
    tools::ready("syscount", plan.describe());
    // -d: one report after DURATION seconds (with -i: reports until then).
    const int count = duration > 0 ? std::max(1, interval > 0 ? static_cast<int>(duration / interval) : 1) : 0;
    tools::run_report_loop(interval > 0 ? interval : duration, count, metrics.has_value(), collect, report);
    return 0;
  });
}
