// Internal: a CO-RE access specification (the parsed access string of a relocation) on one BTF,
// and its match on a candidate target type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/core.hpp"

namespace corebpf::core::detail {

// Deeper nesting than this is refused, as the kernel and libbpf do.
inline constexpr std::size_t kMaxSpecLength = 64;

// One named step (a struct/union member with a name) or array index of an access path.
// Anonymous members a path goes through appear only in the raw indices.
struct Accessor {
  btf::TypeId type_id = 0;  // the struct/union holding the member, or the array element type
  std::uint32_t index = 0;  // member index, array index, or enumerator index
  std::string_view name;    // member or enumerator name; empty for an array index
};

struct AccessSpec {
  const btf::Btf* btf = nullptr;
  btf::TypeId root_type_id = 0;  // as recorded (typedefs and modifiers not skipped)
  ReloKind kind = ReloKind::field_byte_offset;
  std::array<Accessor, kMaxSpecLength> accessors{};
  std::size_t length = 0;
  std::array<std::uint32_t, kMaxSpecLength> raw{};
  std::size_t raw_length = 0;
  std::uint64_t bit_offset = 0;  // of the accessed field from the root pointer
  // Filled by parse_access for field paths, so that format_spec need not walk the types again:
  // each raw step's member name (empty for anonymous members) and which steps index arrays.
  bool has_step_names = false;
  std::uint64_t array_steps = 0;  // bit i: raw step i is an array index
  std::array<std::string_view, kMaxSpecLength> step_names{};

  const Accessor& last() const { return accessors[length - 1]; }
};

// The named members of a struct or union, including those inside its anonymous members, by name:
// kernel structs have hundreds of members, and a relocation would otherwise read the names of all
// those before the one it wants. Built once per target type (Target::Cache keeps them).
struct MemberIndex {
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  struct Entry {
    std::uint64_t bit_offset = 0;          // from the start of the indexed type
    btf::TypeId holder = 0;                // the struct or union that declares the member
    btf::TypeId type = 0;                  // the member's type
    std::uint32_t index = 0;               // the member's index in `holder`
    std::uint32_t path_offset = 0;         // member indexes from the indexed type down to it, in `paths`
    std::uint32_t depth = 0;               // how many (1: a direct member)
    std::uint32_t next_same_name = kNone;  // the next entry of the same name, in declaration order
    std::string_view name;
  };
  std::vector<Entry> entries;
  std::vector<std::uint32_t> paths;
  // Open addressing over the first entry of each name: entry index + 1, 0 for an empty slot.
  std::vector<std::uint32_t> slots;

  // The first entry named `name`, or kNone.
  std::uint32_t find(std::string_view name) const;

  // Throws corebpf::Error when anonymous members nest deeper than kMaxSpecLength.
  static MemberIndex build(const btf::Btf& btf, const btf::Type& type);
};

// Types with fewer members are scanned: an index would cost more than it saves.
inline constexpr std::uint16_t kIndexedMemberCount = 16;

// Where match_spec gets member indexes of a target's types from (null: it scans).
class MemberIndexSource {
 public:
  virtual ~MemberIndexSource() = default;
  virtual const MemberIndex& member_index(const btf::Btf& btf, const btf::Type& type) const = 0;
};

// Parses `access` ("0:1:2") for a relocation of `kind` rooted at `root`. Throws corebpf::Error
// (without naming the relocation: the caller adds that) for a malformed access string or types.
void parse_access(const btf::Btf& btf, btf::TypeId root, std::string_view access, ReloKind kind, AccessSpec& spec);

// The readable form of a parsed local spec: "task_struct.real_parent", "foo[1].arr[3].x",
// "enum e::VALUE", "struct foo".
std::string format_spec(const AccessSpec& spec);
// The same into `text`, reusing its storage.
void format_spec(const AccessSpec& spec, std::string& text);

// Matches a local spec on target candidate `candidate` of `target`. Fills `out` (the target's
// spec) and returns true on a match; false when the candidate does not have the field, type or
// enumerator (with the reason in `*why` when `why` is not null). Throws corebpf::Error for
// malformed or too deeply nested types.
bool match_spec(const AccessSpec& local, const btf::Btf& target, btf::TypeId candidate, AccessSpec& out,
                std::string* why, const MemberIndexSource* indexes = nullptr);

// Compatibility rules of the CO-RE reference. Each throws corebpf::Error on cyclic or malformed
// types.
// Field relocations: the types of a matched member on both sides.
bool fields_compatible(const btf::Btf& local, btf::TypeId local_id, const btf::Btf& target, btf::TypeId target_id);
// type_exists, type_size, target_type_id: shallow structural compatibility.
bool types_compatible(const btf::Btf& local, btf::TypeId local_id, const btf::Btf& target, btf::TypeId target_id);
// type_matches: the stricter relation of bpf_core_type_matches().
bool types_match(const btf::Btf& local, btf::TypeId local_id, const btf::Btf& target, btf::TypeId target_id);

// ENUM and ENUM64 count as one kind for candidate search and compatibility.
inline bool same_core_kind(btf::Kind a, btf::Kind b) {
  auto is_enum = [](btf::Kind k) { return k == btf::Kind::Enum || k == btf::Kind::Enum64; };
  return a == b || (is_enum(a) && is_enum(b));
}

}  // namespace corebpf::core::detail
