// The corebpf tools library (tools/common): what every tool in tools/ shares. One include:
// #include "tools.hpp". Every tool's CMakeLists is `corebpf_add_tool(NAME)` (tools/CMakeLists.txt):
// it compiles NAME.bpf.c (with tools/common/bpf on the include path), generates NAME.skel.hpp,
// builds NAME.cpp into corebpf-NAME (build/tools/bin, installed into bin/) linked to this library.
//
// API overview (namespace corebpf::tools):
//
//   run_tool("execsnoop", [&] { ...; return 0; })   main()'s body: prints "<tool>: <error>" for a
//       corebpf::Error (exit 1) and "<tool>: cannot run: <why>" for CannotRun (exit 1).
//   Cli cli("execsnoop", "Trace exec() syscalls");  CLI11 underneath (cli.app() for tool options):
//       cli.add_json() -j, add_pid() -p PID, add_comm() -c COMM, add_interval_count() [interval]
//       [count] positionals, add_prometheus() --prometheus ADDR:PORT, add_timestamp() -T;
//       cli.parse(argc, argv) exits on --help or a bad flag. Values in cli.options (CommonOptions).
//   apply_filters(spec, options)   -p/-c into the kernel side's tool_target_pid/comm (.rodata)
//   set_rodata(spec, "name", value)  any other .rodata variable, by name, before load
//
//   Stop: install_stop_handlers() (SIGINT, SIGTERM), stop_requested(), sleep_for(seconds)
//       (returns early on a stop). Skeletons and links are RAII: returning from the loop detaches.
//   ready("execsnoop", "tracepoints syscalls/sys_enter_execve...")  the one stderr line tests wait
//       for ("<tool>: ready (<how>)"), written once everything is attached.
//
//   AttachPlan: ordered ways to hook an event (fentry -> kprobe -> tracepoint...), each with the
//       feature it needs (kernel::has_feature) and its programs; choose() picks the first the
//       kernel supports, turns off autoload of the others' programs and throws CannotRun
//       ("cannot run: fentry/fexit programs need ... (this kernel is X)") when none fits;
//       attach(object) attaches the chosen programs and returns the links.
//
//   Events: prepare_events(spec, force_perf) before load (ring buffer where the kernel has
//       ring buffers, else the map becomes a perf event array); EventReader reader(map, on_event,
//       on_lost) after load; reader.poll(ms); reader.kind() is "ring buffer" or "perf buffer".
//       Kernel side: TOOL_DEFINE_EVENTS; tool_submit(ctx, &event, sizeof(event)).
//
//   Output: JsonLines::emit(json) one object per line (flushed); time_hms() "HH:MM:SS";
//       MonotonicStart: seconds(ktime_ns) relative to the tool's start; errno_name(2) "ENOENT"; syscall_name(257)
//       "openat"; text(char[N]) for fixed-size kernel strings.
//   Histograms: Log2Hist (slots, sum, count; from struct tool_hist; +=), print_log2_hist(out,
//       slots, "usecs") and print_linear_hist(...) in bcc's layout; log2_hist_json(hist) for -j.
//   Log2Report report({unit, key_name, name_field, json, timestamp, metric, help, unit_seconds},
//       metrics_or_null): the histogram tools' user side: report.collect(map) takes the kernel's
//       __u32 -> struct tool_keyed_hist map (tool_keyed_hist_get() on the kernel side),
//       report.print() prints the interval (bcc layout or JSON lines); with run_report_loop().
//   Symbols: Symbolizer sym; sym.kernel(addr) from /proc/kallsyms, sym.user(pid, addr) from the
//       ELF symbols of the files /proc/PID/maps maps; both cached, "name+0x12" or "[unknown]".
//   Metrics: MetricsEndpoint metrics("127.0.0.1:9100") serves /metrics (prometheus-cpp);
//       metrics.publish(MetricSet) swaps in the current values: MetricSet::add_histogram(name,
//       help, labels, Log2Hist, unit_seconds) gives _bucket/_sum/_count, add_counter(...).
//   Networking: interface_index("lo") (ENODEV error naming it), ipv4_text(addr), ip_text(addr,
//       ipv6), ip_protocol_name(6) "TCP".
//   require_programs(spec): CannotRun with the probes' reason when the kernel cannot load one of
//       the object's programs (program type, iterator target, trampoline kind: lsm, iter...).
#pragma once

#include "attach_plan.hpp"
#include "cli.hpp"
#include "events.hpp"
#include "histogram.hpp"
#include "metrics.hpp"
#include "net.hpp"
#include "output.hpp"
#include "report.hpp"
#include "requirements.hpp"
#include "run.hpp"
#include "symbols.hpp"
