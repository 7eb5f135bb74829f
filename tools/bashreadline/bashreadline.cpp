// bashreadline: the command lines typed into bash (bcc's columns: TIME PID COMMAND), from a
// uretprobe on readline() in the shell binary (or the library that has it: --shell PATH), or a
// JSON object per line with -j.
#include <linux/types.h>

#include <fmt/format.h>

#include "bashreadline.h"
#include "bashreadline.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("bashreadline", [&] {
    tools::Cli cli("bashreadline", "Print the command lines entered in bash");
    cli.add_json().add_pid().add_perf_buffer();
    std::string shell = "/bin/bash";
    auto& app = cli.app();
    app.add_option("-s,--shell", shell, "the binary or library with readline() (default /bin/bash)");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = bashreadline::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::uprobe, {"readline_return"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    corebpf::UprobeOptions uprobe;
    uprobe.function = "readline";
    uprobe.retprobe = true;
    auto link = skel.progs.readline_return.attach_uprobe(shell, uprobe);

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<bashreadline_event>(data);
      if (options.json) {
        tools::JsonLines::emit({{"time", tools::time_hms()},
                                {"pid", event.pid},
                                {"comm", tools::text(event.comm)},
                                {"command", tools::text(event.line)}});
        return;
      }
      fmt::print("{:<9} {:<7} {}\n", tools::time_hms(), event.pid, tools::text(event.line));
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) {
      fmt::print("{:<9} {:<7} {}\n", "TIME", "PID", "COMMAND");
      std::fflush(stdout);
    }
    tools::ready("bashreadline", fmt::format("uretprobe {}:readline; {}", shell, stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    return 0;
  });
}
