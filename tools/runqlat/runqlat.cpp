// runqlat: run queue (scheduler) latency as a log2 histogram, bcc's layout: one for every task,
// or per process (-P) or thread (-L); [interval [count]] reports; -j a JSON object per histogram;
// --prometheus serves the cumulative histograms as runqlat_run_queue_latency_seconds.
#include <linux/types.h>

#include <fmt/format.h>

#include <optional>

#include "runqlat.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

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
    tools::Log2Report report({.unit = millis ? "msecs" : "usecs",
                              .key_name = per_process  ? "pid"
                                          : per_thread ? "tid"
                                                       : "",
                              .name_field = "comm",
                              .json = options.json,
                              .timestamp = options.timestamp,
                              .metric = "runqlat_run_queue_latency_seconds",
                              .help = "Time tasks waited on a run queue",
                              .unit_seconds = millis ? 1e-3 : 1e-6},
                             metrics ? &*metrics : nullptr);

    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("Tracing run queue latency... Hit Ctrl-C to end.\n");
      std::fflush(stdout);
    }
    tools::ready("runqlat", plan.describe());
    tools::run_report_loop(
        options.interval, options.count, metrics.has_value(), [&] { report.collect(skel.maps.hists.map()); },
        [&] { report.print(); });
    return 0;
  });
}
