// Names of the uapi enums as bpftool prints them: the tables scripts/gen-uapi generates from the
// pinned UAPI (src/uapi/bpf_tables.hpp).
#include "corebpf/object_spec.hpp"

#include <array>
#include <string>
#include "uapi/uapi.hpp"

namespace corebpf {

// ProgramType, MapType and AttachType hold the pinned release's values, checked by the compiler.
#include "uapi/enum_checks.inc"

std::string_view program_type_name(ProgramType type) noexcept {
  return uapi::name_at(uapi::kProgramTypeNames, static_cast<std::uint32_t>(type));
}

std::string_view attach_type_name(AttachType type) noexcept {
  return uapi::name_at(uapi::kAttachTypeNames, static_cast<std::uint32_t>(type));
}

std::string_view map_type_name(MapType type) noexcept {
  return uapi::name_at(uapi::kMapTypeNames, static_cast<std::uint32_t>(type));
}

// The kernel's disassembler names helpers by their function ("bpf_map_lookup_elem"); the
// generated table holds the enum's names (BPF_FUNC_map_lookup_elem -> "map_lookup_elem").
std::string_view helper_name(std::uint32_t id) noexcept {
  static const auto names = [] {
    std::array<std::string, uapi::kHelperNames.size()> prefixed;
    for (std::size_t i = 0; i < prefixed.size(); ++i) prefixed[i] = "bpf_" + std::string(uapi::kHelperNames[i]);
    return prefixed;
  }();
  return id < names.size() ? std::string_view(names[id]) : std::string_view();
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
