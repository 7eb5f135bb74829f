// Internal: reading integers of either byte order out of an object's sections, with bounds
// checked by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace corebpf::object {

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, bool swap) : bytes_(bytes), swap_(swap) {}

  std::size_t size() const noexcept { return bytes_.size(); }
  bool fits(std::uint64_t offset, std::uint64_t length) const noexcept {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }
  std::uint16_t u16(std::size_t offset) const noexcept {
    std::uint16_t value;
    std::memcpy(&value, bytes_.data() + offset, sizeof value);
    return swap_ ? __builtin_bswap16(value) : value;
  }
  std::uint32_t u32(std::size_t offset) const noexcept {
    std::uint32_t value;
    std::memcpy(&value, bytes_.data() + offset, sizeof value);
    return swap_ ? __builtin_bswap32(value) : value;
  }
  std::uint64_t u64(std::size_t offset) const noexcept {
    std::uint64_t value;
    std::memcpy(&value, bytes_.data() + offset, sizeof value);
    return swap_ ? __builtin_bswap64(value) : value;
  }
  std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  std::span<const std::byte> bytes_;
  bool swap_;
};

}  // namespace corebpf::object
