// Internal: tracefs (tracepoint ids, kprobe_events, available_filter_functions) and the dynamic
// perf PMUs under /sys/bus/event_source (kprobe, uprobe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corebpf::kernel::detail {

// Where tracefs is mounted: /sys/kernel/tracing, else /sys/kernel/debug/tracing. When neither is,
// tracefs is mounted at /sys/kernel/tracing; throws corebpf::Error naming both places when that
// is impossible. Looked up on every call (cheap: two statfs) so a mount made later is seen.
std::string tracefs_root();

// The id of tracepoint events/<category>/<name>; throws (ENOENT) naming "category/name" and the
// tracefs directory searched.
std::uint64_t tracepoint_id(std::string_view category, std::string_view name);

// A dynamic PMU's type (/sys/bus/event_source/devices/<pmu>/type), empty when the kernel has none.
std::optional<std::uint32_t> pmu_type(std::string_view pmu);
// The first config bit of a PMU format field ("config:N" or "config:N-M" in
// /sys/bus/event_source/devices/<pmu>/format/<field>); empty when the PMU has no such field,
// throws naming the file when it cannot be read as one.
std::optional<std::uint32_t> pmu_format_bit(std::string_view pmu, std::string_view field);
// The config bit of the PMU's "retprobe" format; throws naming the file when it has none.
std::uint32_t pmu_retprobe_bit(std::string_view pmu);

// Whether tracefs has `file` (kprobe_events, uprobe_events...); false also when no tracefs.
bool tracefs_has(std::string_view file);
// Appends `line` to tracefs `file` (kprobe_events, uprobe_events): one write, as the kernel wants.
// Throws naming the file and the line.
void tracefs_append(std::string_view file, std::string_view line);

// The functions ftrace can trace (available_filter_functions), without module suffixes,
// compiler-made clones ("name.isra.0", "name.cold") or duplicates, in file order.
std::vector<std::string> traceable_functions();

}  // namespace corebpf::kernel::detail
