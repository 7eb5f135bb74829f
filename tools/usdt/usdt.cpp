// usdt (libbpf-bootstrap): a USDT probe (<sys/sdt.h>) with its arguments, by default libc's
// setjmp probe (in glibc builds with SystemTap probes; Debian's has none), in every process that
// maps the binary. This binary has a probe of its own, corebpf:trigger, which `--call V` fires
// once (arguments V, V+1, V+2) after calling setjmp. Run as root:
//
//   corebpf-usdt [-j] [-p PID] [--binary PATH|LIBRARY] [--probe PROVIDER:NAME]
//   corebpf-usdt --call V
#include <setjmp.h>
#include <sys/sdt.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "corebpf/error.hpp"
#include "tools.hpp"
#include "usdt.skel.hpp"

namespace tools = corebpf::tools;

namespace {

// Fires this binary's own probe: a function of its own so the probe has one location.
__attribute__((noinline)) void fire_trigger(long value) { STAP_PROBE3(corebpf, trigger, value, value + 1, value + 2); }

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("usdt", [&] {
    tools::Cli cli("usdt", "libbpf-bootstrap's usdt: a USDT probe's hits with their arguments");
    cli.add_json().add_pid().add_perf_buffer();
    std::string binary = "libc.so.6";
    std::string probe = "libc:setjmp";
    long call = -1;
    auto& app = cli.app();
    app.add_option("--binary", binary, "the binary or library with the probe (default libc.so.6)");
    app.add_option("--probe", probe, "PROVIDER:NAME (default libc:setjmp)");
    app.add_option("--call", call, "only call setjmp and fire this binary's corebpf:trigger probe with V, V+1, V+2")
        ->type_name("V")
        ->check(CLI::NonNegativeNumber);
    cli.parse(argc, argv);
    const auto& options = cli.options;
    if (call >= 0) {
      jmp_buf buffer;
      if (setjmp(buffer) == 0) fire_trigger(call);
      fmt::print("setjmp called, corebpf:trigger fired with {} {} {}\n", call, call + 1, call + 2);
      return 0;
    }
    const auto colon = probe.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == probe.size())
      throw corebpf::Error(std::errc::invalid_argument, fmt::format("--probe {}: expected PROVIDER:NAME", probe));
    const auto provider = probe.substr(0, colon);
    const auto name = probe.substr(colon + 1);

    auto skel = usdt::Skeleton::open();
    const auto stream = tools::prepare_events(skel.object().spec(), options.perf_buffer);
    skel.load();
    corebpf::UsdtOptions usdt_options;
    if (options.pid != 0) usdt_options.pid = options.pid;
    auto link = skel.progs.handle_usdt.attach_usdt(binary, provider, name, usdt_options);

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<usdt::types::usdt_event>(data);
      const int nargs = std::clamp(e.nargs, 0, 3);
      if (options.json) {
        nlohmann::json args = nlohmann::json::array();
        for (int i = 0; i < nargs; ++i) args.push_back(e.args[i]);
        tools::JsonLines::emit({{"pid", e.pid}, {"comm", tools::text(e.comm)}, {"probe", probe}, {"args", args}});
        return;
      }
      std::string line = fmt::format("{:<7} {:<16} {}:", e.pid, tools::text(e.comm), probe);
      for (int i = 0; i < nargs; ++i)
        line += fmt::format(" arg{} = {:#x}", i + 1, static_cast<unsigned long>(e.args[i]));
      fmt::print("{}\n", line);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) fmt::print("{:<7} {:<16} {}\n", "PID", "COMM", "PROBE AND ARGUMENTS");
    tools::ready("usdt", fmt::format("usdt {} in {}; {}", probe, binary, stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    return 0;
  });
}
