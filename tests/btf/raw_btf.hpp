// A raw BTF assembler for tests. It shares no code with the library on purpose: the reader must
// not be tested only through our own writer. Strings are appended as given (no deduplication).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corebpf::test {

// Header fields to force instead of the computed ones.
struct RawHeaderOverride {
  std::optional<std::uint16_t> magic = std::nullopt;
  std::optional<std::uint8_t> version = std::nullopt;
  std::optional<std::uint8_t> flags = std::nullopt;
  std::optional<std::uint32_t> hdr_len = std::nullopt;
  std::optional<std::uint32_t> type_off = std::nullopt;
  std::optional<std::uint32_t> type_len = std::nullopt;
  std::optional<std::uint32_t> str_off = std::nullopt;
  std::optional<std::uint32_t> str_len = std::nullopt;
};

class RawBtf {
 public:
  // Kind numbers of the format, spelled out here rather than taken from the library.
  enum RawKind : std::uint32_t {
    kInt = 1,
    kPtr,
    kArray,
    kStruct,
    kUnion,
    kEnum,
    kFwd,
    kTypedef,
    kVolatile,
    kConst,
    kRestrict,
    kFunc,
    kFuncProto,
    kVar,
    kDatasec,
    kFloat,
    kDeclTag,
    kTypeTag,
    kEnum64,
  };

  // `string_base` is the base's string section size for split BTF, whose own section does not
  // start with the empty string.
  explicit RawBtf(std::uint32_t string_base = 0) : string_base_(string_base) {
    if (string_base == 0) strings_.push_back('\0');
  }

  std::uint32_t str(std::string_view text) {
    if (text.empty()) return 0;
    const auto offset = static_cast<std::uint32_t>(string_base_ + strings_.size());
    strings_.append(text);
    strings_.push_back('\0');
    return offset;
  }

  static std::uint32_t info(std::uint32_t kind, std::uint32_t vlen = 0, bool kind_flag = false) {
    return (kind_flag ? 0x80000000u : 0u) | (kind << 24) | vlen;
  }

  // Appends a type; returns its byte offset in the type section.
  std::uint32_t type(std::uint32_t name_off, std::uint32_t info_word, std::uint32_t size_or_type,
                     std::initializer_list<std::uint32_t> extra = {}) {
    const auto offset = static_cast<std::uint32_t>(words_.size() * 4);
    words_.insert(words_.end(), {name_off, info_word, size_or_type});
    words_.insert(words_.end(), extra);
    return offset;
  }
  void words(std::initializer_list<std::uint32_t> more) { words_.insert(words_.end(), more); }

  std::uint32_t type_section_size() const { return static_cast<std::uint32_t>(words_.size() * 4); }
  std::string& strings() { return strings_; }

  // Header (24 bytes + `header_tail`), then types, then strings; fields from `force` win.
  std::vector<std::byte> bytes(bool big_endian = false, const RawHeaderOverride& force = {},
                               std::vector<std::uint8_t> header_tail = {}) const {
    const auto hdr_len = static_cast<std::uint32_t>(24 + header_tail.size());
    const auto type_len = type_section_size();
    std::vector<std::byte> out;
    auto put16 = [&](std::uint16_t v) {
      if (big_endian) v = static_cast<std::uint16_t>((v >> 8) | (v << 8));
      append(out, &v, 2);
    };
    auto put32 = [&](std::uint32_t v) {
      if (big_endian) v = __builtin_bswap32(v);
      append(out, &v, 4);
    };
    put16(force.magic.value_or(0xeb9f));
    out.push_back(std::byte{force.version.value_or(1)});
    out.push_back(std::byte{force.flags.value_or(0)});
    put32(force.hdr_len.value_or(hdr_len));
    put32(force.type_off.value_or(0));
    put32(force.type_len.value_or(type_len));
    put32(force.str_off.value_or(type_len));
    put32(force.str_len.value_or(static_cast<std::uint32_t>(strings_.size())));
    for (auto b : header_tail) out.push_back(std::byte{b});
    for (std::uint32_t w : words_) put32(w);
    append(out, strings_.data(), strings_.size());
    return out;
  }

 private:
  static void append(std::vector<std::byte>& out, const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  }

  std::uint32_t string_base_;
  std::string strings_;
  std::vector<std::uint32_t> words_;
};

}  // namespace corebpf::test
