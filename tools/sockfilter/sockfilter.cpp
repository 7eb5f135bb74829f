// sockfilter (libbpf-bootstrap): a socket filter on a raw packet socket bound to one device (lo by
// default). The filter reports each IPv4 packet (protocol, addresses, TCP/UDP ports, packet type)
// and keeps nothing for the socket, whose queue stays empty. Output like the original's:
//
//   interface: lo	protocol: UDP	127.0.0.1:40112(src) -> 127.0.0.1:9999(dst)	host
//
//   corebpf-sockfilter [-j] [-i IFNAME]
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "corebpf/error.hpp"
#include "corebpf/fd.hpp"
#include "sockfilter.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

// sockaddr_ll's packet types (<linux/if_packet.h>).
const char* packet_type_name(unsigned type) {
  switch (type) {
    case PACKET_HOST:
      return "host";
    case PACKET_BROADCAST:
      return "broadcast";
    case PACKET_MULTICAST:
      return "multicast";
    case PACKET_OTHERHOST:
      return "otherhost";
    case PACKET_OUTGOING:
      return "outgoing";
    default:
      return "other";
  }
}

// A raw packet socket of every protocol, bound to `ifindex`.
corebpf::UniqueFd open_packet_socket(int ifindex, const std::string& interface) {
  corebpf::UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!fd) throw corebpf::Error(errno, fmt::format("cannot open a packet socket: {}", std::strerror(errno)));
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = ifindex;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0)
    throw corebpf::Error(errno, fmt::format("cannot bind a packet socket to {}: {}", interface, std::strerror(errno)));
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("sockfilter", [&] {
    tools::Cli cli("sockfilter", "libbpf-bootstrap's sockfilter: IPv4 packets of a device seen by a socket filter");
    cli.add_json().add_perf_buffer();
    std::string interface = "lo";
    cli.app().add_option("-i,--interface", interface, "the device (default lo)");
    cli.parse(argc, argv);
    const auto& options = cli.options;
    const int ifindex = tools::interface_index(interface);

    auto skel = sockfilter::Skeleton::open();
    tools::require_programs(skel.object().spec());
    const auto stream = tools::prepare_events(skel.object().spec(), options.perf_buffer);
    skel.load();
    const auto socket = open_packet_socket(ifindex, interface);
    auto link = skel.progs.socket_handler.attach_socket(socket.get());

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<sockfilter::types::so_event>(data);
      const auto protocol = tools::ip_protocol_name(e.ip_proto);
      const auto from = tools::ipv4_text(e.src_addr);
      const auto to = tools::ipv4_text(e.dst_addr);
      const char* type = packet_type_name(e.pkt_type);
      if (options.json) {
        tools::JsonLines::emit({{"interface", interface},
                                {"protocol", protocol},
                                {"src", from},
                                {"src_port", e.src_port},
                                {"dst", to},
                                {"dst_port", e.dst_port},
                                {"pkt_type", type}});
        return;
      }
      fmt::print("interface: {}\tprotocol: {}\t{}:{}(src) -> {}:{}(dst)\t{}\n", interface, protocol, from, e.src_port,
                 to, e.dst_port, type);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("sockfilter", fmt::format("socket filter on a packet socket of {}; {}", interface, stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    return 0;
  });
}
