// Values shown through their BTF type (corebpf/btf_data.hpp). One walk over the type serves both
// forms; every read goes through Bytes, which checks it against the value's own span, so a
// malformed BTF or a short buffer ends in an error naming the type, never in a read past the data.
#include "btf/dump_data.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

#include "corebpf/btf_data.hpp"
#include "util/error_format.hpp"

namespace corebpf::btf {
namespace {

using Uint128 = unsigned __int128;

// Deeper nesting than any real type; stops a cyclic BTF (a struct holding itself through an
// array of a typedef of itself) long before the stack would.
constexpr int kMaxDepth = 32;
// Unions overlap their members and zero-sized members take no bytes, so the number of values a
// type shows is not bounded by its size: a budget is.
constexpr std::size_t kMaxValues = std::size_t{1} << 20;

std::string describe(const Btf& btf, TypeId id) {
  const auto t = btf.try_type(id);
  if (!t) return fmt::format("type [{}]", id);
  const std::string_view name = t->name();
  switch (t->kind()) {
    case Kind::Struct:
      return name.empty() ? fmt::format("anonymous struct [{}]", id) : fmt::format("struct {}", name);
    case Kind::Union:
      return name.empty() ? fmt::format("anonymous union [{}]", id) : fmt::format("union {}", name);
    case Kind::Enum:
    case Kind::Enum64:
      return name.empty() ? fmt::format("anonymous enum [{}]", id) : fmt::format("enum {}", name);
    default:
      if (name.empty()) return fmt::format("{} [{}]", kind_name(t->kind()), id);
      return fmt::format("{} '{}'", kind_name(t->kind()), name);
  }
}

// Which form is being written; both share the walk.
class Emitter {
 public:
  Emitter(const Btf& btf, TypeId root, std::size_t data_size, util::JsonWriter* json, std::string* text)
      : btf_(btf), root_(root), budget_(kMaxValues + data_size * 16), json_(json), text_(text) {}

  void value(TypeId id, std::span<const std::byte> bytes, int depth);

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    util::fail(std::errc::invalid_argument, "{}: {}", describe(btf_, root_),
               fmt::format(format, std::forward<Args>(args)...));
  }

  std::uint64_t size_of(TypeId id) const;
  std::span<const std::byte> slice(std::span<const std::byte> bytes, std::uint64_t offset, std::uint64_t size,
                                   TypeId container, std::string_view what) const;
  Uint128 read_bits(std::span<const std::byte> bytes, std::uint64_t bit_offset, std::uint32_t bits,
                    TypeId container) const;
  void spend() {
    if (budget_-- == 0) fail("more than {} values to show (overlapping unions or zero-sized members)", kMaxValues);
  }

  void integer(const Type& t, std::span<const std::byte> bytes);
  void bitfield(Uint128 bits_value, std::uint32_t bits, const Type& member_type);
  void enumeration(const Type& t, std::span<const std::byte> bytes);
  void floating(const Type& t, std::span<const std::byte> bytes);
  void pointer(std::span<const std::byte> bytes);
  void array(const Type& t, std::span<const std::byte> bytes, int depth);
  void record(const Type& t, std::span<const std::byte> bytes, int depth);
  void datasec(const Type& t, std::span<const std::byte> bytes, int depth);
  void variable(const Type& t, std::span<const std::byte> bytes, int depth);
  std::optional<std::string_view> string_of(const ArrayInfo& a, std::span<const std::byte> bytes) const;

  // Text pieces.
  void text(std::string_view piece) { text_->append(piece); }
  void member_name(std::string_view name);

  const Btf& btf_;
  TypeId root_;
  std::size_t budget_;
  util::JsonWriter* json_;
  std::string* text_;
  bool first_member_ = true;
};

std::uint64_t Emitter::size_of(TypeId id) const {
  try {
    return btf_.size_of(id);
  } catch (const Error& e) {
    fail("{} has no size: {}", describe(btf_, id), e.message());
  }
}

std::span<const std::byte> Emitter::slice(std::span<const std::byte> bytes, std::uint64_t offset, std::uint64_t size,
                                          TypeId container, std::string_view what) const {
  if (offset > bytes.size() || size > bytes.size() - offset)
    fail("{} ({} bytes at byte {}) lies outside the {} bytes of {}", what, size, offset, bytes.size(),
         describe(btf_, container));
  return bytes.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
}

Uint128 Emitter::read_bits(std::span<const std::byte> bytes, std::uint64_t bit_offset, std::uint32_t bits,
                           TypeId container) const {
  if (bits == 0 || bits > 128) fail("a bitfield of {} bits in {}", bits, describe(btf_, container));
  const std::uint64_t first = bit_offset / 8;
  const std::uint64_t shift = bit_offset % 8;
  const std::uint64_t count = (shift + bits + 7) / 8;
  if (count > 16)
    fail("a bitfield of {} bits at bit {} straddles 16 bytes in {}", bits, bit_offset, describe(btf_, container));
  const auto span = slice(bytes, first, count, container, "a bitfield");
  Uint128 value = 0;
  if (std::endian::native == std::endian::little) {
    for (std::size_t i = count; i-- > 0;) value = (value << 8) | std::to_integer<std::uint8_t>(span[i]);
    value >>= shift;
  } else {
    // Big-endian bit numbering starts at the most significant bit of the first byte.
    for (std::size_t i = 0; i < count; ++i) value = (value << 8) | std::to_integer<std::uint8_t>(span[i]);
    value >>= (count * 8 - shift - bits);
  }
  if (bits < 128) value &= (Uint128{1} << bits) - 1;
  return value;
}

Uint128 load_native(std::span<const std::byte> bytes) {
  Uint128 value = 0;
  if (std::endian::native == std::endian::little) {
    for (std::size_t i = bytes.size(); i-- > 0;) value = (value << 8) | std::to_integer<std::uint8_t>(bytes[i]);
  } else {
    for (const std::byte b : bytes) value = (value << 8) | std::to_integer<std::uint8_t>(b);
  }
  return value;
}

std::int64_t sign_extend(Uint128 value, std::uint32_t bits) {
  if (bits >= 64) return static_cast<std::int64_t>(static_cast<std::uint64_t>(value));
  const std::uint64_t v = static_cast<std::uint64_t>(value);
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

std::string hex128(Uint128 value) {
  const auto high = static_cast<std::uint64_t>(value >> 64);
  const auto low = static_cast<std::uint64_t>(value);
  return high == 0 ? fmt::format("0x{:x}", low) : fmt::format("0x{:x}{:016x}", high, low);
}

bool printable(unsigned char c) { return c >= 0x20 && c < 0x7f; }

void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void Emitter::member_name(std::string_view name) {
  if (!first_member_) text(", ");
  first_member_ = false;
  if (!name.empty()) {
    text(".");
    text(name);
    text(" = ");
  }
}

void Emitter::value(TypeId id, std::span<const std::byte> bytes, int depth) {
  if (depth > kMaxDepth) fail("types nest deeper than {} levels", kMaxDepth);
  spend();
  Type t;
  try {
    t = btf_.resolve(id);
  } catch (const Error& e) {
    fail("{}", e.message());
  }
  switch (t.kind()) {
    case Kind::Int:
      integer(t, bytes);
      return;
    case Kind::Enum:
    case Kind::Enum64:
      enumeration(t, bytes);
      return;
    case Kind::Float:
      floating(t, bytes);
      return;
    case Kind::Ptr:
      pointer(bytes);
      return;
    case Kind::Array:
      array(t, bytes, depth);
      return;
    case Kind::Struct:
    case Kind::Union:
      record(t, bytes, depth);
      return;
    case Kind::Datasec:
      datasec(t, bytes, depth);
      return;
    case Kind::Var:
      variable(t, bytes, depth);
      return;
    default:
      fail("{} has no value to show", describe(btf_, t.id()));
  }
}

void Emitter::integer(const Type& t, std::span<const std::byte> bytes) {
  const IntInfo info = t.int_info();
  const std::uint32_t size = t.size();
  if (size == 0 || size > 16 || info.bits == 0 || info.bits > 128) fail("{} has size {}", describe(btf_, t.id()), size);
  if (bytes.size() != size) fail("{} takes {} bytes, not {}", describe(btf_, t.id()), size, bytes.size());
  if (info.bit_offset != 0 || info.bits != size * 8) {
    // An int narrower than its storage: shown as a bitfield, as bpftool does.
    bitfield(read_bits(bytes, info.bit_offset, info.bits, t.id()), info.bits, t);
    return;
  }
  const Uint128 raw = load_native(bytes);
  const bool is_signed = (info.encoding & kIntSigned) != 0;
  if ((info.encoding & kIntBool) != 0) {
    if (json_) {
      json_->value(raw != 0);
    } else {
      text(raw != 0 ? "true" : "false");
    }
    return;
  }
  if ((info.encoding & kIntChar) != 0 && size == 1) {
    const auto c = static_cast<unsigned char>(raw);
    if (json_) {
      if (printable(c)) {
        json_->value(std::string_view(reinterpret_cast<const char*>(&c), 1));
      } else {
        json_->value(fmt::format("\\u00{:02x}", c));
      }
    } else if (printable(c) && c != '\'' && c != '\\') {
      text(fmt::format("'{}'", static_cast<char>(c)));
    } else {
      text(fmt::format("0x{:x}", c));
    }
    return;
  }
  if (size == 16) {
    // As bpftool: 128-bit integers in hex, a string in JSON (no JSON number holds them all).
    if (json_) {
      json_->value(hex128(raw));
    } else {
      text(hex128(raw));
    }
    return;
  }
  if (is_signed) {
    const std::int64_t v = sign_extend(raw, size * 8);
    if (json_) {
      json_->value(v);
    } else {
      text(fmt::format("{}", v));
    }
  } else {
    const auto v = static_cast<std::uint64_t>(raw);
    if (json_) {
      json_->value(v);
    } else {
      text(fmt::format("{}", v));
    }
  }
}

void Emitter::bitfield(Uint128 bits_value, std::uint32_t bits, const Type& member_type) {
  if (json_) {
    // bpftool shows every bitfield as a string: the hex of the bits, unsigned.
    json_->value(hex128(bits_value));
    return;
  }
  if (member_type.is_enum()) {
    const bool is_signed = member_type.is_signed_enum();
    const std::uint64_t v =
        is_signed ? static_cast<std::uint64_t>(sign_extend(bits_value, bits)) : static_cast<std::uint64_t>(bits_value);
    for (const Enumerator e : member_type.enumerators()) {
      if (e.unsigned_value() == v) {
        text(e.name());
        return;
      }
    }
  }
  if (member_type.kind() == Kind::Int && (member_type.int_info().encoding & kIntSigned) != 0 && bits <= 64) {
    text(fmt::format("{}", sign_extend(bits_value, bits)));
    return;
  }
  text(hex128(bits_value));
}

void Emitter::enumeration(const Type& t, std::span<const std::byte> bytes) {
  const std::uint32_t size = t.size();
  if (size == 0 || size > 8 || !std::has_single_bit(size)) fail("{} has size {}", describe(btf_, t.id()), size);
  if (bytes.size() != size) fail("{} takes {} bytes, not {}", describe(btf_, t.id()), size, bytes.size());
  const Uint128 raw = load_native(bytes);
  // Enumerators widen with their enum's signedness, so the stored value does too.
  const bool is_signed = t.is_signed_enum() || t.kind() == Kind::Enum;
  const std::uint64_t widened =
      is_signed ? static_cast<std::uint64_t>(sign_extend(raw, size * 8)) : static_cast<std::uint64_t>(raw);
  const std::uint64_t unsigned_value = static_cast<std::uint64_t>(raw);
  for (const Enumerator e : t.enumerators()) {
    // A 32-bit enumerator of an unsigned enum widens without sign: compare both readings.
    if (e.unsigned_value() == widened || e.unsigned_value() == unsigned_value) {
      if (json_) {
        json_->value(e.name());
      } else {
        text(e.name());
      }
      return;
    }
  }
  const bool show_signed = t.kind() == Kind::Enum || t.is_signed_enum();
  const std::string number =
      show_signed ? fmt::format("{}", static_cast<std::int64_t>(widened)) : fmt::format("{}", unsigned_value);
  if (json_) {
    json_->raw_value(number);
  } else {
    text(number);
  }
}

void Emitter::floating(const Type& t, std::span<const std::byte> bytes) {
  const std::uint32_t size = t.size();
  if (bytes.size() != size) fail("{} takes {} bytes, not {}", describe(btf_, t.id()), size, bytes.size());
  double v = 0;
  if (size == 4) {
    float f = 0;
    std::memcpy(&f, bytes.data(), sizeof(f));
    v = f;
  } else if (size == 8) {
    std::memcpy(&v, bytes.data(), sizeof(v));
  } else if (size == sizeof(long double)) {
    long double l = 0;
    std::memcpy(&l, bytes.data(), sizeof(l));
    v = static_cast<double>(l);
  } else {
    fail("{} has size {}", describe(btf_, t.id()), size);
  }
  if (json_) {
    // JSON has no NaN or infinity: those become strings.
    if (std::isfinite(v)) {
      json_->raw_value(fmt::format("{}", v));
    } else {
      json_->value(fmt::format("{}", v));
    }
  } else {
    text(fmt::format("{}", v));
  }
}

void Emitter::pointer(std::span<const std::byte> bytes) {
  if (bytes.size() != 4 && bytes.size() != 8) fail("a pointer of {} bytes", bytes.size());
  const auto v = static_cast<std::uint64_t>(load_native(bytes));
  if (json_) {
    json_->value(v);
  } else {
    text(fmt::format("0x{:x}", v));
  }
}

// The text of a char array that holds a NUL-terminated string of printable characters. As
// bpftool decides it: the element is `char` (or has the char encoding) behind modifiers only.
std::optional<std::string_view> Emitter::string_of(const ArrayInfo& a, std::span<const std::byte> bytes) const {
  if (a.count == 0 || bytes.size() != a.count) return std::nullopt;
  std::optional<Type> element;
  try {
    element = btf_.skip_modifiers(a.element_type);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (element->kind() != Kind::Int || element->size() != 1) return std::nullopt;
  if ((element->int_info().encoding & kIntChar) == 0 && element->name() != "char") return std::nullopt;
  const auto* chars = reinterpret_cast<const char*>(bytes.data());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (chars[i] == '\0') return std::string_view(chars, i);
    if (!printable(static_cast<unsigned char>(chars[i]))) return std::nullopt;
  }
  return std::nullopt;
}

void Emitter::array(const Type& t, std::span<const std::byte> bytes, int depth) {
  const ArrayInfo a = t.array();
  const std::uint64_t element_size = a.count == 0 ? 0 : size_of(a.element_type);
  if (element_size * a.count != bytes.size())
    fail("{} takes {} bytes, not {}", describe(btf_, t.id()), element_size * a.count, bytes.size());
  if (const auto s = string_of(a, bytes)) {
    if (json_) {
      json_->value(*s);
    } else {
      append_quoted(*text_, *s);
    }
    return;
  }
  if (json_) {
    json_->begin_array();
  } else {
    text("[");
  }
  // Zero-sized elements have nothing to show, however many there are.
  const std::uint32_t count = element_size == 0 ? 0 : a.count;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!json_ && i > 0) text(", ");
    value(a.element_type, bytes.subspan(i * element_size, element_size), depth + 1);
  }
  if (json_) {
    json_->end_array();
  } else {
    text("]");
  }
}

void Emitter::record(const Type& t, std::span<const std::byte> bytes, int depth) {
  if (bytes.size() != t.size()) fail("{} takes {} bytes, not {}", describe(btf_, t.id()), t.size(), bytes.size());
  if (json_) {
    json_->begin_object();
  } else {
    text("{");
  }
  const bool outer_first = first_member_;
  first_member_ = true;
  for (const Member m : t.members()) {
    if (json_) {
      json_->key(m.name());
    } else {
      member_name(m.name());
    }
    spend();
    Type member_type;
    try {
      member_type = btf_.resolve(m.type());
    } catch (const Error& e) {
      fail("{}", e.message());
    }
    std::uint32_t bits = m.bitfield_size();
    std::uint64_t bit_offset = m.bit_offset();
    if (bits == 0 && member_type.kind() == Kind::Int) {
      const IntInfo info = member_type.int_info();
      if (info.bit_offset != 0 || info.bits != member_type.size() * 8) {
        bits = info.bits;
        bit_offset += info.bit_offset;
      }
    }
    if (bits != 0) {
      bitfield(read_bits(bytes, bit_offset, bits, t.id()), bits, member_type);
      continue;
    }
    if (bit_offset % 8 != 0)
      fail("member '{}' of {} starts at bit {}, inside a byte", m.name(), describe(btf_, t.id()), bit_offset);
    const std::uint64_t size = size_of(m.type());
    const auto member_bytes = slice(bytes, bit_offset / 8, size, t.id(), fmt::format("member '{}'", m.name()));
    value(m.type(), member_bytes, depth + 1);
  }
  first_member_ = outer_first;
  if (json_) {
    json_->end_object();
  } else {
    text("}");
  }
}

void Emitter::datasec(const Type& t, std::span<const std::byte> bytes, int depth) {
  if (json_) {
    json_->begin_object();
    json_->key(t.name());
    json_->begin_array();
  } else {
    text("{");
  }
  const bool outer_first = first_member_;
  first_member_ = true;
  for (const VarSecinfo v : t.datasec_vars()) {
    const auto var_bytes = slice(bytes, v.offset(), v.size(), t.id(), fmt::format("variable [{}]", v.type()));
    std::optional<Type> var = btf_.try_type(v.type());
    if (!var || var->kind() != Kind::Var) fail("{} lists {}, not a variable", describe(btf_, t.id()), v.type());
    const std::uint64_t size = size_of(var->type());
    const auto value_bytes = slice(var_bytes, 0, size, t.id(), fmt::format("variable '{}'", var->name()));
    if (json_) {
      variable(*var, value_bytes, depth + 1);
    } else {
      member_name(var->name());
      value(var->type(), value_bytes, depth + 1);
    }
  }
  first_member_ = outer_first;
  if (json_) {
    json_->end_array();
    json_->end_object();
  } else {
    text("}");
  }
}

void Emitter::variable(const Type& t, std::span<const std::byte> bytes, int depth) {
  if (json_) {
    json_->begin_object();
    json_->key(t.name());
    value(t.type(), bytes, depth + 1);
    json_->end_object();
    return;
  }
  value(t.type(), bytes, depth + 1);
}

void check_size(const Btf& btf, TypeId type, std::span<const std::byte> bytes) {
  std::uint64_t size = 0;
  try {
    size = btf.size_of(type);
  } catch (const Error& e) {
    util::fail(std::errc::invalid_argument, "{} has no size to show a value of: {}", describe(btf, type), e.message());
  }
  if (size != bytes.size())
    util::fail(std::errc::invalid_argument, "{} bytes do not make a value of {}, which takes {} bytes", bytes.size(),
               describe(btf, type), size);
}

}  // namespace

void write_data_json(util::JsonWriter& json, const Btf& btf, TypeId type, std::span<const std::byte> bytes) {
  check_size(btf, type, bytes);
  Emitter(btf, type, bytes.size(), &json, nullptr).value(type, bytes, 0);
}

std::string format_data_json(const Btf& btf, TypeId type, std::span<const std::byte> bytes, bool pretty) {
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, pretty);
  write_data_json(json, btf, type, bytes);
  return fmt::to_string(buffer);
}

std::string format_data(const Btf& btf, TypeId type, std::span<const std::byte> bytes) {
  check_size(btf, type, bytes);
  std::string out;
  Emitter(btf, type, bytes.size(), nullptr, &out).value(type, bytes, 0);
  return out;
}

}  // namespace corebpf::btf
