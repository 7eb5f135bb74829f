// fentry (libbpf-bootstrap): BPF trampolines at the entry and exit of do_unlinkat, the kernel
// function behind unlink(2) and unlinkat(2): the path at entry, the path and the result at exit.
// Needs BPF trampolines (a kernel without them, or that refuses them, gets a one-line reason).
// Run as root:
//
//   corebpf-fentry [-j]
#include <fmt/format.h>

#include "fentry.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("fentry", [&] {
    tools::Cli cli("fentry", "libbpf-bootstrap's fentry: do_unlinkat() entry and exit through BPF trampolines");
    cli.add_json().add_perf_buffer();
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = fentry::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::AttachPlan plan;
    plan.add({tools::HookKind::fentry, {"do_unlinkat_entry", "do_unlinkat_exit"}, {"do_unlinkat"}});
    plan.choose(spec);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    skel.load();
    const auto links = plan.attach(skel.object());

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<fentry::types::unlink_event>(data);
      if (options.json) {
        nlohmann::json line = {{"probe", e.is_return ? "fexit" : "fentry"},
                               {"pid", e.pid},
                               {"comm", tools::text(e.comm)},
                               {"filename", tools::text(e.filename)}};
        if (e.is_return) line["ret"] = e.ret;
        tools::JsonLines::emit(line);
        return;
      }
      if (e.is_return)
        fmt::print("fexit: pid = {}, filename = {}, ret = {}\n", e.pid, tools::text(e.filename), e.ret);
      else
        fmt::print("fentry: pid = {}, filename = {}\n", e.pid, tools::text(e.filename));
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("fentry", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    return 0;
  });
}
