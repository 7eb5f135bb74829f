// runqlat: run queue (scheduler) latency as a log2 histogram, bcc's layout: one for every task,
// or per process (-P) or thread (-L); [interval [count]] reports; -j a JSON object per histogram;
// --prometheus serves the cumulative histograms as runqlat_run_queue_latency_seconds.
#include <linux/types.h>

#include <fmt/format.h>

#include <map>
#include <optional>

#include "runqlat.h"
#include "runqlat.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

struct Entry {
  tools::Log2Hist hist;
  std::string comm;
};

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("runqlat", [&] {
    tools::Cli cli("runqlat", "Summarize run queue (scheduler) latency as a histogram");
    cli.add_json().add_pid().add_comm().add_interval_count().add_prometheus().add_attach();
    cli.add_timestamp("print a timestamp (HH:MM:SS) before each histogram");
    bool millis = false, per_process = false, per_thread = false;
    auto& app = cli.app();
    app.add_flag("-m,--milliseconds", millis, "millisecond histogram");
    auto* process_flag = app.add_flag("-P,--pids", per_process, "a histogram per process");
    app.add_flag("-L,--tids", per_thread, "a histogram per thread")->excludes(process_flag);
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = runqlat::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "millis", millis);
    tools::set_rodata(spec, "per_process", per_process);
    tools::set_rodata(spec, "per_thread", per_thread);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tp_btf,
              {"wakeup_btf", "wakeup_new_btf", "switch_btf"},
              {"btf_trace_sched_wakeup", "btf_trace_sched_wakeup_new", "btf_trace_sched_switch"}});
    plan.add({tools::HookKind::raw_tracepoint, {"wakeup_raw", "wakeup_new_raw", "switch_raw"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    std::optional<tools::MetricsEndpoint> metrics;
    if (!options.prometheus.empty()) metrics.emplace(options.prometheus);
    const std::string unit = millis ? "msecs" : "usecs";
    const char* key_name = per_process ? "pid" : "tid";
    const bool keyed = per_process || per_thread;
    std::map<std::uint32_t, Entry> interval, total;

    const auto collect = [&] {
      for (const auto& [key, value] : tools::take_entries<std::uint32_t, runqlat_hist>(skel.maps.hists.map())) {
        const tools::Log2Hist hist(value.hist);
        for (auto* into : {&interval, &total}) {
          auto& entry = (*into)[key];
          entry.hist += hist;
          if (keyed) entry.comm = tools::text(value.comm);
        }
      }
      if (!metrics) return;
      tools::MetricSet set;
      for (const auto& [key, entry] : total) {
        tools::MetricLabels labels;
        if (keyed) labels = {{key_name, std::to_string(key)}, {"comm", entry.comm}};
        set.add_histogram("runqlat_run_queue_latency_seconds", "Time tasks waited on a run queue", labels, entry.hist,
                          millis ? 1e-3 : 1e-6);
      }
      metrics->publish(std::move(set));
    };
    const auto report = [&] {
      const auto now = tools::time_hms();
      if (options.json) {
        if (interval.empty() && !keyed) interval[static_cast<std::uint32_t>(-1)] = {};
        for (const auto& [key, entry] : interval) {
          auto line = tools::log2_hist_json(entry.hist, unit);
          line["time"] = now;
          if (keyed) {
            line[key_name] = key;
            line["comm"] = entry.comm;
          }
          tools::JsonLines::emit(line);
        }
      } else {
        if (options.timestamp) fmt::print("{:<8}\n", now);
        for (const auto& [key, entry] : interval) {
          if (keyed) fmt::print("\n{} = {} {}\n", key_name, key, entry.comm);
          tools::print_log2_hist(stdout, entry.hist.slots, unit);
        }
        std::fflush(stdout);
      }
      interval.clear();
    };

    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("Tracing run queue latency... Hit Ctrl-C to end.\n");
      std::fflush(stdout);
    }
    tools::ready("runqlat", plan.describe());
    tools::run_report_loop(options.interval, options.count, metrics.has_value(), collect, report);
    return 0;
  });
}
