// [pure] `corebpf core check`: will an object load on a kernel, program by program, and if not, why?
// Decided offline from the kernel's BTF (and its config when known): CO-RE relocations and
// whether the code guards the ones that fail, helpers, program/map/attach types, kfuncs and
// ksyms, BTF attach targets, struct_ops types, .kconfig values. Pure: no syscalls; the running
// kernel is only one more BTF (plus config) the caller describes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/core.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::core {

// One kernel as `core check` sees it. `description.vmlinux_btf` is required; its kconfig may be
// empty when the kernel's config is unknown (then strong CONFIG_* externs have no value, as they
// would for the loader on that kernel).
struct CheckKernel {
  std::string name;  // the column: the release, or the file's name
  KernelDescription description;
  // Whether `description.kallsyms` answers for this kernel; when not, untyped ksyms are noted as
  // unchecked instead of failing.
  bool kallsyms_known = false;
};

// A kernel described by its BTF alone (plus `kconfig` when known): LINUX_KERNEL_VERSION from
// the release's leading "x.y.z", LINUX_HAS_BPF_COOKIE from enum bpf_func_id,
// LINUX_HAS_SYSCALL_WRAPPER from the BTF's __<arch>_sys_bpf function.
CheckKernel describe_kernel(std::string name, std::string_view release, btf::Btf vmlinux,
                            std::map<std::string, std::string, std::less<>> kconfig = {},
                            std::vector<btf::Btf> modules = {});

enum class Verdict : std::uint8_t { loads, guarded, fails };
// "loads", "loads with guarded fallbacks", "fails".
std::string_view verdict_name(Verdict verdict) noexcept;
// One word for a matrix cell: "loads", "guarded", "FAILS".
std::string_view verdict_short_name(Verdict verdict) noexcept;

enum class FindingKind : std::uint8_t {
  relocation,     // a CO-RE relocation that failed, was poisoned, or whose existence check says "absent"
  helper,         // a helper absent from the kernel's enum bpf_func_id
  program_type,   // the program type absent from enum bpf_prog_type
  attach_type,    // the expected attach type absent from enum bpf_attach_type
  attach_target,  // fentry/fexit/fmod_ret/tp_btf/lsm/iter target absent from the BTF
  map_type,       // a map type absent from enum bpf_map_type
  struct_ops,     // a struct_ops type or member the kernel lacks
  kfunc,          // a kfunc absent from the BTF
  ksym,           // a typed ksym absent from the BTF, or an untyped one not checked
  kconfig,        // a .kconfig extern without a value
  note,           // something not checked offline
};
std::string_view finding_kind_name(FindingKind kind) noexcept;

struct Finding {
  FindingKind kind = FindingKind::note;
  bool fatal = false;                 // the program fails to load because of it
  bool guarded = false;               // the kernel lacks it, but the code that needs it is dead on this kernel
  std::optional<std::uint32_t> insn;  // the instruction, in the linked program
  std::string text;
};

struct ProgramCheck {
  std::string name;
  std::string section;
  Verdict verdict = Verdict::loads;
  std::vector<Finding> findings;  // the object's fatal findings first
};

struct ObjectCheck {
  std::string object;  // ObjectSpec::source()
  std::string kernel;  // CheckKernel::name
  // What fails or concerns the whole object (maps, externs): a fatal one fails every program.
  std::vector<Finding> object_findings;
  std::vector<ProgramCheck> programs;
};

// One object against one kernel; `target` must be the kernel's (Target(vmlinux, modules)), kept
// by the caller so its candidate cache serves many objects. Never throws for what the kernel
// lacks; throws corebpf::Error only for an object it cannot relocate at all (CO-RE records but
// no BTF).
ObjectCheck check(const ObjectSpec& object, const CheckKernel& kernel, const Target& target);

// Every object against every kernel, kernels spread over `threads` worker threads (0: the
// hardware's). results[k][o] is objects[o] on kernels[k].
std::vector<std::vector<ObjectCheck>> check_all(std::span<const ObjectSpec> objects,
                                                std::span<const CheckKernel> kernels, unsigned threads = 0);

}  // namespace corebpf::core
