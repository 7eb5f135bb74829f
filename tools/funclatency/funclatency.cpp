// funclatency: a function's latency (entry to return) as a log2 histogram, bcc's layout:
// `funclatency vfs_read` for a kernel function (fentry, else kprobes), `funclatency c:malloc` or
// `funclatency /path/lib.so:func` for a user function (uprobes); [-i interval] [-d duration];
// -j a JSON object per histogram.
#include <linux/types.h>

#include <fmt/format.h>

#include "funclatency.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("funclatency", [&] {
    tools::Cli cli("funclatency", "Time a kernel or user function (entry to return) as a histogram");
    cli.add_json().add_pid().add_comm().add_attach();
    cli.add_timestamp("print a timestamp (HH:MM:SS) before each histogram");
    bool micros = false, millis = false;
    double interval = 0, duration = 0;
    std::string target;
    auto& app = cli.app();
    auto* us = app.add_flag("-u,--microseconds", micros, "microsecond histogram");
    app.add_flag("-m,--milliseconds", millis, "millisecond histogram")->excludes(us);
    app.add_option("-i,--interval", interval, "print a histogram every INTERVAL seconds")->check(CLI::PositiveNumber);
    app.add_option("-d,--duration", duration, "trace for DURATION seconds")->check(CLI::PositiveNumber);
    app.add_option("function", target, "FUNC (kernel), or LIB:FUNC (user; LIB a path or a name: c, libc.so.6)")
        ->required();
    cli.parse(argc, argv);
    const auto& options = cli.options;

    std::string library, function = target;
    if (const auto colon = target.rfind(':'); colon != std::string::npos) {
      library = target.substr(0, colon);
      function = target.substr(colon + 1);
      // bcc's short library names: "c" is libc.
      if (library.find('/') == std::string::npos && library.find(".so") == std::string::npos)
        library = "lib" + library + ".so.6";
    }

    auto skel = funclatency::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "unit_ns", static_cast<std::uint64_t>(millis ? 1000000 : micros ? 1000 : 1));
    tools::AttachPlan plan;
    if (library.empty()) {
      plan.add({tools::HookKind::fentry, {"entry_fentry", "return_fexit"}, {function}});
      plan.add({tools::HookKind::kprobe, {"entry_kprobe", "return_kprobe"}, {}});
      spec.program("entry_uprobe").set_autoload(false);
      spec.program("return_uprobe").set_autoload(false);
    } else {
      plan.add({tools::HookKind::uprobe, {"entry_uprobe", "return_uprobe"}, {}});
      for (const char* program : {"entry_fentry", "return_fexit", "entry_kprobe", "return_kprobe"})
        spec.program(program).set_autoload(false);
    }
    const auto& path = plan.choose(spec, options.attach);
    if (path.kind == tools::HookKind::fentry) {
      spec.program("entry_fentry").set_attach_target(function);
      spec.program("return_fexit").set_attach_target(function);
    }
    skel.load();
    std::vector<corebpf::Link> links;
    if (path.kind == tools::HookKind::fentry) {
      links.push_back(skel.progs.entry_fentry.attach_trace());
      links.push_back(skel.progs.return_fexit.attach_trace());
    } else if (path.kind == tools::HookKind::kprobe) {
      links.push_back(skel.progs.entry_kprobe.attach_kprobe(function));
      links.push_back(skel.progs.return_kprobe.attach_kprobe(function, {.retprobe = true}));
    } else {
      corebpf::UprobeOptions entry{.function = function, .pid = options.pid != 0 ? options.pid : -1};
      corebpf::UprobeOptions exit = entry;
      exit.retprobe = true;
      links.push_back(skel.progs.entry_uprobe.attach_uprobe(library, entry));
      links.push_back(skel.progs.return_uprobe.attach_uprobe(library, exit));
    }

    tools::Log2Report report({.unit = millis   ? "msecs"
                                      : micros ? "usecs"
                                               : "nsecs",
                              .key_name = "",
                              .name_field = "",
                              .json = options.json,
                              .timestamp = options.timestamp,
                              .metric = "",
                              .help = "",
                              .unit_seconds = 1e-9},
                             nullptr);
    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("Tracing 1 functions for \"{}\"... Hit Ctrl-C to end.\n", target);
      std::fflush(stdout);
    }
    tools::ready("funclatency", fmt::format("{} {}", tools::hook_kind_name(path.kind), target));
    const int count = duration > 0 ? std::max(1, interval > 0 ? static_cast<int>(duration / interval) : 1) : 0;
    tools::run_report_loop(
        interval > 0 ? interval : duration, count, false, [&] { report.collect(skel.maps.hists.map()); },
        [&] { report.print(); });
    return 0;
  });
}
