// core::Relocator: computes relocations of one object against a target, with the per-object
// caches (candidates per local type, outcomes per distinct relocation).
#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>

#include "corebpf/error.hpp"
#include "object/core/access_spec.hpp"
#include "object/core/target_cache.hpp"
#include "util/error_format.hpp"

namespace corebpf::core {

using btf::Btf;
using btf::Kind;
using btf::Type;
using btf::TypeId;
using detail::AccessSpec;
using detail::Candidate;

namespace {

// The value a spec gives for a relocation kind, on either side.
struct SideValue {
  std::uint64_t value = 0;
  bool validate = true;
  std::uint32_t mem_size = 0;  // byte offsets of whole fields: the field's size
  TypeId mem_type = 0;         // ...and its type (typedefs and modifiers skipped)
};

SideValue field_value(const AccessSpec& spec) {
  const Btf& btf = *spec.btf;
  SideValue out;
  if (spec.kind == ReloKind::field_exists) {
    out.value = 1;
    return out;
  }
  const auto& acc = spec.last();
  if (acc.name.empty()) {
    // The path ends at an array element (or the root pointer's target).
    switch (spec.kind) {
      case ReloKind::field_byte_offset:
        out.value = spec.bit_offset / 8;
        out.mem_size = static_cast<std::uint32_t>(btf.size_of(acc.type_id));
        out.mem_type = acc.type_id;
        return out;
      case ReloKind::field_byte_size:
        out.value = btf.size_of(acc.type_id);
        return out;
      default:
        util::fail(std::errc::invalid_argument, "{} cannot apply to an array element", kind_name(spec.kind));
    }
  }
  const auto member = btf.type(acc.type_id).members()[acc.index];
  const Type field = btf.resolve(member.type());
  // libbpf's arithmetic is 32-bit unsigned; kept so that results agree bit for bit.
  const auto bit_off = static_cast<std::uint32_t>(spec.bit_offset);
  std::uint32_t bit_size = member.bitfield_size();
  const bool bitfield = bit_size > 0;
  std::uint32_t byte_size = 0;
  std::uint32_t byte_off = 0;
  if (bitfield) {
    byte_size = field.size();
    if (byte_size == 0 || !std::has_single_bit(byte_size))
      util::fail(std::errc::invalid_argument, "bitfield {} has a base type of {} bytes", acc.name, byte_size);
    byte_off = bit_off / 8 / byte_size * byte_size;
    // The smallest aligned load that covers the whole bitfield.
    while (bit_off + bit_size - byte_off * 8 > byte_size * 8) {
      if (byte_size >= 8)
        util::fail(std::errc::invalid_argument, "bitfield {} cannot be read with a 64-bit load", acc.name);
      byte_size *= 2;
      byte_off = bit_off / 8 / byte_size * byte_size;
    }
  } else {
    byte_size = static_cast<std::uint32_t>(btf.size_of(field.id()));
    byte_off = bit_off / 8;
    bit_size = byte_size * 8;
  }
  // For bitfields the compiler chooses its own load width, so its offset, size and left shift
  // may legitimately differ from ours; signedness and the right shift may not.
  out.validate = !bitfield;
  switch (spec.kind) {
    case ReloKind::field_byte_offset:
      out.value = byte_off;
      if (!bitfield) {
        out.mem_size = byte_size;
        out.mem_type = field.id();
      }
      break;
    case ReloKind::field_byte_size:
      out.value = byte_size;
      break;
    case ReloKind::field_signed:
      out.value = (field.is_enum() && field.kind_flag()) ||
                  (field.kind() == Kind::Int && (field.int_info().encoding & btf::kIntSigned) != 0);
      out.validate = true;
      break;
    case ReloKind::field_lshift_u64:
      if (btf.endian() == btf::Endian::little)
        out.value = static_cast<std::uint32_t>(64 - (bit_off + bit_size - byte_off * 8));
      else
        out.value = static_cast<std::uint32_t>((8 - byte_size) * 8 + (bit_off - byte_off * 8));
      break;
    case ReloKind::field_rshift_u64:
      out.value = static_cast<std::uint32_t>(64 - bit_size);
      out.validate = true;
      break;
    default:
      util::fail(std::errc::invalid_argument, "not a field relocation");
  }
  return out;
}

SideValue type_value(const AccessSpec& spec) {
  SideValue out;
  switch (spec.kind) {
    case ReloKind::type_id_local:
    case ReloKind::type_id_target:
      // Linking renumbers types, so the id compiled into the instruction proves nothing.
      out.value = spec.root_type_id;
      out.validate = false;
      break;
    case ReloKind::type_exists:
    case ReloKind::type_matches:
      out.value = 1;
      break;
    case ReloKind::type_size:
      out.value = spec.btf->size_of(spec.root_type_id);
      break;
    default:
      util::fail(std::errc::invalid_argument, "not a type relocation");
  }
  return out;
}

SideValue enumval_value(const AccessSpec& spec) {
  SideValue out;
  if (spec.kind == ReloKind::enumval_exists) {
    out.value = 1;
    return out;
  }
  const auto& acc = spec.accessors[0];
  const Type t = spec.btf->type(acc.type_id);
  const auto e = t.enumerators()[acc.index];
  // A 32-bit enumerator is widened from its signed 32-bit form whatever the enum's signedness,
  // as libbpf does, so that the instruction's 64-bit immediate compares equal.
  out.value = t.kind() == Kind::Enum
                  ? static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(e.unsigned_value())))
                  : e.unsigned_value();
  return out;
}

SideValue side_value(const AccessSpec& spec) {
  if (is_field_kind(spec.kind)) return field_value(spec);
  if (is_type_kind(spec.kind)) return type_value(spec);
  return enumval_value(spec);
}

MemResize classify_resize(const Btf& local, TypeId local_type, const Btf& target, TypeId target_type) {
  const Type l = local.type(local_type);
  const Type t = target.type(target_type);
  if (l.kind() == Kind::Ptr && t.kind() == Kind::Ptr) return MemResize::zero_extend;
  if (l.kind() == Kind::Int && t.kind() == Kind::Int) {
    const bool local_signed = (l.int_info().encoding & btf::kIntSigned) != 0;
    const bool target_signed = (t.int_info().encoding & btf::kIntSigned) != 0;
    if (!local_signed && !target_signed) return MemResize::zero_extend;
    if (local_signed && target_signed) return MemResize::sign_extend;
  }
  return MemResize::unsafe;
}

std::string kind_word(Kind kind) {
  switch (kind) {
    case Kind::Struct:
      return "struct";
    case Kind::Union:
      return "union";
    case Kind::Enum:
    case Kind::Enum64:
      return "enum";
    case Kind::Fwd:
      return "forward declaration";
    case Kind::Typedef:
      return "typedef";
    default: {
      std::string word(btf::kind_name(kind));
      for (auto& c : word) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      return word;
    }
  }
}

// One candidate's result for one relocation.
struct Outcome {
  bool matched = false;
  std::uint32_t error = 0;  // computing on this candidate failed (malformed target types): index + 1 in `errors`
  std::uint64_t value = 0;
  std::uint64_t bit_offset = 0;
  TypeId root = 0;
  std::uint32_t mem_size = 0;
  MemResize resize = MemResize::none;
};

struct LocalType {
  bool searched = false;
  std::string error;
  const std::vector<Candidate>* candidates = nullptr;
  // Candidates still in play: narrowed to those that matched by each successful relocation.
  std::vector<bool> active;
};

// Texts that live as long as the Relocator, packed into chunks that never move: one allocation
// per many relocations instead of one each.
class TextArena {
 public:
  std::string_view store(std::string_view text) {
    if (text.size() > kChunkSize) return large_.emplace_back(text);
    if (chunks_.empty() || used_ + text.size() > kChunkSize) {
      chunks_.push_back(std::make_unique<char[]>(kChunkSize));
      used_ = 0;
    }
    char* at = chunks_.back().get() + used_;
    std::memcpy(at, text.data(), text.size());
    used_ += text.size();
    return {at, text.size()};
  }

 private:
  static constexpr std::size_t kChunkSize = std::size_t{16} * 1024;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::deque<std::string> large_;
  std::size_t used_ = 0;
};

// Everything about one distinct (type, access string, kind) except the instruction. Objects have
// thousands of these, so what can be is a view: of the local BTF's strings, of the cached display
// names, of texts in the arena, of a shared pool of outcomes.
struct Entry {
  std::string error;
  std::string_view local_type_name;
  std::string_view access;
  std::string_view spec;
  SideValue local;
  LocalType* local_type = nullptr;
  std::uint32_t first_outcome = 0;  // in State::outcomes, one per candidate
  std::uint32_t outcome_count = 0;
  std::string no_match;  // why no candidate matched
};

struct EntryKey {
  TypeId type_id;
  std::uint32_t access_str_off;
  ReloKind kind;
  bool operator==(const EntryKey&) const = default;
};

struct EntryKeyHash {
  std::size_t operator()(const EntryKey& k) const noexcept {
    std::uint64_t h = (std::uint64_t{k.type_id} << 32) ^ k.access_str_off;
    h ^= static_cast<std::uint64_t>(k.kind) << 59;
    h *= 0x9e3779b97f4a7c15ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// Member indexes of one target BTF, from the Target's cache.
class CachedMemberIndexes : public detail::MemberIndexSource {
 public:
  CachedMemberIndexes(Target::Cache& cache, std::uint32_t btf_index) : cache_(cache), btf_index_(btf_index) {}
  const detail::MemberIndex& member_index(const Btf& btf, const Type& type) const override {
    return cache_.member_index(btf_index_, btf, type);
  }

 private:
  Target::Cache& cache_;
  std::uint32_t btf_index_;
};

}  // namespace

struct Relocator::State {
  const Btf& local;
  const Target& target;
  std::unordered_map<TypeId, LocalType> local_types;
  std::unordered_map<EntryKey, Entry, EntryKeyHash> entries;
  std::unordered_map<TypeId, std::string> display_names;  // nodes: views of them stay valid
  std::vector<Outcome> outcomes;
  std::vector<std::string> errors;
  TextArena texts;
  std::string spec_text;  // scratch
  AccessSpec local_spec;  // scratch, large: kept here rather than on the stack
  AccessSpec target_spec;
  std::vector<bool> matched;  // scratch

  const std::string& display_name(TypeId id) {
    auto [it, inserted] = display_names.try_emplace(id);
    if (inserted) it->second = type_display_name(local, id);
    return it->second;
  }

  State(const Btf& l, const Target& t) : local(l), target(t) {}

  LocalType& local_type(TypeId id) {
    LocalType& lt = local_types[id];
    if (lt.searched) return lt;
    lt.searched = true;
    const Type t = local.type(id);
    const std::string_view name = t.name();
    if (name.empty()) {
      lt.error =
          fmt::format("{} [{}] has no name, so no target type can be found for it", type_display_name(local, id), id);
      return lt;
    }
    lt.candidates = &target.cache().find(target.vmlinux(), core_essential_name(name), t.kind());
    lt.active.assign(lt.candidates->size(), true);
    return lt;
  }

  void fill(Entry& entry, const ReloRecord& record) {
    entry.local_type_name = display_name(record.type_id);
    entry.access = local.string_at(record.access_str_off);
    parse_access(local, record.type_id, entry.access, record.kind, local_spec);
    detail::format_spec(local_spec, spec_text);
    entry.spec = texts.store(spec_text);
    entry.local = side_value(local_spec);
    if (record.kind == ReloKind::type_id_local) return;

    LocalType& lt = local_type(record.type_id);
    if (!lt.error.empty()) {
      entry.error = lt.error;
      return;
    }
    entry.local_type = &lt;
    const auto& candidates = *lt.candidates;
    entry.first_outcome = static_cast<std::uint32_t>(outcomes.size());
    entry.outcome_count = static_cast<std::uint32_t>(candidates.size());
    outcomes.resize(outcomes.size() + candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      Outcome& o = outcomes[entry.first_outcome + i];
      const Btf& target_btf = target.btf_at(candidates[i].btf_index);
      try {
        std::string why;
        const CachedMemberIndexes indexes(target.cache(), candidates[i].btf_index);
        o.matched = detail::match_spec(local_spec, target_btf, candidates[i].id, target_spec,
                                       entry.no_match.empty() ? &why : nullptr, &indexes);
        if (!o.matched) {
          if (entry.no_match.empty()) entry.no_match = why;
          continue;
        }
        const SideValue v = side_value(target_spec);
        o.value = v.value;
        o.bit_offset = target_spec.bit_offset;
        o.root = candidates[i].id;
        o.mem_size = v.mem_size;
        if (entry.local.mem_size != v.mem_size)
          o.resize = classify_resize(local, entry.local.mem_type, target_btf, v.mem_type);
      } catch (const Error& e) {
        errors.push_back(fmt::format("target [{}] of {}: {}", candidates[i].id, target_btf.source_name(), e.message()));
        o.error = static_cast<std::uint32_t>(errors.size());
      }
    }
    if (candidates.empty()) {
      const Type t = local.type(record.type_id);
      entry.no_match = fmt::format("no {} named '{}' in {}", kind_word(t.kind()), core_essential_name(t.name()),
                                   target.vmlinux().source_name());
    }
  }

  Entry& entry_for(const ReloRecord& record) {
    auto [it, inserted] = entries.try_emplace(EntryKey{record.type_id, record.access_str_off, record.kind});
    if (!inserted) return it->second;
    Entry& entry = it->second;
    try {
      fill(entry, record);
    } catch (const Error& e) {
      entry.error = e.message();
    }
    return entry;
  }

  ReloResult compute(const ReloRecord& record) {
    ReloResult r;
    r.insn_index = record.insn_off / 8;
    r.kind = record.kind;
    r.local_type_id = record.type_id;
    if (static_cast<std::uint32_t>(record.kind) > kMaxReloKind) {
      r.status = Status::error;
      r.message = fmt::format("unknown CO-RE relocation kind {}", static_cast<std::uint32_t>(record.kind));
      return r;
    }
    if (record.insn_off % sizeof(Insn) != 0) {
      r.status = Status::error;
      r.message = fmt::format("relocation offset {} is not at an instruction boundary", record.insn_off);
      return r;
    }
    const Entry& entry = entry_for(record);
    r.local_type_name.assign(entry.local_type_name);
    r.access.assign(entry.access);
    r.spec.assign(entry.spec);
    r.local_value = entry.local.value;
    r.validate = entry.local.validate;
    r.local_size = entry.local.mem_size;
    if (!entry.error.empty()) {
      r.status = Status::error;
      r.message = entry.error;
      return r;
    }
    if (record.kind == ReloKind::type_id_local) {
      r.target_value = r.local_value;
      return r;
    }

    LocalType& lt = *entry.local_type;
    const Outcome* chosen = nullptr;
    std::size_t chosen_index = 0;
    matched.assign(entry.outcome_count, false);
    bool any = false;
    for (std::size_t i = 0; i < entry.outcome_count; ++i) {
      if (!lt.active[i]) continue;
      const Outcome& o = outcomes[entry.first_outcome + i];
      if (o.error != 0) {
        r.status = Status::error;
        r.message = errors[o.error - 1];
        return r;
      }
      if (!o.matched) continue;
      matched[i] = true;
      any = true;
      if (chosen == nullptr) {
        chosen = &o;
        chosen_index = i;
        continue;
      }
      const auto& cands = *lt.candidates;
      if (o.bit_offset != chosen->bit_offset) {
        r.status = Status::error;
        r.message = fmt::format("ambiguous: candidates [{}] and [{}] put the field at bit offsets {} and {}",
                                cands[chosen_index].id, cands[i].id, chosen->bit_offset, o.bit_offset);
        return r;
      }
      if (o.value != chosen->value) {
        r.status = Status::error;
        r.message = fmt::format("ambiguous: candidates [{}] and [{}] give {} and {}", cands[chosen_index].id,
                                cands[i].id, chosen->value, o.value);
        return r;
      }
    }
    if (any) lt.active = matched;

    if (chosen != nullptr) {
      r.target_value = chosen->value;
      r.target_type_id = chosen->root;
      r.target_size = chosen->mem_size;
      r.resize = chosen->resize;
      return r;
    }
    // Nothing on the target: existence checks say so; values a program would use are poisoned.
    r.message = entry.no_match.empty() ? std::string("no candidate matched") : entry.no_match;
    switch (record.kind) {
      case ReloKind::field_exists:
      case ReloKind::enumval_exists:
      case ReloKind::type_exists:
      case ReloKind::type_matches:
      case ReloKind::type_size:
      case ReloKind::type_id_target:
        // Type-based relocations give 0 when the type is missing, as libbpf does.
        r.target_value = 0;
        break;
      default:
        r.status = Status::poisoned;
        break;
    }
    return r;
  }
};

Relocator::Relocator(const Btf& local, const Target& target) : state_(std::make_unique<State>(local, target)) {}
Relocator::~Relocator() = default;
Relocator::Relocator(Relocator&&) noexcept = default;

ReloResult Relocator::compute(const ReloRecord& record) { return state_->compute(record); }
const Btf& Relocator::local() const { return state_->local; }
const Target& Relocator::target() const { return state_->target; }

ReloResult compute(const Btf& local, const ReloRecord& record, const Target& target) {
  return Relocator(local, target).compute(record);
}

std::string type_display_name(const Btf& btf, TypeId id) {
  std::string prefix;
  std::string suffix;
  for (int depth = 0; depth < 32; ++depth) {
    const auto t = btf.try_type(id);
    if (!t) return fmt::format("{}<bad type id {}>{}", prefix, id, suffix);
    if (t->is_void()) return fmt::format("{}void{}", prefix, suffix);
    const std::string_view name = t->name().empty() ? std::string_view("(anon)") : t->name();
    switch (t->kind()) {
      case Kind::Struct:
        return fmt::format("{}struct {}{}", prefix, name, suffix);
      case Kind::Union:
        return fmt::format("{}union {}{}", prefix, name, suffix);
      case Kind::Enum:
      case Kind::Enum64:
        return fmt::format("{}enum {}{}", prefix, name, suffix);
      case Kind::Fwd:
        return fmt::format("{}{} {}{}", prefix, t->kind_flag() ? "union" : "struct", name, suffix);
      case Kind::Ptr:
        suffix.insert(0, " *");
        id = t->type();
        continue;
      case Kind::Array:
        suffix = fmt::format("[{}]{}", t->array().count, suffix);
        id = t->array().element_type;
        continue;
      case Kind::Const:
        prefix += "const ";
        id = t->type();
        continue;
      case Kind::Volatile:
        prefix += "volatile ";
        id = t->type();
        continue;
      case Kind::Restrict:
      case Kind::TypeTag:
        id = t->type();
        continue;
      case Kind::FuncProto:
        return fmt::format("{}function{}", prefix, suffix);
      default:
        return fmt::format("{}{}{}", prefix, name, suffix);
    }
  }
  return fmt::format("{}...{}", prefix, suffix);
}

}  // namespace corebpf::core
