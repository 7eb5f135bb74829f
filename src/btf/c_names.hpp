// Internal: the names the C dumper gives to types and enumerators. The layout check generator
// uses the same object, so both spell every struct, typedef and enumerator identically.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "btf/btf_state.hpp"
#include "corebpf/btf.hpp"

namespace corebpf::btf::detail {

// Views of types by id for ids the parser has checked (every reference inside a BTF is), without
// Btf::type's range check: the dumper looks types up millions of times.
class TypeAt {
 public:
  explicit TypeAt(const Btf& btf) : data_(&btf.data()) {}
  Type operator()(TypeId id) const {
    if (id == 0) return Type(data_, 0, nullptr);
    const BtfData* d = data_;
    while (id < d->first_id) d = d->base.get();
    return Type(d, id, d->raw_type(id));
  }

 private:
  const BtfData* data_;
};

// How an INT or FLOAT is written for `clang -target bpf`.
struct CBaseSpelling {
  // The C type to write where the type is used: the BTF name when clang gives it the BTF size,
  // else a standard spelling of that size, or a typedef made for the purpose.
  std::string_view text;
  // For a FLOAT the BPF target has no type for (x86's 16-byte `long double`): `text` names a
  // typedef that the header defines as `typedef <typedef_target> text<typedef_suffix>;`.
  std::string_view typedef_target;
  std::string_view typedef_suffix;
  bool needs_typedef = false;
};

// An enumerator's value as the header writes it: the BTF's, read as signed when the enum says
// so, or when an unsigned reading does not fit the enum's 1 or 2 bytes (encoders without the
// signedness flag kept only the 32-bit pattern of a negative value).
struct CEnumValue {
  bool is_signed;
  std::int64_t signed_value;
  std::uint64_t unsigned_value;
};
inline CEnumValue c_enum_value(const Type& enum_type, const Enumerator& e) {
  if (e.is_signed()) return {true, e.signed_value(), e.unsigned_value()};
  const std::uint64_t u = e.unsigned_value();
  const std::uint32_t size = enum_type.size();
  if (enum_type.kind() == Kind::Enum && size < 4 && u > (std::uint64_t{1} << (8 * size)) - 1) {
    const auto s = static_cast<std::int64_t>(static_cast<std::int32_t>(static_cast<std::uint32_t>(u)));
    return {true, s, static_cast<std::uint64_t>(s)};
  }
  return {false, static_cast<std::int64_t>(u), u};
}

// A standard C integer type of `size` bytes, or empty when C has none.
std::string_view c_int_spelling(std::uint32_t size, bool is_signed);

class CNames {
 public:
  explicit CNames(const Btf& btf);
  CNames(const CNames&) = delete;
  CNames& operator=(const CNames&) = delete;

  const Btf& btf() const { return btf_; }

  // A FWD, or an ENUM without enumerators, stands for the full type of the same name and kind
  // when the BTF has one; otherwise (and for every other type) this returns `id`.
  TypeId definition_of(TypeId id) const;

  // The name to write (tag or typedef name), without the disambiguating suffix. Reserved
  // typedef names such as `__builtin_va_list` get a replacement.
  std::string_view name(TypeId id) const;
  // 0 for the plain name, N >= 2 for `name___N` (an earlier type of the same C namespace took it).
  // Tags and typedefs only.
  std::uint32_t suffix(TypeId id) const { return suffix_[id]; }
  std::uint32_t enumerator_suffix(TypeId enum_id, std::uint32_t index) const;

  // No other type of the same C namespace has this BTF name, so C can name it unambiguously.
  bool name_is_unique(TypeId id) const { return (flags_[id] & kNameShared) == 0; }

  // The identifier is a typedef, enumerator or kfunc name somewhere in the header.
  bool is_ordinary_identifier(std::string_view ident) const;

  // INT and FLOAT types only.
  const CBaseSpelling& base_spelling(TypeId id) const;

  // FUNCs tagged "bpf_kfunc", in id order, one per name.
  const std::vector<TypeId>& kfuncs() const { return kfuncs_; }

  // The identifier a C declaration of `id` uses: name plus "___N" suffix.
  template <typename Buffer>
  void append_name(Buffer& out, TypeId id) const;
  template <typename Buffer>
  void append_enumerator(Buffer& out, TypeId enum_id, std::uint32_t index, std::string_view name) const;

  // Open addressing over names; slots point into the BTF strings or `storage_`.
  struct NameEntry {
    const char* data = nullptr;
    std::uint32_t size = 0;
    std::uint32_t hash = 0;
    std::uint32_t count = 0;
    TypeId first_struct = 0, first_union = 0, first_enum = 0;
    TypeId first_holder = 0;  // the type that took the name first, if a type did
  };
  class NameTable {
   public:
    void reserve(std::size_t names);
    NameEntry& insert(std::string_view name);
    const NameEntry* find(std::string_view name) const;

   private:
    void grow();
    std::vector<NameEntry> slots_;
    std::size_t used_ = 0;
  };

 private:
  static constexpr std::uint8_t kNameShared = 1;
  static constexpr std::uint8_t kEnumeratorsRenamed = 2;

  std::uint32_t take_ordinary(std::string_view name, TypeId holder);
  std::uint32_t take(NameEntry& entry, TypeId holder);

  const Btf& btf_;
  TypeAt type_;
  // Tags and typedefs: the suffix. INT and FLOAT, which have none, keep 1 + their index in
  // base_spellings_ there instead.
  std::vector<std::uint32_t> suffix_;
  std::vector<std::uint8_t> flags_;
  std::vector<std::pair<TypeId, TypeId>> fwd_to_def_;  // sorted by FWD id
  struct EnumeratorSuffix {
    TypeId enum_id;
    std::uint32_t index;
    std::uint32_t suffix;
  };
  std::vector<EnumeratorSuffix> enumerator_suffixes_;             // sorted by (enum_id, index)
  std::vector<std::pair<TypeId, std::string_view>> renamed_;      // sorted by id
  std::vector<std::pair<TypeId, CBaseSpelling>> base_spellings_;  // sorted by id
  std::vector<TypeId> kfuncs_;
  NameTable tags_;
  NameTable ordinary_;
  std::deque<std::string> storage_;  // names made up here; a deque keeps them in place
};

template <typename Buffer>
void CNames::append_name(Buffer& out, TypeId id) const {
  const auto text = name(id);
  out.append(text.data(), text.data() + text.size());
  if (const auto n = suffix_[id]; n != 0) {
    constexpr std::string_view separator = "___";
    out.append(separator.data(), separator.data() + separator.size());
    const auto digits = std::to_string(n);
    out.append(digits.data(), digits.data() + digits.size());
  }
}

template <typename Buffer>
void CNames::append_enumerator(Buffer& out, TypeId enum_id, std::uint32_t index, std::string_view text) const {
  out.append(text.data(), text.data() + text.size());
  if ((flags_[enum_id] & kEnumeratorsRenamed) == 0) return;
  if (const auto n = enumerator_suffix(enum_id, index); n != 0) {
    constexpr std::string_view separator = "___";
    out.append(separator.data(), separator.data() + separator.size());
    const auto digits = std::to_string(n);
    out.append(digits.data(), digits.data() + digits.size());
  }
}

}  // namespace corebpf::btf::detail
