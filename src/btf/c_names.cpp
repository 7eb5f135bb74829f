// Names for the C dumper: C's two namespaces (tags; typedefs, enumerators and functions), made
// collision-free in type id order, and C spellings of INT/FLOAT types for the BPF target.
#include "btf/c_names.hpp"

#include <algorithm>
#include <bit>

#include "btf/btf_state.hpp"

namespace corebpf::btf::detail {

namespace {

constexpr std::uint8_t kRenamed = 4;

// Words of a C base type name, as DWARF (and so pahole) writes them: "long unsigned int".
struct BaseWords {
  int longs = 0;
  bool is_char = false, is_short = false, is_int = false, is_int128 = false, is_bool = false;
  bool is_float = false, is_double = false;
  int signs = 0;
  bool valid = true;
};

BaseWords parse_base_words(std::string_view name) {
  BaseWords w;
  std::size_t pos = 0;
  bool any = false;
  while (pos < name.size()) {
    if (name[pos] == ' ') {
      ++pos;
      continue;
    }
    auto end = name.find(' ', pos);
    if (end == std::string_view::npos) end = name.size();
    const auto word = name.substr(pos, end - pos);
    pos = end;
    any = true;
    if (word == "long")
      ++w.longs;
    else if (word == "char")
      w.is_char = true;
    else if (word == "short")
      w.is_short = true;
    else if (word == "int")
      w.is_int = true;
    else if (word == "__int128")
      w.is_int128 = true;
    else if (word == "_Bool")
      w.is_bool = true;
    else if (word == "float")
      w.is_float = true;
    else if (word == "double")
      w.is_double = true;
    else if (word == "signed" || word == "unsigned")
      ++w.signs;
    else
      w.valid = false;
  }
  w.valid = w.valid && any && w.signs <= 1;
  return w;
}

// sizeof under `clang -target bpf` of an INT spelled `name`; 0 when `name` is no C integer type.
std::uint32_t bpf_int_size(std::string_view name) {
  const auto w = parse_base_words(name);
  if (!w.valid || w.is_float || w.is_double || w.longs > 2) return 0;
  const int kinds = w.is_char + w.is_short + w.is_int128 + w.is_bool;
  if (kinds > 1) return 0;
  if (w.is_bool) return w.longs == 0 && !w.is_int && w.signs == 0 ? 1 : 0;
  if (w.is_char) return w.longs == 0 && !w.is_int ? 1 : 0;
  if (w.is_int128) return w.longs == 0 && !w.is_int ? 16 : 0;
  if (w.is_short) return w.longs == 0 ? 2 : 0;
  if (w.longs > 0) return 8;
  return 4;  // int, signed, unsigned
}

// sizeof under `clang -target bpf` of a FLOAT spelled `name` (long double is a double there).
std::uint32_t bpf_float_size(std::string_view name) {
  const auto w = parse_base_words(name);
  if (!w.valid || w.signs != 0 || w.is_char || w.is_short || w.is_int || w.is_int128 || w.is_bool) return 0;
  if (w.is_float) return w.longs == 0 && !w.is_double ? 4 : 0;
  if (w.is_double) return w.longs <= 1 ? 8 : 0;
  return 0;
}

std::string_view int_spelling_by_size(std::uint32_t size, std::uint8_t encoding) {
  if ((encoding & kIntBool) != 0 && size == 1) return "_Bool";
  const bool is_signed = (encoding & kIntSigned) != 0;
  switch (size) {
    case 1:
      if ((encoding & kIntChar) != 0) return "char";
      return is_signed ? "signed char" : "unsigned char";
    case 2:
      return is_signed ? "short" : "unsigned short";
    case 4:
      return is_signed ? "int" : "unsigned int";
    case 8:
      return is_signed ? "long" : "unsigned long";
    case 16:
      return is_signed ? "__int128" : "unsigned __int128";
    default:
      return {};  // no C integer of this size: the dumper reports it if the type is used
  }
}

// Typedef names clang predefines; a header cannot redefine them.
bool is_reserved_typedef_name(std::string_view name) {
  return name.starts_with("__builtin_") || name == "__int128_t" || name == "__uint128_t" ||
         name == "__NSConstantString";
}

std::string identifier_from(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

}  // namespace

std::string_view c_int_spelling(std::uint32_t size, bool is_signed) {
  return int_spelling_by_size(size, is_signed ? kIntSigned : 0);
}

// ---- NameTable ----

void CNames::NameTable::reserve(std::size_t names) {
  std::size_t capacity = 64;
  while (capacity * 7 < names * 10) capacity <<= 1;
  if (capacity > slots_.size()) {
    std::vector<NameEntry> old = std::move(slots_);
    slots_.assign(capacity, NameEntry{});
    used_ = 0;
    for (const auto& e : old)
      if (e.data != nullptr) {
        std::size_t slot = e.hash & (slots_.size() - 1);
        while (slots_[slot].data != nullptr) slot = (slot + 1) & (slots_.size() - 1);
        slots_[slot] = e;
        ++used_;
      }
  }
}

void CNames::NameTable::grow() { reserve(slots_.empty() ? 32 : slots_.size() * 2 * 7 / 10); }

CNames::NameEntry& CNames::NameTable::insert(std::string_view name) {
  if (name.data() == nullptr) name = "";  // a null pointer marks an empty slot
  if ((used_ + 1) * 10 > slots_.size() * 7) grow();
  const std::uint32_t hash = name_hash(name);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    auto& e = slots_[slot];
    if (e.data == nullptr) {
      e.data = name.data();
      e.size = static_cast<std::uint32_t>(name.size());
      e.hash = hash;
      ++used_;
      return e;
    }
    if (e.hash == hash && std::string_view(e.data, e.size) == name) return e;
  }
}

const CNames::NameEntry* CNames::NameTable::find(std::string_view name) const {
  if (slots_.empty()) return nullptr;
  const std::uint32_t hash = name_hash(name);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const auto& e = slots_[slot];
    if (e.data == nullptr) return nullptr;
    if (e.hash == hash && std::string_view(e.data, e.size) == name) return &e;
  }
}

// ---- CNames ----

// The suffix the next holder of `entry`'s name gets; the first two holders of a shared name are
// both marked shared.
std::uint32_t CNames::take(NameEntry& entry, TypeId holder) {
  ++entry.count;
  if (entry.count == 1) {
    entry.first_holder = holder;
    return 0;
  }
  if (entry.first_holder != 0) flags_[entry.first_holder] |= kNameShared;
  if (holder != 0) flags_[holder] |= kNameShared;
  return entry.count;
}

std::uint32_t CNames::take_ordinary(std::string_view name, TypeId holder) {
  return take(ordinary_.insert(name), holder);
}

CNames::CNames(const Btf& btf) : btf_(btf), type_(btf) {
  const std::uint32_t count = btf.type_count();
  suffix_.assign(count, 0);
  flags_.assign(count, 0);
  tags_.reserve(1024);

  // Pass 1: full definitions take their tag names; INT/FLOAT spellings; kfuncs.
  std::vector<TypeId> synthetic_typedefs;
  std::size_t ordinary_names = 0;
  for (TypeId id = 1; id < count; ++id) {
    const Type t = type_(id);
    switch (t.kind()) {
      case Kind::Struct:
      case Kind::Union:
      case Kind::Enum:
      case Kind::Enum64: {
        ordinary_names += t.is_enum() ? t.vlen() : 0;
        if (t.name_offset() == 0 || (t.is_enum() && t.vlen() == 0)) break;
        auto& entry = tags_.insert(t.name());
        suffix_[id] = take(entry, id);
        TypeId& first = t.kind() == Kind::Struct  ? entry.first_struct
                        : t.kind() == Kind::Union ? entry.first_union
                                                  : entry.first_enum;
        if (first == 0) first = id;
        break;
      }
      case Kind::Typedef:
        ++ordinary_names;
        break;
      case Kind::Int: {
        CBaseSpelling s;
        const auto info = t.int_info();
        const auto natural = bpf_int_size(t.name());
        s.text = natural == t.size() ? t.name() : int_spelling_by_size(t.size(), info.encoding);
        base_spellings_.emplace_back(id, s);
        suffix_[id] = static_cast<std::uint32_t>(base_spellings_.size());
        break;
      }
      case Kind::Float: {
        CBaseSpelling s;
        if (bpf_float_size(t.name()) == t.size()) {
          s.text = t.name();
        } else if (t.size() == 4) {
          s.text = "float";
        } else if (t.size() == 8) {
          s.text = "double";
        } else {
          // No BPF type has this size and alignment: a typedef of the right size stands in.
          s.needs_typedef = true;
          s.text = storage_.emplace_back("btf_" + identifier_from(t.name()));
          switch (t.size()) {
            case 2:
              s.typedef_target = "unsigned short";
              break;
            case 16:
              s.typedef_target = "unsigned __int128";
              break;
            case 12:
              s.typedef_target = "unsigned int";
              s.typedef_suffix = "[3]";
              break;
            default:
              s.typedef_target = "unsigned char";
              s.typedef_suffix = storage_.emplace_back("[" + std::to_string(t.size()) + "]");
              break;
          }
          synthetic_typedefs.push_back(id);
        }
        base_spellings_.emplace_back(id, s);
        suffix_[id] = static_cast<std::uint32_t>(base_spellings_.size());
        break;
      }
      case Kind::DeclTag:
        if (t.component_index() == -1 && t.name() == "bpf_kfunc" && type_(t.type()).kind() == Kind::Func)
          kfuncs_.push_back(t.type());
        break;
      default:
        break;
    }
  }
  ordinary_.reserve(ordinary_names + kfuncs_.size() + synthetic_typedefs.size());

  // Kfuncs keep their names (the loader resolves them by name); one prototype per name.
  std::sort(kfuncs_.begin(), kfuncs_.end());
  kfuncs_.erase(std::unique(kfuncs_.begin(), kfuncs_.end()), kfuncs_.end());
  std::erase_if(kfuncs_, [&](TypeId id) { return take_ordinary(type_(id).name(), 0) != 0; });
  for (TypeId id : synthetic_typedefs) {
    auto& s =
        std::find_if(base_spellings_.begin(), base_spellings_.end(), [&](auto& p) { return p.first == id; })->second;
    if (const auto n = take_ordinary(s.text, 0); n != 0)
      s.text = storage_.emplace_back(std::string(s.text) + "___" + std::to_string(n));
  }

  // Pass 2: forward declarations join their definition or take a tag name; typedefs and
  // enumerators take ordinary names.
  for (TypeId id = 1; id < count; ++id) {
    const Type t = type_(id);
    const Kind kind = t.kind();
    if (kind == Kind::Fwd || (t.is_enum() && t.vlen() == 0 && t.name_offset() != 0)) {
      auto& entry = tags_.insert(t.name());
      TypeId& first = kind == Kind::Fwd ? (t.kind_flag() ? entry.first_union : entry.first_struct) : entry.first_enum;
      if (first != 0) {
        fwd_to_def_.emplace_back(id, first);
        suffix_[id] = suffix_[first];
        continue;
      }
      first = id;
      suffix_[id] = take(entry, id);
    } else if (kind == Kind::Typedef) {
      std::string_view name = t.name();
      if (is_reserved_typedef_name(name)) {
        std::size_t skip = 0;
        while (skip < name.size() && name[skip] == '_') ++skip;
        name = storage_.emplace_back("btf_" + std::string(name.substr(skip)));
        renamed_.emplace_back(id, name);
        flags_[id] |= kRenamed;
      }
      suffix_[id] = take_ordinary(name, id);
    } else if (t.is_enum()) {
      const auto enumerators = t.enumerators();
      for (std::uint32_t i = 0; i < enumerators.size(); ++i) {
        if (const auto n = take_ordinary(enumerators[i].name(), 0); n != 0) {
          enumerator_suffixes_.push_back({id, i, n});
          flags_[id] |= kEnumeratorsRenamed;
        }
      }
    }
  }
}

TypeId CNames::definition_of(TypeId id) const {
  if (fwd_to_def_.empty()) return id;
  auto it = std::lower_bound(fwd_to_def_.begin(), fwd_to_def_.end(), std::pair<TypeId, TypeId>(id, 0));
  return it != fwd_to_def_.end() && it->first == id ? it->second : id;
}

std::string_view CNames::name(TypeId id) const {
  if ((flags_[id] & kRenamed) != 0) {
    auto it =
        std::lower_bound(renamed_.begin(), renamed_.end(), id, [](const auto& p, TypeId v) { return p.first < v; });
    return it->second;
  }
  return type_(id).name();
}

std::uint32_t CNames::enumerator_suffix(TypeId enum_id, std::uint32_t index) const {
  auto it = std::lower_bound(enumerator_suffixes_.begin(), enumerator_suffixes_.end(), std::pair(enum_id, index),
                             [](const EnumeratorSuffix& e, std::pair<TypeId, std::uint32_t> key) {
                               return std::pair(e.enum_id, e.index) < key;
                             });
  return it != enumerator_suffixes_.end() && it->enum_id == enum_id && it->index == index ? it->suffix : 0;
}

bool CNames::is_ordinary_identifier(std::string_view ident) const { return ordinary_.find(ident) != nullptr; }

const CBaseSpelling& CNames::base_spelling(TypeId id) const { return base_spellings_[suffix_[id] - 1].second; }

}  // namespace corebpf::btf::detail
