// cpudist: on-CPU time per scheduling (or off-CPU time with -O) as a log2 histogram, bcc's
// layout: one for every task, or per process (-P) or thread (-L); [interval [count]] reports; -j
// a JSON object per histogram; --prometheus serves cpudist_on_cpu_seconds (cpudist_off_cpu_seconds).
#include <linux/types.h>

#include <fmt/format.h>

#include <optional>

#include "cpudist.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("cpudist", [&] {
    tools::Cli cli("cpudist", "Summarize on-CPU time per task as a histogram");
    cli.add_json().add_pid().add_comm().add_interval_count().add_prometheus().add_attach();
    cli.add_timestamp("print a timestamp (HH:MM:SS) before each histogram");
    bool millis = false, per_process = false, per_thread = false, offcpu = false;
    auto& app = cli.app();
    app.add_flag("-O,--offcpu", offcpu, "off-CPU time instead of on-CPU time");
    app.add_flag("-m,--milliseconds", millis, "millisecond histogram");
    auto* process_flag = app.add_flag("-P,--pids", per_process, "a histogram per process");
    app.add_flag("-L,--tids", per_thread, "a histogram per thread")->excludes(process_flag);
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = cpudist::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "millis", millis);
    tools::set_rodata(spec, "per_process", per_process);
    tools::set_rodata(spec, "per_thread", per_thread);
    tools::set_rodata(spec, "offcpu", offcpu);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tp_btf, {"switch_btf"}, {"btf_trace_sched_switch"}});
    plan.add({tools::HookKind::raw_tracepoint, {"switch_raw"}, {}});
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
                              .metric = offcpu ? "cpudist_off_cpu_seconds" : "cpudist_on_cpu_seconds",
                              .help = offcpu ? "Time tasks spent off a CPU" : "Time tasks ran on a CPU at a time",
                              .unit_seconds = millis ? 1e-3 : 1e-6},
                             metrics ? &*metrics : nullptr);

    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("Tracing {}-CPU time... Hit Ctrl-C to end.\n", offcpu ? "off" : "on");
      std::fflush(stdout);
    }
    tools::ready("cpudist", plan.describe());
    tools::run_report_loop(
        options.interval, options.count, metrics.has_value(), [&] { report.collect(skel.maps.hists.map()); },
        [&] { report.print(); });
    return 0;
  });
}
