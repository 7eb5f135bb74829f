// libFuzzer: the BTF data formatter on arbitrary BTF and arbitrary bytes. Input: one byte N, N
// bytes of data, then a BTF file (raw or ELF). Every type of what parses is shown, in text and
// JSON, from a value of its exact size (when the data is long enough) and from the whole data
// (usually a size mismatch): errors are fine, reads past the data are not (ASan sees them, since
// the data is copied into a buffer of exactly its length).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "corebpf/btf.hpp"
#include "corebpf/btf_data.hpp"
#include "corebpf/error.hpp"

namespace {

constexpr std::uint32_t kMaxTypes = 256;

void show(const corebpf::btf::Btf& btf, corebpf::btf::TypeId id, const std::uint8_t* data, std::size_t size) {
  // An exact-length heap copy, so ASan catches a read one byte past it.
  const auto copy = std::make_unique<std::byte[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(copy.get(), data, size);
  const std::span<const std::byte> bytes(copy.get(), size);
  try {
    (void)corebpf::btf::format_data(btf, id, bytes);
  } catch (const corebpf::Error&) {
  }
  try {
    (void)corebpf::btf::format_data_json(btf, id, bytes, size % 2 == 0);
  } catch (const corebpf::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace corebpf;
  if (size < 1) return 0;
  const std::size_t data_size = std::min<std::size_t>(data[0], size - 1);
  const std::uint8_t* value = data + 1;
  const std::uint8_t* btf_bytes = value + data_size;
  const std::size_t btf_size = size - 1 - data_size;
  try {
    const auto btf = btf::Btf::from_bytes({reinterpret_cast<const std::byte*>(btf_bytes), btf_size}, {}, "fuzz");
    const std::uint32_t last = std::min(btf.type_count(), kMaxTypes);
    for (btf::TypeId id = 0; id < last; ++id) {
      std::uint64_t type_size = 0;
      try {
        type_size = btf.size_of(id);
      } catch (const corebpf::Error&) {
        type_size = data_size + 1;
      }
      if (type_size <= data_size) show(btf, id, value, static_cast<std::size_t>(type_size));
      show(btf, id, value, data_size);
    }
  } catch (const corebpf::Error&) {
  }
  return 0;
}
