// Internal: the shared, immutable state behind corebpf::btf::Btf (BtfData). Not the public
// corebpf/btf_data.hpp, which formats values through their BTF types.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"

namespace corebpf::btf::detail {

inline constexpr std::uint16_t kBtfMagic = 0xeb9f;
inline constexpr std::uint32_t kBtfHeaderMinSize = 24;

struct RawHeader {
  std::uint16_t magic;
  std::uint8_t version;
  std::uint8_t flags;
  std::uint32_t hdr_len;
  std::uint32_t type_off;
  std::uint32_t type_len;
  std::uint32_t str_off;
  std::uint32_t str_len;
};

// Size of the records that follow the common 12-byte header of a type of `kind` with `vlen`.
inline std::size_t extra_size(Kind kind, std::uint32_t vlen) noexcept {
  switch (kind) {
    case Kind::Int:
    case Kind::Var:
    case Kind::DeclTag:
      return 4;
    case Kind::Array:
      return sizeof(RawArray);
    case Kind::Struct:
    case Kind::Union:
      return std::size_t{vlen} * sizeof(RawMember);
    case Kind::Enum:
      return std::size_t{vlen} * sizeof(RawEnum);
    case Kind::Enum64:
      return std::size_t{vlen} * sizeof(RawEnum64);
    case Kind::FuncProto:
      return std::size_t{vlen} * sizeof(RawParam);
    case Kind::Datasec:
      return std::size_t{vlen} * sizeof(RawVarSecinfo);
    default:
      return 0;
  }
}

// id -> byte offset table. Allocated uninitialized for the worst case (every type 12 bytes), so
// the pages past the real count are never touched and never become resident.
class OffsetTable {
 public:
  void allocate(std::size_t capacity) { offsets_.reset(new std::uint32_t[capacity]); }
  std::uint32_t* data() noexcept { return offsets_.get(); }
  void set_size(std::size_t size) noexcept { size_ = size; }
  std::size_t size() const noexcept { return size_; }
  std::uint32_t operator[](std::size_t i) const noexcept { return offsets_[i]; }

 private:
  std::unique_ptr<std::uint32_t[]> offsets_;
  std::size_t size_ = 0;
};

struct NameIndex {
  // Open addressing, linear probing; slot = (hash << 32 | id), 0 = empty. Keyed by essential name,
  // so every type sharing an essential name lies on one probe chain.
  std::vector<std::uint64_t> slots;
  std::uint64_t mask = 0;
};

struct BtfData {
  std::string source_name;
  Endian endian = Endian::little;
  std::shared_ptr<const BtfData> base;

  // Keeps the original bytes alive (mapped file, ELF image, decompressed buffer...).
  std::shared_ptr<const void> keepalive;
  std::span<const std::byte> blob;   // the BTF in its original byte order
  std::vector<std::byte> host_copy;  // header+types+strings converted to host order or realigned

  RawHeader header{};
  const std::byte* types = nullptr;  // host order, 4-byte aligned
  std::uint32_t types_size = 0;
  const char* strings = nullptr;
  std::uint32_t strings_size = 0;       // this BTF's own string section
  std::uint32_t base_strings_size = 0;  // combined size of the base chain's strings

  TypeId first_id = 1;
  std::uint32_t total_count = 1;  // including base and void
  OffsetTable type_offsets;       // [id - first_id] -> byte offset into `types`
  std::uint32_t pointer_size = 8;

  // One index per NameScope part (types, symbols), each built once lookups are many (the first
  // few scan the types instead: see visit_essential).
  mutable std::once_flag name_index_once[2];
  mutable NameIndex name_index[2];
  mutable std::atomic<std::uint32_t> name_lookups[2] = {0, 0};
  // Keys announced by Btf::prefetch_names() with every id found for each in one scan (a deque:
  // an entry, once added, never moves, so a lookup may read it after the lock is released).
  struct PrefetchedKey {
    NameScope scope;  // types or symbols
    std::string key;  // essential name
    std::vector<TypeId> ids;
  };
  mutable std::mutex prefetched_mutex;
  mutable std::deque<PrefetchedKey> prefetched;
  mutable std::atomic<std::size_t> prefetched_count = 0;
  mutable std::once_flag decl_tag_once;
  mutable std::vector<std::pair<TypeId, TypeId>> decl_tag_index;  // (annotated id, tag id), sorted

  const RawType* raw_type(TypeId id) const noexcept {
    return reinterpret_cast<const RawType*>(types + type_offsets[id - first_id]);
  }
};

std::uint32_t name_hash(std::string_view name) noexcept;
// `scope` is NameScope::types or NameScope::symbols.
const NameIndex& name_index(const BtfData& data, NameScope scope);

// Parses and validates `blob` (raw BTF, either byte order). Throws corebpf::Error naming the
// source, the type id and the byte offset of the first problem found.
std::shared_ptr<BtfData> parse_blob(std::span<const std::byte> blob, std::shared_ptr<const void> keepalive,
                                    std::string source_name, std::shared_ptr<const BtfData> base);

}  // namespace corebpf::btf::detail
