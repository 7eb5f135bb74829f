// Networking attach: XDP, TC, cgroups, sockets, sockmaps, network namespaces. A BPF link where the
// kernel has one for the hook (probed in features.cpp); otherwise the older interface (netlink,
// BPF_PROG_ATTACH, socket options) behind an Attachment that undoes it.
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "corebpf/features.hpp"
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "kernel/attachment.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/netlink.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf {
namespace {

using corebpf::kernel::detail::zeroed_attr;

// A second fd on the same file, so an attachment outlives the caller's fd.
UniqueFd duplicate(int fd, std::string_view what) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) util::fail_errno("duplicating the fd of {}", what);
  return copy;
}

// The interface's name, or ENODEV naming the index.
std::string interface_name(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex <= 0 || ::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    util::fail(std::errc::no_such_device, "no network interface has index {} (in this network namespace)", ifindex);
  }
  return name;
}

// BPF_LINK_CREATE; the fd, or an empty one with errno set.
UniqueFd create_link(int program_fd, int target, AttachType type, std::uint32_t flags) {
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program_fd);
  attr.link_create.target_fd = static_cast<std::uint32_t>(target);
  attr.link_create.attach_type = static_cast<std::uint32_t>(type);
  attr.link_create.flags = flags;
  const long fd = kernel::detail::bpf_call(BPF_LINK_CREATE, attr);
  return UniqueFd(fd >= 0 ? static_cast<int>(fd) : -1);
}

Link bpf_link(UniqueFd fd, std::string description) {
  return Link(std::make_unique<detail::BpfLinkAttachment>(std::move(fd), std::move(description)));
}

// Destructors undo quietly: errors go to the log.
template <typename Undo>
void undo_quietly(Undo&& undo) noexcept {
  try {
    undo();
  } catch (const std::exception& e) {
    util::log(LogLevel::warning, "{}", e.what());
  }
}

// A destructor's undo, tried a second time when the first fails part-way (a netlink socket or
// reply lost to a transient ENOMEM): a kernel object left attached outlives the process.
void detach_retrying_once(detail::Attachment& attachment) {
  try {
    attachment.detach();
  } catch (const Error& e) {
    util::log(LogLevel::debug, "{} (trying again)", e.what());
    attachment.detach();
  }
}

[[noreturn]] void fail_reply(const kernel::netlink::Reply& reply, std::string_view what) {
  throw Error(-reply.error, fmt::format("{}: {}", what, reply.describe()));
}

// ---- XDP through netlink: detached on destruction only while our program is still the one there.
class XdpNetlinkAttachment final : public detail::Attachment {
 public:
  XdpNetlinkAttachment(int ifindex, std::uint32_t mode_flag, std::uint32_t program_id, std::string description)
      : Attachment(std::move(description)), ifindex_(ifindex), mode_flag_(mode_flag), program_id_(program_id) {}
  ~XdpNetlinkAttachment() override {
    undo_quietly([this] { detach_retrying_once(*this); });
  }

  void detach() override {
    if (detached_) return;
    kernel::netlink::XdpState state;
    try {
      state = kernel::netlink::query_xdp(ifindex_);
    } catch (const Error& e) {
      if (e.code() == std::errc::no_such_device) return;  // the interface went, and the program with it
      throw;
    }
    std::uint32_t flags = mode_flag_;
    if (mode_flag_ == 0) {
      // Attached without a mode: the kernel picked driver mode where the driver has it.
      if (state.drv_prog_id == program_id_)
        flags = XDP_FLAGS_DRV_MODE;
      else if (state.skb_prog_id == program_id_)
        flags = XDP_FLAGS_SKB_MODE;
    }
    const std::uint32_t current = flags == XDP_FLAGS_SKB_MODE   ? state.skb_prog_id
                                  : flags == XDP_FLAGS_DRV_MODE ? state.drv_prog_id
                                  : flags == XDP_FLAGS_HW_MODE  ? state.hw_prog_id
                                                                : 0;
    if (current != program_id_) {
      util::log(LogLevel::debug, "{}: program replaced or removed by someone else, left alone", description());
      detached_ = true;
      return;
    }
    const auto reply = kernel::netlink::set_xdp(ifindex_, -1, flags);
    detached_ = true;
    if (!reply) fail_reply(reply, fmt::format("detaching {}", description()));
  }

 private:
  int ifindex_;
  std::uint32_t mode_flag_;
  std::uint32_t program_id_;
  bool detached_ = false;
};

// ---- TC through a clsact qdisc and a cls_bpf filter.
constexpr std::uint32_t kIngressParent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
constexpr std::uint32_t kEgressParent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);

class TcFilterAttachment final : public detail::Attachment {
 public:
  TcFilterAttachment(int ifindex, std::uint32_t parent, std::uint32_t priority, std::uint32_t handle,
                     std::uint32_t program_id, bool created_qdisc, std::string description)
      : Attachment(std::move(description)),
        ifindex_(ifindex),
        parent_(parent),
        priority_(priority),
        handle_(handle),
        program_id_(program_id),
        created_qdisc_(created_qdisc) {}
  ~TcFilterAttachment() override {
    undo_quietly([this] { detach_retrying_once(*this); });
  }

  void detach() override {
    if (detached_) return;
    bool ours = false;
    for (const auto& filter : filter_removed_ ? std::vector<kernel::netlink::FilterInfo>{}
                                              : kernel::netlink::list_filters(ifindex_, parent_)) {
      ours = ours || (filter.priority == priority_ && filter.handle == handle_ && filter.prog_id == program_id_);
    }
    if (ours) {
      const auto reply = kernel::netlink::delete_filter(ifindex_, parent_, priority_, handle_);
      filter_removed_ = true;
      if (!reply && reply.error != -ENOENT && reply.error != -ENODEV) {
        fail_reply(reply, fmt::format("detaching {}", description()));
      }
    }
    filter_removed_ = true;
    // The qdisc we made goes with the last filter on it; one that was there before stays.
    if (created_qdisc_ && kernel::netlink::list_filters(ifindex_, kIngressParent).empty() &&
        kernel::netlink::list_filters(ifindex_, kEgressParent).empty()) {
      const auto reply = kernel::netlink::delete_clsact(ifindex_);
      if (!reply && reply.error != -ENOENT && reply.error != -EINVAL && reply.error != -ENODEV) {
        fail_reply(reply, fmt::format("removing the clsact qdisc made for {}", description()));
      }
    }
    detached_ = true;
  }

 private:
  int ifindex_;
  std::uint32_t parent_;
  std::uint32_t priority_;
  std::uint32_t handle_;
  std::uint32_t program_id_;
  bool created_qdisc_;
  bool filter_removed_ = false;
  bool detached_ = false;
};

// ---- BPF_PROG_ATTACH on a cgroup or a sockmap, undone by BPF_PROG_DETACH of the same program.
class ProgAttachAttachment final : public detail::Attachment {
 public:
  ProgAttachAttachment(UniqueFd target, UniqueFd program, AttachType type, std::string description)
      : Attachment(std::move(description)), target_(std::move(target)), program_(std::move(program)), type_(type) {}
  ~ProgAttachAttachment() override {
    undo_quietly([this] { detach(); });
  }

  void detach() override {
    if (!target_) return;
    bpf_attr attr = zeroed_attr();
    attr.target_fd = static_cast<std::uint32_t>(target_.get());
    attr.attach_bpf_fd = static_cast<std::uint32_t>(program_.get());
    attr.attach_type = static_cast<std::uint32_t>(type_);
    const long result = kernel::detail::bpf_call(BPF_PROG_DETACH, attr);
    const int error = errno;
    target_.reset();
    program_.reset();
    if (result < 0 && error != ENOENT) {
      errno = error;
      util::fail_errno("detaching {}", description());
    }
  }

 private:
  UniqueFd target_;
  UniqueFd program_;
  AttachType type_;
};

// ---- SO_ATTACH_BPF, undone by SO_DETACH_BPF on our own dup of the socket.
class SocketFilterAttachment final : public detail::Attachment {
 public:
  SocketFilterAttachment(UniqueFd socket, std::string description)
      : Attachment(std::move(description)), socket_(std::move(socket)) {}
  ~SocketFilterAttachment() override {
    undo_quietly([this] { detach(); });
  }

  void detach() override {
    if (!socket_) return;
    const int unused = 0;
    const int result = ::setsockopt(socket_.get(), SOL_SOCKET, SO_DETACH_BPF, &unused, sizeof(unused));
    const int error = errno;
    socket_.reset();
    // ENOENT: no filter left (someone detached it already).
    if (result != 0 && error != ENOENT) {
      errno = error;
      util::fail_errno("detaching {}", description());
    }
  }

 private:
  UniqueFd socket_;
};

std::string_view xdp_mode_name(XdpMode mode) {
  switch (mode) {
    case XdpMode::generic:
      return "generic (skb) mode";
    case XdpMode::driver:
      return "driver (native) mode";
    case XdpMode::offload:
      return "offload (hardware) mode";
    case XdpMode::any:
      break;
  }
  return "any mode";
}

std::uint32_t xdp_mode_flag(XdpMode mode) {
  switch (mode) {
    case XdpMode::generic:
      return XDP_FLAGS_SKB_MODE;
    case XdpMode::driver:
      return XDP_FLAGS_DRV_MODE;
    case XdpMode::offload:
      return XDP_FLAGS_HW_MODE;
    case XdpMode::any:
      break;
  }
  return 0;
}

// Both ways refuse with EBUSY/EEXIST when a program is there: name it.
[[noreturn]] void fail_xdp_attach(const Program& program, const std::string& name, int ifindex, XdpMode mode, int error,
                                  const std::string& kernel_message) {
  const std::string detail = kernel_message.empty() ? "" : fmt::format(" (kernel: {})", kernel_message);
  if (error == EBUSY || error == EEXIST) {
    std::uint32_t existing = 0;
    try {
      const auto state = kernel::netlink::query_xdp(ifindex);
      existing = state.prog_id ? state.prog_id : (state.drv_prog_id ? state.drv_prog_id : state.skb_prog_id);
    } catch (const Error&) {
      // The message below still says why; only the id is missing.
    }
    util::fail(std::errc::device_or_resource_busy,
               "cannot attach XDP program '{}' to interface {} (index {}): XDP program id {} is already attached "
               "there{}",
               program.name(), name, ifindex, existing, detail);
  }
  if (error == EOPNOTSUPP && (mode == XdpMode::driver || mode == XdpMode::offload)) {
    util::fail(std::errc::operation_not_supported,
               "cannot attach XDP program '{}' to interface {} (index {}): its driver does not support XDP in {}{}",
               program.name(), name, ifindex, xdp_mode_name(mode), detail);
  }
  throw Error(error, fmt::format("attaching XDP program '{}' to interface {} (index {}) in {}: {}{}", program.name(),
                                 name, ifindex, xdp_mode_name(mode), std::generic_category().message(error), detail));
}

void require_type(const Program& program, std::initializer_list<ProgramType> types, std::string_view call) {
  for (const auto type : types) {
    if (program.type() == type) return;
  }
  std::string wanted;
  for (const auto type : types) {
    if (!wanted.empty()) wanted += " or ";
    wanted += program_type_name(type);
  }
  util::fail(std::errc::invalid_argument, "program '{}' is a {} program; {} takes {} programs", program.name(),
             program_type_name(program.type()), call, wanted);
}

}  // namespace

Link Program::attach_xdp(int ifindex, const XdpOptions& options) const {
  require_type(*this, {ProgramType::xdp}, "attach_xdp");
  const std::string name = interface_name(ifindex);
  const std::uint32_t mode_flag = xdp_mode_flag(options.mode);
  auto description =
      fmt::format("xdp on {} (index {}, {}) (program '{}')", name, ifindex, xdp_mode_name(options.mode), name_);
  if (!options.force_netlink && kernel::has_xdp_link()) {
    UniqueFd link = create_link(fd(), ifindex, AttachType::xdp, mode_flag);
    if (!link) fail_xdp_attach(*this, name, ifindex, options.mode, errno, {});
    return bpf_link(std::move(link), std::move(description));
  }
  const std::uint32_t program_id = info().id;  // before attaching: nothing to undo when it fails
  kernel::netlink::Reply reply;
  try {
    reply = kernel::netlink::set_xdp(ifindex, fd(), mode_flag | XDP_FLAGS_UPDATE_IF_NOEXIST);
  } catch (const Error& e) {
    // The request may have reached the kernel although its answer did not reach us: undo what it
    // may have done (only if our program is the one there).
    { const XdpNetlinkAttachment undo(ifindex, mode_flag, program_id, description); }
    throw Error(e.errno_value(), fmt::format("attaching {}: {}", description, e.message()));
  }
  if (!reply) fail_xdp_attach(*this, name, ifindex, options.mode, -reply.error, reply.kernel_message);
  return Link(std::make_unique<XdpNetlinkAttachment>(ifindex, mode_flag, program_id, std::move(description)));
}

Link Program::attach_tc(int ifindex, const TcOptions& options) const {
  require_type(*this, {ProgramType::sched_cls}, "attach_tc");
  const std::string name = interface_name(ifindex);
  const bool egress = options.egress.value_or(definition_.expected_attach_type == AttachType::tcx_egress);
  const std::string_view direction = egress ? "egress" : "ingress";
  if (!options.force_netlink && kernel::has_tcx_link()) {
    auto description = fmt::format("tcx {} on {} (index {}) (program '{}')", direction, name, ifindex, name_);
    UniqueFd link = create_link(fd(), ifindex, egress ? AttachType::tcx_egress : AttachType::tcx_ingress, 0);
    if (!link) util::fail_errno("attaching {}", description);
    return bpf_link(std::move(link), std::move(description));
  }

  if (options.priority == 0 || options.priority > 0xffff) {
    util::fail(std::errc::invalid_argument, "program '{}': TC filter priority {} is not in 1..65535", name_,
               options.priority);
  }
  if (options.handle == 0) {
    util::fail(std::errc::invalid_argument, "program '{}': a TC filter handle of 0 names no filter", name_);
  }
  auto description = fmt::format("tc {} filter (priority {}, handle {:#x}) on {} (index {}) (program '{}')", direction,
                                 options.priority, options.handle, name, ifindex, name_);
  const std::uint32_t program_id = info().id;  // before attaching: nothing to undo when it fails
  kernel::netlink::Reply qdisc;
  try {
    const bool had_clsact = kernel::netlink::has_clsact(ifindex);
    try {
      qdisc = kernel::netlink::add_clsact(ifindex);
    } catch (const Error&) {
      // The request may have made the qdisc although its answer was lost: remove one that was
      // not there before.
      if (!had_clsact) undo_quietly([ifindex] { (void)kernel::netlink::delete_clsact(ifindex); });
      throw;
    }
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("attaching {}: creating a clsact qdisc: {}", description, e.message()));
  }
  if (!qdisc && qdisc.error != -EEXIST) {
    fail_reply(qdisc, fmt::format("creating a clsact qdisc on {} (index {}) for program '{}'", name, ifindex, name_));
  }
  const bool created_qdisc = static_cast<bool>(qdisc);
  const std::uint32_t parent = egress ? kEgressParent : kIngressParent;
  kernel::netlink::Reply filter;
  try {
    filter = kernel::netlink::add_bpf_filter(ifindex, parent, options.priority, options.handle, fd(), name_);
  } catch (const Error& e) {
    // As for XDP: the filter (ours by priority, handle and program) and a qdisc we made go again.
    {
      const TcFilterAttachment undo(ifindex, parent, options.priority, options.handle, program_id, created_qdisc,
                                    description);
    }
    throw Error(e.errno_value(), fmt::format("attaching {}: {}", description, e.message()));
  }
  if (!filter) {
    if (created_qdisc) (void)kernel::netlink::delete_clsact(ifindex);
    if (filter.error == -EEXIST) {
      util::fail(std::errc::file_exists, "cannot attach {}: a filter with that priority and handle is already there",
                 description);
    }
    fail_reply(filter, fmt::format("attaching {}", description));
  }
  return Link(std::make_unique<TcFilterAttachment>(ifindex, parent, options.priority, options.handle, program_id,
                                                   created_qdisc, std::move(description)));
}

namespace {

Link attach_to_cgroup(const Program& program, int cgroup_fd, const CgroupOptions& options, std::string_view target) {
  require_type(program,
               {ProgramType::cgroup_skb, ProgramType::cgroup_sock, ProgramType::cgroup_sock_addr, ProgramType::sock_ops,
                ProgramType::cgroup_device, ProgramType::cgroup_sysctl, ProgramType::cgroup_sockopt},
               "attach_cgroup");
  const auto type = options.type ? options.type : program.definition().expected_attach_type;
  if (!type) {
    util::fail(std::errc::invalid_argument,
               "program '{}' (section '{}') names no cgroup hook: give CgroupOptions::type (cgroup_inet_ingress...)",
               program.name(), program.section());
  }
  auto description = fmt::format("cgroup {} on {} (program '{}')", attach_type_name(*type), target, program.name());
  if (!options.force_prog_attach && kernel::has_cgroup_link()) {
    UniqueFd link = create_link(program.fd(), cgroup_fd, *type, 0);
    if (!link) util::fail_errno("attaching {}", description);
    return bpf_link(std::move(link), std::move(description));
  }
  bpf_attr attr = zeroed_attr();
  attr.target_fd = static_cast<std::uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<std::uint32_t>(program.fd());
  attr.attach_type = static_cast<std::uint32_t>(*type);
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  // The dups first: once attached, nothing may fail before the Attachment owns the undo.
  UniqueFd cgroup = duplicate(cgroup_fd, target);
  UniqueFd program_copy = duplicate(program.fd(), fmt::format("program '{}'", program.name()));
  if (kernel::detail::bpf_call(BPF_PROG_ATTACH, attr) < 0) util::fail_errno("attaching {}", description);
  return Link(std::make_unique<ProgAttachAttachment>(std::move(cgroup), std::move(program_copy), *type,
                                                     std::move(description)));
}

}  // namespace

Link Program::attach_cgroup(int cgroup_fd, const CgroupOptions& options) const {
  return attach_to_cgroup(*this, cgroup_fd, options, fmt::format("cgroup fd {}", cgroup_fd));
}

Link Program::attach_cgroup(const std::string& cgroup_path, const CgroupOptions& options) const {
  UniqueFd cgroup(::open(cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) util::fail_errno("opening cgroup {} to attach program '{}'", cgroup_path, name_);
  return attach_to_cgroup(*this, cgroup.get(), options, cgroup_path);
}

Link Program::attach_socket(int socket_fd) const {
  require_type(*this, {ProgramType::socket_filter}, "attach_socket");
  auto description = fmt::format("socket filter on socket fd {} (program '{}')", socket_fd, name_);
  UniqueFd socket = duplicate(socket_fd, fmt::format("socket fd {}", socket_fd));
  const int program_fd = fd();
  if (::setsockopt(socket.get(), SOL_SOCKET, SO_ATTACH_BPF, &program_fd, sizeof(program_fd)) != 0) {
    if (errno == ENOTSOCK)
      util::fail(std::errc::not_a_socket, "cannot attach {}: fd {} is not a socket", description, socket_fd);
    util::fail_errno("attaching {}", description);
  }
  return Link(std::make_unique<SocketFilterAttachment>(std::move(socket), std::move(description)));
}

Link Program::attach_sockmap(const Map& map, const SockmapOptions& options) const {
  require_type(*this, {ProgramType::sk_msg, ProgramType::sk_skb}, "attach_sockmap");
  if (map.type() != MapType::sockmap && map.type() != MapType::sockhash) {
    util::fail(std::errc::invalid_argument,
               "cannot attach program '{}' to map '{}': it is a {} map, not a sockmap or sockhash", name_, map.name(),
               map_type_name(map.type()));
  }
  auto type = options.type ? options.type : definition_.expected_attach_type;
  if (!type && type_ == ProgramType::sk_msg) type = AttachType::sk_msg_verdict;
  if (!type) {
    util::fail(std::errc::invalid_argument,
               "program '{}' (section '{}') names no sockmap hook: use SEC(\"sk_skb/stream_parser\"), "
               "\"sk_skb/stream_verdict\" or \"sk_skb/verdict\", or give SockmapOptions::type",
               name_, section_);
  }
  auto description = fmt::format("{} on map '{}' (program '{}')", attach_type_name(*type), map.name(), name_);
  if (!options.force_prog_attach && kernel::has_sockmap_link()) {
    UniqueFd link = create_link(fd(), map.fd(), *type, 0);
    if (!link) util::fail_errno("attaching {}", description);
    return bpf_link(std::move(link), std::move(description));
  }
  UniqueFd target = duplicate(map.fd(), fmt::format("map '{}'", map.name()));
  UniqueFd program_copy = duplicate(fd(), fmt::format("program '{}'", name_));
  bpf_attr attr = zeroed_attr();
  attr.target_fd = static_cast<std::uint32_t>(map.fd());
  attr.attach_bpf_fd = static_cast<std::uint32_t>(fd());
  attr.attach_type = static_cast<std::uint32_t>(*type);
  if (kernel::detail::bpf_call(BPF_PROG_ATTACH, attr) < 0) util::fail_errno("attaching {}", description);
  return Link(std::make_unique<ProgAttachAttachment>(std::move(target), std::move(program_copy), *type,
                                                     std::move(description)));
}

Link Program::attach_netns(int netns_fd) const {
  require_type(*this, {ProgramType::sk_lookup, ProgramType::flow_dissector}, "attach_netns");
  const AttachType type = type_ == ProgramType::sk_lookup ? AttachType::sk_lookup : AttachType::flow_dissector;
  auto description =
      fmt::format("{} on network namespace fd {} (program '{}')", attach_type_name(type), netns_fd, name_);
  if (!kernel::has_netns_link()) {
    kernel::fail_unsupported(
        kernel::Feature::netns_link,
        fmt::format("cannot attach {}: this kernel has no network namespace links (5.8+)", description));
  }
  UniqueFd link = create_link(fd(), netns_fd, type, 0);
  if (!link) util::fail_errno("attaching {}", description);
  return bpf_link(std::move(link), std::move(description));
}

}  // namespace corebpf
