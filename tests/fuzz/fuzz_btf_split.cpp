// libFuzzer: split BTF. The input is a 4-byte little-endian length, that many bytes of base BTF,
// then the split BTF that continues it; both are fuzzed, the split is exercised.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "btf_exercise.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace corebpf;
  if (size < 4) return 0;
  std::uint32_t base_size;
  std::memcpy(&base_size, data, 4);
  data += 4;
  size -= 4;
  if (base_size > size) return 0;
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  std::optional<btf::Btf> base;
  try {
    base = btf::Btf::from_bytes({bytes, base_size}, {}, "fuzz-base");
  } catch (const corebpf::Error&) {
    return 0;
  }
  try {
    const auto split = btf::Btf::from_bytes({bytes + base_size, size - base_size}, {.base = &*base}, "fuzz-split");
    fuzz::exercise(split);
  } catch (const corebpf::Error&) {
  }
  return 0;
}
