// Networking helpers of the tools that watch packets (tc, sockfilter, xdp-ping): devices by name,
// addresses and IP protocol numbers as text.
#pragma once

#include <cstdint>
#include <string>

namespace corebpf::tools {

// The index of network device `name` in this network namespace. Throws corebpf::Error (ENODEV)
// naming the device when there is none.
int interface_index(const std::string& name);

// "127.0.0.1" for an IPv4 address in network byte order (as the kernel keeps it).
std::string ipv4_text(std::uint32_t network_order);
// An IPv4 (first 4 bytes) or IPv6 address in network byte order.
std::string ip_text(const unsigned char* address, bool ipv6);

// "TCP", "UDP", "ICMP", "ICMPv6"... for an IP protocol number; the number itself otherwise.
std::string ip_protocol_name(unsigned number);

}  // namespace corebpf::tools
