// The compatibility relations of the CO-RE reference: what a field's type may become on the
// target (fields_compatible), when a type counts as existing on the target (types_compatible), and
// the stricter type_matches relation.
#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "object/core/access_spec.hpp"
#include "util/error_format.hpp"

namespace corebpf::core::detail {
namespace {

using btf::Btf;
using btf::Kind;
using btf::Type;
using btf::TypeId;

// Recursion and chain limits: legal kernel types stay far below them; malformed or cyclic BTF
// hits them and becomes an error instead of a hang.
constexpr int kMaxDepth = 32;

[[noreturn]] void too_deep(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id) {
  util::fail(std::errc::invalid_argument, "comparing {} [{}] with {} [{}] of {}: types nest deeper than {} levels",
             type_display_name(local, local_id), local_id, type_display_name(target, target_id), target_id,
             target.source_name(), kMaxDepth);
}

bool is_composite(const Type& t) { return t.is_struct_or_union(); }

// Equal CO-RE essential names; an anonymous target matches only an anonymous local.
bool names_match(std::string_view local, std::string_view target) {
  if (target.empty()) return local.empty();
  return core_essential_name(local) == core_essential_name(target);
}

bool int_without_bit_offset(const Type& t) { return t.int_info().bit_offset == 0; }

bool types_compatible_at(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id, int level) {
  for (int depth = 0;; ++depth) {
    if (depth == kMaxDepth) too_deep(local, local_id, target, target_id);
    const Type lt = local.resolve(local_id);
    const Type tt = target.resolve(target_id);
    if (!same_core_kind(lt.kind(), tt.kind())) return false;
    switch (lt.kind()) {
      case Kind::Unknown:
      case Kind::Struct:
      case Kind::Union:
      case Kind::Enum:
      case Kind::Enum64:
      case Kind::Fwd:
        return true;
      case Kind::Int:
        // Integers of any size and signedness are interchangeable; the deprecated encoding of
        // bitfields as offset integers is not.
        return int_without_bit_offset(lt) && int_without_bit_offset(tt);
      case Kind::Ptr:
        local_id = lt.type();
        target_id = tt.type();
        continue;
      case Kind::Array:
        local_id = lt.array().element_type;
        target_id = tt.array().element_type;
        continue;
      case Kind::FuncProto: {
        const auto lp = lt.params();
        const auto tp = tt.params();
        if (lp.size() != tp.size()) return false;
        for (std::size_t i = 0; i < lp.size(); ++i) {
          if (level <= 0) too_deep(local, local_id, target, target_id);
          if (!types_compatible_at(local, lp[i].type(), target, tp[i].type(), level - 1)) return false;
        }
        local_id = lt.type();
        target_id = tt.type();
        continue;
      }
      default:
        return false;
    }
  }
}

bool enums_match(const Type& lt, const Type& tt) {
  if (lt.size() != tt.size()) return false;
  const auto le = lt.enumerators();
  const auto te = tt.enumerators();
  if (le.size() > te.size()) return false;
  for (const auto& l : le) {
    bool found = false;
    for (const auto& t : te) {
      if (names_match(l.name(), t.name())) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool types_match_at(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id, bool behind_ptr, int level);

bool composites_match(const Btf& local, const Type& lt, const Btf& target, const Type& tt, bool behind_ptr, int level) {
  const auto lm = lt.members();
  const auto tm = tt.members();
  if (lm.size() > tm.size()) return false;
  // Every local member needs a target member of the same essential name whose type matches;
  // kernel structs have hundreds of members, so the target's are looked up by name, in order.
  std::unordered_multimap<std::string_view, std::uint32_t> by_name;
  by_name.reserve(tm.size());
  for (std::uint32_t i = tm.size(); i-- > 0;) by_name.emplace(core_essential_name(tm[i].name()), i);
  std::vector<std::uint32_t> same_name;
  for (const auto& l : lm) {
    const auto local_name = core_essential_name(l.name());
    same_name.clear();
    auto [first, last] = by_name.equal_range(local_name);
    for (auto it = first; it != last; ++it) {
      // An anonymous target member matches only an anonymous local one.
      if (tm[it->second].name().empty() != l.name().empty()) continue;
      same_name.push_back(it->second);
    }
    std::sort(same_name.begin(), same_name.end());
    bool found = false;
    for (const std::uint32_t i : same_name) {
      if (types_match_at(local, l.type(), target, tm[i].type(), behind_ptr, level - 1)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool types_match_at(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id, bool behind_ptr,
                    int level) {
  if (level <= 0) too_deep(local, local_id, target, target_id);
  for (int depth = 0;; ++depth) {
    if (depth == kMaxDepth) too_deep(local, local_id, target, target_id);
    const Type lt = local.resolve(local_id);
    const Type tt = target.resolve(target_id);
    // Names are compared after typedefs are skipped; the root typedef's own name was compared by
    // the candidate search.
    if (!names_match(lt.name(), tt.name())) return false;
    const Kind lk = lt.kind();
    const Kind tk = tt.kind();
    switch (lk) {
      case Kind::Unknown:
        return tk == Kind::Unknown;
      case Kind::Fwd: {
        const bool local_union = lt.kind_flag();
        if (tk == Kind::Fwd) return local_union == tt.kind_flag();
        // Behind a pointer, a declaration stands for the struct or union it announces.
        if (!behind_ptr) return false;
        return (tk == Kind::Struct && !local_union) || (tk == Kind::Union && local_union);
      }
      case Kind::Enum:
      case Kind::Enum64:
        return tt.is_enum() && enums_match(lt, tt);
      case Kind::Struct:
      case Kind::Union:
        if (behind_ptr) {
          if (lk == tk) return true;
          return tk == Kind::Fwd && (lk == Kind::Union) == tt.kind_flag();
        }
        return lk == tk && composites_match(local, lt, target, tt, behind_ptr, level);
      case Kind::Int: {
        if (tk != Kind::Int) return false;
        const bool local_signed = (lt.int_info().encoding & btf::kIntSigned) != 0;
        const bool target_signed = (tt.int_info().encoding & btf::kIntSigned) != 0;
        return lt.size() == tt.size() && local_signed == target_signed;
      }
      case Kind::Ptr:
        if (tk != Kind::Ptr) return false;
        behind_ptr = true;
        local_id = lt.type();
        target_id = tt.type();
        continue;
      case Kind::Array: {
        if (tk != Kind::Array) return false;
        const auto la = lt.array();
        const auto ta = tt.array();
        if (la.count != ta.count) return false;
        local_id = la.element_type;
        target_id = ta.element_type;
        continue;
      }
      case Kind::FuncProto: {
        if (tk != Kind::FuncProto) return false;
        const auto lp = lt.params();
        const auto tp = tt.params();
        if (lp.size() != tp.size()) return false;
        for (std::size_t i = 0; i < lp.size(); ++i)
          if (!types_match_at(local, lp[i].type(), target, tp[i].type(), behind_ptr, level - 1)) return false;
        local_id = lt.type();
        target_id = tt.type();
        continue;
      }
      default:
        return false;
    }
  }
}

}  // namespace

bool fields_compatible(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id) {
  for (int depth = 0;; ++depth) {
    if (depth == kMaxDepth) too_deep(local, local_id, target, target_id);
    const Type lt = local.resolve(local_id);
    const Type tt = target.resolve(target_id);
    // Structs and unions are interchangeable: what matters is the next member's name.
    if (is_composite(lt) && is_composite(tt)) return true;
    if (!same_core_kind(lt.kind(), tt.kind())) return false;
    switch (lt.kind()) {
      case Kind::Ptr:
      case Kind::Float:
        return true;
      case Kind::Fwd:
      case Kind::Enum:
      case Kind::Enum64: {
        const auto ln = core_essential_name(lt.name());
        const auto tn = core_essential_name(tt.name());
        return ln.empty() || tn.empty() || ln == tn;
      }
      case Kind::Int:
        return int_without_bit_offset(lt) && int_without_bit_offset(tt);
      case Kind::Array:
        // Any dimension: element types decide.
        local_id = lt.array().element_type;
        target_id = tt.array().element_type;
        continue;
      default:
        return false;
    }
  }
}

bool types_compatible(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id) {
  return types_compatible_at(local, local_id, target, target_id, kMaxDepth);
}

bool types_match(const Btf& local, TypeId local_id, const Btf& target, TypeId target_id) {
  return types_match_at(local, local_id, target, target_id, false, kMaxDepth);
}

}  // namespace corebpf::core::detail
