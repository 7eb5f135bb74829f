// kprobe (libbpf-bootstrap): a kprobe and a kretprobe on do_unlinkat, the kernel function behind
// unlink(2) and unlinkat(2): the path at entry, the result at return. Needs kprobes (a kernel
// without them gets a one-line reason; `fentry` does the same with BPF trampolines). Run as root:
//
//   corebpf-kprobe [-j]
#include <fmt/format.h>

#include "kprobe.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("kprobe", [&] {
    tools::Cli cli("kprobe", "libbpf-bootstrap's kprobe: do_unlinkat() entry and return through kprobes");
    cli.add_json().add_perf_buffer();
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = kprobe::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::AttachPlan plan;
    plan.add({tools::HookKind::kprobe, {"do_unlinkat_entry", "do_unlinkat_exit"}, {}});
    plan.choose(spec);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    skel.load();
    const auto links = plan.attach(skel.object());

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<kprobe::types::unlink_event>(data);
      if (options.json) {
        nlohmann::json line = {
            {"probe", e.is_return ? "exit" : "entry"}, {"pid", e.pid}, {"comm", tools::text(e.comm)}};
        if (e.is_return)
          line["ret"] = e.ret;
        else
          line["filename"] = tools::text(e.filename);
        tools::JsonLines::emit(line);
        return;
      }
      if (e.is_return)
        fmt::print("KPROBE EXIT: pid = {}, ret = {}\n", e.pid, e.ret);
      else
        fmt::print("KPROBE ENTRY pid = {}, filename = {}\n", e.pid, tools::text(e.filename));
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("kprobe", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    return 0;
  });
}
