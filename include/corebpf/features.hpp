// [kernel] What the running kernel supports, probed by loading tiny BTF blobs, programs and maps. Each
// answer is computed once per process (thread-safe) and cached. Probes need the privileges a
// load needs; without them every probe answers false.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "corebpf/object_spec.hpp"

namespace corebpf::kernel {

// BTF features an older kernel's BTF_BTF_LOAD rejects; the loader sanitizes them away.
enum class BtfFeature : std::uint8_t {
  func,         // FUNC and FUNC_PROTO (4.20)
  datasec,      // VAR and DATASEC (5.2)
  float_,       // FLOAT (5.13)
  decl_tag,     // DECL_TAG (5.16)
  type_tag,     // TYPE_TAG (5.17)
  enum64,       // ENUM64 (6.0)
  func_global,  // FUNC with global linkage (5.6)
};
std::string_view btf_feature_name(BtfFeature feature) noexcept;

bool has_btf_feature(BtfFeature feature);
bool has_program_type(ProgramType type);
bool has_map_type(MapType type);
// Whether programs of `type` may call helper `helper_id` (enum bpf_func_id); empty when the probe
// cannot tell. Types that need an attach target before the verifier looks at their calls load
// their probe with one: tracing programs as tp_btf/sys_enter. A helper the verifier knows for the
// type but keeps to some attach points (bpf_get_func_ip: fentry/fexit; bpf_d_path: listed
// functions) counts as available, as for the other types. ext, lsm and struct_ops programs have no
// target every kernel offers: unknown.
std::optional<bool> helper_support(ProgramType type, std::uint32_t helper_id);
// helper_support(), an unknown answer being no.
bool has_helper(ProgramType type, std::uint32_t helper_id);

// Whether helper_support() can answer for programs of `type`: not for ext, lsm and struct_ops,
// nor for a type the kernel lacks (which has no helpers).
bool can_probe_helpers(ProgramType type);

// Offload to network device `ifindex` (a driver whose device runs BPF itself, such as nfp), as
// `feature probe dev NAME` asks: programs loaded with prog_ifindex, maps created with map_ifindex.
// A device without offload answers no to every question. Not cached: devices come and go.
bool device_has_program_type(ProgramType type, std::uint32_t ifindex);
bool device_has_map_type(MapType type, std::uint32_t ifindex);
bool device_has_helper(ProgramType type, std::uint32_t helper_id, std::uint32_t ifindex);
// The misc features below (has_large_insn_limit()...) as the device takes them.
enum class MiscFeature : std::uint8_t { large_insn_limit, bounded_loops, isa_v2, isa_v3, isa_v4 };
bool device_has_misc(MiscFeature feature, std::uint32_t ifindex);

// What bpftool's `feature probe` reports besides types and helpers.
bool has_bpf_syscall();       // bpf() exists (CONFIG_BPF_SYSCALL)
bool has_large_insn_limit();  // programs longer than 4096 instructions (5.2)
bool has_bounded_loops();     // backward jumps the verifier proves bounded (5.3)
bool has_isa_v2();            // jlt, jle, jslt, jsle (4.14)
bool has_isa_v3();            // 32-bit jumps (5.1)
bool has_isa_v4();            // sign extension, bswap, sdiv/smod, gotol (6.6)

// BPF_F_MMAPABLE on array maps (5.5): global data becomes a live view.
bool has_mmapable_arrays();
// bpf_get_attach_cookie (5.15).
bool has_bpf_cookie();
// Whether the kernel still charges BPF memory to RLIMIT_MEMLOCK (before 5.11's memcg accounting),
// so a loader must raise that limit.
bool charges_memlock();
// BPF_LINK_CREATE exists (5.7): links instead of legacy attach.
bool has_bpf_link();

// ---- Tracing attach (src/kernel/attach_tracing.cpp).
// BPF_LINK_CREATE of BPF_PERF_EVENT (5.15): perf events (tracepoints, kprobes, uprobes) as BPF
// links, which carry a bpf cookie and can be pinned; older kernels use PERF_EVENT_IOC_SET_BPF.
bool has_perf_link();
// BPF_TRACE_KPROBE_MULTI links (5.18, CONFIG_FPROBE) and their kprobe.session form (6.10).
bool has_kprobe_multi();
bool has_kprobe_session();
// A cookie for raw tracepoints and tp_btf (6.10).
bool has_raw_tp_cookie();
// Whether a program of this trampoline attach type (trace_fentry, trace_fexit, modify_return,
// lsm_mac) loads and attaches on a function every kernel has: needs BTF, a BPF trampoline for
// the architecture, and for lsm_mac the bpf LSM active.
bool has_trampoline_attach(AttachType type);

// Whether this process holds CAP_SYS_ADMIN or CAP_BPF in its effective set (read each call:
// privileges can be dropped at any time).
bool has_bpf_privileges();

// Lifts RLIMIT_MEMLOCK to infinity when charges_memlock() says it matters; once per process.
// When the limit cannot be raised it logs a warning: a load that does not fit fails by name.
void raise_memlock_if_needed();

// BPF_TRACE_UPROBE_MULTI links (6.6): many uprobes of one binary in one link.
bool has_uprobe_multi();

// ---- Networking attach (src/kernel/attach_net.cpp): which hooks BPF_LINK_CREATE reaches.
// XDP links (5.9); otherwise XDP goes through netlink IFLA_XDP.
bool has_xdp_link();
// tcx links on a device's ingress/egress (6.6); otherwise a clsact qdisc and a cls_bpf filter.
bool has_tcx_link();
// Links for sk_msg / sk_skb programs on a sockmap or sockhash (6.10); otherwise BPF_PROG_ATTACH.
bool has_sockmap_link();
// Links on a network namespace for flow_dissector (5.8) and sk_lookup programs.
bool has_netns_link();
// Links on a cgroup (5.7); otherwise BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI.
bool has_cgroup_link();

// Whether programs of this iterator target ("task", "bpf_map_elem", "cgroup"...: the kernel's
// bpf_iter_<target> function) load. A kernel may know the target and still refuse its programs
// (some refuse bpf_map_elem iterators with EPERM before verification).
bool has_iterator(std::string_view target);

// What the running kernel lacks to load `program`, by probe: its program type, iterator target
// or trampoline kind ("this kernel (6.18.44) refuses bpf_map_elem iterators"); nullopt when the
// probes say such programs load.
std::optional<std::string> missing_program_support(const ProgramSpec& program);

// The same decision as data: the reason above, and the feature with its first release (empty and
// 0 for a program type or iterator target the table has no row for).
struct ProgramSupportGap {
  std::string reason;
  std::string feature;                // "fentry/fexit programs", "bpf_map_elem iterators"
  std::uint32_t minimum_version = 0;  // version_code() of the first release with it, 0 when unknown
};
std::optional<ProgramSupportGap> program_support_gap(const ProgramSpec& program);

// ---- Kernel features as data: one table of what the probes above decide, with the release that
// brought each feature and what else the kernel needs for it, so errors and tests say the same.
enum class Feature : std::uint8_t {
  bpf_link,
  mmapable_arrays,
  bpf_cookie,
  perf_link,
  ringbuf,
  user_ringbuf,
  kprobes,
  kprobe_multi,
  kprobe_session,
  uprobe_multi,
  raw_tp_cookie,
  tracing_programs,
  trampolines,  // fentry/fexit
  fmod_ret,
  lsm,
  freplace,
  task_iterator,
  task_file_iterator,  // iter/task_file: every open file of every task (5.8)
  map_elem_iterator,
  struct_ops,
  struct_ops_link,
  xdp_link,
  tcx_link,
  sockmap_link,
  netns_link,
  cgroup_link,
};

struct FeatureInfo {
  Feature feature;
  std::string_view name;   // "kprobe.session links"
  std::uint32_t since;     // version_code() of the first release with it
  std::string_view needs;  // what else the kernel needs ("CONFIG_FPROBE"), or empty
};

const FeatureInfo& feature_info(Feature feature) noexcept;
std::span<const FeatureInfo> all_features() noexcept;
bool has_feature(Feature feature);

// Why `feature` is missing on the running kernel, for errors and skips: "kprobe.session links
// need Linux 6.10 (this kernel is 6.1.0-27-cloud-amd64)", or, on a release that should have it,
// "this kernel (6.18.44) refuses map element iterators (needs ...)".
std::string unsupported_reason(Feature feature);

// Throws corebpf::UnsupportedError (EOPNOTSUPP) with `message`, naming `feature`, the release that
// brought it and the running release as data.
[[noreturn]] void fail_unsupported(Feature feature, std::string message);

}  // namespace corebpf::kernel
