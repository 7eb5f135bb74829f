// biolatency: block I/O latency as a log2 histogram, bcc's layout: one for all disks or per disk
// (-D); [interval [count]] reports; -j a JSON object per histogram; --prometheus serves the
// cumulative histograms as biolatency_io_latency_seconds.
#include <linux/types.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "biolatency.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

constexpr unsigned kMinorBits = 20;  // the kernel's dev_t: major << 20 | minor

// "loop0" for the kernel's dev_t of a disk, through /sys/dev/block/MAJOR:MINOR.
std::string disk_name(std::uint32_t dev) {
  const auto link = fmt::format("/sys/dev/block/{}:{}", dev >> kMinorBits, dev & ((1U << kMinorBits) - 1));
  std::error_code error;
  const auto target = std::filesystem::read_symlink(link, error);
  return error ? fmt::format("{}:{}", dev >> kMinorBits, dev & ((1U << kMinorBits) - 1)) : target.filename().string();
}

// -d: a disk's name ("sda", "/dev/sda") to the kernel's dev_t.
std::uint32_t disk_dev(const std::string& name) {
  const std::string path = name.rfind("/dev/", 0) == 0 ? name : "/dev/" + name;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISBLK(info.st_mode))
    throw std::runtime_error(fmt::format("-d {}: {} is not a block device", name, path));
  return (::major(info.st_rdev) << kMinorBits) | ::minor(info.st_rdev);
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("biolatency", [&] {
    tools::Cli cli("biolatency", "Summarize block device I/O latency as a histogram");
    cli.add_json().add_interval_count().add_prometheus().add_attach();
    cli.add_timestamp("print a timestamp (HH:MM:SS) before each histogram");
    bool millis = false, per_disk = false, queued = false;
    std::string disk;
    auto& app = cli.app();
    app.add_flag("-m,--milliseconds", millis, "millisecond histogram");
    app.add_flag("-D,--disks", per_disk, "a histogram per disk");
    app.add_flag("-Q,--queued", queued, "include the time queued in the OS");
    app.add_option("-d,--disk", disk, "this disk only (sda, /dev/loop0)");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = biolatency::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::set_rodata(spec, "millis", millis);
    tools::set_rodata(spec, "per_disk", per_disk);
    tools::set_rodata(spec, "queued", queued);
    if (!disk.empty()) tools::set_rodata(spec, "target_dev", disk_dev(disk));
    tools::AttachPlan plan;
    tools::AttachPath btf{tools::HookKind::tp_btf,
                          {"issue_btf", "complete_btf"},
                          {"btf_trace_block_rq_issue", "btf_trace_block_rq_complete"}};
    tools::AttachPath raw{tools::HookKind::raw_tracepoint, {"issue_raw", "complete_raw"}, {}};
    if (queued) {
      btf.programs.push_back("insert_btf");
      raw.programs.push_back("insert_raw");
    } else {
      spec.program("insert_btf").set_autoload(false);
      spec.program("insert_raw").set_autoload(false);
    }
    plan.add(btf).add(raw);
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    std::optional<tools::MetricsEndpoint> metrics;
    if (!options.prometheus.empty()) metrics.emplace(options.prometheus);
    tools::Log2Report report({.unit = millis ? "msecs" : "usecs",
                              .key_name = per_disk ? "disk" : "",
                              .name_field = "",
                              .json = options.json,
                              .timestamp = options.timestamp,
                              .metric = "biolatency_io_latency_seconds",
                              .help = queued ? "Block I/O latency, OS queue included" : "Block I/O latency",
                              .unit_seconds = millis ? 1e-3 : 1e-6},
                             metrics ? &*metrics : nullptr);

    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("Tracing block device I/O... Hit Ctrl-C to end.\n");
      std::fflush(stdout);
    }
    tools::ready("biolatency", plan.describe());
    tools::run_report_loop(
        options.interval, options.count, metrics.has_value(),
        [&] {
          report.collect(skel.maps.hists.map(), [](std::uint32_t dev, const std::string&) { return disk_name(dev); });
        },
        [&] { report.print(); });
    return 0;
  });
}
