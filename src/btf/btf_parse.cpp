// Parsing and validation of a raw BTF blob: header, byte order, the id -> offset table, and a check
// of every count, offset, string offset and type id before any view can touch it.
#include <algorithm>
#include <bit>
#include <cstring>

#include "btf/btf_state.hpp"
#include "util/error_format.hpp"

namespace corebpf::btf::detail {
namespace {

std::uint32_t load_u32(const std::byte* p, bool swap) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? __builtin_bswap32(v) : v;
}

std::uint16_t load_u16(const std::byte* p, bool swap) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? __builtin_bswap16(v) : v;
}

void swap_words_in_place(std::byte* p, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i + 4 <= bytes; i += 4) {
    std::uint32_t v;
    std::memcpy(&v, p + i, 4);
    v = __builtin_bswap32(v);
    std::memcpy(p + i, &v, 4);
  }
}

// Not std::has_single_bit: without -mpopcnt that becomes a libgcc call in the hottest loop.
constexpr bool is_power_of_two_up_to(std::uint32_t value, std::uint32_t limit) noexcept {
  return value != 0 && value <= limit && (value & (value - 1)) == 0;
}

class Parser {
 public:
  Parser(BtfData& data) : d_(data) {}

  void parse() {
    read_header();
    place_sections();
    check_strings();
    index_and_check_types();
  }

 private:
  template <typename... Args>
  [[noreturn]] void bad(fmt::format_string<Args...> format, Args&&... args) {
    util::fail(std::errc::invalid_argument, "{}: invalid BTF: {}", d_.source_name,
               fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  [[noreturn]] void bad_type(TypeId id, std::uint32_t offset, fmt::format_string<Args...> format, Args&&... args) {
    util::fail(std::errc::invalid_argument, "{}: invalid BTF: type [{}] at byte offset {}: {}", d_.source_name, id,
               offset, fmt::format(format, std::forward<Args>(args)...));
  }

  void read_header() {
    const auto blob = d_.blob;
    if (blob.size() < kBtfHeaderMinSize) bad("{} bytes is too short for a BTF header (24 bytes)", blob.size());
    const std::uint16_t magic = load_u16(blob.data(), false);
    if (magic == kBtfMagic) {
      swap_ = false;
    } else if (magic == __builtin_bswap16(kBtfMagic)) {
      swap_ = true;
    } else {
      bad("bad magic 0x{:04x} (expected 0xeb9f)", magic);
    }
    const bool host_little = native_endian() == Endian::little;
    d_.endian = (host_little != swap_) ? Endian::little : Endian::big;
    auto& h = d_.header;
    h.magic = kBtfMagic;
    h.version = static_cast<std::uint8_t>(blob[2]);
    h.flags = static_cast<std::uint8_t>(blob[3]);
    h.hdr_len = load_u32(blob.data() + 4, swap_);
    h.type_off = load_u32(blob.data() + 8, swap_);
    h.type_len = load_u32(blob.data() + 12, swap_);
    h.str_off = load_u32(blob.data() + 16, swap_);
    h.str_len = load_u32(blob.data() + 20, swap_);
    if (h.version != 1) bad("unsupported version {}", h.version);
    if (h.hdr_len < kBtfHeaderMinSize || h.hdr_len > blob.size())
      bad("header length {} is outside [24, {}]", h.hdr_len, blob.size());
    // A newer, longer header is acceptable only if we lose nothing by ignoring its tail.
    for (std::size_t i = kBtfHeaderMinSize; i < h.hdr_len; ++i)
      if (blob[i] != std::byte{0}) bad("header has {} bytes with unknown non-zero fields", h.hdr_len);
    const std::uint64_t body = blob.size() - h.hdr_len;
    if (h.type_off % 4 != 0) bad("type section offset {} is not 4-byte aligned", h.type_off);
    if (std::uint64_t{h.type_off} + h.type_len > body)
      bad("type section (offset {}, length {}) runs past the end of the data ({} bytes)", h.type_off, h.type_len, body);
    if (std::uint64_t{h.str_off} + h.str_len > body)
      bad("string section (offset {}, length {}) runs past the end of the data ({} bytes)", h.str_off, h.str_len, body);
    if (h.type_len % 4 != 0) bad("type section length {} is not a multiple of 4", h.type_len);
    const std::uint64_t t0 = h.type_off, t1 = t0 + h.type_len, s0 = h.str_off, s1 = s0 + h.str_len;
    if (h.type_len > 0 && h.str_len > 0 && t0 < s1 && s0 < t1) bad("type and string sections overlap");
  }

  void place_sections() {
    const auto& h = d_.header;
    const std::byte* body = d_.blob.data() + h.hdr_len;
    const std::byte* types = body + h.type_off;
    const bool aligned = reinterpret_cast<std::uintptr_t>(types) % alignof(RawType) == 0;
    if (!swap_ && aligned) {
      d_.types = types;
    } else {
      // Other byte order or a misaligned section inside an ELF image: work on a host-order copy.
      d_.host_copy.assign(types, types + h.type_len);
      d_.types = d_.host_copy.data();
    }
    d_.types_size = h.type_len;
    d_.strings = reinterpret_cast<const char*>(body + h.str_off);
    d_.strings_size = h.str_len;
  }

  void check_strings() {
    if (d_.base) {
      d_.base_strings_size = d_.base->base_strings_size + d_.base->strings_size;
    } else if (d_.strings_size == 0 || d_.strings[0] != '\0') {
      bad("string section does not start with an empty string; if this is split BTF (a kernel module), give its base "
          "BTF");
    }
    if (d_.strings_size > 0 && d_.strings[d_.strings_size - 1] != '\0') bad("string section is not NUL-terminated");
  }

  // Hot path: names and references are only accumulated (max seen); the rare error path walks
  // the types again to name the first offender.
  void note_name(std::uint32_t name_off) noexcept { max_name_ = std::max(max_name_, name_off); }
  void note_ref(std::uint32_t ref) noexcept { max_ref_ = std::max(max_ref_, ref); }

  void index_and_check_types() {
    d_.first_id = d_.base ? d_.base->total_count : 1;
    auto* types = const_cast<std::byte*>(d_.types);  // host_copy when swapping, so writable then
    const std::uint32_t size = d_.types_size;
    // Every type is at least 12 bytes: one allocation covers the worst case.
    auto& offsets = d_.type_offsets;
    offsets.allocate(size / sizeof(RawType) + 1);
    std::uint32_t* next_offset = offsets.data();
    std::uint32_t off = 0;
    while (off < size) {
      const TypeId id = d_.first_id + static_cast<TypeId>(next_offset - offsets.data());
      if (size - off < sizeof(RawType))
        bad_type(id, off, "truncated: {} bytes left, a type header needs 12", size - off);
      if (swap_) swap_words_in_place(types + off, sizeof(RawType));
      const RawType t = *reinterpret_cast<const RawType*>(types + off);
      const auto kind = static_cast<Kind>((t.info >> 24) & 0x1f);
      const std::uint32_t vlen = t.info & 0xffff;
      if (kind == Kind::Unknown || static_cast<int>(kind) > kMaxKind) [[unlikely]]
        bad_type(id, off, "unknown kind {}", static_cast<int>(kind));
      const std::size_t extra = extra_size(kind, vlen);
      if (size - off - sizeof(RawType) < extra) [[unlikely]]
        bad_type(id, off, "{} with vlen {} needs {} more bytes, only {} remain", kind_name(kind), vlen, extra,
                 size - off - sizeof(RawType));
      std::byte* rest = types + off + sizeof(RawType);
      // Every field after the header is a 32-bit word (enum values and offsets included).
      if (swap_) swap_words_in_place(rest, extra);
      note_name(t.name_off);
      check_type(id, off, t, kind, vlen, rest);
      *next_offset++ = off;
      off += static_cast<std::uint32_t>(sizeof(RawType) + extra);
    }
    offsets.set_size(static_cast<std::size_t>(next_offset - offsets.data()));
    d_.total_count = d_.first_id + static_cast<std::uint32_t>(d_.type_offsets.size());
    if (d_.total_count < d_.first_id || d_.total_count > 0x7fffffffu) bad("too many types");
    if (std::uint64_t{max_name_} >= std::uint64_t{d_.base_strings_size} + d_.strings_size) report_bad_name();
    if (max_ref_ >= d_.total_count) report_bad_ref();
  }

  void check_type(TypeId id, std::uint32_t off, const RawType& t, Kind kind, std::uint32_t vlen,
                  const std::byte* rest) {
    switch (kind) {
      case Kind::Int: {
        std::uint32_t word;
        std::memcpy(&word, rest, 4);
        const std::uint32_t bits = word & 0xff, bit_off = (word >> 16) & 0xff, encoding = (word >> 24) & 0x0f;
        if (!is_power_of_two_up_to(t.size_or_type, 16))
          bad_type(id, off, "INT size {} is not 1, 2, 4, 8 or 16", t.size_or_type);
        if (bits == 0 || bits > 128 || bit_off + bits > t.size_or_type * 8)
          bad_type(id, off, "INT bits {} at bit offset {} do not fit its {} bytes", bits, bit_off, t.size_or_type);
        if (encoding > (kIntSigned | kIntChar | kIntBool) || (encoding & (encoding - 1)) != 0)
          bad_type(id, off, "INT encoding 0x{:x} is not valid", encoding);
        if (bits == 32 || bits == 64) note_pointer_size(t);
        break;
      }
      case Kind::Ptr:
      case Kind::Typedef:
      case Kind::Volatile:
      case Kind::Const:
      case Kind::Restrict:
      case Kind::TypeTag:
      case Kind::Func:
      case Kind::Var:
      case Kind::DeclTag:
        note_ref(t.size_or_type);
        if (kind == Kind::DeclTag) {
          std::int32_t component;
          std::memcpy(&component, rest, 4);
          if (component < -1) bad_type(id, off, "DECL_TAG component index {} is below -1", component);
        }
        if (kind == Kind::Var) {
          std::uint32_t linkage;
          std::memcpy(&linkage, rest, 4);
          if (linkage > 2) bad_type(id, off, "VAR linkage {} is not static, global or extern", linkage);
        }
        break;
      case Kind::Array: {
        const auto* a = reinterpret_cast<const RawArray*>(rest);
        note_ref(a->type);
        note_ref(a->index_type);
        break;
      }
      case Kind::Struct:
      case Kind::Union: {
        const auto* m = reinterpret_cast<const RawMember*>(rest);
        for (std::uint32_t i = 0; i < vlen; ++i) {
          note_name(m[i].name_off);
          note_ref(m[i].type);
        }
        break;
      }
      case Kind::Enum: {
        if (!is_power_of_two_up_to(t.size_or_type, 8))
          bad_type(id, off, "ENUM size {} is not 1, 2, 4 or 8", t.size_or_type);
        const auto* e = reinterpret_cast<const RawEnum*>(rest);
        for (std::uint32_t i = 0; i < vlen; ++i) note_name(e[i].name_off);
        break;
      }
      case Kind::Enum64: {
        if (!is_power_of_two_up_to(t.size_or_type, 8))
          bad_type(id, off, "ENUM64 size {} is not 1, 2, 4 or 8", t.size_or_type);
        const auto* e = reinterpret_cast<const RawEnum64*>(rest);
        for (std::uint32_t i = 0; i < vlen; ++i) note_name(e[i].name_off);
        break;
      }
      case Kind::FuncProto: {
        note_ref(t.size_or_type);
        const auto* p = reinterpret_cast<const RawParam*>(rest);
        for (std::uint32_t i = 0; i < vlen; ++i) {
          note_name(p[i].name_off);
          note_ref(p[i].type);
        }
        break;
      }
      case Kind::Datasec: {
        const auto* v = reinterpret_cast<const RawVarSecinfo*>(rest);
        for (std::uint32_t i = 0; i < vlen; ++i) note_ref(v[i].type);
        break;
      }
      case Kind::Float:
        if (t.size_or_type != 2 && t.size_or_type != 4 && t.size_or_type != 8 && t.size_or_type != 12 &&
            t.size_or_type != 16)
          bad_type(id, off, "FLOAT size {} is not 2, 4, 8, 12 or 16", t.size_or_type);
        break;
      case Kind::Fwd:
      case Kind::Unknown:
        break;
    }
  }

  void note_pointer_size(const RawType& t) {
    if (t.size_or_type != 4 && t.size_or_type != 8) return;
    const std::string_view name = string_at(d_, t.name_off);
    if (name == "long int" || name == "long unsigned int") d_.pointer_size = t.size_or_type;
  }

  // Rare path: find and name the first name offset outside the string section.
  [[noreturn]] void report_bad_name() {
    const std::uint64_t limit = std::uint64_t{d_.base_strings_size} + d_.strings_size;
    for (std::size_t i = 0; i < d_.type_offsets.size(); ++i) {
      const TypeId id = d_.first_id + static_cast<TypeId>(i);
      const Type type(&d_, id, d_.raw_type(id));
      const std::uint32_t off = d_.type_offsets[i];
      auto check = [&](std::uint32_t name_off, const char* what) {
        if (name_off >= limit)
          bad_type(id, off, "{} name offset {} is beyond the string section ({} bytes)", what, name_off, limit);
      };
      check(type.name_offset(), "type");
      for (auto m : type.members()) check(m.name_offset(), "member");
      for (auto p : type.params()) check(p.name_offset(), "parameter");
      for (auto e : type.enumerators()) check(e.name_offset(), "enumerator");
    }
    bad("a name offset {} is beyond the string section ({} bytes)", max_name_, limit);
  }

  // Rare path: find and name the first reference to a type id that does not exist.
  [[noreturn]] void report_bad_ref() {
    const std::uint32_t limit = d_.total_count;
    for (std::size_t i = 0; i < d_.type_offsets.size(); ++i) {
      const TypeId id = d_.first_id + static_cast<TypeId>(i);
      const Type type(&d_, id, d_.raw_type(id));
      const std::uint32_t off = d_.type_offsets[i];
      auto check = [&](TypeId ref, const char* what) {
        if (ref >= limit)
          bad_type(id, off, "{} {} refers to type id {}, but the last type id is {}", kind_name(type.kind()), what, ref,
                   limit - 1);
      };
      switch (type.kind()) {
        case Kind::Array:
          check(type.array().element_type, "element type");
          check(type.array().index_type, "index type");
          break;
        case Kind::Struct:
        case Kind::Union:
          for (auto m : type.members()) check(m.type(), "member type");
          break;
        case Kind::FuncProto:
          check(type.type(), "return type");
          for (auto p : type.params()) check(p.type(), "parameter type");
          break;
        case Kind::Datasec:
          for (auto v : type.datasec_vars()) check(v.type(), "variable type");
          break;
        case Kind::Int:
        case Kind::Enum:
        case Kind::Enum64:
        case Kind::Fwd:
        case Kind::Float:
        case Kind::Unknown:
          break;
        default:
          check(type.type(), "type");
      }
    }
    bad("a type refers to type id {}, beyond the last type id {}", max_ref_, limit - 1);
  }

  BtfData& d_;
  bool swap_ = false;
  std::uint32_t max_ref_ = 0;
  std::uint32_t max_name_ = 0;
};

}  // namespace

std::shared_ptr<BtfData> parse_blob(std::span<const std::byte> blob, std::shared_ptr<const void> keepalive,
                                    std::string source_name, std::shared_ptr<const BtfData> base) {
  auto data = std::make_shared<BtfData>();
  data->source_name = std::move(source_name);
  data->keepalive = std::move(keepalive);
  data->blob = blob;
  data->base = std::move(base);
  if (data->base) data->pointer_size = data->base->pointer_size;
  Parser(*data).parse();
  return data;
}

}  // namespace corebpf::btf::detail
