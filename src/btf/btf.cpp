// Queries over parsed BTF: type views, the lazily built name index, size/alignment, decl tags.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "btf/btf_source.hpp"
#include "btf/btf_state.hpp"
#include "util/error_format.hpp"

namespace corebpf::btf {

namespace detail {

namespace {

// The NUL-terminated string at `offset` (validated at parse time), or "" when out of range.
const char* string_pointer(const BtfData& data, std::uint32_t offset) noexcept {
  const BtfData* d = &data;
  // Split BTF: offsets below this BTF's base range belong to the base chain.
  while (offset < d->base_strings_size && d->base) d = d->base.get();
  offset -= d->base_strings_size;
  return offset < d->strings_size ? d->strings + offset : "";
}

// One past the last byte of the string section holding `offset`.
const char* strings_end(const BtfData& data, std::uint32_t offset) noexcept {
  const BtfData* d = &data;
  while (offset < d->base_strings_size && d->base) d = d->base.get();
  return d->strings + d->strings_size;
}

}  // namespace

std::string_view string_at(const BtfData& data, std::uint32_t offset) noexcept {
  return std::string_view(string_pointer(data, offset));
}

std::uint32_t name_hash(std::string_view name) noexcept {
  // Eight bytes per multiply: names average ~15 bytes and there are ~100k of them in vmlinux.
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = name.size() * kMul;
  const char* p = name.data();
  std::size_t n = name.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 32;
  }
  if (n > 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = (h ^ word) * kMul;
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return static_cast<std::uint32_t>(h >> 32) | 1u;  // never 0, so (hash, id) slots are never 0
}

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7full;

// 0x80 in every byte of `word` equal to `byte` (exact: no borrow between bytes).
constexpr std::uint64_t bytes_equal(std::uint64_t word, std::uint8_t byte) noexcept {
  const std::uint64_t x = word ^ (kOnes * byte);
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// essential_name() for a NUL-terminated BTF string in one scan, eight bytes at a time while the
// string section has eight bytes left (vmlinux has ~100k names; this loop is the index build).
std::string_view essential_prefix(const char* s, const char* section_end) noexcept {
  const char* p = s;
  std::uint64_t previous_underscores = 0;  // underscore bytes of the previous word
  while (section_end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    const std::uint64_t nul = bytes_equal(word, 0);
    std::uint64_t underscores = bytes_equal(word, '_');
    if (nul != 0) underscores &= (nul & (~nul + 1)) - 1;  // only bytes before the NUL
    // Bit 0x80 of byte i (counting the previous word's last two bytes as -2, -1) starts a "___".
    const unsigned __int128 window = (static_cast<unsigned __int128>(underscores) << 16) | (previous_underscores >> 48);
    const unsigned __int128 triples = window & (window >> 8) & (window >> 16);
    if (triples != 0) {
      const int first_byte = __builtin_ctzll(static_cast<std::uint64_t>(triples)) / 8;  // fits: < 80 bits
      return {s, static_cast<std::size_t>(p - s) + first_byte - 2};
    }
    if (nul != 0) return {s, static_cast<std::size_t>(p - s) + __builtin_ctzll(nul) / 8};
    previous_underscores = underscores;
    p += 8;
  }
  // The section's last few bytes: finish byte by byte, still seeing a "___" begun before.
  std::size_t n = static_cast<std::size_t>(p - s);
  const std::size_t start = n >= 2 ? n - 2 : 0;
  for (std::size_t i = start; s[i] != '\0'; ++i)
    if (s[i] == '_' && s[i + 1] == '_' && s[i + 2] == '_') return {s, i};
  return {s, std::strlen(s)};
}

}  // namespace

const NameIndex& name_index(const BtfData& data, NameScope scope) {
  const std::size_t part = scope == NameScope::symbols ? 1 : 0;
  std::call_once(data.name_index_once[part], [&data, scope, part] {
    const std::size_t count = data.type_offsets.size();
    // Hash first (sequential reads), then insert with prefetching: the table is larger than the
    // cache and the inserts are random, so overlapping their misses is most of the speed.
    std::vector<std::uint64_t> entries;
    entries.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const auto* raw = reinterpret_cast<const RawType*>(data.types + data.type_offsets[i]);
      if (raw->name_off == 0 || name_scope(static_cast<Kind>((raw->info >> 24) & 0x1f)) != scope) continue;
      const std::uint32_t hash =
          name_hash(essential_prefix(string_pointer(data, raw->name_off), strings_end(data, raw->name_off)));
      entries.push_back((std::uint64_t{hash} << 32) | (data.first_id + static_cast<TypeId>(i)));
    }
    std::size_t capacity = 16;
    while (capacity < entries.size() * 2) capacity <<= 1;
    auto& index = data.name_index[part];
    index.slots.assign(capacity, 0);
    index.mask = capacity - 1;
    constexpr std::size_t kAhead = 16;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (k + kAhead < entries.size()) __builtin_prefetch(&index.slots[(entries[k + kAhead] >> 32) & index.mask], 1);
      std::size_t slot = (entries[k] >> 32) & index.mask;
      while (index.slots[slot] != 0) slot = (slot + 1) & index.mask;
      index.slots[slot] = entries[k];
    }
  });
  return data.name_index[part];
}

}  // namespace detail

namespace {

using detail::BtfData;

// Lookups per scope answered by scanning the types before the index is built. Indexing vmlinux
// costs about as much as a dozen scans: a load that asks for a few names (a kfunc, an attach
// target) never pays for it, one that asks for many (CO-RE candidates) builds it once.
constexpr std::uint32_t kScansBeforeIndex = 4;

// visit_essential() without the index: every type in id order.
template <typename Visit>
bool scan_essential(const BtfData& data, NameScope scope, std::string_view key, Visit&& visit) {
  const std::size_t count = data.type_offsets.size();
  for (std::size_t i = 0; i < count; ++i) {
    const auto* raw = reinterpret_cast<const detail::RawType*>(data.types + data.type_offsets[i]);
    if (raw->name_off == 0) continue;
    const char* name = detail::string_pointer(data, raw->name_off);
    if (!key.empty() && name[0] != key[0]) continue;
    if (name_scope(static_cast<Kind>((raw->info >> 24) & 0x1f)) != scope) continue;
    if (essential_name(name) != key) continue;
    if (visit(data.first_id + static_cast<TypeId>(i))) return true;
  }
  return false;
}

// The ids prefetch_names() found for `key`, or nullptr when it was not announced.
const std::vector<TypeId>* prefetched_ids(const BtfData& data, NameScope scope, std::string_view key) {
  if (data.prefetched_count.load(std::memory_order_acquire) == 0) return nullptr;
  const std::lock_guard lock(data.prefetched_mutex);
  for (const auto& entry : data.prefetched)
    if (entry.scope == scope && entry.key == key) return &entry.ids;
  return nullptr;
}

// Calls `visit(id)` for every type of `data` (not its base) whose essential name is `key`, in id
// order (the index's probe order keeps it); stops early when `visit` returns true.
template <typename Visit>
bool visit_essential(const BtfData& data, NameScope scope, std::string_view key, Visit&& visit) {
  if (const auto* ids = prefetched_ids(data, scope, key)) {
    for (const TypeId id : *ids)
      if (visit(id)) return true;
    return false;
  }
  const std::size_t part = scope == NameScope::symbols ? 1 : 0;
  if (data.name_lookups[part].fetch_add(1, std::memory_order_relaxed) < kScansBeforeIndex)
    return scan_essential(data, scope, key, visit);
  const auto& index = detail::name_index(data, scope);
  const std::uint32_t hash = detail::name_hash(key);
  for (std::size_t slot = hash & index.mask;; slot = (slot + 1) & index.mask) {
    const std::uint64_t entry = index.slots[slot];
    if (entry == 0) return false;
    if (static_cast<std::uint32_t>(entry >> 32) != hash) continue;
    const auto id = static_cast<TypeId>(entry);
    if (essential_name(detail::string_at(data, data.raw_type(id)->name_off)) != key) continue;
    if (visit(id)) return true;
  }
}

// One scan of `data` for every key of `queries` not yet answered there: the ids of each key
// found in id order, kept in data.prefetched. Counts as one lookup of each part it scanned.
void prefetch_into(const BtfData& data, std::span<const NameQuery> queries) {
  struct Wanted {
    NameScope scope;
    std::string_view key;
    std::vector<TypeId> ids;
  };
  std::vector<Wanted> wanted;
  auto add = [&](NameScope scope, std::string_view key) {
    const std::size_t part = scope == NameScope::symbols ? 1 : 0;
    // Once the index is in use a lookup costs a probe: nothing to gain.
    if (key.empty() || data.name_lookups[part].load(std::memory_order_relaxed) >= kScansBeforeIndex) return;
    if (prefetched_ids(data, scope, key) != nullptr) return;
    for (const Wanted& w : wanted)
      if (w.scope == scope && w.key == key) return;
    wanted.push_back({scope, key, {}});
  };
  for (const NameQuery& query : queries) {
    const std::string_view key = essential_name(query.name);
    if (query.scope != NameScope::symbols) add(NameScope::types, key);
    if (query.scope != NameScope::types) add(NameScope::symbols, key);
  }
  if (wanted.empty()) return;

  // A type is compared with the keys only when its name's first two bytes start one of them.
  std::vector<std::uint64_t> first_two(65536 / 64, 0);
  auto two_bytes = [](const char* s) {
    const auto first = static_cast<unsigned char>(s[0]);
    return first == 0 ? 0u : (unsigned{first} << 8) | static_cast<unsigned char>(s[1]);
  };
  auto mark = [&](unsigned bits) { first_two[bits / 64] |= std::uint64_t{1} << (bits % 64); };
  for (const Wanted& w : wanted) {
    const unsigned first = static_cast<unsigned char>(w.key[0]);
    if (w.key.size() > 1) {
      mark((first << 8) | static_cast<unsigned char>(w.key[1]));
    } else {
      mark(first << 8);          // the name itself
      mark((first << 8) | '_');  // its flavors, "x___..."
    }
  }
  const std::size_t count = data.type_offsets.size();
  for (std::size_t i = 0; i < count; ++i) {
    const auto* raw = reinterpret_cast<const detail::RawType*>(data.types + data.type_offsets[i]);
    if (raw->name_off == 0) continue;
    const char* name = detail::string_pointer(data, raw->name_off);
    const unsigned bits = two_bytes(name);
    if ((first_two[bits / 64] & (std::uint64_t{1} << (bits % 64))) == 0) continue;
    const NameScope scope = name_scope(static_cast<Kind>((raw->info >> 24) & 0x1f));
    const std::string_view essential = essential_name(name);
    for (Wanted& w : wanted)
      if (w.scope == scope && w.key == essential) w.ids.push_back(data.first_id + static_cast<TypeId>(i));
  }

  const std::lock_guard lock(data.prefetched_mutex);
  bool scanned[2] = {false, false};
  for (Wanted& w : wanted) {
    bool present = false;  // another thread may have announced it meanwhile
    for (const auto& entry : data.prefetched) present = present || (entry.scope == w.scope && entry.key == w.key);
    if (!present) data.prefetched.push_back({w.scope, std::string(w.key), std::move(w.ids)});
    scanned[w.scope == NameScope::symbols ? 1 : 0] = true;
  }
  for (std::size_t part = 0; part < 2; ++part)
    if (scanned[part]) data.name_lookups[part].fetch_add(1, std::memory_order_relaxed);
  data.prefetched_count.store(data.prefetched.size(), std::memory_order_release);
}

// Base chain first, so results come out in id order across split BTF.
template <typename Visit>
void visit_chain(const BtfData& data, NameScope scope, std::string_view key, Visit&& visit) {
  if (data.base) visit_chain(*data.base, scope, key, visit);
  if (scope != NameScope::symbols) visit_essential(data, NameScope::types, key, visit);
  if (scope != NameScope::types) visit_essential(data, NameScope::symbols, key, visit);
}

constexpr int kMaxChain = 64;  // deeper typedef/modifier/array chains are malformed or cyclic

}  // namespace

std::string_view kind_name(Kind kind) noexcept {
  static constexpr std::string_view names[] = {
      "UNKN",  "INT",      "PTR",  "ARRAY",      "STRUCT", "UNION",   "ENUM",  "FWD",      "TYPEDEF",  "VOLATILE",
      "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR",    "DATASEC", "FLOAT", "DECL_TAG", "TYPE_TAG", "ENUM64"};
  const auto i = static_cast<std::size_t>(kind);
  return i < std::size(names) ? names[i] : "UNKN";
}

Endian native_endian() noexcept { return std::endian::native == std::endian::little ? Endian::little : Endian::big; }

NameScope name_scope(Kind kind) noexcept {
  switch (kind) {
    case Kind::Func:
    case Kind::Var:
    case Kind::Datasec:
    case Kind::DeclTag:
      return NameScope::symbols;
    default:
      return NameScope::types;
  }
}

std::string_view essential_name(std::string_view name) noexcept {
  const auto pos = name.find("___");
  return pos == std::string_view::npos ? name : name.substr(0, pos);
}

// ---- Type ----

IntInfo Type::int_info() const {
  if (kind() != Kind::Int) return {};
  std::uint32_t word;
  std::memcpy(&word, extra(), 4);
  return {static_cast<std::uint8_t>((word >> 24) & 0x0f), static_cast<std::uint8_t>((word >> 16) & 0xff),
          static_cast<std::uint8_t>(word & 0xff)};
}

ArrayInfo Type::array() const {
  if (kind() != Kind::Array) return {};
  const auto* a = static_cast<const detail::RawArray*>(extra());
  return {a->type, a->index_type, a->nelems};
}

Members Type::members() const {
  if (!is_struct_or_union()) return {};
  return Members(data_, static_cast<const detail::RawMember*>(extra()), vlen(), kind_flag());
}

Enumerators Type::enumerators() const {
  if (!is_enum()) return {};
  return Enumerators(data_, extra(), vlen(), kind() == Kind::Enum64, kind_flag());
}

Params Type::params() const {
  if (kind() != Kind::FuncProto) return {};
  return Params(data_, static_cast<const detail::RawParam*>(extra()), vlen(), false);
}

VarSecinfos Type::datasec_vars() const {
  if (kind() != Kind::Datasec) return {};
  return VarSecinfos(data_, static_cast<const detail::RawVarSecinfo*>(extra()), vlen(), false);
}

Linkage Type::linkage() const {
  if (kind() == Kind::Func) return static_cast<Linkage>(vlen());
  if (kind() == Kind::Var) {
    std::uint32_t linkage;
    std::memcpy(&linkage, extra(), 4);
    return static_cast<Linkage>(linkage);
  }
  return Linkage::static_;
}

std::int32_t Type::component_index() const {
  if (kind() != Kind::DeclTag) return -1;
  std::int32_t component;
  std::memcpy(&component, extra(), 4);
  return component;
}

std::span<const std::byte> Type::extra_bytes() const {
  if (!raw_) return {};
  return {static_cast<const std::byte*>(extra()), detail::extra_size(kind(), vlen())};
}

// ---- Btf: construction ----

Btf Btf::load(const std::string& path, const LoadOptions& options) {
  auto source = detail::open_btf_source(path);
  return Btf(
      detail::parse_blob(source.blob, std::move(source.keepalive), path, options.base ? options.base->data_ : nullptr));
}

Btf Btf::load_vmlinux() { return load("/sys/kernel/btf/vmlinux"); }

Btf Btf::from_bytes(std::span<const std::byte> bytes, const LoadOptions& options, std::string source_name) {
  return from_vector(std::vector<std::byte>(bytes.begin(), bytes.end()), options, std::move(source_name));
}

Btf Btf::from_vector(std::vector<std::byte> bytes, const LoadOptions& options, std::string source_name) {
  auto source = detail::btf_source_from_memory(std::move(bytes), source_name);
  return Btf(detail::parse_blob(source.blob, std::move(source.keepalive), std::move(source_name),
                                options.base ? options.base->data_ : nullptr));
}

// ---- Btf: queries ----

const std::string& Btf::source_name() const { return data_->source_name; }
Endian Btf::endian() const { return data_->endian; }
std::uint32_t Btf::type_count() const { return data_->total_count; }
TypeId Btf::first_id() const { return data_->first_id; }

std::optional<Btf> Btf::base() const {
  if (!data_->base) return std::nullopt;
  return Btf(data_->base);
}

std::optional<Type> Btf::try_type(TypeId id) const noexcept {
  if (id == 0) return Type(data_.get(), 0, nullptr);
  const BtfData* d = data_.get();
  if (id >= d->total_count) return std::nullopt;
  while (id < d->first_id) d = d->base.get();
  return Type(d, id, d->raw_type(id));
}

Type Btf::type(TypeId id) const {
  if (auto t = try_type(id)) return *t;
  util::fail(std::errc::invalid_argument, "{}: type id {} does not exist (the last is {})", data_->source_name, id,
             data_->total_count - 1);
}

std::optional<Type> Btf::find(std::string_view name) const {
  std::optional<Type> found;
  visit_chain(*data_, NameScope::all, essential_name(name), [&](TypeId id) {
    auto t = type(id);
    if (t.name() != name) return false;
    if (!found || id < found->id()) found = t;
    return false;
  });
  return found;
}

std::optional<Type> Btf::find(std::string_view name, Kind kind) const {
  std::optional<Type> found;
  visit_chain(*data_, name_scope(kind), essential_name(name), [&](TypeId id) {
    auto t = type(id);
    if (t.kind() != kind || t.name() != name) return false;
    if (!found || id < found->id()) found = t;
    return false;
  });
  return found;
}

void Btf::prefetch_names(std::span<const NameQuery> queries) const {
  for (const BtfData* data = data_.get(); data != nullptr; data = data->base.get()) prefetch_into(*data, queries);
}

std::vector<TypeId> Btf::find_all_essential(std::string_view key, NameScope scope) const {
  std::vector<TypeId> ids;
  visit_chain(*data_, scope, key, [&](TypeId id) {
    ids.push_back(id);
    return false;
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<TypeId> Btf::find_all(std::string_view name, NameScope scope) const {
  std::vector<TypeId> ids;
  visit_chain(*data_, scope, essential_name(name), [&](TypeId id) {
    if (type(id).name() == name) ids.push_back(id);
    return false;
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

Type Btf::skip_modifiers(TypeId id) const {
  Type t = type(id);
  for (int depth = 0; t.is_modifier(); ++depth) {
    if (depth == kMaxChain)
      util::fail(std::errc::invalid_argument, "{}: type [{}]: modifier chain is cyclic or deeper than {}",
                 data_->source_name, id, kMaxChain);
    t = type(t.type());
  }
  return t;
}

Type Btf::resolve(TypeId id) const {
  Type t = type(id);
  for (int depth = 0; t.is_modifier() || t.kind() == Kind::Typedef; ++depth) {
    if (depth == kMaxChain)
      util::fail(std::errc::invalid_argument, "{}: type [{}]: typedef/modifier chain is cyclic or deeper than {}",
                 data_->source_name, id, kMaxChain);
    t = type(t.type());
  }
  return t;
}

std::uint32_t Btf::pointer_size() const { return data_->pointer_size; }

std::uint64_t Btf::size_of(TypeId id) const {
  // Past 4 GiB of elements only a zero-sized element (or a later zero count) keeps the type
  // legal, so an overflow is remembered and the walk goes on to the element.
  std::uint64_t multiplier = 1;
  bool overflowed = false;
  auto total = [&](std::uint64_t element_size) -> std::uint64_t {
    if (element_size == 0 || multiplier == 0) return 0;
    if (overflowed || multiplier * element_size > UINT32_MAX)
      util::fail(std::errc::value_too_large, "{}: type [{}] is larger than 4 GiB", data_->source_name, id);
    return multiplier * element_size;
  };
  TypeId current = id;
  for (int depth = 0; depth < kMaxChain; ++depth) {
    Type t = resolve(current);
    switch (t.kind()) {
      case Kind::Int:
      case Kind::Struct:
      case Kind::Union:
      case Kind::Enum:
      case Kind::Enum64:
      case Kind::Datasec:
      case Kind::Float:
        return total(t.size());
      case Kind::Ptr:
        return total(data_->pointer_size);
      case Kind::Var:
        current = t.type();
        continue;
      case Kind::Array: {
        const auto a = t.array();
        if (a.count == 0) {
          multiplier = 0;
          overflowed = false;
        } else if (!overflowed) {
          multiplier *= a.count;  // both factors are below 2^32: no wrap
          if (multiplier > UINT32_MAX) overflowed = true;
        }
        if (overflowed) multiplier = 1;  // only "non-zero" matters from here on
        current = a.element_type;
        continue;
      }
      default:
        util::fail(std::errc::invalid_argument, "{}: type [{}] ({} '{}') has no size", data_->source_name, id,
                   kind_name(t.kind()), t.name());
    }
  }
  util::fail(std::errc::invalid_argument, "{}: type [{}]: array chain is cyclic or deeper than {}", data_->source_name,
             id, kMaxChain);
}

std::uint32_t Btf::alignment_of(TypeId id) const {
  // Structs nest; bound the recursion so a malformed (self-containing) struct cannot overflow the
  // stack, and remember each struct's answer so shared members (a DAG) are not walked again and
  // again, which grows exponentially with the depth.
  struct Walker {
    const Btf& btf;
    std::unordered_map<TypeId, std::uint32_t> known;  // struct/union id -> alignment
    std::uint32_t align(TypeId id, int depth) {
      if (depth > kMaxChain)
        util::fail(std::errc::invalid_argument, "{}: type [{}]: nesting is cyclic or deeper than {}", btf.source_name(),
                   id, kMaxChain);
      Type t = btf.resolve(id);
      switch (t.kind()) {
        case Kind::Int:
        case Kind::Float:
        case Kind::Enum:
        case Kind::Enum64:
          return std::min<std::uint32_t>(std::bit_floor(std::max<std::uint32_t>(t.size(), 1)), 16);
        case Kind::Ptr:
          return btf.pointer_size();
        case Kind::Array:
          return align(t.array().element_type, depth + 1);
        case Kind::Var:
          return align(t.type(), depth + 1);
        case Kind::Struct:
        case Kind::Union: {
          if (auto it = known.find(t.id()); it != known.end()) return it->second;
          const std::uint32_t result = struct_align(t, depth);
          known.emplace(t.id(), result);
          return result;
        }
        default:
          return 1;
      }
    }
    std::uint32_t struct_align(const Type& t, int depth) {
      std::uint32_t max_align = 1;
      for (auto m : t.members()) {
        const std::uint32_t a = align(m.type(), depth + 1);
        // A member placed off its natural alignment means the struct is packed.
        if (m.bitfield_size() == 0 && m.bit_offset() % (8 * a) != 0) return 1;
        max_align = std::max(max_align, a);
      }
      if (t.size() % max_align != 0) return 1;
      return max_align;
    }
  };
  return Walker{*this, {}}.align(id, 0);
}

std::vector<TypeId> Btf::decl_tags(TypeId id) const {
  std::vector<TypeId> tags;
  const BtfData* chain[8];
  int n = 0;
  for (const BtfData* d = data_.get(); d && n < 8; d = d->base.get()) chain[n++] = d;
  for (int i = n - 1; i >= 0; --i) {
    const BtfData& d = *chain[i];
    std::call_once(d.decl_tag_once, [&d] {
      for (std::size_t k = 0; k < d.type_offsets.size(); ++k) {
        const auto* raw = reinterpret_cast<const detail::RawType*>(d.types + d.type_offsets[k]);
        if (static_cast<Kind>((raw->info >> 24) & 0x1f) == Kind::DeclTag)
          d.decl_tag_index.emplace_back(raw->size_or_type, d.first_id + static_cast<TypeId>(k));
      }
      std::sort(d.decl_tag_index.begin(), d.decl_tag_index.end());
    });
    auto it = std::lower_bound(d.decl_tag_index.begin(), d.decl_tag_index.end(), std::pair<TypeId, TypeId>(id, 0));
    for (; it != d.decl_tag_index.end() && it->first == id; ++it) tags.push_back(it->second);
  }
  return tags;
}

std::vector<TypeId> Btf::decl_tags(TypeId id, std::int32_t component) const {
  auto tags = decl_tags(id);
  std::erase_if(tags, [&](TypeId tag) { return type(tag).component_index() != component; });
  return tags;
}

std::string_view Btf::string_at(std::uint32_t offset) const { return detail::string_at(*data_, offset); }
std::uint32_t Btf::string_section_size() const { return data_->strings_size; }
std::span<const std::byte> Btf::raw_bytes() const { return data_->blob; }

}  // namespace corebpf::btf
