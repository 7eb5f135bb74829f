// Type-level differences between two BTFs (see corebpf/btf_diff.hpp).
#include "corebpf/btf_diff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace corebpf::btf {
namespace {

constexpr int kMaxDepth = 32;

std::string_view kind_word(Kind kind) {
  switch (kind) {
    case Kind::Struct:
      return "struct";
    case Kind::Union:
      return "union";
    case Kind::Enum:
    case Kind::Enum64:
      return "enum";
    case Kind::Func:
      return "func";
    case Kind::Typedef:
      return "typedef";
    default:
      return "type";
  }
}

std::string text_of(const Btf& btf, TypeId id, int depth) {
  if (depth > kMaxDepth) return "...";
  const auto type = btf.try_type(id);
  if (!type || type->is_void()) return "void";
  const std::string_view name = type->name();
  switch (type->kind()) {
    case Kind::Int:
    case Kind::Float:
    case Kind::Typedef:
      return std::string(name);
    case Kind::Struct:
    case Kind::Union:
    case Kind::Enum:
    case Kind::Enum64:
      return fmt::format("{} {}", kind_word(type->kind()), name.empty() ? "(anon)" : name);
    case Kind::Fwd:
      return fmt::format("{} {}", type->is_union_fwd() ? "union" : "struct", name);
    case Kind::Ptr: {
      // A function pointer reads as its prototype, "void (*)(struct inode *)".
      if (const auto target = btf.try_type(type->type()); target && target->kind() == Kind::FuncProto)
        return text_of(btf, type->type(), depth + 1);
      return text_of(btf, type->type(), depth + 1) + " *";
    }
    case Kind::Const:
      return "const " + text_of(btf, type->type(), depth + 1);
    case Kind::Volatile:
      return "volatile " + text_of(btf, type->type(), depth + 1);
    case Kind::Restrict:
    case Kind::TypeTag:
      return text_of(btf, type->type(), depth + 1);
    case Kind::Array: {
      const auto a = type->array();
      return fmt::format("{}[{}]", text_of(btf, a.element_type, depth + 1), a.count);
    }
    case Kind::FuncProto: {
      std::string out = text_of(btf, type->type(), depth + 1) + " (*)(";
      bool first = true;
      for (const auto p : type->params()) {
        if (!first) out += ", ";
        first = false;
        out += p.type() == 0 ? std::string("...") : text_of(btf, p.type(), depth + 1);
      }
      return out + ")";
    }
    default:
      return std::string(name);
  }
}

std::uint64_t bits_of(const Btf& btf, TypeId id) {
  try {
    return btf.size_of(id) * 8;
  } catch (...) {
    return 0;
  }
}

struct MemberFacts {
  std::uint64_t bit_offset = 0;
  std::uint64_t bits = 0;
  std::string type;
};

// Named members, with those of anonymous struct/union members flattened in at absolute offsets.
void collect_members(const Btf& btf, const Type& type, std::uint64_t base, std::map<std::string, MemberFacts>& out,
                     int depth) {
  if (depth > kMaxDepth) return;
  for (const auto m : type.members()) {
    const std::uint64_t offset = base + m.bit_offset();
    if (m.name().empty()) {
      const auto inner = btf.resolve(m.type());
      if (inner.is_struct_or_union()) collect_members(btf, inner, offset, out, depth + 1);
      continue;
    }
    MemberFacts facts;
    facts.bit_offset = offset;
    facts.bits = m.bitfield_size() != 0 ? m.bitfield_size() : bits_of(btf, m.type());
    facts.type = text_of(btf, m.type(), 0);
    out.emplace(std::string(m.name()), std::move(facts));
  }
}

std::string place(const MemberFacts& m) {
  if (m.bit_offset % 8 == 0 && m.bits % 8 == 0)
    return fmt::format("{} at byte {}, {} bytes", m.type, m.bit_offset / 8, m.bits / 8);
  return fmt::format("{} at bit {}, {} bits", m.type, m.bit_offset, m.bits);
}

std::string signature(const Btf& btf, const Type& func) {
  const auto proto = btf.try_type(func.type());
  if (!proto || proto->kind() != Kind::FuncProto) return "?";
  std::string out = text_of(btf, proto->type(), 0) + " " + std::string(func.name()) + "(";
  bool first = true;
  for (const auto p : proto->params()) {
    if (!first) out += ", ";
    first = false;
    out += p.type() == 0 ? std::string("...") : text_of(btf, p.type(), 0);
  }
  return out + ")";
}

// Named types of interest by (group, name): the first of each, as C would see one definition.
using Key = std::pair<std::string, std::string>;  // ("type" | "func", name)

std::map<Key, TypeId> index(const Btf& btf, const DiffOptions& options) {
  std::map<Key, TypeId> out;
  std::set<std::string, std::less<>> roots;
  for (const auto& r : options.roots) roots.insert(std::string(essential_name(r)));
  for (TypeId id = btf.first_id(); id < btf.type_count(); ++id) {
    const auto type = btf.type(id);
    const Kind kind = type.kind();
    const bool is_type = type.is_struct_or_union() || type.is_enum() || kind == Kind::Typedef;
    const bool is_func = kind == Kind::Func;
    if (!is_type && !is_func) continue;
    if (type.name().empty()) continue;
    if (!roots.empty() && !roots.contains(type.name())) continue;
    if (roots.empty() && (kind == Kind::Typedef || (is_func && !options.functions))) continue;
    // A forward declaration never hides a definition.
    Key key{is_func ? "func" : "type", std::string(type.name())};
    out.emplace(std::move(key), id);
  }
  return out;
}

class Differ {
 public:
  Differ(const Btf& a, const Btf& b) : a_(a), b_(b) {}
  std::vector<TypeChange> changes;

  void type(const Key& key, TypeId ida, TypeId idb) {
    const auto ta = a_.type(ida);
    const auto tb = b_.type(idb);
    const std::string label = fmt::format("{} {}", kind_word(ta.kind()), key.second);
    const bool same_group = (ta.is_enum() && tb.is_enum()) || ta.kind() == tb.kind();
    if (!same_group) {
      add(label, ChangeKind::kind_changed, "", std::string(kind_word(ta.kind())), std::string(kind_word(tb.kind())));
      return;
    }
    if (ta.kind() == Kind::Func) {
      const auto sa = signature(a_, ta);
      const auto sb = signature(b_, tb);
      if (sa != sb) add(label, ChangeKind::signature_changed, "", sa, sb);
      return;
    }
    if (ta.kind() == Kind::Typedef) {
      const auto sa = text_of(a_, ta.type(), 0);
      const auto sb = text_of(b_, tb.type(), 0);
      if (sa != sb) add(label, ChangeKind::kind_changed, "", sa, sb);
      return;
    }
    if (ta.size() != tb.size())
      add(label, ChangeKind::size_changed, "", fmt::format("{} bytes", ta.size()), fmt::format("{} bytes", tb.size()));
    if (ta.is_enum()) {
      std::map<std::string, std::uint64_t> va, vb;
      for (const auto e : ta.enumerators()) va.emplace(std::string(e.name()), e.unsigned_value());
      for (const auto e : tb.enumerators()) vb.emplace(std::string(e.name()), e.unsigned_value());
      for (const auto& [name, value] : va) {
        const auto it = vb.find(name);
        if (it == vb.end()) {
          add(label, ChangeKind::value_removed, name, std::to_string(value), "");
        } else if (it->second != value) {
          add(label, ChangeKind::value_changed, name, std::to_string(value), std::to_string(it->second));
        }
      }
      for (const auto& [name, value] : vb)
        if (!va.contains(name)) add(label, ChangeKind::value_added, name, "", std::to_string(value));
      return;
    }
    std::map<std::string, MemberFacts> ma, mb;
    collect_members(a_, ta, 0, ma, 0);
    collect_members(b_, tb, 0, mb, 0);
    for (const auto& [name, m] : ma) {
      const auto it = mb.find(name);
      if (it == mb.end()) {
        add(label, ChangeKind::member_removed, name, place(m), "");
        continue;
      }
      const MemberFacts& n = it->second;
      if (m.type != n.type) {
        add(label, ChangeKind::member_retyped, name, place(m), place(n));
      } else if (m.bits != n.bits) {
        add(label, ChangeKind::member_resized, name, place(m), place(n));
      } else if (m.bit_offset != n.bit_offset) {
        add(label, ChangeKind::member_moved, name, place(m), place(n));
      }
    }
    for (const auto& [name, m] : mb)
      if (!ma.contains(name)) add(label, ChangeKind::member_added, name, "", place(m));
  }

  void add(const std::string& type, ChangeKind kind, std::string item, std::string from, std::string to) {
    changes.push_back({type, kind, std::move(item), std::move(from), std::move(to)});
  }

 private:
  const Btf& a_;
  const Btf& b_;
};

}  // namespace

std::string_view change_kind_name(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::type_added:
      return "added";
    case ChangeKind::type_removed:
      return "removed";
    case ChangeKind::kind_changed:
      return "kind changed";
    case ChangeKind::size_changed:
      return "size changed";
    case ChangeKind::member_added:
      return "member added";
    case ChangeKind::member_removed:
      return "member removed";
    case ChangeKind::member_moved:
      return "member moved";
    case ChangeKind::member_resized:
      return "member resized";
    case ChangeKind::member_retyped:
      return "member retyped";
    case ChangeKind::value_added:
      return "value added";
    case ChangeKind::value_removed:
      return "value removed";
    case ChangeKind::value_changed:
      return "value changed";
    case ChangeKind::signature_changed:
      return "signature changed";
  }
  return "changed";
}

std::string type_text(const Btf& btf, TypeId id) { return text_of(btf, id, 0); }

std::vector<TypeChange> diff(const Btf& a, const Btf& b, const DiffOptions& options) {
  const auto ia = index(a, options);
  const auto ib = index(b, options);
  Differ differ(a, b);
  for (const auto& [key, ida] : ia) {
    const auto it = ib.find(key);
    if (it == ib.end()) {
      const auto t = a.type(ida);
      differ.add(fmt::format("{} {}", kind_word(t.kind()), key.second), ChangeKind::type_removed, "", "", "");
      continue;
    }
    differ.type(key, ida, it->second);
  }
  for (const auto& [key, idb] : ib) {
    if (ia.contains(key)) continue;
    const auto t = b.type(idb);
    differ.add(fmt::format("{} {}", kind_word(t.kind()), key.second), ChangeKind::type_added, "", "", "");
  }
  auto changes = std::move(differ.changes);
  std::stable_sort(changes.begin(), changes.end(), [](const TypeChange& x, const TypeChange& y) {
    return std::tie(x.type, x.item) < std::tie(y.type, y.item);
  });
  return changes;
}

}  // namespace corebpf::btf
