// [pure] The pure BPF object model: what a clang-compiled BPF ELF object (EM_BPF, ET_REL, either byte
// order) describes, before anything touches a kernel. Programs (with their subprograms linked in),
// maps (BTF-defined, legacy, global data), externs, .BTF and .BTF.ext. No system calls here: the
// runtime corebpf::Object of the kernel layer wraps an ObjectSpec, relocates it (CO-RE), creates
// its maps and loads its programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/core.hpp"
#include "corebpf/insn.hpp"

namespace corebpf {

// Values are enum bpf_prog_type of the pinned UAPI (src/uapi/linux_bpf.h; checked at compile time).
enum class ProgramType : std::uint32_t {
  unspec = 0,
  socket_filter = 1,
  kprobe = 2,
  sched_cls = 3,
  sched_act = 4,
  tracepoint = 5,
  xdp = 6,
  perf_event = 7,
  cgroup_skb = 8,
  cgroup_sock = 9,
  lwt_in = 10,
  lwt_out = 11,
  lwt_xmit = 12,
  sock_ops = 13,
  sk_skb = 14,
  cgroup_device = 15,
  sk_msg = 16,
  raw_tracepoint = 17,
  cgroup_sock_addr = 18,
  lwt_seg6local = 19,
  lirc_mode2 = 20,
  sk_reuseport = 21,
  flow_dissector = 22,
  cgroup_sysctl = 23,
  raw_tracepoint_writable = 24,
  cgroup_sockopt = 25,
  tracing = 26,
  struct_ops = 27,
  ext = 28,
  lsm = 29,
  sk_lookup = 30,
  syscall = 31,
  netfilter = 32,
};

// Values are enum bpf_attach_type of the pinned UAPI (src/uapi/linux_bpf.h; checked at compile time).
enum class AttachType : std::uint32_t {
  cgroup_inet_ingress = 0,
  cgroup_inet_egress = 1,
  cgroup_inet_sock_create = 2,
  cgroup_sock_ops = 3,
  sk_skb_stream_parser = 4,
  sk_skb_stream_verdict = 5,
  cgroup_device = 6,
  sk_msg_verdict = 7,
  cgroup_inet4_bind = 8,
  cgroup_inet6_bind = 9,
  cgroup_inet4_connect = 10,
  cgroup_inet6_connect = 11,
  cgroup_inet4_post_bind = 12,
  cgroup_inet6_post_bind = 13,
  cgroup_udp4_sendmsg = 14,
  cgroup_udp6_sendmsg = 15,
  lirc_mode2 = 16,
  flow_dissector = 17,
  cgroup_sysctl = 18,
  cgroup_udp4_recvmsg = 19,
  cgroup_udp6_recvmsg = 20,
  cgroup_getsockopt = 21,
  cgroup_setsockopt = 22,
  trace_raw_tp = 23,
  trace_fentry = 24,
  trace_fexit = 25,
  modify_return = 26,
  lsm_mac = 27,
  trace_iter = 28,
  cgroup_inet4_getpeername = 29,
  cgroup_inet6_getpeername = 30,
  cgroup_inet4_getsockname = 31,
  cgroup_inet6_getsockname = 32,
  xdp_devmap = 33,
  cgroup_inet_sock_release = 34,
  xdp_cpumap = 35,
  sk_lookup = 36,
  xdp = 37,
  sk_skb_verdict = 38,
  sk_reuseport_select = 39,
  sk_reuseport_select_or_migrate = 40,
  perf_event = 41,
  trace_kprobe_multi = 42,
  lsm_cgroup = 43,
  struct_ops = 44,
  netfilter = 45,
  tcx_ingress = 46,
  tcx_egress = 47,
  trace_uprobe_multi = 48,
  cgroup_unix_connect = 49,
  cgroup_unix_sendmsg = 50,
  cgroup_unix_recvmsg = 51,
  cgroup_unix_getpeername = 52,
  cgroup_unix_getsockname = 53,
  netkit_primary = 54,
  netkit_peer = 55,
  trace_kprobe_session = 56,
};

// Values are enum bpf_map_type of the pinned UAPI (src/uapi/linux_bpf.h; checked at compile time).
enum class MapType : std::uint32_t {
  unspec = 0,
  hash = 1,
  array = 2,
  prog_array = 3,
  perf_event_array = 4,
  percpu_hash = 5,
  percpu_array = 6,
  stack_trace = 7,
  cgroup_array = 8,
  lru_hash = 9,
  lru_percpu_hash = 10,
  lpm_trie = 11,
  array_of_maps = 12,
  hash_of_maps = 13,
  devmap = 14,
  sockmap = 15,
  cpumap = 16,
  xskmap = 17,
  sockhash = 18,
  cgroup_storage = 19,
  reuseport_sockarray = 20,
  percpu_cgroup_storage = 21,
  queue = 22,
  stack = 23,
  sk_storage = 24,
  devmap_hash = 25,
  struct_ops = 26,
  ringbuf = 27,
  inode_storage = 28,
  task_storage = 29,
  bloom_filter = 30,
  user_ringbuf = 31,
  cgrp_storage = 32,
  arena = 33,
};

// The names bpftool prints: the uapi name without its prefix, in lower case ("sched_cls",
// "cgroup_inet_ingress", "percpu_array"). Unknown values give "".
std::string_view program_type_name(ProgramType type) noexcept;
std::string_view attach_type_name(AttachType type) noexcept;
std::string_view map_type_name(MapType type) noexcept;
// A helper's name as the kernel's disassembler prints it ("bpf_map_lookup_elem" for
// BPF_FUNC_map_lookup_elem, enum bpf_func_id); "" when unknown.
std::string_view helper_name(std::uint32_t id) noexcept;

// How the attach code auto-attaches a program of this section (from the SEC() name alone);
// `none` when it needs more than the section name (a cgroup, an interface...) or never attaches.
enum class AutoAttach : std::uint8_t {
  none,
  kprobe,           // target "function[+offset]"
  kretprobe,        // target "function"
  kprobe_multi,     // target: a glob pattern
  kretprobe_multi,  // target: a glob pattern
  kprobe_session,   // target: a glob pattern
  uprobe,           // target "path:function[+offset]"
  uretprobe,        // target "path:function[+offset]"
  uprobe_multi,     // target "path:pattern"
  uretprobe_multi,  // target "path:pattern"
  ksyscall,         // target: the syscall name
  kretsyscall,      // target: the syscall name
  usdt,             // target "path:provider:name"
  tracepoint,       // target "category/name"
  raw_tracepoint,   // target: the tracepoint name
  tracing,          // fentry/fexit/fmod_ret/tp_btf/freplace: a BPF trampoline link
  lsm,              // target: the LSM hook
  iter,             // target: the iterator (task, bpf_map...)
};

// What a SEC() name means. The section name is "<prefix>[/<extras>]"; `attach_target` is the
// extras (the function of a kprobe, "category/name" of a tracepoint...), empty when none.
struct ProgramDefinition {
  ProgramType type = ProgramType::unspec;
  // Given to the kernel at load (bpf_attr.expected_attach_type) when set.
  std::optional<AttachType> expected_attach_type;
  std::string attach_target;
  AutoAttach auto_attach = AutoAttach::none;
  bool sleepable = false;  // BPF_F_SLEEPABLE at load
  bool xdp_frags = false;  // BPF_F_XDP_HAS_FRAGS at load
  // The attach target is a kernel function or hook the loader resolves to a BTF id at load
  // (fentry, fexit, fmod_ret, tp_btf, lsm, lsm_cgroup, iter, freplace).
  bool attach_target_is_btf = false;
};

// A user's own SEC() names, consulted before the built-in table. `pattern` is "name" (that exact
// section), "name+" (the exact section or "name/<extras>") or "" (any section the built-in
// table does not know: a fallback). `fill` receives the section (without a leading '?') and a
// definition whose attach_target is already the extras; it may throw corebpf::Error to reject.
struct SectionHandler {
  std::string pattern;
  std::function<void(std::string_view section, ProgramDefinition& definition)> fill;
};

// The built-in table: every SEC() name libbpf documents (kprobe, uprobe.s, tp_btf, xdp.frags/devmap,
// cgroup/connect_unix, netkit/peer...). `section` without a leading '?'. Custom handlers first.
// Empty when the section is unknown.
std::optional<ProgramDefinition> section_definition(std::string_view section,
                                                    std::span<const SectionHandler> handlers = {});

// One bpf_func_info record: where a function starts and its BTF FUNC.
struct FuncInfo {
  std::uint32_t insn_index = 0;  // within the linked program
  btf::TypeId type_id = 0;       // a FUNC in the object's BTF
};

// One bpf_line_info record, with its strings looked up in the object's BTF.
struct LineInfo {
  std::uint32_t insn_index = 0;  // within the linked program
  std::uint32_t file_name_offset = 0;
  std::uint32_t line_offset = 0;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string_view file_name;  // valid while the ObjectSpec (its BTF) is alive
  std::string_view line_text;
};

// Where a function of the object landed in a linked program.
struct FunctionPlacement {
  std::string name;
  std::string section;           // as the ELF file names it (with a leading '?' if it has one)
  std::uint32_t insn_index = 0;  // first instruction within the linked program
  std::uint32_t insn_count = 0;
  // A global function with hidden visibility (__hidden, as <bpf/usdt.bpf.h>'s helpers): the
  // loader gives it static linkage so the verifier checks it in its caller's context.
  bool hidden = false;
};

// An instruction of a linked program that refers to an extern: an ld_imm64 (its address or BTF
// id) or a kfunc call. resolve_externs() rewrites them.
struct ExternUse {
  std::uint32_t insn_index = 0;
  std::uint32_t extern_index = 0;  // into ObjectSpec::externs()
};

// An entry program with every subprogram it reaches appended once (BPF-to-BPF calls and callback
// addresses fixed). Map and global data references are ld_imm64 with src_reg
// BPF_PSEUDO_MAP_IDX (imm = index into ObjectSpec::maps()) or BPF_PSEUDO_MAP_IDX_VALUE (imm = map
// index, next imm = byte offset in the value): the loader passes map fds as fd_array in maps()
// order, or rewrites them to BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE.
class ProgramSpec {
 public:
  const std::string& name() const noexcept { return name_; }
  // The ELF section, without the '?' that disables autoload.
  const std::string& section() const noexcept { return section_; }
  ProgramType type() const noexcept { return definition_.type; }
  std::optional<AttachType> expected_attach_type() const noexcept { return definition_.expected_attach_type; }
  const std::string& attach_target() const noexcept { return definition_.attach_target; }
  AutoAttach auto_attach() const noexcept { return definition_.auto_attach; }
  // Whether attach() can work from the section name alone: an auto-attach kind and a target.
  bool auto_attachable() const noexcept {
    return definition_.auto_attach != AutoAttach::none && !definition_.attach_target.empty();
  }
  bool sleepable() const noexcept { return definition_.sleepable; }
  bool xdp_frags() const noexcept { return definition_.xdp_frags; }
  bool attach_target_is_btf() const noexcept { return definition_.attach_target_is_btf; }
  const ProgramDefinition& definition() const noexcept { return definition_; }
  bool autoload() const noexcept { return autoload_; }
  // The BTF name of the attach target: "btf_trace_<tp>" for tp_btf, "bpf_lsm_<hook>" for lsm and
  // lsm_cgroup, "bpf_iter_<name>" for iter, the target itself otherwise; without the "module:"
  // of libbpf's `SEC("fentry/module:function")` form.
  std::string attach_btf_name() const;
  // That module ("" when the section names none: vmlinux first, then every module).
  std::string_view attach_btf_module() const;

  // Host byte order, linked.
  std::span<const Insn> insns() const noexcept { return insns_; }
  // For the CO-RE engine and the loader to patch in place.
  std::span<Insn> mutable_insns() noexcept { return insns_; }
  std::span<const FuncInfo> func_info() const noexcept { return func_info_; }
  std::span<const LineInfo> line_info() const noexcept { return line_info_; }
  // CO-RE relocations of the entry function and of every appended subprogram, insn_off rebased
  // to this program (bytes from its first instruction), in instruction order.
  std::span<const core::ReloRecord> core_relos() const noexcept { return core_relos_; }
  std::span<const FunctionPlacement> functions() const noexcept { return functions_; }
  std::span<const ExternUse> extern_uses() const noexcept { return extern_uses_; }

  // Changes before load. The expected attach type, attach target and flags stay as set.
  void set_type(ProgramType type) noexcept { definition_.type = type; }
  void set_expected_attach_type(std::optional<AttachType> type) noexcept { definition_.expected_attach_type = type; }
  void set_attach_target(std::string target) { definition_.attach_target = std::move(target); }
  void set_autoload(bool autoload) noexcept { autoload_ = autoload; }
  void set_sleepable(bool sleepable) noexcept { definition_.sleepable = sleepable; }
  void set_definition(ProgramDefinition definition) { definition_ = std::move(definition); }

 private:
  friend class ObjectSpec;
  friend struct ObjectParser;
  std::string name_;
  std::string section_;
  ProgramDefinition definition_;
  bool autoload_ = true;
  std::vector<Insn> insns_;
  std::vector<FuncInfo> func_info_;
  std::vector<LineInfo> line_info_;
  std::vector<core::ReloRecord> core_relos_;
  std::vector<FunctionPlacement> functions_;
  std::vector<ExternUse> extern_uses_;
};

// Where a map comes from.
enum class MapOrigin : std::uint8_t {
  btf_defined,  // a variable of the .maps section
  legacy,       // a struct bpf_map_def of the `maps` section
  data,         // .data, .data.*: an internal one-element array holding the section
  rodata,       // .rodata, .rodata.*: the same, frozen after load (BPF_F_RDONLY_PROG)
  bss,          // .bss, .bss.*: the same, zero-initialized
  kconfig,      // the .kconfig externs, filled by resolve_externs()
  struct_ops,   // a variable of .struct_ops or .struct_ops.link: a kernel struct of functions
};
// (.ksyms gets no map: its externs resolve into the instructions that use them.)
std::string_view map_origin_name(MapOrigin origin) noexcept;

enum class Pinning : std::uint32_t { none = 0, by_name = 1 };

// BPF_F_* map flags the object model sets on internal maps.
inline constexpr std::uint32_t kMapFlagRdonlyProg = 1u << 7;  // BPF_F_RDONLY_PROG
inline constexpr std::uint32_t kMapFlagMmapable = 1u << 10;   // BPF_F_MMAPABLE
inline constexpr std::uint32_t kMapFlagLink = 1u << 13;       // BPF_F_LINK (.struct_ops.link)

// The attributes bpf(BPF_MAP_CREATE) takes. BTF ids refer to the object's BTF (0: none).
struct MapDefinition {
  MapType type = MapType::unspec;
  std::uint32_t key_size = 0;
  std::uint32_t value_size = 0;
  std::uint32_t max_entries = 0;
  std::uint32_t flags = 0;
  std::uint32_t numa_node = 0;
  std::uint64_t map_extra = 0;
  btf::TypeId btf_key_type_id = 0;
  btf::TypeId btf_value_type_id = 0;
};

// A variable of a global data section (the DATASEC layout, with offsets from the ELF symbols).
struct DatasecVariable {
  std::string name;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
  btf::TypeId var_type_id = 0;  // the VAR
  btf::TypeId type_id = 0;      // its type
  bool is_global = false;       // VAR linkage global (static otherwise)
};

// An initial element of a map-in-map (`values` = inner maps) or a prog array (`values` =
// programs), from .rel.maps.
struct MapSlot {
  std::uint32_t index = 0;
  std::string target;            // the map's or the program's name
  std::size_t target_index = 0;  // into ObjectSpec::maps() or ObjectSpec::programs()
};

// A function pointer member of a struct_ops map's struct set to a program (.rel.struct_ops).
struct StructOpsMember {
  std::string member;             // the member's name in the object's struct
  std::uint32_t offset = 0;       // bytes into the struct (initial_data())
  std::string program;            // the program's name
  std::size_t program_index = 0;  // into ObjectSpec::programs()
};

class MapSpec {
 public:
  // As the kernel will see it: "counts", or for global data "<object>.<section>" shortened to
  // 15 characters ("hello.rodata", ".rodata.str1.1").
  const std::string& name() const noexcept { return name_; }
  const std::string& section() const noexcept { return section_; }
  MapOrigin origin() const noexcept { return origin_; }
  bool is_internal() const noexcept {
    return origin_ != MapOrigin::btf_defined && origin_ != MapOrigin::legacy && origin_ != MapOrigin::struct_ops;
  }
  const MapDefinition& definition() const noexcept { return definition_; }
  MapType type() const noexcept { return definition_.type; }
  std::uint32_t key_size() const noexcept { return definition_.key_size; }
  std::uint32_t value_size() const noexcept { return definition_.value_size; }
  std::uint32_t max_entries() const noexcept { return definition_.max_entries; }
  std::uint32_t flags() const noexcept { return definition_.flags; }
  Pinning pinning() const noexcept { return pinning_; }
  // The VAR of the .maps section (BTF-defined maps) or the DATASEC (global data); 0 otherwise.
  btf::TypeId btf_var_or_datasec_id() const noexcept { return btf_id_; }
  // The inner map's template of a map-in-map.
  const std::optional<MapDefinition>& inner() const noexcept { return inner_; }
  std::span<const MapSlot> initial_slots() const noexcept { return slots_; }
  // Global data: the section's initial bytes (zeros for .bss and .kconfig before resolution).
  std::span<const std::byte> initial_data() const noexcept { return data_; }
  std::span<std::byte> mutable_data() noexcept { return data_; }
  std::span<const DatasecVariable> variables() const noexcept { return variables_; }
  // struct_ops maps: the struct (tcp_congestion_ops...) in the object's BTF, its name (the loader
  // finds the kernel's struct of that name) and the members set to programs, by offset. The
  // struct's bytes are initial_data(); the function pointers in them are zero.
  btf::TypeId struct_ops_type_id() const noexcept { return struct_ops_type_id_; }
  const std::string& struct_ops_type_name() const noexcept { return struct_ops_type_name_; }
  std::span<const StructOpsMember> struct_ops_members() const noexcept { return struct_ops_members_; }
  const DatasecVariable* find_variable(std::string_view name) const noexcept;

  // Changes before load; each throws corebpf::Error naming the map when the change cannot apply
  // (an internal map keeps its type, key size and single entry). A key or value size that no
  // longer matches the BTF key/value type drops that BTF type id.
  void set_type(MapType type);
  void set_key_size(std::uint32_t size);
  // Internal maps grow (zero-filled) or shrink, but never cut a variable.
  void set_value_size(std::uint32_t size);
  void set_max_entries(std::uint32_t max_entries);
  void set_flags(std::uint32_t flags) noexcept { definition_.flags = flags; }
  void set_numa_node(std::uint32_t node) noexcept { definition_.numa_node = node; }
  void set_map_extra(std::uint64_t extra) noexcept { definition_.map_extra = extra; }
  void set_pinning(Pinning pinning) noexcept { pinning_ = pinning; }
  // Writes a variable's initial value; `bytes` must be exactly its size.
  void set_variable(std::string_view name, std::span<const std::byte> bytes);

 private:
  friend class ObjectSpec;
  friend struct ObjectParser;
  std::string name_;
  std::string section_;
  MapOrigin origin_ = MapOrigin::btf_defined;
  MapDefinition definition_;
  Pinning pinning_ = Pinning::none;
  btf::TypeId btf_id_ = 0;
  std::uint32_t btf_key_size_ = 0;  // sizes of the BTF key/value types when given
  std::uint32_t btf_value_size_ = 0;
  std::optional<MapDefinition> inner_;
  std::vector<MapSlot> slots_;
  std::vector<std::byte> data_;
  std::vector<DatasecVariable> variables_;
  btf::TypeId struct_ops_type_id_ = 0;
  std::string struct_ops_type_name_;
  std::vector<StructOpsMember> struct_ops_members_;
};

enum class ExternKind : std::uint8_t {
  kconfig,       // a .kconfig variable: CONFIG_*, LINUX_KERNEL_VERSION, LINUX_HAS_*
  ksym_typed,    // a .ksyms variable with a type: resolved to the kernel's BTF VAR
  ksym_untyped,  // a .ksyms `const void` variable: resolved to its kallsyms address
  kfunc,         // a .ksyms function: a kfunc call, resolved to the kernel's BTF FUNC
};
std::string_view extern_kind_name(ExternKind kind) noexcept;

// How a .kconfig extern's C type reads a configuration value.
enum class KconfigType : std::uint8_t {
  none,       // not a .kconfig extern
  boolean,    // _Bool: y -> 1, n -> 0
  tristate,   // enum libbpf_tristate: y -> 1 (TRI_YES), n -> 0, m -> 2 (TRI_MODULE)
  character,  // 1-byte integer: y/n/m as the character, or a number
  integer,    // 2, 4 or 8 bytes (or 1 byte through `character`): a number that must fit
  string,     // char array: a quoted string, truncated to fit with its NUL
};

struct ExternSpec {
  std::string name;
  ExternKind kind = ExternKind::kconfig;
  bool weak = false;
  btf::TypeId btf_id = 0;   // the VAR or FUNC in the object's BTF
  btf::TypeId type_id = 0;  // its type (a FUNC_PROTO for kfuncs; 0 for untyped ksyms)
  KconfigType kconfig_type = KconfigType::none;
  bool is_signed = false;    // kconfig integers
  std::uint32_t offset = 0;  // kconfig: byte offset in the .kconfig map's value
  std::uint32_t size = 0;    // kconfig: bytes

  // Resolution (resolve_externs).
  bool resolved = false;          // false for weak externs the kernel lacks (left at zero / NULL)
  std::uint64_t address = 0;      // ksym_untyped
  btf::TypeId target_btf_id = 0;  // ksym_typed, kfunc: id in the target BTF
  // ksym_typed, kfunc: -1 for vmlinux, else the index in KernelDescription::module_btfs. The
  // loader puts the module BTF's fd in the ld_imm64 (second imm) or the call's fd_array slot.
  int target_module = -1;
};

// What the kernel layer knows about the kernel the object will run on; pure data, so the
// resolution of externs runs (and is tested) without one.
struct KernelDescription {
  // CONFIG_* values as the config file writes them: "y", "m", "n", "250", "0x10", "\"text\"".
  // A "# CONFIG_X is not set" line may be given as "n" or left out.
  std::map<std::string, std::string, std::less<>> kconfig;
  std::uint32_t kernel_version = 0;  // KERNEL_VERSION(major, minor, patch) for LINUX_KERNEL_VERSION
  // LINUX_HAS_SYSCALL_WRAPPER and LINUX_HAS_BPF_COOKIE, asked only when an extern names them
  // (finding out costs a symbol lookup or a probe load); unset reads as "n".
  std::function<bool()> has_syscall_wrapper;
  std::function<bool()> has_bpf_cookie;
  // The address of a kernel symbol (/proc/kallsyms), empty when unknown.
  std::function<std::optional<std::uint64_t>(std::string_view symbol)> kallsyms;
  // For typed ksyms and kfuncs: vmlinux BTF, then the modules' split BTF.
  std::optional<btf::Btf> vmlinux_btf;
  std::vector<btf::Btf> module_btfs;
  // The modules' names, in module_btfs' order (the kernel's BTF object names: what the loader
  // opens for an extern found in a module). May be shorter when unknown (BTF read from files).
  std::vector<std::string> module_names;
  // When module_btfs is empty: a description with the modules, asked for the first time a typed
  // ksym or kfunc is not in vmlinux (reading every module's BTF costs more than most loads).
  std::function<const KernelDescription&()> with_modules;
};

struct OpenOptions {
  // The object's name (map name prefix); by default the file name up to its first '.'.
  std::string object_name;
  std::vector<SectionHandler> section_handlers;
};

class ObjectSpec {
 public:
  // Throws corebpf::Error naming the file (and section, symbol, offset) for anything malformed.
  static ObjectSpec open(const std::string& path, const OpenOptions& options = {});
  // Copies what it needs from `bytes`; `name` is used in messages and as the default object name.
  static ObjectSpec from_memory(std::span<const std::byte> bytes, std::string name, const OpenOptions& options = {});

  ObjectSpec(const ObjectSpec&);
  ObjectSpec& operator=(const ObjectSpec&);
  ObjectSpec(ObjectSpec&&) noexcept;
  ObjectSpec& operator=(ObjectSpec&&) noexcept;
  ~ObjectSpec();

  // "hello" for hello.bpf.o.
  const std::string& name() const noexcept { return name_; }
  // The path or the name given to from_memory.
  const std::string& source() const noexcept { return source_; }
  // The object's byte order. Everything here is presented in host order; global data stays as
  // stored.
  btf::Endian endian() const noexcept { return endian_; }
  bool is_native_endian() const noexcept { return endian_ == btf::native_endian(); }
  // Throws corebpf::Error (ENOEXEC) explaining that a foreign-endian object can be inspected but
  // not loaded; the loader calls it first.
  void require_native_endian() const;

  // The object's own (local) BTF; empty for an object compiled without -g. As clang wrote it:
  // its DATASECs have size 0 and global variables offset 0 (a linker's job). Before loading it,
  // the loader sets them from the maps' value sizes and variables(), which carry the real layout.
  const std::optional<btf::Btf>& btf() const noexcept { return btf_; }
  const std::string& license() const noexcept { return license_; }
  // The legacy `version` section, if present.
  std::optional<std::uint32_t> kernel_version() const noexcept { return kernel_version_; }

  std::span<const ProgramSpec> programs() const noexcept { return programs_; }
  std::span<ProgramSpec> programs() noexcept { return programs_; }
  const ProgramSpec* find_program(std::string_view name) const noexcept;
  ProgramSpec* find_program(std::string_view name) noexcept;
  // Throws corebpf::Error (ENOENT) naming the object and the program.
  ProgramSpec& program(std::string_view name);
  const ProgramSpec& program(std::string_view name) const;

  std::span<const MapSpec> maps() const noexcept { return maps_; }
  std::span<MapSpec> maps() noexcept { return maps_; }
  const MapSpec* find_map(std::string_view name) const noexcept;
  MapSpec* find_map(std::string_view name) noexcept;
  MapSpec& map(std::string_view name);
  const MapSpec& map(std::string_view name) const;
  // The internal map of a global data section (".rodata", ".data.custom", ".kconfig"...).
  MapSpec* find_section_map(std::string_view section) noexcept;

  std::span<const ExternSpec> externs() const noexcept { return externs_; }

  // Resolves every extern against `kernel`: fills the .kconfig map's initial data and rewrites
  // the ksym ld_imm64 and kfunc call instructions of every program. Throws corebpf::Error naming
  // the extern when a non-weak one cannot be resolved or its type does not fit the value.
  void resolve_externs(const KernelDescription& kernel);

  // A global variable's initial value, by name, in any .data/.rodata/.bss section. `bytes` must
  // be exactly the variable's size; an ambiguous name (two static variables) is an error: use
  // MapSpec::set_variable then.
  void set_global(std::string_view name, std::span<const std::byte> bytes);
  std::span<const std::byte> global(std::string_view name) const;
  template <typename T>
  void set_global(std::string_view name, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>, "set_global copies the value's bytes");
    set_global(name, std::span<const std::byte>(reinterpret_cast<const std::byte*>(&value), sizeof(T)));
  }
  template <typename T>
  T get_global(std::string_view name) const {
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>);
    auto bytes = global(name);
    check_global_size(name, bytes.size(), sizeof(T));
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }

 private:
  friend struct ObjectParser;
  ObjectSpec();
  void check_global_size(std::string_view name, std::size_t actual, std::size_t wanted) const;
  MapSpec& global_owner(std::string_view name, const DatasecVariable** variable);

  std::string name_;
  std::string source_;
  btf::Endian endian_ = btf::Endian::little;
  std::optional<btf::Btf> btf_;
  std::string license_;
  std::optional<std::uint32_t> kernel_version_;
  std::vector<ProgramSpec> programs_;
  std::vector<MapSpec> maps_;
  std::vector<ExternSpec> externs_;
};

}  // namespace corebpf
