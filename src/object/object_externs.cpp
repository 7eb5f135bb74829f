// Externs: collecting .kconfig and .ksyms symbols at open, laying out the .kconfig map, and
// resolving them against a KernelDescription.
#include <algorithm>
#include <charconv>

#include "object/object_parser.hpp"

namespace corebpf {

using namespace elf_constants;

namespace {

constexpr std::string_view kKernelVersion = "LINUX_KERNEL_VERSION";
constexpr std::string_view kHasSyscallWrapper = "LINUX_HAS_SYSCALL_WRAPPER";
constexpr std::string_view kHasBpfCookie = "LINUX_HAS_BPF_COOKIE";
constexpr std::uint32_t kTriNo = 0, kTriYes = 1, kTriModule = 2;  // enum libbpf_tristate
// Configuration strings are short (the longest, command lines, stay within a few KiB); a bigger
// char array is a mistake, and its bytes would be allocated for the .kconfig map.
constexpr std::uint32_t kMaxKconfigString = 8192;

bool is_virtual_kconfig(std::string_view name) {
  return name == kKernelVersion || name == kHasSyscallWrapper || name == kHasBpfCookie;
}

// Which DATASEC (".kconfig" or ".ksyms") lists the VAR or FUNC called `name`.
std::optional<std::pair<std::string_view, btf::Type>> find_extern_btf(const btf::Btf& btf, std::string_view name) {
  for (std::string_view section : {".kconfig", ".ksyms"}) {
    auto datasec = btf.find(section, btf::Kind::Datasec);
    if (!datasec) continue;
    for (const auto info : datasec->datasec_vars()) {
      auto type = btf.try_type(info.type());
      if (type && type->name() == name) return std::pair{section, *type};
    }
  }
  return std::nullopt;
}

struct KconfigShape {
  KconfigType type = KconfigType::none;
  std::uint32_t size = 0;
  bool is_signed = false;
};

std::optional<KconfigShape> kconfig_shape(const btf::Btf& btf, btf::TypeId id) {
  const auto type = btf.resolve(id);
  switch (type.kind()) {
    case btf::Kind::Int: {
      const auto info = type.int_info();
      const bool is_signed = (info.encoding & btf::kIntSigned) != 0;
      if (info.bit_offset != 0 || info.bits != type.size() * 8) return std::nullopt;
      if (type.size() == 1 && (info.encoding & btf::kIntBool) != 0) return KconfigShape{KconfigType::boolean, 1, false};
      if (type.size() == 1) return KconfigShape{KconfigType::character, 1, is_signed};
      if (type.size() == 2 || type.size() == 4 || type.size() == 8)
        return KconfigShape{KconfigType::integer, type.size(), is_signed};
      return std::nullopt;
    }
    case btf::Kind::Enum:
      if (type.size() == 4 && type.name() == "libbpf_tristate") return KconfigShape{KconfigType::tristate, 4, false};
      return std::nullopt;
    case btf::Kind::Array: {
      const auto array = type.array();
      const auto element = btf.resolve(array.element_type);
      if (element.kind() == btf::Kind::Int && element.size() == 1 && array.count > 0 &&
          array.count <= kMaxKconfigString)
        return KconfigShape{KconfigType::string, array.count, false};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::uint32_t align_up(std::uint32_t value, std::uint32_t alignment) {
  return alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;
}

}  // namespace

void ObjectParser::read_externs() {
  for (std::size_t i = 1; i < symbols.size(); ++i) {
    const auto& symbol = symbols[i];
    if (symbol.section != kShnUndef || symbol.name.empty()) continue;
    if (symbol.bind != kStbGlobal && symbol.bind != kStbWeak) continue;
    if (extern_by_name.contains(symbol.name)) continue;
    const auto& btf = require_btf(fmt::format("extern '{}' needs BTF to say what it is", symbol.name));
    ExternSpec ext;
    ext.name = std::string(symbol.name);
    ext.weak = symbol.bind == kStbWeak;
    auto found = find_extern_btf(btf, symbol.name);
    if (!found) {
      // Older clang leaves kfuncs out of the .ksyms DATASEC; the extern FUNC itself is enough.
      for (auto id : btf.find_all(symbol.name)) {
        auto type = btf.type(id);
        if (type.kind() == btf::Kind::Func && type.linkage() == btf::Linkage::extern_)
          found = std::pair{".ksyms", type};
      }
    }
    if (!found)
      fail(
          "extern '{}' is neither a .kconfig nor a .ksyms variable or function in the object's BTF "
          "(declare it with __kconfig or __ksym)",
          symbol.name);
    const auto& [section, type] = *found;
    ext.btf_id = type.id();
    if (type.kind() == btf::Kind::Func) {
      if (section != ".ksyms") fail("extern function '{}' must be declared __ksym, not in {}", ext.name, section);
      ext.kind = ExternKind::kfunc;
      ext.type_id = type.type();
    } else if (type.kind() != btf::Kind::Var) {
      fail("extern '{}' is a BTF {}, neither a VAR nor a FUNC", ext.name, btf::kind_name(type.kind()));
    } else if (section == ".kconfig") {
      ext.kind = ExternKind::kconfig;
      ext.type_id = type.type();
      if (!ext.name.starts_with("CONFIG_") && !is_virtual_kconfig(ext.name))
        fail("extern '{}' (.kconfig) is neither a CONFIG_ option nor one of {}, {}, {}", ext.name, kKernelVersion,
             kHasSyscallWrapper, kHasBpfCookie);
      auto shape = kconfig_shape(btf, ext.type_id);
      if (!shape)
        fail(
            "extern '{}' (.kconfig) has a type ({}) no configuration value fits: use bool, char, an integer, "
            "enum libbpf_tristate or a char array of at most 8192",
            ext.name, btf::kind_name(btf.resolve(ext.type_id).kind()));
      ext.kconfig_type = shape->type;
      ext.size = shape->size;
      ext.is_signed = shape->is_signed;
    } else {
      ext.type_id = type.type();
      ext.kind = btf.resolve(ext.type_id).is_void() ? ExternKind::ksym_untyped : ExternKind::ksym_typed;
    }
    extern_by_name.emplace(symbol.name, static_cast<std::uint32_t>(spec.externs_.size()));
    spec.externs_.push_back(std::move(ext));
  }

  // .kconfig layout: widest alignment first, then by name, so the layout is stable.
  std::vector<ExternSpec*> kconfig;
  for (auto& ext : spec.externs_)
    if (ext.kind == ExternKind::kconfig) kconfig.push_back(&ext);
  std::vector<std::uint32_t> alignment(spec.externs_.size(), 1);
  for (auto* ext : kconfig)
    alignment[static_cast<std::size_t>(ext - spec.externs_.data())] = spec.btf_->alignment_of(ext->type_id);
  auto align_of = [&](const ExternSpec* ext) {
    return alignment[static_cast<std::size_t>(ext - spec.externs_.data())];
  };
  std::stable_sort(kconfig.begin(), kconfig.end(), [&](const ExternSpec* a, const ExternSpec* b) {
    return align_of(a) != align_of(b) ? align_of(a) > align_of(b) : a->name < b->name;
  });
  std::uint32_t offset = 0;
  for (auto* ext : kconfig) {
    offset = align_up(offset, align_of(ext));
    ext->offset = offset;
    offset += ext->size;
  }
}

void ObjectParser::add_kconfig_map() {
  std::uint32_t size = 0;
  for (const auto& ext : spec.externs_)
    if (ext.kind == ExternKind::kconfig) size = std::max(size, ext.offset + ext.size);
  if (size == 0) return;
  MapSpec map;
  map.name_ = internal_map_name(".kconfig");
  map.section_ = ".kconfig";
  map.origin_ = MapOrigin::kconfig;
  map.definition_.type = MapType::array;
  map.definition_.key_size = 4;
  map.definition_.value_size = align_up(size, 8);
  map.definition_.max_entries = 1;
  map.definition_.flags = kMapFlagRdonlyProg | kMapFlagMmapable;
  if (auto datasec = spec.btf_->find(".kconfig", btf::Kind::Datasec)) {
    map.btf_id_ = datasec->id();
    map.definition_.btf_value_type_id = datasec->id();
  }
  map.data_.assign(map.definition_.value_size, std::byte{0});
  for (const auto& ext : spec.externs_) {
    if (ext.kind != ExternKind::kconfig) continue;
    DatasecVariable variable;
    variable.name = ext.name;
    variable.offset = ext.offset;
    variable.size = ext.size;
    variable.var_type_id = ext.btf_id;
    variable.type_id = ext.type_id;
    variable.is_global = true;
    map.variables_.push_back(std::move(variable));
  }
  std::stable_sort(map.variables_.begin(), map.variables_.end(),
                   [](const DatasecVariable& a, const DatasecVariable& b) { return a.offset < b.offset; });
  kconfig_map = spec.maps_.size();
  spec.maps_.push_back(std::move(map));
}

// ---- resolution ----

namespace {

class ExternResolver {
 public:
  ExternResolver(ObjectSpec& spec, const KernelDescription& kernel, MapSpec* kconfig)
      : spec_(spec), kernel_(kernel), kconfig_(kconfig) {}

  void resolve(ExternSpec& ext) {
    ext.resolved = false;
    ext.address = 0;
    ext.target_btf_id = 0;
    ext.target_module = -1;
    switch (ext.kind) {
      case ExternKind::kconfig:
        resolve_kconfig(ext);
        break;
      case ExternKind::ksym_untyped:
        resolve_untyped(ext);
        break;
      case ExternKind::ksym_typed:
        resolve_btf(ext, btf::Kind::Var, "variable");
        break;
      case ExternKind::kfunc:
        resolve_btf(ext, btf::Kind::Func, "function");
        break;
    }
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(const ExternSpec& ext, fmt::format_string<Args...> format, Args&&... args) {
    util::fail(std::errc::invalid_argument, "{}: extern '{}' ({}): {}", spec_.source(), ext.name,
               ext.kind == ExternKind::kconfig ? ".kconfig" : extern_kind_name(ext.kind),
               fmt::format(format, std::forward<Args>(args)...));
  }

  // ---- .kconfig ----

  void resolve_kconfig(ExternSpec& ext) {
    std::optional<std::string> value;
    if (ext.name == kKernelVersion) {
      if (kernel_.kernel_version != 0) value = std::to_string(kernel_.kernel_version);
    } else if (ext.name == kHasSyscallWrapper) {
      value = kernel_.has_syscall_wrapper && kernel_.has_syscall_wrapper() ? "y" : "n";
    } else if (ext.name == kHasBpfCookie) {
      value = kernel_.has_bpf_cookie && kernel_.has_bpf_cookie() ? "y" : "n";
    } else if (auto it = kernel_.kconfig.find(ext.name); it != kernel_.kconfig.end()) {
      value = it->second;
    }
    if (!value) {
      if (ext.weak) return;  // stays zero
      fail(ext, "the kernel description has no value for it; declare it __weak to default to zero");
    }
    write_kconfig(ext, *value);
    ext.resolved = true;
  }

  void write_kconfig(const ExternSpec& ext, std::string_view text) {
    auto destination = kconfig_->mutable_data().subspan(ext.offset, ext.size);
    const bool is_tristate_letter = text == "y" || text == "n" || text == "m";
    // Booleans from LINUX_HAS_* may meet integer externs: y/n read as 1/0 there.
    const bool virtual_bool = ext.name == kHasSyscallWrapper || ext.name == kHasBpfCookie;
    switch (ext.kconfig_type) {
      case KconfigType::boolean:
        if (text == "m") fail(ext, "value 'm' needs a tristate or char extern, not bool");
        if (text != "y" && text != "n") fail(ext, "value '{}' is not y or n, which a bool extern takes", text);
        store(destination, text == "y" ? 1 : 0);
        return;
      case KconfigType::tristate:
        if (!is_tristate_letter) fail(ext, "value '{}' is not y, n or m, which a tristate extern takes", text);
        store(destination, text == "y" ? kTriYes : text == "m" ? kTriModule : kTriNo);
        return;
      case KconfigType::character:
        if (is_tristate_letter && !virtual_bool) {
          store(destination, static_cast<unsigned char>(text[0]));
          return;
        }
        [[fallthrough]];
      case KconfigType::integer: {
        if (virtual_bool) {
          store(destination, text == "y" ? 1 : 0);
          return;
        }
        if (is_tristate_letter || text.starts_with('"'))
          fail(ext, "value '{}' is not a number, which an integer extern takes", text);
        store(destination, parse_number(ext, text));
        return;
      }
      case KconfigType::string: {
        if (text.size() < 2 || !text.starts_with('"') || !text.ends_with('"'))
          fail(ext, "value '{}' is not a quoted string, which a char array extern takes", text);
        const auto content = text.substr(1, text.size() - 2);
        const std::size_t length = std::min(content.size(), destination.size() - 1);
        std::memcpy(destination.data(), content.data(), length);
        destination[length] = std::byte{0};
        return;
      }
      case KconfigType::none:
        break;
    }
    fail(ext, "has no configuration type");
  }

  // A decimal or 0x-hexadecimal number that fits the extern's size and signedness, as the bits
  // to store.
  std::uint64_t parse_number(const ExternSpec& ext, std::string_view text) {
    std::string_view digits = text;
    const bool negative = digits.starts_with('-');
    if (negative) digits.remove_prefix(1);
    int base = 10;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
      base = 16;
      digits.remove_prefix(2);
    }
    std::uint64_t magnitude = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
      fail(ext, "value '{}' is not a number", text);
    const unsigned bits = ext.size * 8;
    if (ext.is_signed) {
      const std::uint64_t limit = std::uint64_t{1} << (bits - 1);  // |min|; max is limit - 1
      if (negative ? magnitude > limit : magnitude >= limit)
        fail(ext, "value {} does not fit a signed {}-byte integer", text, ext.size);
      return negative ? ~magnitude + 1 : magnitude;
    }
    if (negative) fail(ext, "value {} is negative but the extern is unsigned", text);
    if (bits < 64 && magnitude >> bits != 0)
      fail(ext, "value {} does not fit an unsigned {}-byte integer", text, ext.size);
    return magnitude;
  }

  // In the object's byte order, like the rest of its data.
  void store(std::span<std::byte> destination, std::uint64_t value) {
    const std::size_t size = destination.size();
    for (std::size_t i = 0; i < size; ++i) {
      const std::size_t shift = spec_.endian() == btf::Endian::little ? i : size - 1 - i;
      destination[i] = static_cast<std::byte>((value >> (8 * shift)) & 0xff);
    }
  }

  // ---- .ksyms ----

  void resolve_untyped(ExternSpec& ext) {
    std::optional<std::uint64_t> address;
    if (kernel_.kallsyms) address = kernel_.kallsyms(ext.name);
    if (!address) {
      if (ext.weak) return;
      fail(ext, "the kernel has no symbol '{}' in kallsyms", ext.name);
    }
    ext.address = *address;
    ext.resolved = true;
  }

  void resolve_btf(ExternSpec& ext, btf::Kind kind, std::string_view what) {
    if (!kernel_.vmlinux_btf) {
      if (ext.weak) return;
      fail(ext, "resolving it needs the kernel's BTF, which the kernel description lacks");
    }
    auto search = [&](const btf::Btf& target, int module) {
      // Variables and functions only: the symbol part of the name index (the type part, built
      // for CO-RE, is not needed here).
      for (auto id : target.find_all(ext.name, btf::name_scope(kind))) {
        if (id < target.first_id()) continue;  // a module's base types are vmlinux's, searched already
        auto type = target.type(id);
        if (type.kind() != kind) continue;
        const auto& local = *spec_.btf();
        if (!types_compatible(local, ext.type_id, target, type.type(), 0))
          fail(ext, "its type does not match the kernel's {} '{}' (BTF id {}{})", what, ext.name, id,
               module < 0 ? std::string() : fmt::format(" of module {}", module));
        ext.target_btf_id = id;
        ext.target_module = module;
        ext.resolved = true;
        return true;
      }
      return false;
    };
    if (search(*kernel_.vmlinux_btf, -1)) return;
    const auto& modules =
        kernel_.module_btfs.empty() && kernel_.with_modules ? kernel_.with_modules().module_btfs : kernel_.module_btfs;
    for (std::size_t i = 0; i < modules.size(); ++i)
      if (search(modules[i], static_cast<int>(i))) return;
    if (ext.weak) return;
    fail(ext, "the kernel's BTF has no {} '{}'", what, ext.name);
  }

  // Whether a local type can stand for a kernel type: the same shape through pointers, arrays and
  // function prototypes; integers, floats and enums of the same size; composites by kind (their
  // members are the CO-RE relocations' business).
  static bool types_compatible(const btf::Btf& local, btf::TypeId local_id, const btf::Btf& target,
                               btf::TypeId target_id, int depth) {
    constexpr int kMaxDepth = 32;
    if (depth > kMaxDepth) return false;
    const auto a = local.resolve(local_id);
    const auto b = target.resolve(target_id);
    if (a.is_void() || b.is_void()) return a.is_void() && b.is_void();
    auto composite = [](const btf::Type& t) {
      return t.kind() == btf::Kind::Fwd ? (t.is_union_fwd() ? btf::Kind::Union : btf::Kind::Struct) : t.kind();
    };
    switch (a.kind()) {
      case btf::Kind::Int:
      case btf::Kind::Float:
        return b.kind() == a.kind() && a.size() == b.size();
      case btf::Kind::Enum:
      case btf::Kind::Enum64:
        return b.is_enum() && a.size() == b.size();
      case btf::Kind::Struct:
      case btf::Kind::Union:
      case btf::Kind::Fwd:
        return composite(a) == composite(b);
      case btf::Kind::Ptr: {
        if (b.kind() != btf::Kind::Ptr) return false;
        // `void *` on one side accepts any pointer, as C does.
        if (local.resolve(a.type()).is_void() || target.resolve(b.type()).is_void()) return true;
        return types_compatible(local, a.type(), target, b.type(), depth + 1);
      }
      case btf::Kind::Array:
        return b.kind() == btf::Kind::Array &&
               types_compatible(local, a.array().element_type, target, b.array().element_type, depth + 1);
      case btf::Kind::FuncProto: {
        if (b.kind() != btf::Kind::FuncProto || a.vlen() != b.vlen()) return false;
        if (!types_compatible(local, a.type(), target, b.type(), depth + 1)) return false;
        const auto pa = a.params();
        const auto pb = b.params();
        for (std::size_t i = 0; i < pa.size(); ++i)
          if (!types_compatible(local, pa[i].type(), target, pb[i].type(), depth + 1)) return false;
        return true;
      }
      default:
        return a.kind() == b.kind();
    }
  }

  ObjectSpec& spec_;
  const KernelDescription& kernel_;
  MapSpec* kconfig_;
};

}  // namespace

void ObjectSpec::resolve_externs(const KernelDescription& kernel) {
  MapSpec* kconfig = nullptr;
  for (auto& map : maps_)
    if (map.origin() == MapOrigin::kconfig) kconfig = &map;
  if (kconfig) std::fill(kconfig->data_.begin(), kconfig->data_.end(), std::byte{0});
  ExternResolver resolver(*this, kernel, kconfig);
  for (auto& ext : externs_) resolver.resolve(ext);

  for (auto& program : programs_) {
    for (const auto& use : program.extern_uses_) {
      const auto& ext = externs_[use.extern_index];
      Insn* insn = &program.insns_[use.insn_index];
      if (insn->is_call()) {
        insn->set_src(Insn::kPseudoKfuncCall);
        // A missing weak kfunc keeps imm 0: the verifier accepts it only in code it proves dead.
        insn->imm = ext.resolved ? static_cast<std::int32_t>(ext.target_btf_id) : 0;
        insn->off = 0;
        continue;
      }
      if (ext.kind == ExternKind::ksym_untyped) {
        insn[0].set_src(0);
        insn[0].imm = static_cast<std::int32_t>(ext.address & 0xffffffffu);
        insn[1].imm = static_cast<std::int32_t>(ext.address >> 32);
      } else if (ext.resolved) {
        insn[0].set_src(Insn::kPseudoBtfId);
        insn[0].imm = static_cast<std::int32_t>(ext.target_btf_id);
        insn[1].imm = 0;  // the module BTF's fd, set by the loader for module symbols
      } else {
        // A missing weak typed ksym or kfunc address reads as NULL.
        insn[0].set_src(0);
        insn[0].imm = 0;
        insn[1].imm = 0;
      }
    }
  }
}

}  // namespace corebpf
