// [pure] BTF reader: zero-copy, lazily indexed views over a BTF blob (raw file, ELF .BTF section,
// compressed kernel image, or bytes in memory), including split BTF on top of a base.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corebpf::btf {

using TypeId = std::uint32_t;

// Values are the BTF_KIND_* numbers of the format.
enum class Kind : std::uint8_t {
  Unknown = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
};
inline constexpr int kMaxKind = 19;

// "INT", "STRUCT", "FUNC_PROTO"... as bpftool prints them.
std::string_view kind_name(Kind kind) noexcept;

enum class Endian : std::uint8_t { little, big };
Endian native_endian() noexcept;

// BTF_INT_* encoding bits.
inline constexpr std::uint8_t kIntSigned = 1;
inline constexpr std::uint8_t kIntChar = 2;
inline constexpr std::uint8_t kIntBool = 4;

// The name index is built in two parts, each on its first use, so type lookups (CO-RE, vmlinux.h
// roots) never pay for indexing vmlinux's ~56k function names: `symbols` holds FUNC, VAR,
// DATASEC and DECL_TAG names, `types` every other kind.
enum class NameScope : std::uint8_t { types, symbols, all };
NameScope name_scope(Kind kind) noexcept;

// A name to look up (exact or essential: both share its essential name) and where.
struct NameQuery {
  std::string_view name;
  NameScope scope = NameScope::all;
};

enum class Linkage : std::uint32_t { static_ = 0, global = 1, extern_ = 2 };

namespace detail {
struct BtfData;
// The on-disk records, always in host byte order by the time a view sees them.
struct RawType {
  std::uint32_t name_off;
  std::uint32_t info;
  std::uint32_t size_or_type;
};
struct RawMember {
  std::uint32_t name_off;
  std::uint32_t type;
  std::uint32_t offset;
};
struct RawEnum {
  std::uint32_t name_off;
  std::int32_t val;
};
struct RawEnum64 {
  std::uint32_t name_off;
  std::uint32_t val_lo32;
  std::uint32_t val_hi32;
};
struct RawParam {
  std::uint32_t name_off;
  std::uint32_t type;
};
struct RawVarSecinfo {
  std::uint32_t type;
  std::uint32_t offset;
  std::uint32_t size;
};
struct RawArray {
  std::uint32_t type;
  std::uint32_t index_type;
  std::uint32_t nelems;
};
std::string_view string_at(const BtfData& data, std::uint32_t offset) noexcept;
}  // namespace detail

// A contiguous run of fixed-size records following a type, exposed as views of `Item`.
template <typename Item, typename Raw>
class RecordRange {
 public:
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Item;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Item;
    iterator() = default;
    iterator(const detail::BtfData* data, const Raw* raw, bool kflag) : data_(data), raw_(raw), kflag_(kflag) {}
    Item operator*() const { return Item(data_, raw_, kflag_); }
    Item operator[](difference_type n) const { return Item(data_, raw_ + n, kflag_); }
    iterator& operator++() {
      ++raw_;
      return *this;
    }
    iterator operator++(int) {
      auto copy = *this;
      ++raw_;
      return copy;
    }
    iterator& operator--() {
      --raw_;
      return *this;
    }
    iterator& operator+=(difference_type n) {
      raw_ += n;
      return *this;
    }
    iterator operator+(difference_type n) const {
      auto copy = *this;
      copy.raw_ += n;
      return copy;
    }
    difference_type operator-(const iterator& other) const { return raw_ - other.raw_; }
    bool operator==(const iterator& other) const { return raw_ == other.raw_; }
    auto operator<=>(const iterator& other) const { return raw_ <=> other.raw_; }

   private:
    const detail::BtfData* data_ = nullptr;
    const Raw* raw_ = nullptr;
    bool kflag_ = false;
  };
  RecordRange() = default;
  RecordRange(const detail::BtfData* data, const Raw* first, std::size_t count, bool kflag)
      : data_(data), first_(first), count_(count), kflag_(kflag) {}
  iterator begin() const { return iterator(data_, first_, kflag_); }
  iterator end() const { return iterator(data_, first_ + count_, kflag_); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Item operator[](std::size_t i) const { return Item(data_, first_ + i, kflag_); }

 private:
  const detail::BtfData* data_ = nullptr;
  const Raw* first_ = nullptr;
  std::size_t count_ = 0;
  bool kflag_ = false;
};

// A member of a STRUCT or UNION.
class Member {
 public:
  Member(const detail::BtfData* data, const detail::RawMember* raw, bool kflag)
      : data_(data), raw_(raw), kflag_(kflag) {}
  std::string_view name() const { return detail::string_at(*data_, raw_->name_off); }
  std::uint32_t name_offset() const { return raw_->name_off; }
  TypeId type() const { return raw_->type; }
  // Offset from the start of the containing struct, in bits.
  std::uint32_t bit_offset() const { return kflag_ ? (raw_->offset & 0xffffffu) : raw_->offset; }
  // Non-zero only for bitfields described with the kind_flag encoding.
  std::uint32_t bitfield_size() const { return kflag_ ? (raw_->offset >> 24) : 0; }
  std::uint32_t raw_offset() const { return raw_->offset; }

 private:
  const detail::BtfData* data_;
  const detail::RawMember* raw_;
  bool kflag_;
};

// An enumerator of ENUM or ENUM64; `is_signed` is the kind_flag of the enum.
class Enumerator {
 public:
  // A 32-bit enumerator widens with its enum's signedness.
  Enumerator(const detail::BtfData* data, const detail::RawEnum* raw, bool is_signed)
      : data_(data),
        name_off_(raw->name_off),
        bits_(is_signed ? static_cast<std::uint64_t>(static_cast<std::int64_t>(raw->val))
                        : static_cast<std::uint64_t>(static_cast<std::uint32_t>(raw->val))),
        is_signed_(is_signed) {}
  Enumerator(const detail::BtfData* data, const detail::RawEnum64* raw, bool is_signed)
      : data_(data),
        name_off_(raw->name_off),
        bits_((static_cast<std::uint64_t>(raw->val_hi32) << 32) | raw->val_lo32),
        is_signed_(is_signed) {}
  std::string_view name() const { return detail::string_at(*data_, name_off_); }
  std::uint32_t name_offset() const { return name_off_; }
  std::int64_t signed_value() const { return static_cast<std::int64_t>(bits_); }
  std::uint64_t unsigned_value() const { return bits_; }
  bool is_signed() const { return is_signed_; }

 private:
  const detail::BtfData* data_;
  std::uint32_t name_off_;
  std::uint64_t bits_;
  bool is_signed_;
};

// A parameter of a FUNC_PROTO; a last parameter with type 0 and no name means "...".
class Param {
 public:
  Param(const detail::BtfData* data, const detail::RawParam* raw, bool) : data_(data), raw_(raw) {}
  std::string_view name() const { return detail::string_at(*data_, raw_->name_off); }
  std::uint32_t name_offset() const { return raw_->name_off; }
  TypeId type() const { return raw_->type; }

 private:
  const detail::BtfData* data_;
  const detail::RawParam* raw_;
};

// A variable (or function) placed in a DATASEC.
class VarSecinfo {
 public:
  VarSecinfo(const detail::BtfData*, const detail::RawVarSecinfo* raw, bool) : raw_(raw) {}
  TypeId type() const { return raw_->type; }
  std::uint32_t offset() const { return raw_->offset; }
  std::uint32_t size() const { return raw_->size; }

 private:
  const detail::RawVarSecinfo* raw_;
};

using Members = RecordRange<Member, detail::RawMember>;
using Params = RecordRange<Param, detail::RawParam>;
using VarSecinfos = RecordRange<VarSecinfo, detail::RawVarSecinfo>;

// ENUM and ENUM64 enumerators behind one interface.
class Enumerators {
 public:
  Enumerators() = default;
  Enumerators(const detail::BtfData* data, const void* first, std::size_t count, bool is64, bool is_signed)
      : data_(data), first_(first), count_(count), is64_(is64), is_signed_(is_signed) {}
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Enumerator operator[](std::size_t i) const {
    if (is64_) return Enumerator(data_, static_cast<const detail::RawEnum64*>(first_) + i, is_signed_);
    return Enumerator(data_, static_cast<const detail::RawEnum*>(first_) + i, is_signed_);
  }
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Enumerator;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Enumerator;
    iterator() = default;
    iterator(const Enumerators* range, std::size_t i) : range_(range), i_(i) {}
    Enumerator operator*() const { return (*range_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      auto copy = *this;
      ++i_;
      return copy;
    }
    bool operator==(const iterator& other) const { return i_ == other.i_; }

   private:
    const Enumerators* range_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, count_); }

 private:
  const detail::BtfData* data_ = nullptr;
  const void* first_ = nullptr;
  std::size_t count_ = 0;
  bool is64_ = false;
  bool is_signed_ = false;
};

struct IntInfo {
  std::uint8_t encoding;  // kIntSigned | kIntChar | kIntBool
  std::uint8_t bit_offset;
  std::uint8_t bits;
};

struct ArrayInfo {
  TypeId element_type;
  TypeId index_type;
  std::uint32_t count;
};

// A cheap view of one type (id 0 is `void`). Valid while any Btf sharing its data is alive.
// Accessors for a kind other than the type's own return empty/zero values.
class Type {
 public:
  Type() = default;
  Type(const detail::BtfData* data, TypeId id, const detail::RawType* raw) : data_(data), raw_(raw), id_(id) {}

  TypeId id() const { return id_; }
  bool is_void() const { return id_ == 0; }
  Kind kind() const { return raw_ ? static_cast<Kind>((raw_->info >> 24) & 0x1f) : Kind::Unknown; }
  std::string_view name() const { return raw_ ? detail::string_at(*data_, raw_->name_off) : std::string_view(); }
  std::uint32_t name_offset() const { return raw_ ? raw_->name_off : 0; }
  std::uint16_t vlen() const { return raw_ ? static_cast<std::uint16_t>(raw_->info & 0xffff) : 0; }
  bool kind_flag() const { return raw_ && (raw_->info >> 31) != 0; }
  std::uint32_t raw_info() const { return raw_ ? raw_->info : 0; }
  // The `size` field (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT).
  std::uint32_t size() const { return raw_ ? raw_->size_or_type : 0; }
  // The `type` field (PTR, TYPEDEF, modifiers, TYPE_TAG, FUNC, FUNC_PROTO return, VAR, DECL_TAG).
  TypeId type() const { return raw_ ? raw_->size_or_type : 0; }

  bool is_struct_or_union() const { return kind() == Kind::Struct || kind() == Kind::Union; }
  bool is_enum() const { return kind() == Kind::Enum || kind() == Kind::Enum64; }
  bool is_modifier() const {
    auto k = kind();
    return k == Kind::Const || k == Kind::Volatile || k == Kind::Restrict || k == Kind::TypeTag;
  }
  bool is_signed_enum() const { return is_enum() && kind_flag(); }
  bool is_union_fwd() const { return kind() == Kind::Fwd && kind_flag(); }

  IntInfo int_info() const;
  ArrayInfo array() const;
  Members members() const;
  Enumerators enumerators() const;
  Params params() const;
  VarSecinfos datasec_vars() const;
  // FUNC: BTF_FUNC_STATIC/GLOBAL/EXTERN (stored in vlen); VAR: the btf_var linkage.
  Linkage linkage() const;
  // DECL_TAG: -1 for the whole type, else the member/parameter index.
  std::int32_t component_index() const;
  // The bytes following the common header (kind-specific records).
  std::span<const std::byte> extra_bytes() const;

 private:
  const void* extra() const { return raw_ + 1; }
  const detail::BtfData* data_ = nullptr;
  const detail::RawType* raw_ = nullptr;
  TypeId id_ = 0;
};

struct LoadOptions {
  // For split BTF (kernel modules): the base whose ids and strings this BTF continues.
  const class Btf* base = nullptr;
};

// A parsed, validated BTF. Cheap to copy (shared, immutable data); thread-safe for reads,
// including the lazily built name index.
class Btf {
 public:
  // A raw BTF file, an ELF file with a .BTF section (object, vmlinux, .ko), a compressed
  // kernel module (.ko.xz/.zst/.gz) or a kernel image (bzImage vmlinuz). Throws corebpf::Error.
  static Btf load(const std::string& path, const LoadOptions& options = {});
  // The running kernel's BTF, /sys/kernel/btf/vmlinux.
  static Btf load_vmlinux();
  // Copies `bytes` (raw BTF or ELF with .BTF).
  static Btf from_bytes(std::span<const std::byte> bytes, const LoadOptions& options = {},
                        std::string source_name = "<memory>");
  // Takes ownership of `bytes`.
  static Btf from_vector(std::vector<std::byte> bytes, const LoadOptions& options = {},
                         std::string source_name = "<memory>");

  // Where this BTF came from (a path or a description), used in error messages.
  const std::string& source_name() const;
  // Byte order of the source blob (views always present host order).
  Endian endian() const;

  // Number of ids including base types and id 0 (`void`): valid ids are [0, type_count()).
  std::uint32_t type_count() const;
  // First id defined by this BTF: 1, or the base's type_count() for split BTF.
  TypeId first_id() const;
  // The base of a split BTF.
  std::optional<Btf> base() const;

  // Throws corebpf::Error when `id` is out of range.
  Type type(TypeId id) const;
  // nullptr-free variant: an empty optional when out of range.
  std::optional<Type> try_type(TypeId id) const noexcept;

  // Exact-name lookup (of this BTF and its base). With `kind`, only types of that kind (and only
  // that kind's part of the name index is built).
  std::optional<Type> find(std::string_view name) const;
  std::optional<Type> find(std::string_view name, Kind kind) const;
  // Every type whose CO-RE essential name (the name up to a "___" suffix) equals `essential_name`,
  // in id order (base first).
  std::vector<TypeId> find_all_essential(std::string_view essential_name, NameScope scope = NameScope::all) const;
  // Every type with exactly this name, in id order.
  std::vector<TypeId> find_all(std::string_view name, NameScope scope = NameScope::all) const;

  // Announces names about to be looked up (in this BTF and its base): one scan finds them all,
  // and the find*() calls for them that follow are answered from it, without a scan each or the
  // whole name index. For a loader that knows its names up front (an object's CO-RE roots,
  // ksyms, attach targets); the results are the same with or without it.
  void prefetch_names(std::span<const NameQuery> queries) const;

  // Skips typedefs and modifiers (const/volatile/restrict/type_tag).
  Type resolve(TypeId id) const;
  // Skips modifiers only.
  Type skip_modifiers(TypeId id) const;
  // sizeof of a type (arrays multiplied out, pointers 8 or per the BTF's pointer size);
  // throws for types without a size (void, func, fwd).
  std::uint64_t size_of(TypeId id) const;
  // Natural alignment as C would compute it (packed structs report 1).
  std::uint32_t alignment_of(TypeId id) const;
  // Pointer size the BTF implies (8 unless a `long` of size 4 says otherwise).
  std::uint32_t pointer_size() const;

  // DECL_TAGs that annotate `id`: all of them, or those of one component (-1 = the type itself).
  std::vector<TypeId> decl_tags(TypeId id) const;
  std::vector<TypeId> decl_tags(TypeId id, std::int32_t component) const;

  // String section access (offsets continue from the base for split BTF).
  std::string_view string_at(std::uint32_t offset) const;
  std::uint32_t string_section_size() const;  // this BTF's own part

  // The BTF blob in its original byte order, exactly as loaded (header, types, strings).
  std::span<const std::byte> raw_bytes() const;

  const detail::BtfData& data() const { return *data_; }

 private:
  explicit Btf(std::shared_ptr<const detail::BtfData> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::BtfData> data_;
};

// CO-RE essential name: `task_struct___v2` -> `task_struct`.
std::string_view essential_name(std::string_view name) noexcept;

}  // namespace corebpf::btf
