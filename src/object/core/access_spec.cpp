// Access strings: parsing on the local BTF, matching on a target candidate, readable form.
#include "object/core/access_spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "util/error_format.hpp"

namespace corebpf::core::detail {
namespace {

using btf::Btf;
using btf::Kind;
using btf::Type;
using btf::TypeId;

// Offsets are kept in bits; no real type comes near this, a hostile index does.
constexpr std::uint64_t kMaxBitOffset = std::uint64_t{std::numeric_limits<std::uint32_t>::max()} * 8;

void add_bits(std::uint64_t& bit_offset, std::uint64_t index, std::uint64_t element_size) {
  const std::uint64_t bits = index * element_size * 8;  // both below 2^32: no wrap before the check
  if (element_size != 0 && index > kMaxBitOffset / 8 / element_size)
    util::fail(std::errc::value_too_large, "index {} of {}-byte elements is beyond any object", index, element_size);
  bit_offset += bits;
  if (bit_offset > kMaxBitOffset) util::fail(std::errc::value_too_large, "field offset is beyond any object");
}

// A zero-length array that is the last member of its struct: any index is allowed.
bool is_flexible_array(const Btf& btf, const Accessor& enclosing, const btf::ArrayInfo& array) {
  if (enclosing.name.empty() || array.count > 0) return false;
  return enclosing.index + 1 == btf.type(enclosing.type_id).vlen();
}

void push_raw(AccessSpec& spec, std::uint32_t index) {
  if (spec.raw_length == kMaxSpecLength)
    util::fail(std::errc::argument_list_too_long, "access path is deeper than {} steps", kMaxSpecLength);
  spec.raw[spec.raw_length++] = index;
}

void reset(AccessSpec& spec, const Btf& btf, TypeId root, ReloKind kind) {
  spec.btf = &btf;
  spec.root_type_id = root;
  spec.kind = kind;
  spec.length = 0;
  spec.raw_length = 0;
  spec.bit_offset = 0;
  spec.has_step_names = false;
  spec.array_steps = 0;
}

struct MatchContext {
  const AccessSpec& local;
  const Btf& target;
  AccessSpec& out;
  std::string* why;
  const MemberIndexSource* indexes;
};

std::string incompatible_field(MatchContext& ctx, const Accessor& local_acc, TypeId target_type, TypeId holder) {
  const auto local_member = ctx.local.btf->type(local_acc.type_id).members()[local_acc.index];
  return fmt::format("field '{}' is {} locally but {} in {} [{}]", local_acc.name,
                     type_display_name(*ctx.local.btf, local_member.type()), type_display_name(ctx.target, target_type),
                     type_display_name(ctx.target, holder), holder);
}

// match_member through an index: the same answer as the scan, in the same order.
bool match_indexed_member(MatchContext& ctx, const Accessor& local_acc, const MemberIndex& index, TypeId* next_id) {
  const std::uint32_t first = index.find(local_acc.name);
  if (first == MemberIndex::kNone) return false;
  const TypeId local_type = ctx.local.btf->type(local_acc.type_id).members()[local_acc.index].type();
  // A same-named member of the wrong type ends the search in the struct declaring it (and in the
  // anonymous members below it), as the scan does; the scan of enclosing structs goes on.
  std::vector<std::span<const std::uint32_t>> blocked;
  for (std::uint32_t e = first; e != MemberIndex::kNone; e = index.entries[e].next_same_name) {
    const auto& entry = index.entries[e];
    const std::span<const std::uint32_t> path(index.paths.data() + entry.path_offset, entry.depth);
    bool skip = false;
    for (const auto& prefix : blocked)
      if (std::equal(prefix.begin(), prefix.end(), path.begin())) skip = true;
    if (skip) continue;
    if (fields_compatible(*ctx.local.btf, local_type, ctx.target, entry.type)) {
      for (const std::uint32_t i : path) push_raw(ctx.out, i);
      ctx.out.bit_offset += entry.bit_offset;
      ctx.out.accessors[ctx.out.length++] = {entry.holder, entry.index, local_acc.name};
      *next_id = entry.type;
      return true;
    }
    if (ctx.why) *ctx.why = incompatible_field(ctx, local_acc, entry.type, entry.holder);
    blocked.push_back(path.first(entry.depth - 1));
  }
  return false;
}

// Member names hash well enough with FNV-1a, and it is cheap for short strings.
std::uint32_t name_hash(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

void index_members(const Btf& btf, const Type& type, std::uint64_t base_bits, std::vector<std::uint32_t>& path,
                   MemberIndex& index) {
  if (path.size() >= kMaxSpecLength)
    util::fail(std::errc::argument_list_too_long, "{} [{}]: anonymous members nest deeper than {} levels",
               type_display_name(btf, type.id()), type.id(), kMaxSpecLength);
  const auto members = type.members();
  for (std::uint32_t i = 0; i < members.size(); ++i) {
    const auto m = members[i];
    path.push_back(i);
    const std::string_view name = m.name();
    if (name.empty()) {
      const Type inner = btf.resolve(m.type());
      if (inner.is_struct_or_union()) index_members(btf, inner, base_bits + m.bit_offset(), path, index);
    } else {
      index.entries.push_back({base_bits + m.bit_offset(), type.id(), m.type(), i,
                               static_cast<std::uint32_t>(index.paths.size()), static_cast<std::uint32_t>(path.size()),
                               MemberIndex::kNone, name});
      index.paths.insert(index.paths.end(), path.begin(), path.end());
    }
    path.pop_back();
  }
}

// Finds the member `local_acc` names in the struct/union `target_id`, descending into anonymous
// members. On a match, `out` holds the path to it and `*next_id` its type.
bool match_member(MatchContext& ctx, const Accessor& local_acc, TypeId target_id, TypeId* next_id) {
  const Type tt = ctx.target.resolve(target_id);
  if (!tt.is_struct_or_union()) {
    if (ctx.why && ctx.why->empty())
      *ctx.why = fmt::format("{} [{}] is not a struct or union", type_display_name(ctx.target, tt.id()), tt.id());
    return false;
  }
  if (ctx.indexes && tt.vlen() >= kIndexedMemberCount)
    return match_indexed_member(ctx, local_acc, ctx.indexes->member_index(ctx.target, tt), next_id);
  const auto members = tt.members();
  for (std::uint32_t i = 0; i < members.size(); ++i) {
    const auto m = members[i];
    const std::uint32_t bits = m.bit_offset();
    push_raw(ctx.out, i);
    ctx.out.bit_offset += bits;
    const std::string_view name = m.name();
    if (name.empty()) {
      if (match_member(ctx, local_acc, m.type(), next_id)) return true;
    } else if (name == local_acc.name) {
      const auto local_member = ctx.local.btf->type(local_acc.type_id).members()[local_acc.index];
      if (fields_compatible(*ctx.local.btf, local_member.type(), ctx.target, m.type())) {
        ctx.out.accessors[ctx.out.length++] = {tt.id(), i, name};
        *next_id = m.type();
        return true;
      }
      if (ctx.why) *ctx.why = incompatible_field(ctx, local_acc, m.type(), tt.id());
      ctx.out.bit_offset -= bits;
      --ctx.out.raw_length;
      return false;
    }
    ctx.out.bit_offset -= bits;
    --ctx.out.raw_length;
  }
  return false;
}

}  // namespace

void parse_access(const Btf& btf, TypeId root, std::string_view access, ReloKind kind, AccessSpec& spec) {
  reset(spec, btf, root, kind);
  if (access.empty() || access.front() == ':') util::fail(std::errc::invalid_argument, "access string is empty");
  if (is_type_kind(kind)) {
    if (access != "0")
      util::fail(std::errc::invalid_argument, "access string '{}' of a type relocation must be \"0\"", access);
    btf.type(root);  // range check
    return;
  }
  for (std::size_t pos = 0; pos < access.size();) {
    if (access[pos] == ':') ++pos;
    std::uint32_t index = 0;
    const auto [end, ec] = std::from_chars(access.data() + pos, access.data() + access.size(), index);
    if (ec != std::errc() || index > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
      util::fail(std::errc::invalid_argument, "access string '{}' is not a list of indexes", access);
    pos = static_cast<std::size_t>(end - access.data());
    if (pos < access.size() && access[pos] != ':')
      util::fail(std::errc::invalid_argument, "access string '{}' is not a list of indexes", access);
    push_raw(spec, index);
  }

  const Type root_type = btf.resolve(root);
  Accessor& first = spec.accessors[0];
  first = {root_type.id(), spec.raw[0], {}};
  spec.length = 1;

  if (is_enumval_kind(kind)) {
    if (!root_type.is_enum())
      util::fail(std::errc::invalid_argument, "enum value relocation on {}, not an enum", type_display_name(btf, root));
    if (spec.raw_length > 1 || first.index >= root_type.vlen())
      util::fail(std::errc::invalid_argument, "access string '{}' names no enumerator of {} ({} enumerators)", access,
                 type_display_name(btf, root), root_type.vlen());
    first.name = root_type.enumerators()[first.index].name();
    return;
  }
  if (!is_field_kind(kind))
    util::fail(std::errc::invalid_argument, "unknown relocation kind {}", static_cast<std::uint32_t>(kind));

  add_bits(spec.bit_offset, first.index, btf.size_of(root_type.id()));
  TypeId id = root_type.id();
  for (std::size_t i = 1; i < spec.raw_length; ++i) {
    const Type t = btf.resolve(id);
    const std::uint32_t index = spec.raw[i];
    if (t.is_struct_or_union()) {
      if (index >= t.vlen())
        util::fail(std::errc::invalid_argument, "access string '{}': member {} of {} [{}], which has {}", access, index,
                   type_display_name(btf, t.id()), t.id(), t.vlen());
      const auto m = t.members()[index];
      spec.bit_offset += m.bit_offset();
      spec.step_names[i] = {};
      if (m.name_offset() != 0) {
        const std::string_view name = m.name();
        if (name.empty())
          util::fail(std::errc::invalid_argument, "member {} of {} [{}] has an empty name", index,
                     type_display_name(btf, t.id()), t.id());
        spec.accessors[spec.length++] = {t.id(), index, name};
        spec.step_names[i] = name;
      }
      id = m.type();
    } else if (t.kind() == Kind::Array) {
      const auto array = t.array();
      const Type element = btf.resolve(array.element_type);
      if (!is_flexible_array(btf, spec.accessors[spec.length - 1], array) && index >= array.count)
        util::fail(std::errc::invalid_argument, "access string '{}': index {} of {} [{}], which has {} elements",
                   access, index, type_display_name(btf, t.id()), t.id(), array.count);
      spec.accessors[spec.length++] = {element.id(), index, {}};
      spec.array_steps |= std::uint64_t{1} << i;
      add_bits(spec.bit_offset, index, btf.size_of(element.id()));
      id = element.id();
    } else {
      util::fail(std::errc::invalid_argument,
                 "access string '{}': step {} goes into {} [{}], not a struct, union or array", access, i,
                 type_display_name(btf, t.id()), t.id());
    }
  }
  spec.has_step_names = true;
}

MemberIndex MemberIndex::build(const Btf& btf, const Type& type) {
  MemberIndex index;
  std::vector<std::uint32_t> path;
  index.entries.reserve(type.vlen());
  index_members(btf, type, 0, path, index);
  std::size_t capacity = 16;
  while (capacity < index.entries.size() * 2) capacity <<= 1;
  index.slots.assign(capacity, 0);
  const std::size_t mask = capacity - 1;
  for (std::uint32_t e = 0; e < index.entries.size(); ++e) {
    const std::string_view name = index.entries[e].name;
    for (std::size_t slot = name_hash(name) & mask;; slot = (slot + 1) & mask) {
      if (index.slots[slot] == 0) {
        index.slots[slot] = e + 1;
        break;
      }
      std::uint32_t last = index.slots[slot] - 1;
      if (index.entries[last].name != name) continue;
      // A second member of that name (only malformed or hand-made BTF has one): chain it.
      while (index.entries[last].next_same_name != kNone) last = index.entries[last].next_same_name;
      index.entries[last].next_same_name = e;
      break;
    }
  }
  return index;
}

std::uint32_t MemberIndex::find(std::string_view name) const {
  const std::size_t mask = slots.size() - 1;
  for (std::size_t slot = name_hash(name) & mask;; slot = (slot + 1) & mask) {
    if (slots[slot] == 0) return kNone;
    if (entries[slots[slot] - 1].name == name) return slots[slot] - 1;
  }
}

bool match_spec(const AccessSpec& local, const Btf& target, TypeId candidate, AccessSpec& out, std::string* why,
                const MemberIndexSource* indexes) {
  reset(out, target, candidate, local.kind);
  if (is_type_kind(local.kind)) {
    const bool ok = local.kind == ReloKind::type_matches
                        ? types_match(*local.btf, local.root_type_id, target, candidate)
                        : types_compatible(*local.btf, local.root_type_id, target, candidate);
    if (!ok && why)
      *why = fmt::format("{} [{}] {} the local type", type_display_name(target, candidate), candidate,
                         local.kind == ReloKind::type_matches ? "does not match" : "is not compatible with");
    return ok;
  }
  if (is_enumval_kind(local.kind)) {
    const Type t = target.resolve(candidate);
    if (!t.is_enum()) {
      if (why) *why = fmt::format("{} [{}] is not an enum", type_display_name(target, candidate), candidate);
      return false;
    }
    const auto wanted = core_essential_name(local.accessors[0].name);
    const auto enumerators = t.enumerators();
    for (std::uint32_t i = 0; i < enumerators.size(); ++i) {
      const auto name = enumerators[i].name();
      if (core_essential_name(name) != wanted) continue;
      out.accessors[0] = {t.id(), i, name};
      out.length = 1;
      push_raw(out, i);
      return true;
    }
    if (why)
      *why = fmt::format("{} [{}] has no enumerator {}", type_display_name(target, t.id()), t.id(),
                         local.accessors[0].name);
    return false;
  }

  MatchContext ctx{local, target, out, why, indexes};
  TypeId target_id = candidate;
  for (std::size_t i = 0; i < local.length; ++i) {
    const Accessor& acc = local.accessors[i];
    if (!acc.name.empty()) {
      if (!match_member(ctx, acc, target_id, &target_id)) {
        if (why && why->empty()) {
          const TypeId holder = target.resolve(target_id).id();
          *why = fmt::format("no field '{}' in {} [{}]", acc.name, type_display_name(target, holder), holder);
        }
        return false;
      }
      continue;
    }
    // An array index; the first accessor indexes the root pointer itself.
    if (i > 0) {
      const Type t = target.resolve(target_id);
      if (t.kind() != Kind::Array) {
        if (why) *why = fmt::format("{} [{}] is not an array", type_display_name(target, t.id()), t.id());
        return false;
      }
      const auto array = t.array();
      if (!is_flexible_array(target, out.accessors[out.length - 1], array) && acc.index >= array.count) {
        if (why)
          *why =
              fmt::format("index {} is out of bounds of {} [{}]", acc.index, type_display_name(target, t.id()), t.id());
        return false;
      }
      target_id = target.resolve(array.element_type).id();
    }
    if (out.raw_length == kMaxSpecLength)
      util::fail(std::errc::argument_list_too_long, "access path is deeper than {} steps", kMaxSpecLength);
    out.accessors[out.length++] = {target_id, acc.index, {}};
    push_raw(out, acc.index);
    add_bits(out.bit_offset, acc.index, target.size_of(target_id));
  }
  return true;
}

std::string format_spec(const AccessSpec& spec) {
  std::string text;
  format_spec(spec, text);
  return text;
}

void format_spec(const AccessSpec& spec, std::string& text) {
  const Btf& btf = *spec.btf;
  if (is_type_kind(spec.kind)) {
    text = type_display_name(btf, spec.root_type_id);
    return;
  }
  if (is_enumval_kind(spec.kind)) {
    text = fmt::format("{}::{}", type_display_name(btf, spec.root_type_id), spec.accessors[0].name);
    return;
  }
  const Type root = btf.type(spec.root_type_id);
  text.assign(root.name().empty() ? std::string_view("(anon)") : root.name());
  auto append_index = [&text](std::uint32_t index) {
    char digits[16];
    const auto end = std::to_chars(digits, digits + sizeof(digits), index).ptr;
    text.push_back('[');
    text.append(digits, end);
    text.push_back(']');
  };
  if (spec.raw_length == 0) return;
  if (spec.raw[0] != 0) append_index(spec.raw[0]);
  if (spec.has_step_names) {
    for (std::size_t i = 1; i < spec.raw_length; ++i) {
      if ((spec.array_steps >> i & 1) != 0) {
        append_index(spec.raw[i]);
      } else if (!spec.step_names[i].empty()) {
        text.push_back('.');
        text.append(spec.step_names[i]);
      }
    }
    return;
  }
  TypeId id = root.id();
  for (std::size_t i = 1; i < spec.raw_length; ++i) {
    const Type t = btf.resolve(id);
    if (t.is_struct_or_union()) {
      const auto m = t.members()[spec.raw[i]];
      const std::string_view name = m.name();
      if (!name.empty()) {
        text.push_back('.');
        text.append(name);
      }
      id = m.type();
    } else {
      append_index(spec.raw[i]);
      id = t.array().element_type;
    }
  }
}

}  // namespace corebpf::core::detail
