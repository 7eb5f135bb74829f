#include "net.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include <cstring>

#include "corebpf/error.hpp"

namespace corebpf::tools {

int interface_index(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0)
    throw corebpf::Error(std::errc::no_such_device,
                         fmt::format("no network device '{}' (in this network namespace)", name));
  return static_cast<int>(index);
}

std::string ipv4_text(std::uint32_t network_order) {
  char text[INET_ADDRSTRLEN];
  in_addr address{};
  address.s_addr = network_order;
  return ::inet_ntop(AF_INET, &address, text, sizeof(text)) != nullptr ? text : "?";
}

std::string ip_text(const unsigned char* address, bool ipv6) {
  if (!ipv6) {
    std::uint32_t value;
    std::memcpy(&value, address, sizeof(value));
    return ipv4_text(value);
  }
  char text[INET6_ADDRSTRLEN];
  return ::inet_ntop(AF_INET6, address, text, sizeof(text)) != nullptr ? text : "?";
}

std::string ip_protocol_name(unsigned number) {
  // The protocols these tools meet; /etc/protocols may be missing (minimal systems, the test
  // guests), so no getprotobynumber().
  switch (number) {
    case IPPROTO_ICMP:
      return "ICMP";
    case IPPROTO_IGMP:
      return "IGMP";
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    case IPPROTO_GRE:
      return "GRE";
    case IPPROTO_ESP:
      return "ESP";
    case IPPROTO_ICMPV6:
      return "ICMPv6";
    case IPPROTO_SCTP:
      return "SCTP";
    default:
      return std::to_string(number);
  }
}

}  // namespace corebpf::tools
