// libFuzzer: arbitrary bytes as a BTF file (raw BTF of either byte order, or an ELF with .BTF),
// then every accessor, query, the writer round trip and the dumpers on whatever parses.
#include <cstddef>
#include <cstdint>

#include "btf_exercise.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace corebpf;
  try {
    const auto btf = btf::Btf::from_bytes({reinterpret_cast<const std::byte*>(data), size}, {}, "fuzz");
    fuzz::exercise(btf);
  } catch (const corebpf::Error&) {
  }
  return 0;
}
