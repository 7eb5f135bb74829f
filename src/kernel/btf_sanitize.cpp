#include "kernel/btf_sanitize.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"
#include "corebpf/features.hpp"

namespace corebpf::kernel::detail {
namespace {

using btf::Kind;
using btf::TypeId;

// A struct name must be a C identifier; section names are not (".data.custom" -> "_data_custom").
std::string identifier_from(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

struct Placement {
  TypeId var = 0;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

class Sanitizer {
 public:
  Sanitizer(const btf::Btf& local, std::span<const MapSpec> maps, const BtfSupport& support,
            std::span<const std::string> hidden_functions)
      : local_(local),
        maps_(maps),
        support_(support),
        hidden_functions_(hidden_functions),
        int_id_(local.type_count()) {
    for (TypeId id = 1; id < local.type_count(); ++id) {
      const auto type = local.type(id);
      if (type.kind() == Kind::Func) function_protos_.push_back(type.type());
    }
    std::sort(function_protos_.begin(), function_protos_.end());
  }

  std::vector<std::byte> run() {
    for (TypeId id = 1; id < local_.type_count(); ++id) copy(local_.type(id));
    if (int_used_) writer_.add_int("int", 4, btf::kIntSigned);
    return writer_.serialize();
  }

 private:
  static TypeId same(TypeId id) { return id; }

  // Types a VAR cannot have in the kernel's eyes (no size): they become the appended int.
  TypeId sized_or_int(TypeId type) {
    const auto resolved = local_.resolve(type);
    const Kind kind = resolved.kind();
    if (resolved.is_void() || kind == Kind::FuncProto || kind == Kind::Func || kind == Kind::Fwd) {
      int_used_ = true;
      return int_id_;
    }
    return type;
  }

  std::uint32_t type_size(TypeId type) {
    try {
      return static_cast<std::uint32_t>(local_.size_of(type));
    } catch (const Error&) {
      return 4;  // the int it becomes
    }
  }

  // The variables of a DATASEC where they really are.
  std::pair<std::uint32_t, std::vector<Placement>> layout(const btf::Type& datasec) {
    std::vector<Placement> placed;
    for (const MapSpec& map : maps_) {
      if (map.btf_var_or_datasec_id() != datasec.id() || !map.is_internal()) continue;
      for (auto entry : datasec.datasec_vars()) {
        if (local_.type(entry.type()).kind() != Kind::Var) continue;
        for (const DatasecVariable& variable : map.variables()) {
          if (variable.var_type_id == entry.type()) placed.push_back({entry.type(), variable.offset, variable.size});
        }
      }
      std::sort(placed.begin(), placed.end(),
                [](const Placement& a, const Placement& b) { return a.offset < b.offset; });
      return {map.value_size(), std::move(placed)};
    }
    // No map describes it: one variable after another, 8-byte aligned.
    std::uint32_t offset = 0;
    for (auto entry : datasec.datasec_vars()) {
      const auto var = local_.type(entry.type());
      if (var.kind() != Kind::Var) continue;  // .ksyms functions: no storage
      const std::uint32_t size = type_size(sized_or_int(var.type()));
      placed.push_back({entry.type(), offset, size});
      offset += (size + 7) & ~7u;
    }
    return {offset, std::move(placed)};
  }

  void copy(const btf::Type& type) {
    switch (type.kind()) {
      case Kind::Var: {
        if (!support_.datasec) {
          writer_.add_int(type.name(), 1);
          return;
        }
        const auto linkage = type.linkage() == btf::Linkage::extern_ ? btf::Linkage::global : type.linkage();
        writer_.add_var(type.name(), sized_or_int(type.type()), linkage);
        return;
      }
      case Kind::Datasec: {
        auto [size, placed] = layout(type);
        if (!support_.datasec || placed.empty()) {
          // A DATASEC with no variable left (.ksyms of functions only) is no valid DATASEC either.
          writer_.add_struct(placed.empty() ? std::string() : identifier_from(type.name()), size);
          for (const Placement& p : placed) {
            const auto var = local_.type(p.var);
            writer_.add_member(var.name(), sized_or_int(var.type()), p.offset * 8);
          }
          return;
        }
        writer_.add_datasec(type.name(), size);
        for (const Placement& p : placed) writer_.add_datasec_var(p.var, p.offset, p.size);
        return;
      }
      case Kind::Func: {
        if (!support_.func) {
          writer_.add_typedef(type.name(), type.type());
          return;
        }
        auto linkage = type.linkage();
        if (linkage == btf::Linkage::extern_ || (linkage == btf::Linkage::global && !support_.func_global))
          linkage = btf::Linkage::static_;
        if (linkage == btf::Linkage::global &&
            std::find(hidden_functions_.begin(), hidden_functions_.end(), type.name()) != hidden_functions_.end())
          linkage = btf::Linkage::static_;
        writer_.add_func(type.name(), type.type(), linkage);
        return;
      }
      case Kind::FuncProto:
        if (support_.func && std::binary_search(function_protos_.begin(), function_protos_.end(), type.id())) {
          // The kernel wants named parameters on a function's prototype; extern declarations
          // (kfuncs) may leave them unnamed.
          writer_.add_func_proto(type.type());
          int index = 0;
          for (auto param : type.params()) {
            const bool needs_name = param.name().empty() && param.type() != 0;
            writer_.add_param(needs_name ? "arg" + std::to_string(index) : std::string(param.name()), param.type());
            ++index;
          }
          return;
        }
        if (!support_.func) {
          writer_.add_enum("", 4);
          int index = 0;
          for (auto param : type.params()) {
            const std::string name = param.name().empty() ? "param" + std::to_string(index) : std::string(param.name());
            writer_.add_enumerator(name, index++);
          }
          return;
        }
        break;
      case Kind::Float:
        if (!support_.float_) {
          writer_.add_struct(identifier_from(type.name()), type.size());  // "long double"
          return;
        }
        break;
      case Kind::DeclTag:
        if (!support_.decl_tag) {
          writer_.add_int("", 1);  // tag values need not be identifiers
          return;
        }
        break;
      case Kind::TypeTag:
        if (!support_.type_tag) {
          writer_.add_const(type.type());
          return;
        }
        break;
      case Kind::Enum64:
        if (!support_.enum64) {
          writer_.add_union(type.name(), type.size());
          return;
        }
        break;
      default:
        break;
    }
    writer_.add_type_copy(type, &Sanitizer::same);
  }

  const btf::Btf& local_;
  std::span<const MapSpec> maps_;
  BtfSupport support_;
  std::span<const std::string> hidden_functions_;
  btf::BtfWriter writer_;
  const TypeId int_id_;
  bool int_used_ = false;
  std::vector<TypeId> function_protos_;  // sorted
};

}  // namespace

BtfSupport BtfSupport::running_kernel() {
  BtfSupport support;
  support.func = has_btf_feature(BtfFeature::func);
  support.func_global = has_btf_feature(BtfFeature::func_global);
  support.datasec = has_btf_feature(BtfFeature::datasec);
  support.float_ = has_btf_feature(BtfFeature::float_);
  support.decl_tag = has_btf_feature(BtfFeature::decl_tag);
  support.type_tag = has_btf_feature(BtfFeature::type_tag);
  support.enum64 = has_btf_feature(BtfFeature::enum64);
  return support;
}

std::vector<std::byte> sanitize_btf(const btf::Btf& local, std::span<const MapSpec> maps, const BtfSupport& support,
                                    std::span<const std::string> hidden_functions) {
  return Sanitizer(local, maps, support, hidden_functions).run();
}

}  // namespace corebpf::kernel::detail
