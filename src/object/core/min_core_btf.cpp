// min_core_btf: the part of a kernel's BTF that some objects' CO-RE relocations look at.
//
// Every relocation is matched against every candidate, as the Relocator does, and what each match
// walked through is kept. What the relocation engine then reads from a kept type decides how much
// of it is kept; each input type becomes one output type, so every kept reference stays exact:
// - field paths read member names, offsets and types, struct sizes, array counts and element
//   sizes, and the kind, name, size and signedness of the accessed field (its "shape"): a struct
//   keeps the members some path went through, at their offsets, and its size; a pointer's target
//   is never looked at, so a pointer only a shape needs points to void unless its target is kept
//   anyway;
// - type_exists/type_size/target_type_id compare kinds down through pointers, arrays and function
//   prototypes, but stop at structs, unions and enums;
// - type_matches compares structs member by member (all members, recursively), enums enumerator
//   by enumerator, and behind a pointer only names and kinds.
// A candidate that did not match must not start matching. Structs and enums only lose members,
// which turns no mismatch into a match (a missing member or enumerator fails as the original did;
// fewer target members than local ones fail type_matches too), but a pointer to void would: so a
// type relocation's unmatched candidate that is kept for another reason keeps its pointers' targets
// down to where that relocation's comparison stops.
#include "corebpf/min_core_btf.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "corebpf/btf_writer.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"
#include "object/core/access_spec.hpp"
#include "object/core/target_cache.hpp"
#include "util/error_format.hpp"

namespace corebpf::core {
namespace {

using btf::Btf;
using btf::Kind;
using btf::Type;
using btf::TypeId;

// How deeply a type is needed; a type may be needed several ways.
enum Need : std::uint8_t {
  kShape = 1,           // kind, name, size; for structs and enums only what paths add
  kCompat = 2,          // types_compatible: through pointers, arrays, prototypes
  kMatch = 4,           // types_match: every member of structs, every enumerator
  kMatchBehindPtr = 8,  // types_match behind a pointer: structs by name and kind only
  // A type_matches candidate that did not match: removing members and enumerators only turns
  // matches into mismatches, so the kept ones suffice, but their pointers must keep their targets.
  kMatchFail = 16,
};

struct TypeCandidate {
  TypeId id;
  Need need;
};

class Minimizer {
 public:
  explicit Minimizer(const Btf& input) : input_(input), needs_(input.type_count(), 0) {}

  void keep_field_path(const detail::AccessSpec& spec) {
    mark(spec.root_type_id, kShape);
    TypeId current = spec.root_type_id;
    for (std::size_t i = 1; i < spec.raw_length; ++i) {
      const Type t = input_.resolve(current);
      if (t.is_struct_or_union()) {
        keep_member(t, spec.raw[i]);
        current = t.members()[spec.raw[i]].type();
      } else {
        current = t.array().element_type;  // marked with the array
      }
    }
  }

  void keep_enumerator(TypeId candidate, const detail::AccessSpec& spec) {
    mark(candidate, kShape);
    const Type e = input_.type(spec.accessors[0].type_id);
    auto& kept = enumerators_[e.id()];
    kept.resize(e.vlen());
    kept[spec.accessors[0].index] = true;
  }

  // A candidate of a type relocation. One that matched is kept as deep as the relocation compares
  // it; one that did not is remembered, and when kept for another reason (finish()), kept deep
  // enough that it still does not match.
  void type_candidate(TypeId id, ReloKind kind, bool matched) {
    const bool match_kind = kind == ReloKind::type_matches;
    if (matched) {
      mark(id, match_kind ? kMatch : kCompat);
    } else {
      type_candidates_.push_back({id, match_kind ? kMatchFail : kCompat});
    }
  }

  MinCoreBtf finish(std::size_t relocation_count) {
    keep_pointer_size();
    for (bool changed = true; changed;) {
      drain();
      changed = false;
      for (const auto& c : type_candidates_) {
        if (needs_[c.id] != 0 && (needs_[c.id] & c.need) == 0) {
          mark(c.id, c.need);
          changed = true;
        }
      }
      changed |= keep_zero_length_arrays_inner();
    }
    return write(relocation_count);
  }

 private:
  void mark(TypeId id, Need need) {
    if (id == 0 || (needs_[id] & need) != 0) return;
    needs_[id] |= need;
    work_.emplace_back(id, need);
  }

  void keep_member(const Type& holder, std::uint32_t index) {
    auto& kept = members_[holder.id()];
    kept.resize(holder.vlen());
    if (kept[index]) return;
    kept[index] = true;
    const TypeId type = holder.members()[index].type();
    mark(type, kShape);
    if ((needs_[holder.id()] & kMatchFail) != 0) mark(type, kMatchFail);
  }

  void drain() {
    while (!work_.empty()) {
      const auto [id, need] = work_.back();
      work_.pop_back();
      expand(input_.type(id), need);
    }
  }

  void expand(const Type& t, Need need) {
    switch (t.kind()) {
      case Kind::Typedef:
      case Kind::Volatile:
      case Kind::Const:
      case Kind::Restrict:
      case Kind::TypeTag:
      case Kind::Func:
      case Kind::Var:
        mark(t.type(), need);
        break;
      case Kind::Ptr:
        if (need == kCompat || need == kMatchFail) mark(t.type(), need);
        if (need == kMatch || need == kMatchBehindPtr) mark(t.type(), kMatchBehindPtr);
        break;
      case Kind::Array:
        mark(t.array().element_type, need);
        mark(t.array().index_type, kShape);
        break;
      case Kind::FuncProto:
        mark(t.type(), need);
        for (const auto p : t.params()) mark(p.type(), need);
        break;
      case Kind::Struct:
      case Kind::Union:
        if (need == kMatch) {
          for (const auto m : t.members()) mark(m.type(), kMatch);
        } else if (need == kMatchFail) {
          if (const auto it = members_.find(t.id()); it != members_.end())
            for (std::size_t i = 0; i < it->second.size(); ++i)
              if (it->second[i]) mark(t.members()[i].type(), kMatchFail);
        }
        break;
      default:
        break;
    }
  }

  // The reader infers the pointer size from `long`; a 32-bit target must stay one.
  void keep_pointer_size() {
    for (const std::string_view name : {"long int", "long unsigned int"})
      if (const auto t = input_.find(name, Kind::Int)) mark(t->id(), kShape);
  }

  // A zero-length array indexed past its end matches only as a struct's last member (a flexible
  // array): one that is not last in the input must not become last by losing the members after it.
  bool keep_zero_length_arrays_inner() {
    bool changed = false;
    for (auto& [id, kept] : members_) {
      const Type t = input_.type(id);
      const auto members = t.members();
      if (members.empty() || kept.back()) continue;
      for (std::size_t i = 0; i + 1 < members.size(); ++i) {
        if (!kept[i]) continue;
        const Type field = input_.resolve(members[i].type());
        if (field.kind() == Kind::Array && field.array().count == 0) {
          keep_member(t, static_cast<std::uint32_t>(members.size() - 1));
          changed = true;
          break;
        }
      }
    }
    return changed;
  }

  MinCoreBtf write(std::size_t relocation_count) {
    MinCoreBtf out;
    out.relocation_count = relocation_count;
    std::vector<TypeId> new_ids(needs_.size(), 0);
    out.input_ids.push_back(0);
    for (TypeId id = 1; id < needs_.size(); ++id) {
      if (needs_[id] == 0) continue;
      new_ids[id] = static_cast<TypeId>(out.input_ids.size());
      out.input_ids.push_back(id);
    }
    btf::BtfWriter writer;
    for (std::size_t i = 1; i < out.input_ids.size(); ++i) write_type(writer, input_.type(out.input_ids[i]), new_ids);
    out.bytes = writer.serialize(input_.endian());
    return out;
  }

  void write_type(btf::BtfWriter& writer, const Type& t, const std::vector<TypeId>& new_ids) {
    const std::uint8_t need = needs_[t.id()];
    auto kept_id = [&](TypeId id) {
      const TypeId mapped = new_ids[id];
      if (mapped == 0)
        util::fail(std::errc::state_not_recoverable, "min_core_btf: type [{}] refers to [{}], which was not kept",
                   t.id(), id);
      return mapped;
    };
    if (t.is_struct_or_union() && (need & kMatch) == 0) {
      if (t.kind() == Kind::Struct) {
        writer.add_struct(t.name(), t.size());
      } else {
        writer.add_union(t.name(), t.size());
      }
      const auto it = members_.find(t.id());
      if (it == members_.end()) return;
      const auto members = t.members();
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (!it->second[i]) continue;
        const auto m = members[i];
        writer.add_member(m.name(), kept_id(m.type()), m.bit_offset(), static_cast<std::uint8_t>(m.bitfield_size()));
      }
      return;
    }
    if (t.is_enum() && (need & (kMatch | kMatchBehindPtr)) == 0) {
      if (t.kind() == Kind::Enum) {
        writer.add_enum(t.name(), t.size(), t.kind_flag());
      } else {
        writer.add_enum64(t.name(), t.size(), t.kind_flag());
      }
      // C has no empty enums: one that only a field's shape needs keeps its first enumerator, so
      // that the output still dumps as a header. Any subset of the enumerators keeps every
      // relocation's answer.
      const auto it = enumerators_.find(t.id());
      const auto enumerators = t.enumerators();
      for (std::size_t i = 0; i < enumerators.size(); ++i) {
        if (it == enumerators_.end() ? i > 0 : !it->second[i]) continue;
        const auto e = enumerators[i];
        writer.add_enumerator(e.name(), e.signed_value());
      }
      return;
    }
    if (t.kind() == Kind::Ptr) {
      writer.add_ptr(new_ids[t.type()]);  // void when only the pointer's shape is needed
      return;
    }
    writer.add_type_copy(t, kept_id);
  }

  const Btf& input_;
  std::vector<std::uint8_t> needs_;
  std::vector<std::pair<TypeId, Need>> work_;
  std::unordered_map<TypeId, std::vector<bool>> members_;
  std::unordered_map<TypeId, std::vector<bool>> enumerators_;
  std::vector<TypeCandidate> type_candidates_;
};

struct RecordKey {
  TypeId type_id;
  std::uint32_t access_str_off;
  ReloKind kind;
  bool operator==(const RecordKey&) const = default;
};

struct RecordKeyHash {
  std::size_t operator()(const RecordKey& k) const noexcept {
    std::uint64_t h = (std::uint64_t{k.type_id} << 32 | k.access_str_off) * 0x9e3779b97f4a7c15ull;
    h ^= static_cast<std::uint64_t>(k.kind) + (h >> 31);
    return static_cast<std::size_t>(h);
  }
};

class InputIndexes : public detail::MemberIndexSource {
 public:
  explicit InputIndexes(Target::Cache& cache) : cache_(cache) {}
  const detail::MemberIndex& member_index(const Btf& btf, const Type& type) const override {
    return cache_.member_index(0, btf, type);
  }

 private:
  Target::Cache& cache_;
};

}  // namespace

MinCoreBtf min_core_btf(const Btf& input, std::span<const ObjectSpec> objects) {
  if (input.first_id() != 1)
    util::fail(std::errc::invalid_argument, "{}: min_core_btf needs a whole kernel BTF, not split BTF",
               input.source_name());
  const Target target(input);
  Target::Cache& cache = target.cache();
  const InputIndexes indexes(cache);
  Minimizer minimizer(input);
  // Large and reused for every relocation: kept off the stack.
  auto local_spec = std::make_unique<detail::AccessSpec>();
  auto target_spec = std::make_unique<detail::AccessSpec>();
  std::size_t relocation_count = 0;

  for (const ObjectSpec& object : objects) {
    const auto& local = object.btf();
    std::unordered_set<RecordKey, RecordKeyHash> seen;
    for (const ProgramSpec& program : object.programs()) {
      if (program.core_relos().empty()) continue;
      if (!local)
        util::fail(std::errc::invalid_argument, "{}: program '{}' has CO-RE relocations but the object has no BTF",
                   object.source(), program.name());
      for (const ReloRecord& record : program.core_relos()) {
        if (!seen.insert({record.type_id, record.access_str_off, record.kind}).second) continue;
        ++relocation_count;
        if (record.kind == ReloKind::type_id_local || static_cast<std::uint32_t>(record.kind) > kMaxReloKind) continue;
        // A relocation that fails on the input (bad access string, unnamed type) fails the same
        // way on any output: it needs nothing.
        std::string_view name;
        try {
          detail::parse_access(*local, record.type_id, local->string_at(record.access_str_off), record.kind,
                               *local_spec);
          name = local->type(record.type_id).name();
        } catch (const Error&) {
          continue;
        }
        if (name.empty()) continue;
        const Kind local_kind = local->type(record.type_id).kind();
        for (const detail::Candidate& candidate : cache.find(input, core_essential_name(name), local_kind)) {
          bool matched = false;
          try {
            matched = detail::match_spec(*local_spec, input, candidate.id, *target_spec, nullptr, &indexes);
          } catch (const Error&) {
            continue;  // fails on the output too: its types are kept as they are
          }
          if (is_type_kind(record.kind)) {
            minimizer.type_candidate(candidate.id, record.kind, matched);
          } else if (!matched) {
            continue;
          } else if (is_enumval_kind(record.kind)) {
            minimizer.keep_enumerator(candidate.id, *target_spec);
          } else {
            minimizer.keep_field_path(*target_spec);
          }
        }
      }
    }
  }
  return minimizer.finish(relocation_count);
}

}  // namespace corebpf::core
