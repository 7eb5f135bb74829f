// Internal: rtnetlink (NETLINK_ROUTE) requests over an AF_NETLINK socket, for what the bpf() call
// cannot do: XDP through IFLA_XDP, TC through a clsact qdisc and cls_bpf filters, and the links,
// addresses and veth pairs the tests build. Each request opens its own socket in the calling
// thread's network namespace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/fd.hpp"

namespace corebpf::kernel::netlink {

// A request: the netlink header, the family header (ifinfomsg, tcmsg...) and attributes.
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags);

  // The family header; append it before any attribute.
  template <typename T>
  void append_header(const T& header) {
    append(&header, sizeof(header));
  }
  void put(std::uint16_t type, const void* data, std::size_t size);
  void put_u8(std::uint16_t type, std::uint8_t value) { put(type, &value, sizeof(value)); }
  void put_u32(std::uint16_t type, std::uint32_t value) { put(type, &value, sizeof(value)); }
  void put_s32(std::uint16_t type, std::int32_t value) { put(type, &value, sizeof(value)); }
  // NUL-terminated, as the kernel's NLA_STRING/NLA_NUL_STRING policies expect.
  void put_string(std::uint16_t type, std::string_view value);
  // Attributes put between begin_nested() and end_nested() go inside attribute `type`.
  std::size_t begin_nested(std::uint16_t type);
  void end_nested(std::size_t start);

  std::span<std::byte> finish(std::uint32_t sequence);
  std::uint16_t flags() const noexcept;

 private:
  void append(const void* data, std::size_t size);
  std::vector<std::byte> buffer_;
};

// One attribute of a reply.
struct Attribute {
  std::uint16_t type = 0;  // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
  std::span<const std::byte> payload;

  std::uint8_t u8() const noexcept;
  std::uint32_t u32() const noexcept;
  std::string_view string() const noexcept;  // up to the first NUL
};

// The attributes packed in `bytes` (a family header's tail or a nested attribute's payload).
std::vector<Attribute> parse_attributes(std::span<const std::byte> bytes);
std::optional<Attribute> find_attribute(std::span<const std::byte> bytes, std::uint16_t type);

// What the kernel answered: 0 or a negative errno, its extended-ack text, and the reply messages
// (nlmsghdr included) of a get or dump.
struct Reply {
  int error = 0;
  std::string kernel_message;
  std::vector<std::vector<std::byte>> messages;

  explicit operator bool() const noexcept { return error == 0; }
  // "File exists (kernel: Exclusivity flag on, cannot modify)" for error messages.
  std::string describe() const;
};

class Socket {
 public:
  // A NETLINK_ROUTE socket with extended acks; throws corebpf::Error when it cannot be opened.
  Socket();
  // Sends `message` and reads until its ack, or NLMSG_DONE for a dump (NLM_F_DUMP). Kernel
  // refusals come back in Reply::error; only socket failures throw.
  Reply request(Message& message);

 private:
  UniqueFd fd_;
  std::uint32_t sequence_ = 0;
  std::uint32_t port_ = 0;
};

// ---- XDP through IFLA_XDP.

struct XdpState {
  std::uint8_t attached = 0;  // XDP_ATTACHED_*
  std::uint32_t prog_id = 0;  // the single program when one mode is attached
  std::uint32_t skb_prog_id = 0;
  std::uint32_t drv_prog_id = 0;
  std::uint32_t hw_prog_id = 0;
};
// Throws corebpf::Error (ENODEV) for an unknown interface.
XdpState query_xdp(int ifindex);
// `program_fd` -1 detaches; `flags` are XDP_FLAGS_*.
Reply set_xdp(int ifindex, int program_fd, std::uint32_t flags);

// ---- TC: clsact qdisc and cls_bpf filters. `parent` is TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS
// or TC_H_MIN_EGRESS).

Reply add_clsact(int ifindex);  // exclusive: EEXIST when one is there
Reply delete_clsact(int ifindex);
Reply add_bpf_filter(int ifindex, std::uint32_t parent, std::uint32_t priority, std::uint32_t handle, int program_fd,
                     std::string_view name);
Reply delete_filter(int ifindex, std::uint32_t parent, std::uint32_t priority, std::uint32_t handle);

struct FilterInfo {
  std::uint32_t priority = 0;
  std::uint32_t handle = 0;
  std::string kind;           // "bpf"
  std::uint32_t prog_id = 0;  // cls_bpf filters only
  std::string prog_name;      // cls_bpf filters only (TCA_BPF_NAME)
};
// The filters under `parent`; none when there is no qdisc or no such interface.
std::vector<FilterInfo> list_filters(int ifindex, std::uint32_t parent);
// Whether the interface has a clsact qdisc.
bool has_clsact(int ifindex);

// ---- Interfaces (the tests' veth pairs).

Reply create_veth(std::string_view name, std::string_view peer);
Reply delete_link(int ifindex);
Reply set_link_up(int ifindex);
// Whether the interface is operationally up (IF_OPER_UP): a device set up starts passing packets
// only once the kernel's link watcher has seen its carrier, a moment after set_link_up().
bool link_running(int ifindex);
// IPv4 `address` (network byte order) with `prefix_length` on the interface.
Reply add_ipv4_address(int ifindex, std::uint32_t address, std::uint8_t prefix_length);

}  // namespace corebpf::kernel::netlink
