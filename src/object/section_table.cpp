// SEC() names -> program type, expected attach type, attach target and auto-attach kind: the
// names libbpf documents ("Program Types and ELF Sections"), so objects written for libbpf open
// unchanged. A rule is "name" (exactly that section) or "name+" (that section, or "name/<extras>"
// where the extras say what to attach to).
#include <array>

#include "corebpf/object_spec.hpp"

namespace corebpf {
namespace {

enum Flags : std::uint8_t {
  kNone = 0,
  kSleepable = 1,
  kFrags = 2,
  kBtfTarget = 4,
};

struct Rule {
  std::string_view pattern;
  ProgramType type;
  std::optional<AttachType> attach;
  AutoAttach auto_attach;
  std::uint8_t flags;
};

using P = ProgramType;
using A = AttachType;
using AA = AutoAttach;

// Exact names come before a "+" rule whose extras could also spell them.
const Rule kRules[] = {
    {"socket", P::socket_filter, {}, AA::none, kNone},
    {"sk_reuseport/migrate", P::sk_reuseport, A::sk_reuseport_select_or_migrate, AA::none, kNone},
    {"sk_reuseport", P::sk_reuseport, A::sk_reuseport_select, AA::none, kNone},
    {"kprobe+", P::kprobe, {}, AA::kprobe, kNone},
    {"uprobe+", P::kprobe, {}, AA::uprobe, kNone},
    {"uprobe.s+", P::kprobe, {}, AA::uprobe, kSleepable},
    {"kretprobe+", P::kprobe, {}, AA::kretprobe, kNone},
    {"uretprobe+", P::kprobe, {}, AA::uretprobe, kNone},
    {"uretprobe.s+", P::kprobe, {}, AA::uretprobe, kSleepable},
    {"kprobe.multi+", P::kprobe, A::trace_kprobe_multi, AA::kprobe_multi, kNone},
    {"kretprobe.multi+", P::kprobe, A::trace_kprobe_multi, AA::kretprobe_multi, kNone},
    {"kprobe.session+", P::kprobe, A::trace_kprobe_session, AA::kprobe_session, kNone},
    {"uprobe.multi+", P::kprobe, A::trace_uprobe_multi, AA::uprobe_multi, kNone},
    {"uretprobe.multi+", P::kprobe, A::trace_uprobe_multi, AA::uretprobe_multi, kNone},
    {"uprobe.multi.s+", P::kprobe, A::trace_uprobe_multi, AA::uprobe_multi, kSleepable},
    {"uretprobe.multi.s+", P::kprobe, A::trace_uprobe_multi, AA::uretprobe_multi, kSleepable},
    {"ksyscall+", P::kprobe, {}, AA::ksyscall, kNone},
    {"kretsyscall+", P::kprobe, {}, AA::kretsyscall, kNone},
    {"usdt+", P::kprobe, {}, AA::usdt, kNone},
    {"usdt.s+", P::kprobe, {}, AA::usdt, kSleepable},
    {"tc/ingress", P::sched_cls, A::tcx_ingress, AA::none, kNone},
    {"tc/egress", P::sched_cls, A::tcx_egress, AA::none, kNone},
    {"tcx/ingress", P::sched_cls, A::tcx_ingress, AA::none, kNone},
    {"tcx/egress", P::sched_cls, A::tcx_egress, AA::none, kNone},
    {"tc", P::sched_cls, {}, AA::none, kNone},
    {"classifier", P::sched_cls, {}, AA::none, kNone},
    {"action", P::sched_act, {}, AA::none, kNone},
    {"netkit/primary", P::sched_cls, A::netkit_primary, AA::none, kNone},
    {"netkit/peer", P::sched_cls, A::netkit_peer, AA::none, kNone},
    {"tracepoint+", P::tracepoint, {}, AA::tracepoint, kNone},
    {"tp+", P::tracepoint, {}, AA::tracepoint, kNone},
    {"raw_tracepoint+", P::raw_tracepoint, {}, AA::raw_tracepoint, kNone},
    {"raw_tp+", P::raw_tracepoint, {}, AA::raw_tracepoint, kNone},
    {"raw_tracepoint.w+", P::raw_tracepoint_writable, {}, AA::raw_tracepoint, kNone},
    {"raw_tp.w+", P::raw_tracepoint_writable, {}, AA::raw_tracepoint, kNone},
    {"tp_btf+", P::tracing, A::trace_raw_tp, AA::tracing, kBtfTarget},
    {"fentry+", P::tracing, A::trace_fentry, AA::tracing, kBtfTarget},
    {"fmod_ret+", P::tracing, A::modify_return, AA::tracing, kBtfTarget},
    {"fexit+", P::tracing, A::trace_fexit, AA::tracing, kBtfTarget},
    {"fentry.s+", P::tracing, A::trace_fentry, AA::tracing, kBtfTarget | kSleepable},
    {"fmod_ret.s+", P::tracing, A::modify_return, AA::tracing, kBtfTarget | kSleepable},
    {"fexit.s+", P::tracing, A::trace_fexit, AA::tracing, kBtfTarget | kSleepable},
    {"freplace+", P::ext, {}, AA::tracing, kBtfTarget},
    {"lsm+", P::lsm, A::lsm_mac, AA::lsm, kBtfTarget},
    {"lsm.s+", P::lsm, A::lsm_mac, AA::lsm, kBtfTarget | kSleepable},
    {"lsm_cgroup+", P::lsm, A::lsm_cgroup, AA::none, kBtfTarget},
    {"iter+", P::tracing, A::trace_iter, AA::iter, kBtfTarget},
    {"iter.s+", P::tracing, A::trace_iter, AA::iter, kBtfTarget | kSleepable},
    {"syscall", P::syscall, {}, AA::none, kSleepable},
    {"xdp.frags/devmap", P::xdp, A::xdp_devmap, AA::none, kFrags},
    {"xdp/devmap", P::xdp, A::xdp_devmap, AA::none, kNone},
    {"xdp.frags/cpumap", P::xdp, A::xdp_cpumap, AA::none, kFrags},
    {"xdp/cpumap", P::xdp, A::xdp_cpumap, AA::none, kNone},
    {"xdp.frags", P::xdp, A::xdp, AA::none, kFrags},
    {"xdp", P::xdp, A::xdp, AA::none, kNone},
    {"perf_event", P::perf_event, {}, AA::none, kNone},
    {"lwt_in", P::lwt_in, {}, AA::none, kNone},
    {"lwt_out", P::lwt_out, {}, AA::none, kNone},
    {"lwt_xmit", P::lwt_xmit, {}, AA::none, kNone},
    {"lwt_seg6local", P::lwt_seg6local, {}, AA::none, kNone},
    {"sockops", P::sock_ops, A::cgroup_sock_ops, AA::none, kNone},
    {"sk_skb/stream_parser", P::sk_skb, A::sk_skb_stream_parser, AA::none, kNone},
    {"sk_skb/stream_verdict", P::sk_skb, A::sk_skb_stream_verdict, AA::none, kNone},
    {"sk_skb/verdict", P::sk_skb, A::sk_skb_verdict, AA::none, kNone},
    {"sk_skb", P::sk_skb, {}, AA::none, kNone},
    {"sk_msg", P::sk_msg, A::sk_msg_verdict, AA::none, kNone},
    {"lirc_mode2", P::lirc_mode2, A::lirc_mode2, AA::none, kNone},
    {"flow_dissector", P::flow_dissector, A::flow_dissector, AA::none, kNone},
    {"cgroup_skb/ingress", P::cgroup_skb, A::cgroup_inet_ingress, AA::none, kNone},
    {"cgroup_skb/egress", P::cgroup_skb, A::cgroup_inet_egress, AA::none, kNone},
    {"cgroup/skb", P::cgroup_skb, {}, AA::none, kNone},
    {"cgroup/sock_create", P::cgroup_sock, A::cgroup_inet_sock_create, AA::none, kNone},
    {"cgroup/sock_release", P::cgroup_sock, A::cgroup_inet_sock_release, AA::none, kNone},
    {"cgroup/sock", P::cgroup_sock, A::cgroup_inet_sock_create, AA::none, kNone},
    {"cgroup/post_bind4", P::cgroup_sock, A::cgroup_inet4_post_bind, AA::none, kNone},
    {"cgroup/post_bind6", P::cgroup_sock, A::cgroup_inet6_post_bind, AA::none, kNone},
    {"cgroup/bind4", P::cgroup_sock_addr, A::cgroup_inet4_bind, AA::none, kNone},
    {"cgroup/bind6", P::cgroup_sock_addr, A::cgroup_inet6_bind, AA::none, kNone},
    {"cgroup/connect4", P::cgroup_sock_addr, A::cgroup_inet4_connect, AA::none, kNone},
    {"cgroup/connect6", P::cgroup_sock_addr, A::cgroup_inet6_connect, AA::none, kNone},
    {"cgroup/connect_unix", P::cgroup_sock_addr, A::cgroup_unix_connect, AA::none, kNone},
    {"cgroup/sendmsg4", P::cgroup_sock_addr, A::cgroup_udp4_sendmsg, AA::none, kNone},
    {"cgroup/sendmsg6", P::cgroup_sock_addr, A::cgroup_udp6_sendmsg, AA::none, kNone},
    {"cgroup/sendmsg_unix", P::cgroup_sock_addr, A::cgroup_unix_sendmsg, AA::none, kNone},
    {"cgroup/recvmsg4", P::cgroup_sock_addr, A::cgroup_udp4_recvmsg, AA::none, kNone},
    {"cgroup/recvmsg6", P::cgroup_sock_addr, A::cgroup_udp6_recvmsg, AA::none, kNone},
    {"cgroup/recvmsg_unix", P::cgroup_sock_addr, A::cgroup_unix_recvmsg, AA::none, kNone},
    {"cgroup/getpeername4", P::cgroup_sock_addr, A::cgroup_inet4_getpeername, AA::none, kNone},
    {"cgroup/getpeername6", P::cgroup_sock_addr, A::cgroup_inet6_getpeername, AA::none, kNone},
    {"cgroup/getpeername_unix", P::cgroup_sock_addr, A::cgroup_unix_getpeername, AA::none, kNone},
    {"cgroup/getsockname4", P::cgroup_sock_addr, A::cgroup_inet4_getsockname, AA::none, kNone},
    {"cgroup/getsockname6", P::cgroup_sock_addr, A::cgroup_inet6_getsockname, AA::none, kNone},
    {"cgroup/getsockname_unix", P::cgroup_sock_addr, A::cgroup_unix_getsockname, AA::none, kNone},
    {"cgroup/sysctl", P::cgroup_sysctl, A::cgroup_sysctl, AA::none, kNone},
    {"cgroup/getsockopt", P::cgroup_sockopt, A::cgroup_getsockopt, AA::none, kNone},
    {"cgroup/setsockopt", P::cgroup_sockopt, A::cgroup_setsockopt, AA::none, kNone},
    {"cgroup/dev", P::cgroup_device, A::cgroup_device, AA::none, kNone},
    {"struct_ops+", P::struct_ops, {}, AA::none, kNone},
    {"struct_ops.s+", P::struct_ops, {}, AA::none, kSleepable},
    {"sk_lookup", P::sk_lookup, A::sk_lookup, AA::none, kNone},
    {"netfilter", P::netfilter, A::netfilter, AA::none, kNone},
};

// Whether `section` matches `pattern`; `extras` gets what follows "name/" for "name+" and
// "name/" patterns.
bool matches(std::string_view pattern, std::string_view section, std::string_view& extras) {
  extras = {};
  if (pattern.ends_with('+')) {
    pattern.remove_suffix(1);
    if (section == pattern) return true;
    if (section.size() > pattern.size() && section.starts_with(pattern) && section[pattern.size()] == '/') {
      extras = section.substr(pattern.size() + 1);
      return true;
    }
    return false;
  }
  if (pattern.ends_with('/')) {
    if (!section.starts_with(pattern)) return false;
    extras = section.substr(pattern.size());
    return true;
  }
  return section == pattern;
}

}  // namespace

std::optional<ProgramDefinition> section_definition(std::string_view section,
                                                    std::span<const SectionHandler> handlers) {
  std::string_view extras;
  for (const auto& handler : handlers) {
    if (handler.pattern.empty() || !matches(handler.pattern, section, extras)) continue;
    ProgramDefinition definition;
    definition.attach_target = std::string(extras);
    if (handler.fill) handler.fill(section, definition);
    return definition;
  }
  for (const auto& rule : kRules) {
    if (!matches(rule.pattern, section, extras)) continue;
    ProgramDefinition definition;
    definition.type = rule.type;
    definition.expected_attach_type = rule.attach;
    definition.attach_target = std::string(extras);
    definition.auto_attach = rule.auto_attach;
    definition.sleepable = (rule.flags & kSleepable) != 0;
    definition.xdp_frags = (rule.flags & kFrags) != 0;
    definition.attach_target_is_btf = (rule.flags & kBtfTarget) != 0;
    return definition;
  }
  for (const auto& handler : handlers) {
    if (!handler.pattern.empty()) continue;
    ProgramDefinition definition;
    if (handler.fill) handler.fill(section, definition);
    return definition;
  }
  return std::nullopt;
}

std::string_view ProgramSpec::attach_btf_module() const {
  const std::string_view target = definition_.attach_target;
  const auto colon = target.find(':');
  return definition_.attach_target_is_btf && colon != std::string_view::npos ? target.substr(0, colon)
                                                                             : std::string_view();
}

std::string ProgramSpec::attach_btf_name() const {
  std::string_view target = definition_.attach_target;
  // libbpf's "module:function" form names the module whose BTF has the target.
  if (definition_.attach_target_is_btf && target.find(':') != std::string_view::npos)
    target.remove_prefix(target.find(':') + 1);
  const std::string name(target);
  if (definition_.type == ProgramType::tracing && definition_.expected_attach_type == AttachType::trace_raw_tp)
    return "btf_trace_" + name;
  if (definition_.type == ProgramType::lsm) return "bpf_lsm_" + name;
  if (definition_.type == ProgramType::tracing && definition_.expected_attach_type == AttachType::trace_iter)
    return "bpf_iter_" + name;
  return name;
}

}  // namespace corebpf
