// xdp-ping (Learning eBPF, chapter 8): an XDP program on one device that counts the ICMP and
// ICMPv6 echo requests arriving there and, with --drop, drops them (the pings go unanswered).
// Each request is a line; the count is printed every INTERVAL seconds and on the way out. The
// program attaches with an XDP link where the kernel has them (5.9+), else through netlink, in
// whatever mode the device supports; either goes away when the tool ends. Run as root:
//
//   corebpf-xdp-ping -i IFNAME [--drop] [-j] [--interval SECONDS]
#include <fmt/format.h>

#include <string>

#include "tools.hpp"
#include "xdp-ping.skel.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("xdp-ping", [&] {
    tools::Cli cli("xdp-ping", "Learning eBPF's XDP ping counter: ICMP echo requests on a device, passed or dropped");
    cli.add_json().add_perf_buffer();
    std::string interface;
    bool drop = false;
    double interval = 0;
    auto& app = cli.app();
    app.add_option("-i,--interface", interface, "the device")->required();
    app.add_flag("--drop", drop, "drop the echo requests");
    app.add_option("--interval", interval, "print the count every SECONDS (default: at the end)")
        ->check(CLI::PositiveNumber);
    cli.parse(argc, argv);
    const auto& options = cli.options;
    const int ifindex = tools::interface_index(interface);

    auto skel = xdp_ping::Skeleton::open();
    tools::require_programs(skel.object().spec());
    skel.rodata().drop_requests = drop;
    const auto stream = tools::prepare_events(skel.object().spec(), options.perf_buffer);
    skel.load();
    auto link = skel.progs.xdp_ping.attach_xdp(ifindex);

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<xdp_ping::types::ping_event>(data);
      const auto from = tools::ip_text(e.saddr, e.ipv6 != 0);
      const auto to = tools::ip_text(e.daddr, e.ipv6 != 0);
      const char* action = e.dropped ? "dropped" : "passed";
      if (options.json) {
        tools::JsonLines::emit({{"interface", interface},
                                {"family", e.ipv6 ? "ipv6" : "ipv4"},
                                {"saddr", from},
                                {"daddr", to},
                                {"id", e.id},
                                {"seq", e.sequence},
                                {"action", action}});
        return;
      }
      fmt::print("Got ping: {} -> {} id {} seq {} ({})\n", from, to, e.id, e.sequence, action);
      std::fflush(stdout);
    });
    const auto report = [&] {
      const auto requests = skel.bss().requests;  // live .bss
      if (options.json)
        tools::JsonLines::emit({{"interface", interface}, {"requests", requests}, {"dropped", drop ? requests : 0}});
      else
        fmt::print("{} echo requests on {}{}\n", requests, interface, drop ? " (dropped)" : "");
      std::fflush(stdout);
    };

    tools::install_stop_handlers();
    tools::ready("xdp-ping",
                 fmt::format("{}{}; {}", link.description(), drop ? ", dropping echo requests" : "", stream));
    double next = tools::monotonic_ns() / 1e9 + interval;
    while (!tools::stop_requested()) {
      events.poll(100);
      if (interval > 0 && tools::monotonic_ns() / 1e9 >= next) {
        report();
        next += interval;
      }
    }
    events.drain();
    report();
    return 0;
  });
}
