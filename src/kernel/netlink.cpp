#include "kernel/netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "kernel/syscalls.hpp"
#include "util/error_format.hpp"

namespace corebpf::kernel::netlink {
namespace {

constexpr std::size_t align4(std::size_t size) { return (size + 3) & ~std::size_t{3}; }

template <typename T>
T read_as(std::span<const std::byte> bytes) {
  T value{};
  std::memcpy(&value, bytes.data(), std::min(sizeof(T), bytes.size()));
  return value;
}

// The attributes after a reply message's header and its family header of `family_size` bytes.
std::span<const std::byte> message_attributes(const std::vector<std::byte>& message, std::size_t family_size) {
  const std::size_t start = NLMSG_HDRLEN + NLMSG_ALIGN(family_size);
  if (message.size() < start) return {};
  return std::span<const std::byte>(message).subspan(start);
}

}  // namespace

// ---- Message

Message::Message(std::uint16_t type, std::uint16_t flags) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = flags;
  append(&header, sizeof(header));
}

void Message::append(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const std::byte*>(data);
  buffer_.insert(buffer_.end(), bytes, bytes + size);
  buffer_.resize(align4(buffer_.size()));
}

void Message::put(std::uint16_t type, const void* data, std::size_t size) {
  nlattr attribute{};
  attribute.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + size);
  attribute.nla_type = type;
  append(&attribute, sizeof(attribute));
  if (size > 0) append(data, size);
}

void Message::put_string(std::uint16_t type, std::string_view value) {
  std::string terminated(value);
  put(type, terminated.c_str(), terminated.size() + 1);
}

std::size_t Message::begin_nested(std::uint16_t type) {
  const std::size_t start = buffer_.size();
  put(type | NLA_F_NESTED, nullptr, 0);
  return start;
}

void Message::end_nested(std::size_t start) {
  const auto length = static_cast<std::uint16_t>(buffer_.size() - start);
  std::memcpy(buffer_.data() + start + offsetof(nlattr, nla_len), &length, sizeof(length));
}

std::span<std::byte> Message::finish(std::uint32_t sequence) {
  auto* header = reinterpret_cast<nlmsghdr*>(buffer_.data());
  header->nlmsg_len = static_cast<std::uint32_t>(buffer_.size());
  header->nlmsg_seq = sequence;
  return buffer_;
}

std::uint16_t Message::flags() const noexcept { return reinterpret_cast<const nlmsghdr*>(buffer_.data())->nlmsg_flags; }

// ---- Attributes

std::uint8_t Attribute::u8() const noexcept { return read_as<std::uint8_t>(payload); }
std::uint32_t Attribute::u32() const noexcept { return read_as<std::uint32_t>(payload); }

std::string_view Attribute::string() const noexcept {
  std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  return text.substr(0, text.find('\0'));
}

std::vector<Attribute> parse_attributes(std::span<const std::byte> bytes) {
  std::vector<Attribute> attributes;
  std::size_t offset = 0;
  while (offset + NLA_HDRLEN <= bytes.size()) {
    const auto header = read_as<nlattr>(bytes.subspan(offset));
    if (header.nla_len < NLA_HDRLEN || offset + header.nla_len > bytes.size()) break;
    attributes.push_back(Attribute{static_cast<std::uint16_t>(header.nla_type & NLA_TYPE_MASK),
                                   bytes.subspan(offset + NLA_HDRLEN, header.nla_len - NLA_HDRLEN)});
    offset += align4(header.nla_len);
  }
  return attributes;
}

std::optional<Attribute> find_attribute(std::span<const std::byte> bytes, std::uint16_t type) {
  for (const auto& attribute : parse_attributes(bytes)) {
    if (attribute.type == type) return attribute;
  }
  return std::nullopt;
}

std::string Reply::describe() const {
  std::string text = std::generic_category().message(-error);
  if (!kernel_message.empty()) text += fmt::format(" (kernel: {})", kernel_message);
  return text;
}

// ---- Socket

Socket::Socket() : fd_(detail::syscalls().netlink_socket(NETLINK_ROUTE)) {
  if (!fd_) util::fail_errno("opening a NETLINK_ROUTE socket");
  const int one = 1;
  // Both are optional: extended acks only improve messages, capped acks only shorten them.
  (void)::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
    util::fail_errno("binding a NETLINK_ROUTE socket");
  }
  socklen_t length = sizeof(local);
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    util::fail_errno("reading the address of a NETLINK_ROUTE socket");
  }
  port_ = local.nl_pid;
}

Reply Socket::request(Message& message) {
  const bool dump = (message.flags() & NLM_F_DUMP) == NLM_F_DUMP;
  const auto bytes = message.finish(++sequence_);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent = 0;
  do {
    sent = detail::syscalls().netlink_send(fd_.get(), bytes.data(), bytes.size(),
                                           reinterpret_cast<const sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) util::fail_errno("sending a netlink request");

  Reply reply;
  std::vector<std::byte> buffer(64 * 1024);
  for (;;) {
    const ssize_t received = detail::syscalls().netlink_receive(fd_.get(), buffer.data(), buffer.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      util::fail_errno("reading a netlink reply");
    }
    const auto bytes = std::span<const std::byte>(buffer).first(static_cast<std::size_t>(received));
    for (std::size_t offset = 0; offset + NLMSG_HDRLEN <= bytes.size();) {
      const auto header = read_as<nlmsghdr>(bytes.subspan(offset));
      if (header.nlmsg_len < NLMSG_HDRLEN || offset + header.nlmsg_len > bytes.size()) break;  // truncated
      const auto message_bytes = bytes.subspan(offset, header.nlmsg_len);
      offset += NLMSG_ALIGN(header.nlmsg_len);
      if (header.nlmsg_seq != sequence_ || header.nlmsg_pid != port_) continue;  // someone else's
      const auto payload = message_bytes.subspan(NLMSG_HDRLEN);
      if (header.nlmsg_type == NLMSG_ERROR || header.nlmsg_type == NLMSG_DONE) {
        if (payload.size() >= sizeof(int)) reply.error = read_as<int>(payload);
        if (header.nlmsg_type == NLMSG_ERROR && (header.nlmsg_flags & NLM_F_ACK_TLVS) != 0 &&
            payload.size() >= sizeof(nlmsgerr)) {
          const auto error = read_as<nlmsgerr>(payload);
          // Without NETLINK_CAP_ACK the request comes back between the error and the TLVs.
          std::size_t tlv_offset = sizeof(nlmsgerr);
          if ((header.nlmsg_flags & NLM_F_CAPPED) == 0) tlv_offset += error.msg.nlmsg_len - NLMSG_HDRLEN;
          if (tlv_offset < payload.size()) {
            if (auto text = find_attribute(payload.subspan(tlv_offset), NLMSGERR_ATTR_MSG)) {
              reply.kernel_message = std::string(text->string());
            }
          }
        }
        return reply;
      }
      reply.messages.emplace_back(message_bytes.begin(), message_bytes.end());
      // A get without NLM_F_ACK ends with its one answer.
      if (!dump && (message.flags() & NLM_F_ACK) == 0) return reply;
    }
  }
}

// ---- XDP

namespace {

ifinfomsg link_header(int ifindex) {
  ifinfomsg header{};
  header.ifi_family = AF_UNSPEC;
  header.ifi_index = ifindex;
  return header;
}

}  // namespace

XdpState query_xdp(int ifindex) {
  Message message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  message.append_header(link_header(ifindex));
  Socket socket;
  const auto reply = socket.request(message);
  if (reply.error == -ENODEV) util::fail(std::errc::no_such_device, "no network interface has index {}", ifindex);
  if (!reply) {
    errno = -reply.error;
    util::fail_errno("reading the XDP state of interface {}", ifindex);
  }
  XdpState state;
  for (const auto& answer : reply.messages) {
    const auto xdp = find_attribute(message_attributes(answer, sizeof(ifinfomsg)), IFLA_XDP);
    if (!xdp) continue;
    for (const auto& attribute : parse_attributes(xdp->payload)) {
      switch (attribute.type) {
        case IFLA_XDP_ATTACHED:
          state.attached = attribute.u8();
          break;
        case IFLA_XDP_PROG_ID:
          state.prog_id = attribute.u32();
          break;
        case IFLA_XDP_SKB_PROG_ID:
          state.skb_prog_id = attribute.u32();
          break;
        case IFLA_XDP_DRV_PROG_ID:
          state.drv_prog_id = attribute.u32();
          break;
        case IFLA_XDP_HW_PROG_ID:
          state.hw_prog_id = attribute.u32();
          break;
        default:
          break;
      }
    }
  }
  // With one mode attached the kernel gives only IFLA_XDP_PROG_ID; name the mode's id too.
  if (state.prog_id != 0) {
    if (state.attached == XDP_ATTACHED_SKB) state.skb_prog_id = state.prog_id;
    if (state.attached == XDP_ATTACHED_DRV) state.drv_prog_id = state.prog_id;
    if (state.attached == XDP_ATTACHED_HW) state.hw_prog_id = state.prog_id;
  }
  return state;
}

Reply set_xdp(int ifindex, int program_fd, std::uint32_t flags) {
  Message message(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  message.append_header(link_header(ifindex));
  const auto xdp = message.begin_nested(IFLA_XDP);
  message.put_s32(IFLA_XDP_FD, program_fd);
  if (flags != 0) message.put_u32(IFLA_XDP_FLAGS, flags);
  message.end_nested(xdp);
  Socket socket;
  return socket.request(message);
}

// ---- TC

namespace {

tcmsg tc_header(int ifindex, std::uint32_t parent, std::uint32_t handle, std::uint32_t info) {
  tcmsg header{};
  header.tcm_family = AF_UNSPEC;
  header.tcm_ifindex = ifindex;
  header.tcm_parent = parent;
  header.tcm_handle = handle;
  header.tcm_info = info;
  return header;
}

std::uint32_t filter_info(std::uint32_t priority) {
  return TC_H_MAKE(priority << 16, static_cast<std::uint32_t>(htons(ETH_P_ALL)));
}

Reply clsact_request(std::uint16_t type, std::uint16_t flags, int ifindex) {
  Message message(type, flags);
  message.append_header(tc_header(ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0));
  message.put_string(TCA_KIND, "clsact");
  Socket socket;
  return socket.request(message);
}

}  // namespace

Reply add_clsact(int ifindex) {
  return clsact_request(RTM_NEWQDISC, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ifindex);
}

Reply delete_clsact(int ifindex) { return clsact_request(RTM_DELQDISC, NLM_F_REQUEST | NLM_F_ACK, ifindex); }

Reply add_bpf_filter(int ifindex, std::uint32_t parent, std::uint32_t priority, std::uint32_t handle, int program_fd,
                     std::string_view name) {
  Message message(RTM_NEWTFILTER, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  message.append_header(tc_header(ifindex, parent, handle, filter_info(priority)));
  message.put_string(TCA_KIND, "bpf");
  const auto options = message.begin_nested(TCA_OPTIONS);
  message.put_u32(TCA_BPF_FD, static_cast<std::uint32_t>(program_fd));
  message.put_string(TCA_BPF_NAME, name);
  message.put_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  message.end_nested(options);
  Socket socket;
  return socket.request(message);
}

Reply delete_filter(int ifindex, std::uint32_t parent, std::uint32_t priority, std::uint32_t handle) {
  Message message(RTM_DELTFILTER, NLM_F_REQUEST | NLM_F_ACK);
  message.append_header(tc_header(ifindex, parent, handle, filter_info(priority)));
  message.put_string(TCA_KIND, "bpf");
  Socket socket;
  return socket.request(message);
}

bool has_clsact(int ifindex) {
  Message message(RTM_GETQDISC, NLM_F_REQUEST | NLM_F_DUMP);
  message.append_header(tc_header(ifindex, 0, 0, 0));
  Socket socket;
  const auto reply = socket.request(message);
  if (reply.error == -ENODEV) return false;
  if (!reply) {
    errno = -reply.error;
    util::fail_errno("listing the qdiscs of interface {}", ifindex);
  }
  for (const auto& answer : reply.messages) {
    if (answer.size() < NLMSG_HDRLEN + sizeof(tcmsg)) continue;
    const auto header = read_as<tcmsg>(std::span<const std::byte>(answer).subspan(NLMSG_HDRLEN));
    if (header.tcm_ifindex != ifindex) continue;  // a dump may list every interface's
    const auto kind = find_attribute(message_attributes(answer, sizeof(tcmsg)), TCA_KIND);
    if (kind && kind->string() == "clsact") return true;
  }
  return false;
}

std::vector<FilterInfo> list_filters(int ifindex, std::uint32_t parent) {
  Message message(RTM_GETTFILTER, NLM_F_REQUEST | NLM_F_DUMP);
  message.append_header(tc_header(ifindex, parent, 0, 0));
  Socket socket;
  const auto reply = socket.request(message);
  // No qdisc, or no interface any more: no filters.
  if (reply.error == -ENOENT || reply.error == -EINVAL || reply.error == -ENODEV) return {};
  if (!reply) {
    errno = -reply.error;
    util::fail_errno("listing the TC filters of interface {}", ifindex);
  }
  std::vector<FilterInfo> filters;
  for (const auto& answer : reply.messages) {
    if (answer.size() < NLMSG_HDRLEN + sizeof(tcmsg)) continue;
    const auto header = read_as<tcmsg>(std::span<const std::byte>(answer).subspan(NLMSG_HDRLEN));
    // Each priority's classifier comes first as an entry of its own, without a handle.
    if (header.tcm_handle == 0) continue;
    FilterInfo filter;
    filter.priority = TC_H_MAJ(header.tcm_info) >> 16;
    filter.handle = header.tcm_handle;
    const auto attributes = message_attributes(answer, sizeof(tcmsg));
    if (auto kind = find_attribute(attributes, TCA_KIND)) filter.kind = std::string(kind->string());
    if (auto options = find_attribute(attributes, TCA_OPTIONS)) {
      if (auto id = find_attribute(options->payload, TCA_BPF_ID)) filter.prog_id = id->u32();
      if (auto name = find_attribute(options->payload, TCA_BPF_NAME)) filter.prog_name = std::string(name->string());
    }
    filters.push_back(std::move(filter));
  }
  return filters;
}

// ---- Interfaces

Reply create_veth(std::string_view name, std::string_view peer) {
  Message message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  message.append_header(link_header(0));
  message.put_string(IFLA_IFNAME, name);
  const auto link_info = message.begin_nested(IFLA_LINKINFO);
  message.put_string(IFLA_INFO_KIND, "veth");
  const auto data = message.begin_nested(IFLA_INFO_DATA);
  // The peer is described like a link of its own: an ifinfomsg, then its attributes.
  const auto peer_info = message.begin_nested(VETH_INFO_PEER);
  message.append_header(link_header(0));
  message.put_string(IFLA_IFNAME, peer);
  message.end_nested(peer_info);
  message.end_nested(data);
  message.end_nested(link_info);
  Socket socket;
  return socket.request(message);
}

Reply delete_link(int ifindex) {
  Message message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
  message.append_header(link_header(ifindex));
  Socket socket;
  return socket.request(message);
}

Reply set_link_up(int ifindex) {
  Message message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  auto header = link_header(ifindex);
  header.ifi_flags = IFF_UP;
  header.ifi_change = IFF_UP;
  message.append_header(header);
  Socket socket;
  return socket.request(message);
}

bool link_running(int ifindex) {
  // IF_OPER_UP of <linux/if.h>, which cannot be included next to <net/if.h>.
  constexpr std::uint8_t kOperationallyUp = 6;
  Message message(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  message.append_header(link_header(ifindex));
  Socket socket;
  const auto reply = socket.request(message);
  if (!reply) return false;
  for (const auto& answer : reply.messages) {
    if (auto state = find_attribute(message_attributes(answer, sizeof(ifinfomsg)), IFLA_OPERSTATE)) {
      return state->u8() == kOperationallyUp;
    }
  }
  return false;
}

Reply add_ipv4_address(int ifindex, std::uint32_t address, std::uint8_t prefix_length) {
  Message message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  ifaddrmsg header{};
  header.ifa_family = AF_INET;
  header.ifa_prefixlen = prefix_length;
  header.ifa_scope = RT_SCOPE_UNIVERSE;
  header.ifa_index = static_cast<std::uint32_t>(ifindex);
  message.append_header(header);
  message.put(IFA_LOCAL, &address, sizeof(address));
  message.put(IFA_ADDRESS, &address, sizeof(address));
  Socket socket;
  return socket.request(message);
}

}  // namespace corebpf::kernel::netlink
