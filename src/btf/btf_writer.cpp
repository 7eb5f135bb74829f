// BTF writer: types are kept as host-order 32-bit words exactly as they will be laid out, strings
// in one append-only section indexed by a hash table of offsets, so serializing is a header plus
// two copies (and a byte swap for the other byte order).
#include "corebpf/btf_writer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "btf/btf_state.hpp"
#include "util/error_format.hpp"

namespace corebpf::btf {
namespace {

constexpr std::uint32_t kMaxVlen = 0xffff;
constexpr std::uint32_t kMaxBitfieldOffset = 0xffffff;  // kind_flag members keep 24 bits of offset
constexpr TypeId kMaxTypeId = 0x7fffffff;

std::uint32_t make_info(Kind kind, std::uint32_t vlen, bool kind_flag) {
  return (kind_flag ? 0x80000000u : 0u) | (static_cast<std::uint32_t>(kind) << 24) | vlen;
}

Kind kind_of(std::uint32_t info) { return static_cast<Kind>((info >> 24) & 0x1f); }

bool is_power_of_two_up_to(std::uint32_t value, std::uint32_t limit) {
  return value != 0 && value <= limit && (value & (value - 1)) == 0;
}

template <typename... Args>
[[noreturn]] void bad_call(fmt::format_string<Args...> format, Args&&... args) {
  util::fail(std::errc::invalid_argument, "BTF writer: {}", fmt::format(format, std::forward<Args>(args)...));
}

// Open addressing over string offsets; a slot is (hash << 32 | offset), 0 = empty. Offset 0 is
// always the empty string, which never goes into the table, so no real slot is 0.
class StringTable {
 public:
  template <typename ViewAt>
  std::uint32_t find(std::string_view text, std::uint32_t hash, ViewAt&& view_at) const {
    if (slots_.empty()) return 0;
    for (std::size_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
      const std::uint64_t entry = slots_[slot];
      if (entry == 0) return 0;
      if (static_cast<std::uint32_t>(entry >> 32) == hash) {
        const auto offset = static_cast<std::uint32_t>(entry);
        if (view_at(offset) == text) return offset;
      }
    }
  }

  void insert(std::uint32_t hash, std::uint32_t offset) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    place((std::uint64_t{hash} << 32) | offset);
    ++count_;
  }

 private:
  void place(std::uint64_t entry) {
    std::size_t slot = (entry >> 32) & mask_;
    while (slots_[slot] != 0) slot = (slot + 1) & mask_;
    slots_[slot] = entry;
  }

  void grow() {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    mask_ = slots_.size() - 1;
    for (std::uint64_t entry : old)
      if (entry != 0) place(entry);
  }

  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
};

}  // namespace

struct BtfWriter::State {
  std::optional<Btf> base;
  TypeId first_id = 1;
  std::uint32_t base_strings_size = 0;
  bool base_strings_indexed = false;

  std::vector<char> strings;  // this BTF's own string section
  StringTable string_table;
  std::vector<std::uint32_t> words;        // the type section, host order
  std::vector<std::uint32_t> type_starts;  // [id - first_id] -> index into `words`

  std::string_view string_view_at(std::uint32_t offset) const {
    if (offset < base_strings_size) return detail::string_at(base->data(), offset);
    return std::string_view(strings.data() + (offset - base_strings_size));
  }

  // Base strings are referred to rather than duplicated, as the kernel expects of module BTF.
  void index_base_strings() {
    base_strings_indexed = true;
    std::vector<const detail::BtfData*> chain;
    for (const detail::BtfData* d = &base->data(); d != nullptr; d = d->base.get()) chain.push_back(d);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const detail::BtfData& d = **it;
      for (std::uint32_t pos = 0; pos < d.strings_size;) {
        const std::string_view text(d.strings + pos);
        const std::uint32_t offset = d.base_strings_size + pos;
        pos += static_cast<std::uint32_t>(text.size()) + 1;
        if (text.empty()) continue;
        const std::uint32_t hash = detail::name_hash(text);
        if (find_string(text, hash) == 0) string_table.insert(hash, offset);
      }
    }
  }

  std::uint32_t find_string(std::string_view text, std::uint32_t hash) const {
    return string_table.find(text, hash, [this](std::uint32_t offset) { return string_view_at(offset); });
  }

  std::uint32_t add_string(std::string_view text) {
    if (text.empty()) return 0;
    if (const auto nul = text.find('\0'); nul != std::string_view::npos)
      bad_call("string starting '{}' contains a NUL byte at position {}",
               text.substr(0, std::min<std::size_t>(nul, 64)), nul);
    if (base && !base_strings_indexed) index_base_strings();
    const std::uint32_t hash = detail::name_hash(text);
    if (const std::uint32_t found = find_string(text, hash); found != 0) return found;
    const std::uint64_t offset = std::uint64_t{base_strings_size} + strings.size();
    if (offset + text.size() + 1 > std::numeric_limits<std::uint32_t>::max())
      bad_call("string section would exceed 4 GiB");
    strings.insert(strings.end(), text.begin(), text.end());
    strings.push_back('\0');
    string_table.insert(hash, static_cast<std::uint32_t>(offset));
    return static_cast<std::uint32_t>(offset);
  }

  TypeId next_id() const { return first_id + static_cast<TypeId>(type_starts.size()); }

  TypeId start_type(std::string_view name, std::uint32_t info, std::uint32_t size_or_type) {
    const TypeId id = next_id();
    if (id > kMaxTypeId) bad_call("too many types (the last id would be {})", id);
    const std::uint32_t name_off = add_string(name);
    type_starts.push_back(static_cast<std::uint32_t>(words.size()));
    words.insert(words.end(), {name_off, info, size_or_type});
    return id;
  }

  // The index in `words` of the info word of the last type, which must be one of `kinds` and have
  // room for one more vlen record. The caller bumps vlen once the record is in place.
  std::size_t open_record(std::initializer_list<Kind> kinds, const char* what) const {
    if (!type_starts.empty()) {
      const std::size_t info_index = type_starts.back() + 1;
      const std::uint32_t info = words[info_index];
      for (Kind kind : kinds)
        if (kind_of(info) == kind) {
          if ((info & 0xffff) == kMaxVlen)
            bad_call("type [{}] already has the maximum of {} {}s", next_id() - 1, kMaxVlen, what);
          return info_index;
        }
    }
    bad_call("{} added, but the last type added cannot hold one", what);
  }

  // Names the first type id that type `owner` refers to but `limit` (the type count) does not cover.
  void check_refs(TypeId owner, std::uint32_t limit) const {
    const std::size_t start = type_starts[owner - first_id];
    const std::uint32_t info = words[start + 1];
    const std::uint32_t vlen = info & 0xffff;
    const std::uint32_t* record = words.data() + start + 3;
    auto check = [&](TypeId ref, std::string_view what, std::uint32_t what_name_off) {
      if (ref < limit) return;
      const std::string_view what_name = string_view_at(what_name_off);
      bad_call("type [{}] {} '{}': {}{}{}{} refers to type id {}, but the last type id is {}", owner,
               kind_name(kind_of(info)), string_view_at(words[start]), what, what_name.empty() ? "" : " '", what_name,
               what_name.empty() ? "" : "'", ref, limit - 1);
    };
    switch (kind_of(info)) {
      case Kind::Ptr:
      case Kind::Typedef:
      case Kind::Volatile:
      case Kind::Const:
      case Kind::Restrict:
      case Kind::TypeTag:
      case Kind::Func:
      case Kind::Var:
      case Kind::DeclTag:
        check(words[start + 2], "type", 0);
        break;
      case Kind::FuncProto:
        check(words[start + 2], "return type", 0);
        for (std::uint32_t i = 0; i < vlen; ++i) check(record[2 * i + 1], "parameter", record[2 * i]);
        break;
      case Kind::Array:
        check(record[0], "element type", 0);
        check(record[1], "index type", 0);
        break;
      case Kind::Struct:
      case Kind::Union:
        for (std::uint32_t i = 0; i < vlen; ++i) check(record[3 * i + 1], "member", record[3 * i]);
        break;
      case Kind::Datasec:
        for (std::uint32_t i = 0; i < vlen; ++i) check(record[3 * i], "variable", 0);
        break;
      default:
        break;
    }
  }
};

BtfWriter::BtfWriter() : state_(std::make_unique<State>()) { state_->strings.push_back('\0'); }

BtfWriter::BtfWriter(const Btf& base) : state_(std::make_unique<State>()) {
  state_->base = base;
  state_->first_id = base.type_count();
  state_->base_strings_size = base.data().base_strings_size + base.data().strings_size;
}

BtfWriter::BtfWriter(BtfWriter&&) noexcept = default;
BtfWriter& BtfWriter::operator=(BtfWriter&&) noexcept = default;
BtfWriter::~BtfWriter() = default;

std::uint32_t BtfWriter::add_string(std::string_view text) { return state_->add_string(text); }

TypeId BtfWriter::next_id() const { return state_->next_id(); }
TypeId BtfWriter::first_id() const { return state_->first_id; }
const Btf* BtfWriter::base() const { return state_->base ? &*state_->base : nullptr; }

TypeId BtfWriter::add_int(std::string_view name, std::uint32_t size, std::uint8_t encoding, std::uint8_t bit_offset,
                          std::uint8_t bits) {
  if (!is_power_of_two_up_to(size, 16)) bad_call("INT '{}' size {} is not 1, 2, 4, 8 or 16", name, size);
  const std::uint32_t width = bits == 0 ? size * 8 : bits;
  if (std::uint32_t{bit_offset} + width > size * 8)
    bad_call("INT '{}' bits {} at bit offset {} do not fit its {} bytes", name, width, bit_offset, size);
  if (encoding != 0 && encoding != kIntSigned && encoding != kIntChar && encoding != kIntBool)
    bad_call("INT '{}' encoding 0x{:x} is not one of signed, char or bool", name, encoding);
  const TypeId id = state_->start_type(name, make_info(Kind::Int, 0, false), size);
  state_->words.push_back((std::uint32_t{encoding} << 24) | (std::uint32_t{bit_offset} << 16) | width);
  return id;
}

TypeId BtfWriter::add_ptr(TypeId target) { return state_->start_type({}, make_info(Kind::Ptr, 0, false), target); }

TypeId BtfWriter::add_array(TypeId element_type, TypeId index_type, std::uint32_t count) {
  const TypeId id = state_->start_type({}, make_info(Kind::Array, 0, false), 0);
  state_->words.insert(state_->words.end(), {element_type, index_type, count});
  return id;
}

TypeId BtfWriter::add_struct(std::string_view name, std::uint32_t size) {
  return state_->start_type(name, make_info(Kind::Struct, 0, false), size);
}

TypeId BtfWriter::add_union(std::string_view name, std::uint32_t size) {
  return state_->start_type(name, make_info(Kind::Union, 0, false), size);
}

void BtfWriter::add_member(std::string_view name, TypeId type, std::uint32_t bit_offset, std::uint8_t bitfield_size) {
  auto& s = *state_;
  const std::size_t info_index = s.open_record({Kind::Struct, Kind::Union}, "member");
  const std::uint32_t info = s.words[info_index];
  const TypeId owner = s.next_id() - 1;
  const std::size_t first_member = s.type_starts.back() + 3;
  const bool switch_to_kind_flag = bitfield_size != 0 && (info >> 31) == 0;
  if (switch_to_kind_flag) {
    // Earlier members' plain bit offsets stay valid under kind_flag only if they fit its 24 bits.
    for (std::size_t i = first_member + 2; i < s.words.size(); i += 3)
      if (s.words[i] > kMaxBitfieldOffset)
        bad_call(
            "type [{}]: bitfield '{}' needs the kind_flag encoding, but an earlier member's bit offset {} "
            "exceeds its 24 bits",
            owner, name, s.words[i]);
  }
  const bool kind_flag = switch_to_kind_flag || (info >> 31) != 0;
  if (kind_flag && bit_offset > kMaxBitfieldOffset)
    bad_call("type [{}]: member '{}' bit offset {} exceeds the 24 bits of the bitfield encoding", owner, name,
             bit_offset);
  const std::uint32_t offset = kind_flag ? (std::uint32_t{bitfield_size} << 24) | bit_offset : bit_offset;
  const std::uint32_t name_off = s.add_string(name);
  s.words.insert(s.words.end(), {name_off, type, offset});
  s.words[info_index] = (info + 1) | (kind_flag ? 0x80000000u : 0u);
}

TypeId BtfWriter::add_enum(std::string_view name, std::uint32_t size, bool is_signed) {
  if (!is_power_of_two_up_to(size, 8)) bad_call("ENUM '{}' size {} is not 1, 2, 4 or 8", name, size);
  return state_->start_type(name, make_info(Kind::Enum, 0, is_signed), size);
}

TypeId BtfWriter::add_enum64(std::string_view name, std::uint32_t size, bool is_signed) {
  if (!is_power_of_two_up_to(size, 8)) bad_call("ENUM64 '{}' size {} is not 1, 2, 4 or 8", name, size);
  return state_->start_type(name, make_info(Kind::Enum64, 0, is_signed), size);
}

void BtfWriter::add_enumerator(std::string_view name, std::int64_t value) {
  auto& s = *state_;
  const std::size_t info_index = s.open_record({Kind::Enum, Kind::Enum64}, "enumerator");
  const std::uint32_t info = s.words[info_index];
  const auto bits = static_cast<std::uint64_t>(value);
  const bool is_enum64 = kind_of(info) == Kind::Enum64;
  if (!is_enum64 &&
      (value < std::numeric_limits<std::int32_t>::min() || value > std::numeric_limits<std::uint32_t>::max()))
    bad_call("type [{}]: enumerator '{}' value {} does not fit a 32-bit ENUM", s.next_id() - 1, name, value);
  const std::uint32_t name_off = s.add_string(name);
  s.words.insert(s.words.end(), {name_off, static_cast<std::uint32_t>(bits)});
  if (is_enum64) s.words.push_back(static_cast<std::uint32_t>(bits >> 32));
  ++s.words[info_index];
}

TypeId BtfWriter::add_fwd(std::string_view name, bool is_union) {
  return state_->start_type(name, make_info(Kind::Fwd, 0, is_union), 0);
}

TypeId BtfWriter::add_typedef(std::string_view name, TypeId type) {
  return state_->start_type(name, make_info(Kind::Typedef, 0, false), type);
}

TypeId BtfWriter::add_volatile(TypeId type) {
  return state_->start_type({}, make_info(Kind::Volatile, 0, false), type);
}

TypeId BtfWriter::add_const(TypeId type) { return state_->start_type({}, make_info(Kind::Const, 0, false), type); }

TypeId BtfWriter::add_restrict(TypeId type) {
  return state_->start_type({}, make_info(Kind::Restrict, 0, false), type);
}

TypeId BtfWriter::add_type_tag(std::string_view value, TypeId type) {
  return state_->start_type(value, make_info(Kind::TypeTag, 0, false), type);
}

TypeId BtfWriter::add_func(std::string_view name, TypeId proto, Linkage linkage) {
  const auto vlen = static_cast<std::uint32_t>(linkage);
  if (vlen > 2) bad_call("FUNC '{}' linkage {} is not static, global or extern", name, vlen);
  return state_->start_type(name, make_info(Kind::Func, vlen, false), proto);
}

TypeId BtfWriter::add_func_proto(TypeId return_type) {
  return state_->start_type({}, make_info(Kind::FuncProto, 0, false), return_type);
}

void BtfWriter::add_param(std::string_view name, TypeId type) {
  auto& s = *state_;
  const std::size_t info_index = s.open_record({Kind::FuncProto}, "parameter");
  const std::uint32_t name_off = s.add_string(name);
  s.words.insert(s.words.end(), {name_off, type});
  ++s.words[info_index];
}

TypeId BtfWriter::add_var(std::string_view name, TypeId type, Linkage linkage) {
  const auto value = static_cast<std::uint32_t>(linkage);
  if (value > 2) bad_call("VAR '{}' linkage {} is not static, global or extern", name, value);
  const TypeId id = state_->start_type(name, make_info(Kind::Var, 0, false), type);
  state_->words.push_back(value);
  return id;
}

TypeId BtfWriter::add_datasec(std::string_view name, std::uint32_t size) {
  return state_->start_type(name, make_info(Kind::Datasec, 0, false), size);
}

void BtfWriter::add_datasec_var(TypeId var_or_func, std::uint32_t offset, std::uint32_t size) {
  auto& s = *state_;
  const std::size_t info_index = s.open_record({Kind::Datasec}, "datasec variable");
  s.words.insert(s.words.end(), {var_or_func, offset, size});
  ++s.words[info_index];
}

TypeId BtfWriter::add_float(std::string_view name, std::uint32_t size) {
  if (size != 2 && size != 4 && size != 8 && size != 12 && size != 16)
    bad_call("FLOAT '{}' size {} is not 2, 4, 8, 12 or 16", name, size);
  return state_->start_type(name, make_info(Kind::Float, 0, false), size);
}

TypeId BtfWriter::add_decl_tag(std::string_view value, TypeId type, std::int32_t component_index) {
  if (component_index < -1) bad_call("DECL_TAG '{}' component index {} is below -1", value, component_index);
  const TypeId id = state_->start_type(value, make_info(Kind::DeclTag, 0, false), type);
  state_->words.push_back(static_cast<std::uint32_t>(component_index));
  return id;
}

TypeId BtfWriter::add_type_copy(const Type& type, const Remap& remap) {
  if (type.is_void()) bad_call("cannot copy type 0 (void)");
  auto& s = *state_;
  auto map = [&remap](TypeId id) { return id == 0 ? TypeId{0} : remap(id); };
  const Kind kind = type.kind();
  std::uint32_t size_or_type = type.size();
  switch (kind) {
    case Kind::Ptr:
    case Kind::Typedef:
    case Kind::Volatile:
    case Kind::Const:
    case Kind::Restrict:
    case Kind::TypeTag:
    case Kind::Func:
    case Kind::FuncProto:
    case Kind::Var:
    case Kind::DeclTag:
      size_or_type = map(type.type());
      break;
    default:
      break;
  }
  const TypeId id = s.start_type(type.name(), type.raw_info(), size_or_type);
  // The records are copied word for word; only names and type ids are rewritten below.
  const auto extra = type.extra_bytes();
  const std::size_t first = s.words.size();
  s.words.resize(first + extra.size() / 4);
  if (!extra.empty()) std::memcpy(s.words.data() + first, extra.data(), extra.size());
  std::uint32_t* record = s.words.data() + first;
  switch (kind) {
    case Kind::Array:
      record[0] = map(record[0]);
      record[1] = map(record[1]);
      break;
    case Kind::Struct:
    case Kind::Union: {
      std::size_t i = 0;
      for (auto member : type.members()) {
        record[3 * i] = s.add_string(member.name());
        record[3 * i + 1] = map(member.type());
        ++i;
      }
      break;
    }
    case Kind::Enum:
    case Kind::Enum64: {
      const std::size_t stride = kind == Kind::Enum ? 2 : 3;
      std::size_t i = 0;
      for (auto enumerator : type.enumerators()) record[stride * i++] = s.add_string(enumerator.name());
      break;
    }
    case Kind::FuncProto: {
      std::size_t i = 0;
      for (auto param : type.params()) {
        record[2 * i] = s.add_string(param.name());
        record[2 * i + 1] = map(param.type());
        ++i;
      }
      break;
    }
    case Kind::Datasec: {
      std::size_t i = 0;
      for (auto var : type.datasec_vars()) record[3 * i++] = map(var.type());
      break;
    }
    default:
      break;
  }
  return id;
}

namespace {

void put_u16(std::byte* p, std::uint16_t v, bool swap) {
  if (swap) v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}

void put_u32(std::byte* p, std::uint32_t v, bool swap) {
  if (swap) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

}  // namespace

std::vector<std::byte> BtfWriter::serialize(Endian endian) const {
  const auto& s = *state_;
  const std::uint32_t limit = s.next_id();
  for (TypeId id = s.first_id; id < limit; ++id) s.check_refs(id, limit);

  const std::uint64_t type_len = std::uint64_t{s.words.size()} * 4;
  const std::uint64_t str_len = s.strings.size();
  const std::uint64_t total = detail::kBtfHeaderMinSize + type_len + str_len;
  if (total > std::numeric_limits<std::uint32_t>::max()) bad_call("BTF of {} bytes exceeds 4 GiB", total);

  const bool swap = endian != native_endian();
  std::vector<std::byte> out(total);
  std::byte* p = out.data();
  put_u16(p, detail::kBtfMagic, swap);
  p[2] = std::byte{1};  // version
  p[3] = std::byte{0};  // flags
  put_u32(p + 4, detail::kBtfHeaderMinSize, swap);
  put_u32(p + 8, 0, swap);
  put_u32(p + 12, static_cast<std::uint32_t>(type_len), swap);
  put_u32(p + 16, static_cast<std::uint32_t>(type_len), swap);
  put_u32(p + 20, static_cast<std::uint32_t>(str_len), swap);
  p += detail::kBtfHeaderMinSize;
  if (swap) {
    for (std::uint32_t word : s.words) {
      put_u32(p, word, true);
      p += 4;
    }
  } else if (type_len != 0) {  // an empty vector's data() may be null, which memcpy must not see
    std::memcpy(p, s.words.data(), type_len);
    p += type_len;
  }
  if (str_len != 0) std::memcpy(p, s.strings.data(), str_len);
  return out;
}

}  // namespace corebpf::btf
