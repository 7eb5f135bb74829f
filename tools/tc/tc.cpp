// tc (libbpf-bootstrap): a classifier on a device's ingress (lo by default) that passes every
// packet and reports each IPv4 packet (the original's "Got IP packet: tot_len: 84, ttl: 64" with
// the protocol and addresses), then, on the way out, the packets and bytes counted per IP
// protocol. It attaches with a tcx link where the kernel has them (6.6+), else through a clsact
// qdisc and a cls_bpf filter; either goes away when the tool ends. Run as root:
//
//   corebpf-tc [-j] [-i IFNAME]
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "tc.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("tc", [&] {
    tools::Cli cli("tc", "libbpf-bootstrap's tc: IPv4 packets on a device's ingress, counted per protocol");
    cli.add_json().add_perf_buffer();
    std::string interface = "lo";
    cli.app().add_option("-i,--interface", interface, "the device (default lo)");
    cli.parse(argc, argv);
    const auto& options = cli.options;
    const int ifindex = tools::interface_index(interface);

    auto skel = tc::Skeleton::open();
    tools::require_programs(skel.object().spec());
    const auto stream = tools::prepare_events(skel.object().spec(), options.perf_buffer);
    skel.load();
    corebpf::TcOptions tc_options;
    tc_options.egress = false;
    auto link = skel.progs.tc_ingress.attach_tc(ifindex, tc_options);

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<tc::types::tc_event>(data);
      const auto protocol = tools::ip_protocol_name(e.protocol);
      const auto from = tools::ipv4_text(e.saddr);
      const auto to = tools::ipv4_text(e.daddr);
      if (options.json) {
        tools::JsonLines::emit({{"interface", interface},
                                {"protocol", protocol},
                                {"saddr", from},
                                {"daddr", to},
                                {"tot_len", e.tot_len},
                                {"ttl", e.ttl}});
        return;
      }
      fmt::print("Got IP packet: tot_len: {}, ttl: {}, {} {} -> {}\n", e.tot_len, e.ttl, protocol, from, to);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("tc", fmt::format("{}; {}", link.description(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();

    // The per-CPU counts, summed.
    nlohmann::json counts = nlohmann::json::array();
    if (!options.json) fmt::print("\n{:<10} {:>10} {:>12}\n", "PROTOCOL", "PACKETS", "BYTES");
    for (std::uint32_t number = 0; number < 256; ++number) {
      const auto per_cpu = skel.maps.counts.lookup(number);
      if (!per_cpu) continue;
      std::uint64_t packets = 0, bytes = 0;
      for (const auto& count : *per_cpu) {
        packets += count.packets;
        bytes += count.bytes;
      }
      if (packets == 0) continue;
      const auto protocol = tools::ip_protocol_name(number);
      if (options.json)
        counts.push_back({{"protocol", protocol}, {"packets", packets}, {"bytes", bytes}});
      else
        fmt::print("{:<10} {:>10} {:>12}\n", protocol, packets, bytes);
    }
    if (options.json) tools::JsonLines::emit({{"interface", interface}, {"counts", counts}});
    return 0;
  });
}
