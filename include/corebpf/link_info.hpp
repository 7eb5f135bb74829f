// [pure] kernel::LinkInfo: what the kernel tells about a BPF link (BPF_OBJ_GET_INFO_BY_FD), typed per
// link kind: a raw tracepoint's name, a cgroup link's cgroup and attach type, an XDP link's
// interface... Values only; kernel::link_info() (kernel.hpp) reads them, and formatting them is the
// caller's business (the CLI prints them as bpftool's `link show` does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace corebpf::kernel {

// Attach types below are BPF_* values (corebpf::AttachType, attach_type_name()).
struct RawTracepointLinkInfo {  // BPF_LINK_TYPE_RAW_TRACEPOINT
  std::string tp_name;
};
struct TracingLinkInfo {  // BPF_LINK_TYPE_TRACING: fentry/fexit/fmod_ret/lsm/freplace
  std::uint32_t attach_type = 0;
  std::uint32_t target_obj_id = 0;  // BTF object id of the target (vmlinux, a module, a program's)
  std::uint32_t target_btf_id = 0;  // the target function's type id in it
};
struct CgroupLinkInfo {  // BPF_LINK_TYPE_CGROUP
  std::uint64_t cgroup_id = 0;
  std::uint32_t attach_type = 0;
};
struct IterLinkInfo {                   // BPF_LINK_TYPE_ITER
  std::string target_name;              // "task", "bpf_map_elem"...
  std::optional<std::uint32_t> map_id;  // map iterators (bpf_map_elem, bpf_sk_storage_map, sockmap)
  struct Cgroup {
    std::uint64_t cgroup_id = 0;
    std::uint32_t order = 0;  // BPF_CGROUP_ITER_*
  };
  std::optional<Cgroup> cgroup;  // the cgroup iterator
  struct Task {
    std::uint32_t tid = 0;
    std::uint32_t pid = 0;
  };
  std::optional<Task> task;  // task, task_file, task_vma iterators
};
struct NetnsLinkInfo {  // BPF_LINK_TYPE_NETNS: flow dissector, sk_lookup
  std::uint32_t netns_ino = 0;
  std::uint32_t attach_type = 0;
};
struct XdpLinkInfo {  // BPF_LINK_TYPE_XDP
  std::uint32_t ifindex = 0;
};
struct StructOpsLinkInfo {  // BPF_LINK_TYPE_STRUCT_OPS
  std::uint32_t map_id = 0;
};
struct NetfilterLinkInfo {    // BPF_LINK_TYPE_NETFILTER (6.4)
  std::uint32_t pf = 0;       // NFPROTO_*
  std::uint32_t hooknum = 0;  // NF_INET_*
  std::int32_t priority = 0;
  std::uint32_t flags = 0;  // BPF_F_NETFILTER_IP_DEFRAG
};
// Kernels before a field's release (noted) leave it zero or empty: the kernel's answer does not
// tell "not reported" from zero, except where the field is optional.
struct KprobeMultiLinkInfo {             // BPF_LINK_TYPE_KPROBE_MULTI
  std::optional<std::uint32_t> count;    // empty before 6.6, which reports nothing of these links
  std::uint32_t flags = 0;               // BPF_F_KPROBE_MULTI_RETURN
  std::uint64_t missed = 0;              // 6.9
  std::vector<std::uint64_t> addresses;  // 6.6; zero without the privilege to see kernel addresses
  std::vector<std::uint64_t> cookies;    // 6.10
  bool retprobe() const { return (flags & 1u) != 0; }
};
struct UprobeMultiLinkInfo {  // BPF_LINK_TYPE_UPROBE_MULTI (reported since 6.8)
  std::string path;
  std::uint32_t count = 0;
  std::uint32_t flags = 0;  // BPF_F_UPROBE_MULTI_RETURN
  std::uint32_t pid = 0;    // 0: every process
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint64_t> ref_ctr_offsets;
  std::vector<std::uint64_t> cookies;
  bool retprobe() const { return (flags & 1u) != 0; }
};
struct PerfEventLinkInfo {  // BPF_LINK_TYPE_PERF_EVENT (details since 6.6)
  // BPF_PERF_EVENT_*: 0 unspec (a kernel before 6.6), uprobe, uretprobe, kprobe, kretprobe,
  // tracepoint, event.
  enum class Kind : std::uint32_t { unspec, uprobe, uretprobe, kprobe, kretprobe, tracepoint, event };
  Kind kind = Kind::unspec;
  std::string name;           // uprobes: the file; kprobes: the function; tracepoints: the name
  std::uint32_t offset = 0;   // uprobes and kprobes
  std::uint64_t address = 0;  // kprobes
  std::uint64_t missed = 0;   // kprobes
  std::uint64_t cookie = 0;   // 6.10; 0 before
  std::uint64_t config = 0;   // events: perf_event_attr config and type
  std::uint32_t event_type = 0;
};
struct TcxLinkInfo {  // BPF_LINK_TYPE_TCX (6.6)
  std::uint32_t ifindex = 0;
  std::uint32_t attach_type = 0;
};
struct NetkitLinkInfo {  // BPF_LINK_TYPE_NETKIT (6.7)
  std::uint32_t ifindex = 0;
  std::uint32_t attach_type = 0;
};
struct SockmapLinkInfo {  // BPF_LINK_TYPE_SOCKMAP (6.10)
  std::uint32_t map_id = 0;
  std::uint32_t attach_type = 0;
};

struct LinkInfo {
  std::uint32_t id = 0;
  std::uint32_t type = 0;  // BPF_LINK_TYPE_*
  std::uint32_t program_id = 0;
  // The kind's own fields; monostate for a kind that reports none (or one newer than corebpf).
  using Details = std::variant<std::monostate, RawTracepointLinkInfo, TracingLinkInfo, CgroupLinkInfo, IterLinkInfo,
                               NetnsLinkInfo, XdpLinkInfo, StructOpsLinkInfo, NetfilterLinkInfo, KprobeMultiLinkInfo,
                               UprobeMultiLinkInfo, PerfEventLinkInfo, TcxLinkInfo, NetkitLinkInfo, SockmapLinkInfo>;
  Details details;

  // The kind's fields when the link is of that kind, else null: `if (auto* xdp = info.as<XdpLinkInfo>())`.
  template <class T>
  const T* as() const noexcept {
    return std::get_if<T>(&details);
  }
};

}  // namespace corebpf::kernel
