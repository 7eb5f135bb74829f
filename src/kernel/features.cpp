// Feature probes: each loads the smallest thing that exercises one feature and remembers the
// answer for the life of the process.
#include "corebpf/features.hpp"

#include <linux/if_link.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "corebpf/btf_writer.hpp"
#include "corebpf/kernel_description.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/prog_load.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::kernel {
namespace {

// A thread-safe memo of probe answers by key.
template <typename Key, typename Answer = bool>
class ProbeCache {
 public:
  Answer get(const Key& key, const std::function<Answer()>& probe) {
    {
      std::lock_guard lock(mutex_);
      if (auto it = answers_.find(key); it != answers_.end()) return it->second;
    }
    // Probes run outside the lock: two threads may both probe once, with the same answer.
    const Answer answer = probe();
    std::lock_guard lock(mutex_);
    answers_.emplace(key, answer);
    return answer;
  }

 private:
  std::mutex mutex_;
  std::map<Key, Answer> answers_;
};

using corebpf::kernel::detail::zeroed_attr;

constexpr std::array<Insn, 2> kReturnZero = {
    Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0},
    Insn{Insn::kJmp | Insn::kExit, 0, 0, 0},
};

bool btf_loads(const btf::BtfWriter& writer) {
  const auto raw = writer.serialize();
  return static_cast<bool>(detail::load_btf(raw, false).fd);
}

bool probe_btf(BtfFeature feature) {
  btf::BtfWriter writer;
  const auto int_type = writer.add_int("int", 4, btf::kIntSigned);
  switch (feature) {
    case BtfFeature::func: {
      const auto proto = writer.add_func_proto(int_type);
      writer.add_func("probe", proto, btf::Linkage::static_);
      break;
    }
    case BtfFeature::func_global: {
      const auto proto = writer.add_func_proto(int_type);
      writer.add_param("x", int_type);
      writer.add_func("probe", proto, btf::Linkage::global);
      break;
    }
    case BtfFeature::datasec: {
      const auto var = writer.add_var("probe", int_type, btf::Linkage::static_);
      writer.add_datasec(".data", 4);
      writer.add_datasec_var(var, 0, 4);
      break;
    }
    case BtfFeature::float_:
      writer.add_float("float", 4);
      break;
    case BtfFeature::decl_tag: {
      const auto tagged = writer.add_struct("probe", 4);
      writer.add_member("x", int_type, 0);
      writer.add_decl_tag("tag", tagged, -1);
      break;
    }
    case BtfFeature::type_tag: {
      const auto tag = writer.add_type_tag("tag", int_type);
      writer.add_ptr(tag);
      break;
    }
    case BtfFeature::enum64:
      writer.add_enum64("probe", 8);
      writer.add_enumerator("PROBE", 1);
      break;
  }
  return btf_loads(writer);
}

// Types whose load the kernel refuses without an expected attach type.
std::optional<AttachType> probe_attach_type(ProgramType type) {
  switch (type) {
    case ProgramType::cgroup_sock_addr:
      return AttachType::cgroup_inet4_connect;
    case ProgramType::cgroup_sockopt:
      return AttachType::cgroup_getsockopt;
    case ProgramType::sk_lookup:
      return AttachType::sk_lookup;
    case ProgramType::netfilter:
      return AttachType::netfilter;
    default:
      return std::nullopt;
  }
}

// Tracing programs load only with an attach target, which the verifier checks before any call:
// the helper probes give them the sys_enter raw tracepoint through BTF (tp_btf/sys_enter, as old
// as the type itself, 5.5). 0 when the running kernel's BTF lacks it.
std::uint32_t tracing_probe_target() {
  static const std::uint32_t id = [] {
    const auto& vmlinux = running_vmlinux_btf();
    if (!vmlinux) return 0u;
    const auto type = vmlinux->find("btf_trace_sys_enter", btf::Kind::Typedef);
    return type ? static_cast<std::uint32_t>(type->id()) : 0u;
  }();
  return id;
}

// `ifindex`: offloaded to that network device (prog_ifindex); 0 for the host.
detail::LoadOutcome load_probe(ProgramType type, std::span<const Insn> insns, std::uint32_t log_level,
                               std::uint32_t ifindex = 0, bool with_target = false) {
  detail::ProgramLoadRequest request;
  request.type = type;
  request.insns = insns;
  request.name = "probe";
  request.expected_attach_type = probe_attach_type(type);
  if (with_target && type == ProgramType::tracing) {
    request.expected_attach_type = AttachType::trace_raw_tp;
    request.attach_btf_id = tracing_probe_target();
  }
  // Syscall programs load only sleepable; otherwise the verifier's refusal would hide whether a
  // helper exists.
  if (type == ProgramType::syscall) request.flags |= BPF_F_SLEEPABLE;
  request.kernel_version = running_kernel_version();
  request.log_level = log_level;
  request.ifindex = ifindex;
  return detail::load_program(request);
}

bool probe_program_type(ProgramType type) {
  if (type == ProgramType::unspec) return false;
  const auto outcome = load_probe(type, kReturnZero, 1);
  if (outcome.fd) return true;
  // Types that need an attach target (tracing, ext, lsm, struct_ops) fail in the verifier, which
  // writes a log; a type the kernel does not know fails before the verifier, with no log.
  return !outcome.log.empty();
}

// Whether the helper probe of `type` can tell anything: the types that need an attach target load
// their probe with one where corebpf knows a target every kernel has (tracing: tp_btf/sys_enter);
// ext (a target program), lsm (refused where the BPF LSM is off) and struct_ops (a struct_ops
// map's member) have none, so their answer is unknown.
bool helper_probe_decides(ProgramType type) {
  switch (type) {
    case ProgramType::tracing:
      return tracing_probe_target() != 0;
    case ProgramType::ext:
    case ProgramType::lsm:
    case ProgramType::struct_ops:
      return false;
    default:
      return true;
  }
}

std::optional<bool> probe_helper(ProgramType type, std::uint32_t helper_id, std::uint32_t ifindex = 0) {
  if (!helper_probe_decides(type)) return std::nullopt;
  const std::array<Insn, 3> call = {
      Insn{Insn::kJmp | Insn::kCall, 0, 0, static_cast<std::int32_t>(helper_id)},
      Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0},
      Insn{Insn::kJmp | Insn::kExit, 0, 0, 0},
  };
  const auto outcome = load_probe(type, call, 1, ifindex, true);
  if (outcome.fd) return true;
  if (outcome.log.empty()) return false;  // the program type itself is unknown (or not on the device)
  // Rejections for other reasons (arguments the call lacks) mean the helper exists.
  return outcome.log.find("invalid func ") == std::string::npos &&
         outcome.log.find("unknown func ") == std::string::npos &&
         outcome.log.find("cannot use helper") == std::string::npos &&
         outcome.log.find("not supported for tp_btf") == std::string::npos &&
         outcome.log.find("cannot call GPL-restricted") == std::string::npos;
}

UniqueFd create_probe_map(MapType type, std::uint32_t key_size, std::uint32_t value_size, std::uint32_t max_entries,
                          std::uint32_t flags = 0, int inner_fd = -1, int btf_fd = -1, std::uint32_t btf_key = 0,
                          std::uint32_t btf_value = 0) {
  bpf_attr attr = zeroed_attr();
  attr.map_type = static_cast<std::uint32_t>(type);
  attr.key_size = key_size;
  attr.value_size = value_size;
  attr.max_entries = max_entries;
  attr.map_flags = flags;
  if (inner_fd >= 0) attr.inner_map_fd = static_cast<std::uint32_t>(inner_fd);
  if (btf_fd >= 0) {
    attr.btf_fd = static_cast<std::uint32_t>(btf_fd);
    attr.btf_key_type_id = btf_key;
    attr.btf_value_type_id = btf_value;
  }
  const long fd = detail::bpf_call(BPF_MAP_CREATE, attr);
  return UniqueFd(fd >= 0 ? static_cast<int>(fd) : -1);
}

bool probe_map_type(MapType type) {
  const auto page = static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE));
  switch (type) {
    case MapType::unspec:
      return false;
    case MapType::hash:
    case MapType::array:
    case MapType::percpu_hash:
    case MapType::percpu_array:
    case MapType::lru_hash:
    case MapType::lru_percpu_hash:
    case MapType::prog_array:
    case MapType::perf_event_array:
    case MapType::cgroup_array:
    case MapType::devmap:
    case MapType::devmap_hash:
    case MapType::sockmap:
    case MapType::sockhash:
    case MapType::cpumap:
    case MapType::xskmap:
    case MapType::reuseport_sockarray:
      return static_cast<bool>(create_probe_map(type, 4, 4, 1));
    case MapType::stack_trace:
      return static_cast<bool>(create_probe_map(type, 4, 8, 1));
    case MapType::lpm_trie:
      return static_cast<bool>(create_probe_map(type, 8, 4, 1, BPF_F_NO_PREALLOC));
    case MapType::array_of_maps:
    case MapType::hash_of_maps: {
      const UniqueFd inner = create_probe_map(MapType::array, 4, 4, 1);
      return inner && create_probe_map(type, 4, 4, 1, 0, inner.get());
    }
    case MapType::cgroup_storage:
    case MapType::percpu_cgroup_storage:
      return static_cast<bool>(create_probe_map(type, sizeof(bpf_cgroup_storage_key), 4, 0));
    case MapType::queue:
    case MapType::stack:
      return static_cast<bool>(create_probe_map(type, 0, 4, 1));
    case MapType::bloom_filter:
      return static_cast<bool>(create_probe_map(type, 0, 4, 1));
    case MapType::ringbuf:
    case MapType::user_ringbuf:
      return static_cast<bool>(create_probe_map(type, 0, 0, page));
    case MapType::arena:
      return static_cast<bool>(create_probe_map(type, 0, 0, 1, BPF_F_MMAPABLE));
    case MapType::sk_storage:
    case MapType::inode_storage:
    case MapType::task_storage:
    case MapType::cgrp_storage: {
      // Local storage maps need BTF for their value (to find spin locks).
      btf::BtfWriter writer;
      const auto int_type = writer.add_int("int", 4, btf::kIntSigned);
      const auto value = writer.add_struct("probe_value", 4);
      writer.add_member("x", int_type, 0);
      const auto btf = detail::load_btf(writer.serialize(), false);
      if (!btf.fd) return false;
      return static_cast<bool>(create_probe_map(type, 4, 4, 0, BPF_F_NO_PREALLOC, -1, btf.fd.get(), int_type, value));
    }
    case MapType::struct_ops: {
      // Creating one needs a real struct_ops type; the kernel's BTF lists them when supported.
      const auto& kernel = running_kernel_description();
      return kernel.vmlinux_btf && kernel.vmlinux_btf->find("bpf_struct_ops_tcp_congestion_ops", btf::Kind::Struct);
    }
  }
  return false;
}

// In a child process, so the parent's limit is never lowered even for a moment: with
// RLIMIT_MEMLOCK at 0, a map can only be created when the kernel does not charge memlock. A
// process that cannot create a map at all (no privileges) learns nothing: it is told "no", so the
// loader goes on and its first map creation reports the missing privileges by name.
bool probe_charges_memlock() {
  const pid_t child = ::fork();
  if (child < 0) return true;  // cannot tell: assume the older, stricter accounting
  if (child == 0) {
    const auto create_map = [] {
      bpf_attr attr = zeroed_attr();
      attr.map_type = BPF_MAP_TYPE_ARRAY;
      attr.key_size = 4;
      attr.value_size = 4;
      attr.max_entries = 1;
      return detail::bpf_call(BPF_MAP_CREATE, attr) >= 0;
    };
    if (!create_map()) ::_exit(3);  // not even with the current limit
    rlimit zero{0, 0};
    if (::setrlimit(RLIMIT_MEMLOCK, &zero) != 0) ::_exit(2);
    ::_exit(create_map() ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return false;
  return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace

std::string_view btf_feature_name(BtfFeature feature) noexcept {
  switch (feature) {
    case BtfFeature::func:
      return "BTF FUNC/FUNC_PROTO";
    case BtfFeature::datasec:
      return "BTF VAR/DATASEC";
    case BtfFeature::float_:
      return "BTF FLOAT";
    case BtfFeature::decl_tag:
      return "BTF DECL_TAG";
    case BtfFeature::type_tag:
      return "BTF TYPE_TAG";
    case BtfFeature::enum64:
      return "BTF ENUM64";
    case BtfFeature::func_global:
      return "BTF global FUNC";
  }
  return "BTF feature";
}

bool has_btf_feature(BtfFeature feature) {
  static ProbeCache<BtfFeature> cache;
  return cache.get(feature, [feature] { return probe_btf(feature); });
}

bool has_program_type(ProgramType type) {
  static ProbeCache<ProgramType> cache;
  return cache.get(type, [type] { return probe_program_type(type); });
}

bool has_map_type(MapType type) {
  static ProbeCache<MapType> cache;
  return cache.get(type, [type] { return probe_map_type(type); });
}

std::optional<bool> helper_support(ProgramType type, std::uint32_t helper_id) {
  static ProbeCache<std::pair<ProgramType, std::uint32_t>, std::optional<bool>> cache;
  return cache.get({type, helper_id}, [type, helper_id] { return probe_helper(type, helper_id); });
}

bool has_helper(ProgramType type, std::uint32_t helper_id) { return helper_support(type, helper_id).value_or(false); }

bool can_probe_helpers(ProgramType type) { return helper_probe_decides(type) && has_program_type(type); }

bool has_bpf_syscall() {
  static const bool answer = [] {
    bpf_attr attr = zeroed_attr();
    return !(detail::bpf_call(BPF_PROG_LOAD, attr) < 0 && errno == ENOSYS);
  }();
  return answer;
}

namespace {

// Whether a socket filter of these instructions loads.
bool socket_filter_loads(std::span<const Insn> insns) {
  return static_cast<bool>(load_probe(ProgramType::socket_filter, insns, 0).fd);
}

}  // namespace

namespace {

// The instructions of each misc probe: they load where the kernel (or device) has the feature.
std::vector<Insn> misc_probe_insns(MiscFeature feature) {
  const Insn exit{Insn::kJmp | Insn::kExit, 0, 0, 0};
  switch (feature) {
    case MiscFeature::large_insn_limit: {
      // One instruction past the old limit (BPF_MAXINSNS, 4096).
      std::vector<Insn> insns(4097, Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0});
      insns.back() = exit;
      return insns;
    }
    case MiscFeature::bounded_loops:
      // r0 = 10; loop: r0 -= 1; if r0 != 0 goto loop; exit
      return {Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 10},
              Insn{Insn::kAlu64 | 0x10 /* sub */ | Insn::kK, 0, 0, 1},
              Insn{Insn::kJmp | 0x50 /* jne */ | Insn::kK, 0, -2, 0}, exit};
    case MiscFeature::isa_v2:
      // r0 = 0; if r0 < 1 goto +1; r0 = 1; exit  (jlt, 4.14)
      return {Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0},
              Insn{Insn::kJmp | 0xa0 /* jlt */ | Insn::kK, 0, 1, 1},
              Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 1}, exit};
    case MiscFeature::isa_v3:
      // r0 = 0; if w0 < 1 goto +1; r0 = 1; exit  (32-bit jumps, 5.1)
      return {Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0},
              Insn{Insn::kJmp32 | 0xa0 /* jlt */ | Insn::kK, 0, 1, 1},
              Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 1}, exit};
    case MiscFeature::isa_v4:
      // r0 = 0; r0 = (s8)r0; exit  (sign-extending moves, 6.6)
      return {Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0}, Insn{Insn::kAlu64 | Insn::kMov | Insn::kX, 0, 8, 0},
              exit};
  }
  return {};
}

bool misc_answer(MiscFeature feature) { return socket_filter_loads(misc_probe_insns(feature)); }

}  // namespace

bool has_large_insn_limit() {
  static const bool answer = misc_answer(MiscFeature::large_insn_limit);
  return answer;
}

bool has_bounded_loops() {
  static const bool answer = misc_answer(MiscFeature::bounded_loops);
  return answer;
}

bool has_isa_v2() {
  static const bool answer = misc_answer(MiscFeature::isa_v2);
  return answer;
}

bool has_isa_v3() {
  static const bool answer = misc_answer(MiscFeature::isa_v3);
  return answer;
}

bool has_isa_v4() {
  static const bool answer = misc_answer(MiscFeature::isa_v4);
  return answer;
}

// Offload: what bpftool asks of a device, sched_cls and xdp programs and hash and array maps
// (the kinds a device's JIT may take); every other kind is the host's.
bool device_has_program_type(ProgramType type, std::uint32_t ifindex) {
  return static_cast<bool>(load_probe(type, kReturnZero, 0, ifindex).fd);
}

bool device_has_map_type(MapType type, std::uint32_t ifindex) {
  bpf_attr attr = zeroed_attr();
  attr.map_type = static_cast<std::uint32_t>(type);
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  attr.map_ifindex = ifindex;
  const long fd = detail::bpf_call(BPF_MAP_CREATE, attr);
  return static_cast<bool>(UniqueFd(fd >= 0 ? static_cast<int>(fd) : -1));
}

bool device_has_helper(ProgramType type, std::uint32_t helper_id, std::uint32_t ifindex) {
  return device_has_program_type(type, ifindex) && probe_helper(type, helper_id, ifindex).value_or(false);
}

bool device_has_misc(MiscFeature feature, std::uint32_t ifindex) {
  return static_cast<bool>(load_probe(ProgramType::sched_cls, misc_probe_insns(feature), 0, ifindex).fd);
}

bool has_mmapable_arrays() {
  static const bool answer = static_cast<bool>(create_probe_map(MapType::array, 4, 4, 1, BPF_F_MMAPABLE));
  return answer;
}

bool has_bpf_cookie() {
  static const bool answer = has_helper(ProgramType::tracepoint, BPF_FUNC_get_attach_cookie);
  return answer;
}

bool charges_memlock() {
  // Kernels with bpf_ktime_get_coarse_ns (5.11) charge BPF memory to the memory cgroup, never to
  // RLIMIT_MEMLOCK (libbpf decides the same way): one probe load instead of a forked child (~10 ms
  // of every first load in a process).
  static const bool answer =
      !has_helper(ProgramType::socket_filter, BPF_FUNC_ktime_get_coarse_ns) && probe_charges_memlock();
  return answer;
}

bool has_bpf_link() {
  static const bool answer = [] {
    bpf_attr attr = zeroed_attr();
    attr.link_create.prog_fd = static_cast<std::uint32_t>(-1);
    attr.link_create.target_fd = static_cast<std::uint32_t>(-1);
    // A known command checks its fds (EBADF); an unknown one is EINVAL.
    return detail::bpf_call(BPF_LINK_CREATE, attr) < 0 && errno == EBADF;
  }();
  return answer;
}

bool has_bpf_privileges() {
  constexpr int cap_sys_admin = 21;
  constexpr int cap_bpf = 39;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("CapEff:")) continue;
    const std::uint64_t effective = std::strtoull(line.c_str() + 7, nullptr, 16);
    return (effective & ((1ULL << cap_sys_admin) | (1ULL << cap_bpf))) != 0;
  }
  return ::geteuid() == 0;
}

namespace {

// A probe program of `type` loaded with `attach_type` (and a BTF target for trampolines).
UniqueFd load_attach_probe(ProgramType type, std::optional<AttachType> attach_type, std::uint32_t attach_btf_id = 0) {
  detail::ProgramLoadRequest request;
  request.type = type;
  request.insns = kReturnZero;
  request.name = "probe";
  request.expected_attach_type = attach_type;
  request.attach_btf_id = attach_btf_id;
  request.kernel_version = running_kernel_version();
  return std::move(detail::load_program(request).fd);
}

// A kprobe.multi (or session) link on a symbol that cannot exist: a kernel with such links looks
// the name up and fails ENOENT/ESRCH; one without rejects the attach type or the whole command.
bool probe_kprobe_multi(AttachType type) {
  const UniqueFd program = load_attach_probe(ProgramType::kprobe, type);
  if (!program) return false;
  const char* symbol = "corebpf_no_such_function";
  const std::uint64_t symbols[] = {reinterpret_cast<std::uintptr_t>(symbol)};
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program.get());
  attr.link_create.attach_type = static_cast<std::uint32_t>(type);
  attr.link_create.kprobe_multi.cnt = 1;
  attr.link_create.kprobe_multi.syms = reinterpret_cast<std::uintptr_t>(symbols);
  const long fd = detail::bpf_call(BPF_LINK_CREATE, attr);
  if (fd >= 0) {
    UniqueFd unexpected(static_cast<int>(fd));
    return true;
  }
  return errno == ENOENT || errno == ESRCH;
}

bool probe_trampoline(AttachType type) {
  const auto& kernel = running_kernel_description();
  if (!kernel.vmlinux_btf) return false;
  // Functions kept for BPF's own selftests: present on every kernel with trampolines.
  const char* target = "bpf_fentry_test1";
  ProgramType program_type = ProgramType::tracing;
  if (type == AttachType::modify_return) target = "bpf_modify_return_test";
  if (type == AttachType::lsm_mac) {
    target = "bpf_lsm_file_open";
    program_type = ProgramType::lsm;
  }
  const auto function = kernel.vmlinux_btf->find(target, btf::Kind::Func);
  if (!function) return false;
  const UniqueFd program = load_attach_probe(program_type, type, function->id());
  if (!program) return false;
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program.get());
  attr.link_create.attach_type = static_cast<std::uint32_t>(type);
  const long fd = detail::bpf_call(BPF_LINK_CREATE, attr);
  if (fd < 0) return false;
  UniqueFd link(static_cast<int>(fd));
  return true;
}

}  // namespace

bool has_perf_link() {
  static const bool answer = [] {
    const UniqueFd program = load_attach_probe(ProgramType::tracepoint, std::nullopt);
    if (!program) return false;
    bpf_attr attr = zeroed_attr();
    attr.link_create.prog_fd = static_cast<std::uint32_t>(program.get());
    attr.link_create.target_fd = static_cast<std::uint32_t>(-1);
    attr.link_create.attach_type = BPF_PERF_EVENT;
    // With perf links the bad perf event fd is what fails (EBADF); without, the attach type.
    return detail::bpf_call(BPF_LINK_CREATE, attr) < 0 && errno == EBADF;
  }();
  return answer;
}

bool has_kprobe_multi() {
  static const bool answer = probe_kprobe_multi(AttachType::trace_kprobe_multi);
  return answer;
}

bool has_kprobe_session() {
  static const bool answer = has_kprobe_multi() && probe_kprobe_multi(AttachType::trace_kprobe_session);
  return answer;
}

bool has_raw_tp_cookie() {
  static const bool answer = [] {
    uapi::bpf_attr attr = detail::zeroed_pinned_attr();
    attr.raw_tracepoint.prog_fd = static_cast<std::uint32_t>(-1);
    // raw_tracepoint.cookie (6.10): older kernels reject a nonzero byte there (EINVAL) before
    // looking at the program fd (EBADF).
    attr.raw_tracepoint.cookie = 1;
    return detail::bpf_call(BPF_RAW_TRACEPOINT_OPEN, attr) < 0 && errno == EBADF;
  }();
  return answer;
}

bool has_trampoline_attach(AttachType type) {
  static ProbeCache<AttachType> cache;
  return cache.get(type, [type] { return probe_trampoline(type); });
}

void raise_memlock_if_needed() {
  static std::once_flag once;
  std::call_once(once, [] {
    rlimit current{};
    if (::getrlimit(RLIMIT_MEMLOCK, &current) == 0 && current.rlim_cur == RLIM_INFINITY) return;
    if (!charges_memlock()) return;
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_MEMLOCK, &unlimited) != 0) {
      // Not fatal here: small objects may fit the current limit, and if not, the map or program
      // that does not fit fails by name with EPERM.
      util::log(LogLevel::warning, "this kernel charges BPF memory to RLIMIT_MEMLOCK and raising that limit failed: {}",
                std::strerror(errno));
      return;
    }
    util::log(LogLevel::debug, "raised RLIMIT_MEMLOCK to unlimited: this kernel charges BPF memory to it");
  });
}

// ---- Networking links. Each probe loads a program of the hook's type and asks for a link on a
// target chosen so that the kernel refuses before attaching anything: a kernel with the link type
// answers with the target's error, one without it with EINVAL for the program type.
namespace {

bool probe_net_link(ProgramType type, std::uint32_t attach_type, std::uint32_t target, std::uint32_t flags,
                    std::initializer_list<int> supported_errors) {
  // XDP_PASS for XDP, so that nothing could be dropped even if a probe ever attached; 1 for the
  // others (cgroup_skb: allow, sk_msg: SK_PASS), whose verifier checks the return range.
  const std::array<Insn, 2> pass = {
      Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, type == ProgramType::xdp ? 2 : 1},
      Insn{Insn::kJmp | Insn::kExit, 0, 0, 0},
  };
  const auto program = load_probe(type, pass, 0);
  if (!program.fd) return false;
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program.fd.get());
  attr.link_create.target_fd = target;
  attr.link_create.attach_type = attach_type;
  attr.link_create.flags = flags;
  const long fd = detail::bpf_call(BPF_LINK_CREATE, attr);
  if (fd >= 0) {
    UniqueFd{static_cast<int>(fd)};  // closing it detaches at once
    return true;
  }
  const int error = errno;
  return std::find(supported_errors.begin(), supported_errors.end(), error) != supported_errors.end();
}

}  // namespace

bool has_xdp_link() {
  // Driver mode on the loopback device, which has no native XDP: EOPNOTSUPP (or EEXIST/EBUSY when
  // a generic-mode program is there) after the link was set up; no interface gets a program.
  static const bool answer = [] {
    const unsigned loopback = ::if_nametoindex("lo");
    return loopback != 0 &&
           probe_net_link(ProgramType::xdp, BPF_XDP, loopback, XDP_FLAGS_DRV_MODE, {EOPNOTSUPP, EEXIST, EBUSY});
  }();
  return answer;
}

bool has_tcx_link() {
  // Interface index 0 never exists: ENODEV from the tcx code.
  static const bool answer =
      probe_net_link(ProgramType::sched_cls, static_cast<std::uint32_t>(AttachType::tcx_ingress), 0, 0, {ENODEV});
  return answer;
}

bool has_sockmap_link() {
  static const bool answer =
      probe_net_link(ProgramType::sk_msg, BPF_SK_MSG_VERDICT, static_cast<std::uint32_t>(-1), 0, {EBADF});
  return answer;
}

bool has_netns_link() {
  static const bool answer =
      probe_net_link(ProgramType::flow_dissector, BPF_FLOW_DISSECTOR, static_cast<std::uint32_t>(-1), 0, {EBADF});
  return answer;
}

bool has_cgroup_link() {
  static const bool answer =
      probe_net_link(ProgramType::cgroup_skb, BPF_CGROUP_INET_INGRESS, static_cast<std::uint32_t>(-1), 0, {EBADF});
  return answer;
}

}  // namespace corebpf::kernel

namespace corebpf::kernel {
namespace {

bool probe_iterator(const std::string& target) {
  const auto& kernel = running_kernel_description();
  if (!kernel.vmlinux_btf) return false;
  const auto function = kernel.vmlinux_btf->find("bpf_iter_" + target, btf::Kind::Func);
  if (!function) return false;
  return static_cast<bool>(load_attach_probe(ProgramType::tracing, AttachType::trace_iter, function->id()));
}

// Whether the kernel's own enum of attach types names `enumerator` (a kernel whose BPF code
// knows an attach type lists it in vmlinux BTF).
bool kernel_enum_has(std::string_view enum_name, std::string_view enumerator) {
  const auto& kernel = running_kernel_description();
  if (!kernel.vmlinux_btf) return false;
  const auto type = kernel.vmlinux_btf->find(enum_name, btf::Kind::Enum);
  if (!type) return false;
  for (const auto value : type->enumerators())
    if (value.name() == enumerator) return true;
  return false;
}

bool kprobes_exist() {
  // The kprobe PMU (4.17) or, on older kernels, tracefs kprobe_events; tracefs may be unmounted,
  // so its usual mount points are looked at without mounting anything.
  return ::access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
         ::access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
         ::access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0;
}

constexpr std::uint32_t v(std::uint32_t major, std::uint32_t minor) { return (major << 16) + (minor << 8); }

constexpr FeatureInfo kFeatures[] = {
    {Feature::bpf_link, "BPF links", v(5, 7), ""},
    {Feature::mmapable_arrays, "mmapable array maps", v(5, 5), ""},
    {Feature::bpf_cookie, "bpf cookies (bpf_get_attach_cookie)", v(5, 15), ""},
    {Feature::perf_link, "perf event links", v(5, 15), ""},
    {Feature::ringbuf, "ring buffer maps", v(5, 8), ""},
    {Feature::user_ringbuf, "user ring buffer maps", v(6, 1), ""},
    {Feature::kprobes, "kprobes", v(4, 17), "CONFIG_KPROBES"},
    {Feature::kprobe_multi, "kprobe.multi links", v(5, 18), "CONFIG_FPROBE"},
    {Feature::kprobe_session, "kprobe.session links", v(6, 10), "CONFIG_FPROBE"},
    {Feature::uprobe_multi, "uprobe.multi links", v(6, 6), "CONFIG_UPROBES"},
    {Feature::raw_tp_cookie, "bpf cookies on raw tracepoints", v(6, 10), ""},
    {Feature::tracing_programs, "BTF-typed tracing programs", v(5, 5), "CONFIG_DEBUG_INFO_BTF"},
    {Feature::trampolines, "fentry/fexit programs", v(5, 5), "a BPF trampoline (JIT) for this architecture"},
    {Feature::fmod_ret, "fmod_ret programs", v(5, 7), "CONFIG_FUNCTION_ERROR_INJECTION"},
    {Feature::lsm, "BPF LSM programs", v(5, 7), "CONFIG_BPF_LSM and \"bpf\" in the lsm= list"},
    {Feature::freplace, "freplace programs", v(5, 6), "a BPF trampoline (JIT) for this architecture"},
    {Feature::task_iterator, "task iterators", v(5, 8), ""},
    {Feature::task_file_iterator, "task_file iterators", v(5, 8), ""},
    {Feature::map_elem_iterator, "map element iterators", v(5, 9), ""},
    {Feature::struct_ops, "struct_ops maps", v(5, 6), "CONFIG_BPF_JIT"},
    {Feature::struct_ops_link, "struct_ops links", v(6, 4), "CONFIG_BPF_JIT"},
    {Feature::xdp_link, "XDP links", v(5, 9), ""},
    {Feature::tcx_link, "tcx links", v(6, 6), ""},
    {Feature::sockmap_link, "sockmap links", v(6, 10), ""},
    {Feature::netns_link, "netns links", v(5, 8), ""},
    {Feature::cgroup_link, "cgroup links", v(5, 7), ""},
};

bool probe_feature(Feature feature) {
  switch (feature) {
    case Feature::bpf_link:
      return has_bpf_link();
    case Feature::mmapable_arrays:
      return has_mmapable_arrays();
    case Feature::bpf_cookie:
      return has_bpf_cookie();
    case Feature::perf_link:
      return has_perf_link();
    case Feature::ringbuf:
      return has_map_type(MapType::ringbuf);
    case Feature::user_ringbuf:
      return has_map_type(MapType::user_ringbuf);
    case Feature::kprobes:
      return kprobes_exist() && has_program_type(ProgramType::kprobe);
    case Feature::kprobe_multi:
      return has_kprobe_multi();
    case Feature::kprobe_session:
      return has_kprobe_session();
    case Feature::uprobe_multi:
      return has_uprobe_multi();
    case Feature::raw_tp_cookie:
      return has_raw_tp_cookie();
    case Feature::tracing_programs:
      return has_program_type(ProgramType::tracing) && running_kernel_description().vmlinux_btf.has_value();
    case Feature::trampolines:
      return has_trampoline_attach(AttachType::trace_fentry) && has_trampoline_attach(AttachType::trace_fexit);
    case Feature::fmod_ret:
      return has_trampoline_attach(AttachType::modify_return);
    case Feature::lsm:
      return has_trampoline_attach(AttachType::lsm_mac);
    case Feature::freplace:
      return has_program_type(ProgramType::ext) && has_trampoline_attach(AttachType::trace_fentry);
    case Feature::task_iterator:
      return has_iterator("task");
    case Feature::task_file_iterator:
      return has_iterator("task_file");
    case Feature::map_elem_iterator:
      return has_iterator("bpf_map_elem");
    case Feature::struct_ops:
      return has_map_type(MapType::struct_ops);
    case Feature::struct_ops_link:
      return has_map_type(MapType::struct_ops) && kernel_enum_has("bpf_attach_type", "BPF_STRUCT_OPS");
    case Feature::xdp_link:
      return has_xdp_link();
    case Feature::tcx_link:
      return has_tcx_link();
    case Feature::sockmap_link:
      return has_sockmap_link();
    case Feature::netns_link:
      return has_netns_link();
    case Feature::cgroup_link:
      return has_cgroup_link();
  }
  return false;
}

std::string release_text(std::uint32_t code) { return fmt::format("{}.{}", code >> 16, (code >> 8) & 0xff); }

}  // namespace

bool has_iterator(std::string_view target) {
  static ProbeCache<std::string> cache;
  std::string key(target);
  return cache.get(key, [key] { return probe_iterator(key); });
}

std::span<const FeatureInfo> all_features() noexcept { return kFeatures; }

const FeatureInfo& feature_info(Feature feature) noexcept {
  for (const auto& info : kFeatures)
    if (info.feature == feature) return info;
  return kFeatures[0];  // unreachable: the table lists every Feature (features_test checks it)
}

bool has_feature(Feature feature) {
  static ProbeCache<Feature> cache;
  return cache.get(feature, [feature] { return probe_feature(feature); });
}

std::string unsupported_reason(Feature feature) {
  const auto& info = feature_info(feature);
  const auto& release = running_kernel_release();
  if (running_kernel_version() < info.since) {
    return fmt::format("{} need Linux {} (this kernel is {})", info.name, release_text(info.since), release);
  }
  if (!has_bpf_privileges()) return fmt::format("{}: cannot probe without CAP_BPF or CAP_SYS_ADMIN", info.name);
  if (info.needs.empty()) return fmt::format("this kernel ({}) refuses {}", release, info.name);
  return fmt::format("this kernel ({}) refuses {} (they need {})", release, info.name, info.needs);
}

std::optional<ProgramSupportGap> program_support_gap(const ProgramSpec& program) {
  const auto attach = program.expected_attach_type();
  const auto& release = running_kernel_release();
  if (program.type() == ProgramType::tracing && attach == AttachType::trace_iter) {
    if (has_iterator(program.attach_target())) return std::nullopt;
    const std::string feature = fmt::format("{} iterators", program.attach_target());
    // The table's rows for the iterators it knows give their release.
    std::uint32_t since = 0;
    if (program.attach_target() == "task") since = feature_info(Feature::task_iterator).since;
    if (program.attach_target() == "task_file") since = feature_info(Feature::task_file_iterator).since;
    if (program.attach_target() == "bpf_map_elem") since = feature_info(Feature::map_elem_iterator).since;
    return ProgramSupportGap{fmt::format("this kernel ({}) refuses {}", release, feature), feature, since};
  }
  std::optional<Feature> feature;
  if (attach == AttachType::trace_fentry || attach == AttachType::trace_fexit) feature = Feature::trampolines;
  if (attach == AttachType::modify_return) feature = Feature::fmod_ret;
  if (attach == AttachType::lsm_mac) feature = Feature::lsm;
  if (program.type() == ProgramType::ext) feature = Feature::freplace;
  if (feature) {
    if (has_feature(*feature)) return std::nullopt;
    const auto& info = feature_info(*feature);
    return ProgramSupportGap{unsupported_reason(*feature), std::string(info.name), info.since};
  }
  if (has_program_type(program.type())) return std::nullopt;
  const std::string what = fmt::format("{} programs", program_type_name(program.type()));
  return ProgramSupportGap{fmt::format("this kernel ({}) refuses {}", release, what), what, 0};
}

std::optional<std::string> missing_program_support(const ProgramSpec& program) {
  auto gap = program_support_gap(program);
  if (!gap) return std::nullopt;
  return std::move(gap->reason);
}

void fail_unsupported(Feature feature, std::string message) {
  const auto& info = feature_info(feature);
  throw UnsupportedError(EOPNOTSUPP, std::move(message),
                         UnsupportedError::Details{std::string(info.name), info.since, running_kernel_release()});
}

}  // namespace corebpf::kernel
