// `core check`: an object's load outcome on a kernel, predicted from the kernel's BTF. The
// object is relocated and its externs resolved exactly as the loader would (on a copy), then
// each program's instructions are walked with the verifier's exact values (reachability.hpp) to
// see whether what the kernel lacks is reached.
#include "corebpf/core_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <mutex>
#include <thread>

#include "corebpf/error.hpp"
#include "object/core/reachability.hpp"

namespace corebpf::core {
namespace {

// The values of one of the kernel's UAPI enums (bpf_func_id, bpf_prog_type...): which exist.
struct KernelEnum {
  bool known = false;  // the BTF has the enum
  std::vector<bool> present;
  std::vector<std::string> names;

  bool has(std::uint64_t value) const { return !known || (value < present.size() && present[value]); }
  std::string_view name(std::uint64_t value) const {
    return value < names.size() ? std::string_view(names[value]) : std::string_view();
  }
};

KernelEnum read_enum(const btf::Btf& btf, std::string_view enum_name, std::string_view prefix,
                     std::string_view end_marker) {
  KernelEnum out;
  auto type = btf.find(enum_name, btf::Kind::Enum);
  if (!type) type = btf.find(enum_name, btf::Kind::Enum64);
  if (!type) return out;
  out.known = true;
  for (const auto e : type->enumerators()) {
    const std::uint64_t v = e.unsigned_value();
    const std::string_view name = e.name();
    if (name.starts_with("__") || name == end_marker || v > 4096) continue;
    if (out.present.size() <= v) {
      out.present.resize(v + 1, false);
      out.names.resize(v + 1);
    }
    out.present[v] = true;
    out.names[v] = std::string(name.starts_with(prefix) ? name.substr(prefix.size()) : name);
  }
  return out;
}

struct KernelFacts {
  KernelEnum helpers, program_types, map_types, attach_types;

  explicit KernelFacts(const btf::Btf& vmlinux)
      : helpers(read_enum(vmlinux, "bpf_func_id", "BPF_FUNC_", "__BPF_FUNC_MAX_ID")),
        program_types(read_enum(vmlinux, "bpf_prog_type", "BPF_PROG_TYPE_", "__MAX_BPF_PROG_TYPE")),
        map_types(read_enum(vmlinux, "bpf_map_type", "BPF_MAP_TYPE_", "__MAX_BPF_MAP_TYPE")),
        attach_types(read_enum(vmlinux, "bpf_attach_type", "BPF_", "__MAX_BPF_ATTACH_TYPE")) {}
};

// Program types whose load rejects an expected attach type it does not know (the kernel's
// bpf_prog_load_check_attach and the verifier's BTF attach checks); the others ignore it at load.
bool load_checks_attach_type(ProgramType type) {
  switch (type) {
    case ProgramType::cgroup_sock:
    case ProgramType::cgroup_sock_addr:
    case ProgramType::cgroup_skb:
    case ProgramType::cgroup_sockopt:
    case ProgramType::sk_lookup:
    case ProgramType::sk_reuseport:
    case ProgramType::tracing:
    case ProgramType::lsm:
    case ProgramType::netfilter:
      return true;
    default:
      return false;
  }
}

bool is_existence_check(ReloKind kind) {
  return kind == ReloKind::field_exists || kind == ReloKind::type_exists || kind == ReloKind::enumval_exists ||
         kind == ReloKind::type_matches;
}

std::string_view existence_macro(ReloKind kind) {
  switch (kind) {
    case ReloKind::field_exists:
      return "bpf_core_field_exists";
    case ReloKind::type_exists:
      return "bpf_core_type_exists";
    case ReloKind::enumval_exists:
      return "bpf_core_enum_value_exists";
    default:
      return "bpf_core_type_matches";
  }
}

// Reads `size` bytes at `offset` of `bytes` in `endian` order.
std::optional<std::uint64_t> read_bytes(std::span<const std::byte> bytes, std::uint64_t offset, std::uint32_t size,
                                        bool sign_extend, btf::Endian endian) {
  if (size == 0 || size > 8 || offset > bytes.size() || bytes.size() - offset < size) return std::nullopt;
  std::uint64_t v = 0;
  for (std::uint32_t i = 0; i < size; ++i) {
    const std::uint32_t at = endian == btf::Endian::little ? size - 1 - i : i;
    v = (v << 8) | static_cast<std::uint8_t>(bytes[offset + at]);
  }
  if (sign_extend && size < 8) {
    const std::uint64_t sign = std::uint64_t{1} << (size * 8 - 1);
    v = (v ^ sign) - sign;
  }
  return v;
}

class Checker {
 public:
  Checker(const ObjectSpec& object, const CheckKernel& kernel, const Target& target, const KernelFacts& facts,
          const KernelEnum* helper_names)
      : spec_(object), kernel_(kernel), target_(target), facts_(facts), helper_names_(helper_names) {}

  ObjectCheck run() {
    ObjectCheck out;
    out.object = spec_.source();
    out.kernel = kernel_.name;
    check_maps(out.object_findings);
    check_externs(out.object_findings);
    const auto relocations = relocate(spec_, target_);
    for (std::size_t i = 0; i < spec_.programs().size(); ++i)
      out.programs.push_back(check_program(spec_.programs()[i], relocations[i], out.object_findings));
    return out;
  }

 private:
  const btf::Btf& vmlinux() const { return *kernel_.description.vmlinux_btf; }

  std::string helper_label(std::uint64_t id) const {
    std::string_view name;
    if (helper_names_) name = helper_names_->name(id);
    return name.empty() ? fmt::format("helper #{}", id) : fmt::format("helper bpf_{} (#{})", name, id);
  }

  void check_maps(std::vector<Finding>& findings) const {
    const auto check_type = [&](const MapSpec& map, MapType type, std::string_view role) {
      const auto value = static_cast<std::uint32_t>(type);
      if (facts_.map_types.has(value)) return;
      const std::string_view name = map_type_name(type);
      findings.push_back({FindingKind::map_type, true, false, std::nullopt,
                          fmt::format("map '{}': {}type {} ({}) is not in this kernel's enum bpf_map_type", map.name(),
                                      role, name.empty() ? std::string_view("?") : name, value)});
    };
    for (const MapSpec& map : spec_.maps()) {
      check_type(map, map.type(), "");
      if (map.inner()) check_type(map, map.inner()->type, "inner map ");
      if (map.origin() != MapOrigin::struct_ops) continue;
      const std::string& type_name = map.struct_ops_type_name();
      const auto value = vmlinux().find("bpf_struct_ops_" + type_name, btf::Kind::Struct);
      const auto kernel_struct = vmlinux().find(type_name, btf::Kind::Struct);
      if (!value || !kernel_struct) {
        findings.push_back({FindingKind::struct_ops, true, false, std::nullopt,
                            fmt::format("struct_ops map '{}': the kernel has no struct_ops type '{}' (no struct "
                                        "bpf_struct_ops_{})",
                                        map.name(), type_name, type_name)});
        continue;
      }
      for (const auto& member : map.struct_ops_members()) {
        bool found = false;
        for (const auto m : kernel_struct->members()) found = found || m.name() == member.member;
        if (!found) {
          findings.push_back({FindingKind::struct_ops, true, false, std::nullopt,
                              fmt::format("struct_ops map '{}': struct {} has no member '{}' (program '{}')",
                                          map.name(), type_name, member.member, member.program)});
        }
      }
    }
  }

  bool btf_has(std::string_view name, btf::Kind kind) const {
    const auto search = [&](const btf::Btf& btf) {
      for (auto id : btf.find_all(name))
        if (id >= btf.first_id() && btf.type(id).kind() == kind) return true;
      return false;
    };
    if (search(vmlinux())) return true;
    // Modules as the loader sees them: read on demand where the description defers them.
    const auto& d = kernel_.description;
    const auto& modules = d.module_btfs.empty() && d.with_modules ? d.with_modules().module_btfs : d.module_btfs;
    for (const auto& module : modules)
      if (search(module)) return true;
    return false;
  }

  // What the loader's extern resolution will say, extern by extern (it stops at the first
  // failure); then the resolution itself on the copy, for the instructions it rewrites.
  void check_externs(std::vector<Finding>& findings) {
    if (spec_.externs().empty()) return;
    const auto& d = kernel_.description;
    bool strong_missing = false;
    for (const ExternSpec& ext : spec_.externs()) {
      const std::string_view how = ext.weak ? "weak" : "strong";
      switch (ext.kind) {
        case ExternKind::kconfig: {
          const bool special = ext.name == "LINUX_KERNEL_VERSION" || ext.name == "LINUX_HAS_SYSCALL_WRAPPER" ||
                               ext.name == "LINUX_HAS_BPF_COOKIE";
          if (special || d.kconfig.contains(ext.name)) break;
          if (!ext.weak) {
            strong_missing = true;
            findings.push_back({FindingKind::kconfig, true, false, std::nullopt,
                                fmt::format(".kconfig extern '{}' has no value on this kernel{}", ext.name,
                                            d.kconfig.empty() ? " (its config is unknown)" : "")});
          } else {
            findings.push_back({FindingKind::kconfig, false, true, std::nullopt,
                                fmt::format("weak .kconfig extern '{}' has no value: reads as zero", ext.name)});
          }
          break;
        }
        case ExternKind::kfunc:
        case ExternKind::ksym_typed: {
          const bool is_func = ext.kind == ExternKind::kfunc;
          if (btf_has(ext.name, is_func ? btf::Kind::Func : btf::Kind::Var)) break;
          if (!ext.weak) strong_missing = true;
          // A missing weak kfunc is judged where it is called (reachable or not), below.
          if (ext.weak && is_func) break;
          findings.push_back({is_func ? FindingKind::kfunc : FindingKind::ksym, !ext.weak, ext.weak, std::nullopt,
                              fmt::format("{} {} '{}' is not in this kernel's BTF{}", how, is_func ? "kfunc" : "ksym",
                                          ext.name, ext.weak ? ": its address reads as NULL" : "")});
          break;
        }
        case ExternKind::ksym_untyped:
          if (!kernel_.kallsyms_known) {
            findings.push_back(
                {FindingKind::note, false, false, std::nullopt,
                 fmt::format("ksym '{}' (kallsyms) not checked: the kernel's symbols are unknown", ext.name)});
          } else if (!(d.kallsyms && d.kallsyms(ext.name))) {
            if (!ext.weak) strong_missing = true;
            findings.push_back({FindingKind::ksym, !ext.weak, ext.weak, std::nullopt,
                                fmt::format("{} ksym '{}' is not in this kernel's kallsyms", how, ext.name)});
          }
          break;
      }
    }
    if (strong_missing) return;
    try {
      if (kernel_.kallsyms_known) {
        spec_.resolve_externs(d);
      } else {
        KernelDescription copy;
        copy.kernel_version = d.kernel_version;
        copy.has_syscall_wrapper = d.has_syscall_wrapper;
        copy.has_bpf_cookie = d.has_bpf_cookie;
        copy.vmlinux_btf = d.vmlinux_btf;
        copy.module_btfs = d.module_btfs;
        copy.module_names = d.module_names;
        copy.with_modules = d.with_modules;
        copy.kconfig = d.kconfig;
        copy.kallsyms = [](std::string_view) -> std::optional<std::uint64_t> { return 0xffffffff81000000ull; };
        spec_.resolve_externs(copy);
      }
      resolved_ = true;
    } catch (const Error& e) {
      findings.push_back({FindingKind::note, true, false, std::nullopt, e.message()});
    }
  }

  ProgramCheck check_program(const ProgramSpec& program, const ProgramRelocations& relocations,
                             const std::vector<Finding>& object_findings) {
    ProgramCheck out;
    out.name = program.name();
    out.section = program.section();
    for (const auto& f : object_findings)
      if (f.fatal) out.findings.push_back(f);
    auto& findings = out.findings;
    const auto type_value = static_cast<std::uint32_t>(program.type());
    if (!facts_.program_types.has(type_value)) {
      findings.push_back({FindingKind::program_type, true, false, std::nullopt,
                          fmt::format("program type {} ({}) is not in this kernel's enum bpf_prog_type",
                                      program_type_name(program.type()), type_value)});
    }
    if (auto attach = program.expected_attach_type()) {
      const auto value = static_cast<std::uint32_t>(*attach);
      if (!facts_.attach_types.has(value)) {
        const bool checked = load_checks_attach_type(program.type());
        findings.push_back(
            {FindingKind::attach_type, checked, false, std::nullopt,
             fmt::format("attach type {} ({}) is not in this kernel's enum bpf_attach_type{}",
                         attach_type_name(*attach), value,
                         checked ? "" : ": the load ignores it for this program type, attaching fails")});
      }
    }
    check_attach_target(program, findings);

    const auto insns = program.insns();
    detail::FlowInput flow;
    flow.insns = insns;
    flow.read_constant = [this](std::uint32_t map, std::uint64_t offset, std::uint32_t size,
                                bool sign_extend) -> std::optional<std::uint64_t> {
      if (map >= spec_.maps().size()) return std::nullopt;
      const MapSpec& m = spec_.maps()[map];
      if (m.origin() != MapOrigin::rodata && m.origin() != MapOrigin::kconfig) return std::nullopt;
      return read_bytes(m.initial_data(), offset, size, sign_extend, spec_.endian());
    };
    flow.independent_entries = independent_entries(program);
    const auto flow_result = detail::find_reachable(flow);
    const auto reached = [&](std::size_t i) { return i < flow_result.reached.size() && flow_result.reached[i]; };
    if (flow_result.exhausted) {
      findings.push_back({FindingKind::note, false, false, std::nullopt,
                          "the walk for guards ran out of budget: every instruction counts as reachable"});
    }

    for (const ReloResult& r : relocations.relocations) {
      if (r.status == Status::error) {
        findings.push_back({FindingKind::relocation, true, false, static_cast<std::uint32_t>(r.insn_index),
                            relocation_text(r, "failed")});
      } else if (r.status == Status::poisoned) {
        const bool live = reached(r.insn_index);
        findings.push_back({FindingKind::relocation, live, !live, static_cast<std::uint32_t>(r.insn_index),
                            relocation_text(r, live ? "poisoned and reachable" : "poisoned, guarded")});
      } else if (is_existence_check(r.kind) && r.target_value == 0) {
        findings.push_back({FindingKind::relocation, false, true, static_cast<std::uint32_t>(r.insn_index),
                            fmt::format("{}({}) is false here: the guarded fallback runs", existence_macro(r.kind),
                                        r.spec.empty() ? r.local_type_name : r.spec)});
      }
    }

    // Calls: helpers the kernel lacks, missing weak kfuncs.
    for (std::size_t i = 0; i < insns.size(); ++i) {
      const Insn& insn = insns[i];
      if (insn.is_ld_imm64()) {
        ++i;
        continue;
      }
      if (!insn.is_call()) continue;
      if (insn.src() == 0) {
        if (insn.imm == kPoisonHelperId) continue;  // a poisoned relocation, reported above
        const auto id = static_cast<std::uint32_t>(insn.imm);
        if (facts_.helpers.has(id)) {
          if (auto why = helper_unavailable(program, id)) {
            const bool live = reached(i);
            findings.push_back({FindingKind::helper, live, !live, static_cast<std::uint32_t>(i),
                                fmt::format("{} {}{}", helper_label(id), *why, live ? "" : ", guarded")});
          }
          continue;
        }
        const bool live = reached(i);
        findings.push_back(
            {FindingKind::helper, live, !live, static_cast<std::uint32_t>(i),
             fmt::format("{} is not in this kernel's enum bpf_func_id{}", helper_label(id), live ? "" : ", guarded")});
      } else if (insn.src() == Insn::kPseudoKfuncCall && resolved_ && insn.imm == 0) {
        const bool live = reached(i);
        findings.push_back({FindingKind::kfunc, live, !live, static_cast<std::uint32_t>(i),
                            fmt::format("weak kfunc '{}' is not in this kernel's BTF{}", kfunc_name(program, i),
                                        live ? " and its call is reachable" : ", guarded")});
      }
    }

    out.verdict = Verdict::loads;
    for (const auto& f : findings) {
      if (f.fatal) {
        out.verdict = Verdict::fails;
        break;
      }
      if (f.guarded) out.verdict = Verdict::guarded;
    }
    return out;
  }

  // Which helpers a program type may call is the kernel's code, not its BTF; where a kernel
  // change left evidence in the BTF, it is read here. The one case known: bpf_get_attach_cookie
  // from raw tracepoints and BTF tracepoints came with struct bpf_raw_tp_link's `cookie` (6.10).
  std::optional<std::string> helper_unavailable(const ProgramSpec& program, std::uint32_t id) const {
    constexpr std::uint32_t kGetAttachCookie = 174;
    if (id != kGetAttachCookie) return std::nullopt;
    const bool raw_tp =
        program.type() == ProgramType::raw_tracepoint || program.type() == ProgramType::raw_tracepoint_writable ||
        (program.type() == ProgramType::tracing && program.expected_attach_type() == AttachType::trace_raw_tp);
    if (!raw_tp) return std::nullopt;
    if (const auto link = vmlinux().find("bpf_raw_tp_link", btf::Kind::Struct)) {
      for (const auto m : link->members())
        if (m.name() == "cookie") return std::nullopt;
    }
    return "is not available to raw tracepoints on this kernel (struct bpf_raw_tp_link has no cookie)";
  }

  std::string relocation_text(const ReloResult& r, std::string_view what) const {
    std::string text =
        fmt::format("CO-RE {} of {} {}", kind_name(r.kind), r.spec.empty() ? r.local_type_name : r.spec, what);
    if (!r.message.empty()) text += fmt::format(": {}", r.message);
    return text;
  }

  std::string kfunc_name(const ProgramSpec& program, std::size_t insn) const {
    for (const auto& use : program.extern_uses())
      if (use.insn_index == insn && use.extern_index < spec_.externs().size())
        return spec_.externs()[use.extern_index].name;
    return "?";
  }

  void check_attach_target(const ProgramSpec& program, std::vector<Finding>& findings) const {
    if (program.type() == ProgramType::ext) {
      findings.push_back(
          {FindingKind::note, false, false, std::nullopt, "freplace target not checked: it is another loaded program"});
      return;
    }
    if (!program.attach_target_is_btf() || program.attach_target().empty()) return;
    const std::string name = program.attach_btf_name();
    const bool is_tp = program.expected_attach_type() == AttachType::trace_raw_tp;
    if (vmlinux().find(name, is_tp ? btf::Kind::Typedef : btf::Kind::Func)) return;
    findings.push_back({FindingKind::attach_target, true, false, std::nullopt,
                        fmt::format("attach target '{}' is not in this kernel's BTF{}", name,
                                    is_tp ? " (no such BTF tracepoint)" : "")});
  }

  // Global, non-hidden functions: the verifier checks them on their own, with unknown arguments.
  std::vector<std::uint32_t> independent_entries(const ProgramSpec& program) const {
    std::vector<std::uint32_t> entries;
    if (!spec_.btf()) return entries;
    const auto& btf = *spec_.btf();
    for (const auto& f : program.functions()) {
      if (f.insn_index == 0 || f.hidden) continue;
      for (const auto& info : program.func_info()) {
        if (info.insn_index != f.insn_index) continue;
        const auto type = btf.try_type(info.type_id);
        if (type && type->kind() == btf::Kind::Func && type->linkage() == btf::Linkage::global)
          entries.push_back(f.insn_index);
      }
    }
    return entries;
  }

  ObjectSpec spec_;  // a copy: relocated and resolved for this kernel
  const CheckKernel& kernel_;
  const Target& target_;
  const KernelFacts& facts_;
  const KernelEnum* helper_names_;
  bool resolved_ = false;
};

std::uint32_t version_from_release(std::string_view release) {
  std::uint32_t parts[3] = {0, 0, 0};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  for (int i = 0; i < 3 && p < end; ++i) {
    auto [next, error] = std::from_chars(p, end, parts[i]);
    if (error != std::errc()) break;
    p = next;
    if (p < end && *p == '.') {
      ++p;
    } else {
      break;
    }
  }
  if (parts[0] == 0) return 0;
  return (parts[0] << 16) + (parts[1] << 8) + std::min<std::uint32_t>(parts[2], 255);
}

}  // namespace

std::string_view verdict_name(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::loads:
      return "loads";
    case Verdict::guarded:
      return "loads with guarded fallbacks";
    case Verdict::fails:
      return "fails";
  }
  return "unknown";
}

std::string_view verdict_short_name(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::loads:
      return "loads";
    case Verdict::guarded:
      return "guarded";
    case Verdict::fails:
      return "FAILS";
  }
  return "?";
}

std::string_view finding_kind_name(FindingKind kind) noexcept {
  switch (kind) {
    case FindingKind::relocation:
      return "relocation";
    case FindingKind::helper:
      return "helper";
    case FindingKind::program_type:
      return "program_type";
    case FindingKind::attach_type:
      return "attach_type";
    case FindingKind::attach_target:
      return "attach_target";
    case FindingKind::map_type:
      return "map_type";
    case FindingKind::struct_ops:
      return "struct_ops";
    case FindingKind::kfunc:
      return "kfunc";
    case FindingKind::ksym:
      return "ksym";
    case FindingKind::kconfig:
      return "kconfig";
    case FindingKind::note:
      return "note";
  }
  return "unknown";
}

CheckKernel describe_kernel(std::string name, std::string_view release, btf::Btf vmlinux,
                            std::map<std::string, std::string, std::less<>> kconfig, std::vector<btf::Btf> modules) {
  CheckKernel kernel;
  kernel.name = std::move(name);
  auto& d = kernel.description;
  d.kernel_version = version_from_release(release);
  bool cookie = false;
  if (auto e = vmlinux.find("bpf_func_id", btf::Kind::Enum)) {
    for (const auto v : e->enumerators()) cookie = cookie || v.name() == "BPF_FUNC_get_attach_cookie";
  }
  bool wrapper = false;
  for (std::string_view name : {"__x64_sys_bpf", "__arm64_sys_bpf", "__s390x_sys_bpf", "__riscv_sys_bpf"})
    wrapper = wrapper || vmlinux.find(name, btf::Kind::Func).has_value();
  d.has_bpf_cookie = [cookie] { return cookie; };
  d.has_syscall_wrapper = [wrapper] { return wrapper; };
  d.kconfig = std::move(kconfig);
  d.vmlinux_btf = std::move(vmlinux);
  d.module_btfs = std::move(modules);
  return kernel;
}

ObjectCheck check(const ObjectSpec& object, const CheckKernel& kernel, const Target& target) {
  if (!kernel.description.vmlinux_btf)
    throw Error(EINVAL, fmt::format("core check: kernel '{}' has no vmlinux BTF", kernel.name));
  const KernelFacts facts(*kernel.description.vmlinux_btf);
  return Checker(object, kernel, target, facts, &facts.helpers).run();
}

std::vector<std::vector<ObjectCheck>> check_all(std::span<const ObjectSpec> objects,
                                                std::span<const CheckKernel> kernels, unsigned threads) {
  std::vector<std::vector<ObjectCheck>> results(kernels.size());
  for (const auto& k : kernels)
    if (!k.description.vmlinux_btf)
      throw Error(EINVAL, fmt::format("core check: kernel '{}' has no vmlinux BTF", k.name));
  // Helper names come from the kernel whose enum is the longest: a helper absent from one
  // kernel is named after another that has it.
  std::optional<KernelEnum> names;
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  for (const auto& k : kernels) {
    KernelEnum e = read_enum(*k.description.vmlinux_btf, "bpf_func_id", "BPF_FUNC_", "__BPF_FUNC_MAX_ID");
    if (!names || e.names.size() > names->names.size()) names = std::move(e);
  }
  const auto work = [&] {
    for (std::size_t k = next++; k < kernels.size(); k = next++) {
      try {
        const CheckKernel& kernel = kernels[k];
        const Target target(*kernel.description.vmlinux_btf, kernel.description.module_btfs);
        const KernelFacts facts(*kernel.description.vmlinux_btf);
        results[k].reserve(objects.size());
        for (const auto& object : objects)
          results[k].push_back(Checker(object, kernel, target, facts, names ? &*names : nullptr).run());
      } catch (...) {
        const std::lock_guard lock(failure_lock);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, kernels.size()));
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back(work);
  }
  if (failure) std::rethrow_exception(failure);
  return results;
}

}  // namespace corebpf::core
