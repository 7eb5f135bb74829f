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
//
// A kernel with modules is one id space (IdSpace): vmlinux's ids, then each module's own. The
// output holds both in one standalone BTF, which is what an object given external BTF relocates
// against (it replaces the modules too), so the answers are checked against the target's.
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

// The BTFs of a target as one id space: vmlinux's ids, then each module's own ids (those past its
// base) after the previous module's. A module type refers to its base by base ids, so a type's
// references are mapped through the BTF it comes from (`global`).
class IdSpace {
 public:
  explicit IdSpace(const Target& target) {
    btfs_.push_back(&target.vmlinux());
    starts_.push_back(0);
    TypeId next = target.vmlinux().type_count();
    for (const Btf& module : target.modules()) {
      if (module.first_id() != target.vmlinux().type_count())
        util::fail(std::errc::invalid_argument, "{}: not split BTF on top of {} ({} base types, {} has {})",
                   module.source_name(), target.vmlinux().source_name(), module.first_id(),
                   target.vmlinux().source_name(), target.vmlinux().type_count());
      btfs_.push_back(&module);
      starts_.push_back(next);
      next += module.type_count() - module.first_id();
    }
    count_ = next;
  }

  std::size_t count() const { return count_; }
  const Btf& vmlinux() const { return *btfs_[0]; }
  const Btf& btf(std::uint32_t index) const { return *btfs_[index]; }
  // `id` as the BTF `index` (0 = vmlinux, i + 1 = module i) numbers it.
  TypeId global(std::uint32_t index, TypeId id) const {
    return index == 0 || id < btfs_[index]->first_id() ? id : starts_[index] + (id - btfs_[index]->first_id());
  }
  // The BTF index and its own id of a global id.
  std::pair<std::uint32_t, TypeId> local(TypeId global) const {
    if (global < btfs_[0]->type_count()) return {0, global};
    // A distribution kernel has thousands of modules.
    const auto index =
        static_cast<std::uint32_t>(std::upper_bound(starts_.begin() + 1, starts_.end(), global) - starts_.begin() - 1);
    return {index, global - starts_[index] + btfs_[index]->first_id()};
  }
  Type type(TypeId global) const {
    const auto [index, id] = local(global);
    return btfs_[index]->type(id);
  }

 private:
  std::vector<const Btf*> btfs_;
  std::vector<TypeId> starts_;
  TypeId count_ = 0;
};

class Minimizer {
 public:
  explicit Minimizer(const IdSpace& space) : space_(space), needs_(space.count(), 0) {}

  void keep_field_path(std::uint32_t btf_index, const detail::AccessSpec& spec) {
    const Btf& btf = space_.btf(btf_index);
    mark(space_.global(btf_index, spec.root_type_id), kShape);
    TypeId current = spec.root_type_id;
    for (std::size_t i = 1; i < spec.raw_length; ++i) {
      const Type t = btf.resolve(current);
      if (t.is_struct_or_union()) {
        keep_member(space_.global(btf_index, t.id()), spec.raw[i]);
        current = t.members()[spec.raw[i]].type();
      } else {
        current = t.array().element_type;  // marked with the array
      }
    }
  }

  void keep_enumerator(std::uint32_t btf_index, TypeId candidate, const detail::AccessSpec& spec) {
    mark(space_.global(btf_index, candidate), kShape);
    const Type e = space_.btf(btf_index).type(spec.accessors[0].type_id);
    auto& kept = enumerators_[space_.global(btf_index, e.id())];
    kept.resize(e.vlen());
    kept[spec.accessors[0].index] = true;
  }

  // A candidate of a type relocation. One that matched is kept as deep as the relocation compares
  // it; one that did not is remembered, and when kept for another reason (finish()), kept deep
  // enough that it still does not match.
  void type_candidate(std::uint32_t btf_index, TypeId id, ReloKind kind, bool matched) {
    const bool match_kind = kind == ReloKind::type_matches;
    const TypeId global = space_.global(btf_index, id);
    if (matched) {
      mark(global, match_kind ? kMatch : kCompat);
    } else {
      type_candidates_.push_back({global, match_kind ? kMatchFail : kCompat});
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

  // Member `index` of the struct or union with global id `holder`.
  void keep_member(TypeId holder, std::uint32_t index) {
    const auto [btf_index, id] = space_.local(holder);
    const Type t = space_.btf(btf_index).type(id);
    auto& kept = members_[holder];
    kept.resize(t.vlen());
    if (kept[index]) return;
    kept[index] = true;
    const TypeId type = space_.global(btf_index, t.members()[index].type());
    mark(type, kShape);
    if ((needs_[holder] & kMatchFail) != 0) mark(type, kMatchFail);
  }

  void drain() {
    while (!work_.empty()) {
      const auto [id, need] = work_.back();
      work_.pop_back();
      expand(id, need);
    }
  }

  void expand(TypeId global, Need need) {
    const auto [index, id] = space_.local(global);
    const std::uint32_t btf_index = index;  // clang 14 cannot capture a structured binding
    const Type t = space_.btf(btf_index).type(id);
    const auto ref = [&](TypeId referred) { return space_.global(btf_index, referred); };
    switch (t.kind()) {
      case Kind::Typedef:
      case Kind::Volatile:
      case Kind::Const:
      case Kind::Restrict:
      case Kind::TypeTag:
      case Kind::Func:
      case Kind::Var:
        mark(ref(t.type()), need);
        break;
      case Kind::Ptr:
        if (need == kCompat || need == kMatchFail) mark(ref(t.type()), need);
        if (need == kMatch || need == kMatchBehindPtr) mark(ref(t.type()), kMatchBehindPtr);
        break;
      case Kind::Array:
        mark(ref(t.array().element_type), need);
        mark(ref(t.array().index_type), kShape);
        break;
      case Kind::FuncProto:
        mark(ref(t.type()), need);
        for (const auto p : t.params()) mark(ref(p.type()), need);
        break;
      case Kind::Struct:
      case Kind::Union:
        if (need == kMatch) {
          for (const auto m : t.members()) mark(ref(m.type()), kMatch);
        } else if (need == kMatchFail) {
          if (const auto it = members_.find(global); it != members_.end())
            for (std::size_t i = 0; i < it->second.size(); ++i)
              if (it->second[i]) mark(ref(t.members()[i].type()), kMatchFail);
        }
        break;
      default:
        break;
    }
  }

  // The reader infers the pointer size from `long`; a 32-bit target must stay one.
  void keep_pointer_size() {
    for (const std::string_view name : {"long int", "long unsigned int"})
      if (const auto t = space_.vmlinux().find(name, Kind::Int)) mark(t->id(), kShape);
  }

  // A zero-length array indexed past its end matches only as a struct's last member (a flexible
  // array): one that is not last in the input must not become last by losing the members after it.
  bool keep_zero_length_arrays_inner() {
    bool changed = false;
    for (auto& [global, kept] : members_) {
      const auto [btf_index, id] = space_.local(global);
      const Btf& btf = space_.btf(btf_index);
      const auto members = btf.type(id).members();
      if (members.empty() || kept.back()) continue;
      for (std::size_t i = 0; i + 1 < members.size(); ++i) {
        if (!kept[i]) continue;
        const Type field = btf.resolve(members[i].type());
        if (field.kind() == Kind::Array && field.array().count == 0) {
          keep_member(global, static_cast<std::uint32_t>(members.size() - 1));
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
    out.input_btfs.push_back(0);
    for (TypeId global = 1; global < needs_.size(); ++global) {
      if (needs_[global] == 0) continue;
      new_ids[global] = static_cast<TypeId>(out.input_ids.size());
      const auto [btf_index, id] = space_.local(global);
      out.input_ids.push_back(id);
      out.input_btfs.push_back(btf_index);
    }
    btf::BtfWriter writer;
    for (std::size_t i = 1; i < out.input_ids.size(); ++i) {
      const std::uint32_t btf_index = out.input_btfs[i];
      write_type(writer, btf_index, space_.btf(btf_index).type(out.input_ids[i]), new_ids);
    }
    out.bytes = writer.serialize(space_.vmlinux().endian());
    return out;
  }

  void write_type(btf::BtfWriter& writer, std::uint32_t btf_index, const Type& t, const std::vector<TypeId>& new_ids) {
    const TypeId global = space_.global(btf_index, t.id());
    const std::uint8_t need = needs_[global];
    const auto new_id = [&](TypeId id) { return new_ids[space_.global(btf_index, id)]; };
    auto kept_id = [&](TypeId id) {
      const TypeId mapped = new_id(id);
      if (mapped == 0)
        util::fail(std::errc::state_not_recoverable, "min_core_btf: type [{}] of {} refers to [{}], which was not kept",
                   t.id(), space_.btf(btf_index).source_name(), id);
      return mapped;
    };
    if (t.is_struct_or_union() && (need & kMatch) == 0) {
      if (t.kind() == Kind::Struct) {
        writer.add_struct(t.name(), t.size());
      } else {
        writer.add_union(t.name(), t.size());
      }
      const auto it = members_.find(global);
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
      const auto it = enumerators_.find(global);
      const auto enumerators = t.enumerators();
      for (std::size_t i = 0; i < enumerators.size(); ++i) {
        if (it == enumerators_.end() ? i > 0 : !it->second[i]) continue;
        const auto e = enumerators[i];
        writer.add_enumerator(e.name(), e.signed_value());
      }
      return;
    }
    if (t.kind() == Kind::Ptr) {
      writer.add_ptr(new_id(t.type()));  // void when only the pointer's shape is needed
      return;
    }
    writer.add_type_copy(t, kept_id);
  }

  const IdSpace& space_;
  std::vector<std::uint8_t> needs_;  // by global id
  std::vector<std::pair<TypeId, Need>> work_;
  std::unordered_map<TypeId, std::vector<bool>> members_;      // by global id
  std::unordered_map<TypeId, std::vector<bool>> enumerators_;  // by global id
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
  InputIndexes(Target::Cache& cache, std::uint32_t btf_index) : cache_(cache), btf_index_(btf_index) {}
  const detail::MemberIndex& member_index(const Btf& btf, const Type& type) const override {
    return cache_.member_index(btf_index_, btf, type);
  }

 private:
  Target::Cache& cache_;
  std::uint32_t btf_index_;
};

// With modules, a module type kept for another reason (a member's type) can become a candidate of
// a name whose candidates the target took from vmlinux, and change an answer: every relocation is
// computed against the output too and must answer as against the target.
void check_same_answers(const MinCoreBtf& min, const Target& target, std::span<const ObjectSpec> objects) {
  const Target output(Btf::from_bytes(min.bytes, {}, "minimal BTF"));
  const auto input_id = [&](std::uint64_t id) -> std::uint64_t {
    return id < min.input_ids.size() ? min.input_ids[id] : ~0ull;
  };
  for (const ObjectSpec& object : objects) {
    const auto& local = object.btf();
    if (!local) continue;
    Relocator full(*local, target);
    Relocator small(*local, output);
    for (const ProgramSpec& program : object.programs()) {
      for (const ReloRecord& record : program.core_relos()) {
        const ReloResult a = full.compute(record);
        const ReloResult b = small.compute(record);
        const bool type_id = record.kind == ReloKind::type_id_target;
        const bool same = a.status == b.status &&
                          (a.status != Status::ok ||
                           (type_id ? input_id(b.target_value) == a.target_value : a.target_value == b.target_value)) &&
                          a.target_type_id == input_id(b.target_type_id);
        if (!same)
          util::fail(std::errc::not_supported,
                     "{}: the minimal BTF of {} and its modules answers a relocation differently: {} there, {} on "
                     "the minimal BTF",
                     object.source(), target.vmlinux().source_name(), describe(program.name(), a),
                     describe(program.name(), b));
      }
    }
  }
}

}  // namespace

MinCoreBtf min_core_btf(const Btf& input, std::span<const ObjectSpec> objects) {
  if (input.first_id() == 1) return min_core_btf(Target(input), objects);
  const auto base = input.base();
  if (!base) util::fail(std::errc::invalid_argument, "{}: split BTF without its base", input.source_name());
  return min_core_btf(Target(*base, std::vector<Btf>{input}), objects);
}

MinCoreBtf min_core_btf(const Target& target, std::span<const ObjectSpec> objects) {
  if (target.vmlinux().first_id() != 1)
    util::fail(std::errc::invalid_argument,
               "{}: min_core_btf needs a whole kernel BTF under its modules, not split BTF",
               target.vmlinux().source_name());
  const IdSpace space(target);
  Target::Cache& cache = target.cache();
  Minimizer minimizer(space);
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
        for (const detail::Candidate& candidate : cache.find(target.vmlinux(), core_essential_name(name), local_kind)) {
          const InputIndexes indexes(cache, candidate.btf_index);
          bool matched = false;
          try {
            matched = detail::match_spec(*local_spec, target.btf_at(candidate.btf_index), candidate.id, *target_spec,
                                         nullptr, &indexes);
          } catch (const Error&) {
            continue;  // fails on the output too: its types are kept as they are
          }
          if (is_type_kind(record.kind)) {
            minimizer.type_candidate(candidate.btf_index, candidate.id, record.kind, matched);
          } else if (!matched) {
            continue;
          } else if (is_enumval_kind(record.kind)) {
            minimizer.keep_enumerator(candidate.btf_index, candidate.id, *target_spec);
          } else {
            minimizer.keep_field_path(candidate.btf_index, *target_spec);
          }
        }
      }
    }
  }
  MinCoreBtf result = minimizer.finish(relocation_count);
  if (!target.modules().empty()) check_same_answers(result, target, objects);
  return result;
}

}  // namespace corebpf::core
