// Names of the uapi enums as bpftool prints them.
#include <array>

#include "corebpf/object_spec.hpp"

namespace corebpf {
namespace {

template <std::size_t N>
std::string_view name_at(const std::array<std::string_view, N>& names, std::uint32_t value) noexcept {
  return value < N ? names[value] : std::string_view();
}

constexpr std::array<std::string_view, 33> kProgramTypeNames = {
    "unspec",
    "socket_filter",
    "kprobe",
    "sched_cls",
    "sched_act",
    "tracepoint",
    "xdp",
    "perf_event",
    "cgroup_skb",
    "cgroup_sock",
    "lwt_in",
    "lwt_out",
    "lwt_xmit",
    "sock_ops",
    "sk_skb",
    "cgroup_device",
    "sk_msg",
    "raw_tracepoint",
    "cgroup_sock_addr",
    "lwt_seg6local",
    "lirc_mode2",
    "sk_reuseport",
    "flow_dissector",
    "cgroup_sysctl",
    "raw_tracepoint_writable",
    "cgroup_sockopt",
    "tracing",
    "struct_ops",
    "ext",
    "lsm",
    "sk_lookup",
    "syscall",
    "netfilter",
};

constexpr std::array<std::string_view, 57> kAttachTypeNames = {
    "cgroup_inet_ingress",
    "cgroup_inet_egress",
    "cgroup_inet_sock_create",
    "cgroup_sock_ops",
    "sk_skb_stream_parser",
    "sk_skb_stream_verdict",
    "cgroup_device",
    "sk_msg_verdict",
    "cgroup_inet4_bind",
    "cgroup_inet6_bind",
    "cgroup_inet4_connect",
    "cgroup_inet6_connect",
    "cgroup_inet4_post_bind",
    "cgroup_inet6_post_bind",
    "cgroup_udp4_sendmsg",
    "cgroup_udp6_sendmsg",
    "lirc_mode2",
    "flow_dissector",
    "cgroup_sysctl",
    "cgroup_udp4_recvmsg",
    "cgroup_udp6_recvmsg",
    "cgroup_getsockopt",
    "cgroup_setsockopt",
    "trace_raw_tp",
    "trace_fentry",
    "trace_fexit",
    "modify_return",
    "lsm_mac",
    "trace_iter",
    "cgroup_inet4_getpeername",
    "cgroup_inet6_getpeername",
    "cgroup_inet4_getsockname",
    "cgroup_inet6_getsockname",
    "xdp_devmap",
    "cgroup_inet_sock_release",
    "xdp_cpumap",
    "sk_lookup",
    "xdp",
    "sk_skb_verdict",
    "sk_reuseport_select",
    "sk_reuseport_select_or_migrate",
    "perf_event",
    "trace_kprobe_multi",
    "lsm_cgroup",
    "struct_ops",
    "netfilter",
    "tcx_ingress",
    "tcx_egress",
    "trace_uprobe_multi",
    "cgroup_unix_connect",
    "cgroup_unix_sendmsg",
    "cgroup_unix_recvmsg",
    "cgroup_unix_getpeername",
    "cgroup_unix_getsockname",
    "netkit_primary",
    "netkit_peer",
    "trace_kprobe_session",
};

constexpr std::array<std::string_view, 34> kMapTypeNames = {
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
    "arena",
};

}  // namespace

std::string_view program_type_name(ProgramType type) noexcept {
  return name_at(kProgramTypeNames, static_cast<std::uint32_t>(type));
}

std::string_view attach_type_name(AttachType type) noexcept {
  return name_at(kAttachTypeNames, static_cast<std::uint32_t>(type));
}

std::string_view map_type_name(MapType type) noexcept {
  return name_at(kMapTypeNames, static_cast<std::uint32_t>(type));
}

std::string_view map_origin_name(MapOrigin origin) noexcept {
  switch (origin) {
    case MapOrigin::btf_defined:
      return "btf_defined";
    case MapOrigin::legacy:
      return "legacy";
    case MapOrigin::data:
      return "data";
    case MapOrigin::rodata:
      return "rodata";
    case MapOrigin::bss:
      return "bss";
    case MapOrigin::kconfig:
      return "kconfig";
    case MapOrigin::struct_ops:
      return "struct_ops";
  }
  return "";
}

std::string_view extern_kind_name(ExternKind kind) noexcept {
  switch (kind) {
    case ExternKind::kconfig:
      return "kconfig";
    case ExternKind::ksym_typed:
      return "ksym";
    case ExternKind::ksym_untyped:
      return "ksym (untyped)";
    case ExternKind::kfunc:
      return "kfunc";
  }
  return "";
}

}  // namespace corebpf
