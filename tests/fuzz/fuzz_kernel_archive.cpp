// libFuzzer: the parsers `btf extract` runs on packages and images it is given: ar archives (.deb),
// tar streams (data.tar), the BTF blob search in raw images (arm64 Image) and the release banner.
// The first byte picks the parser; every malformed input must be a corebpf::Error, never a crash,
// and every member must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "corebpf/btf_extract.hpp"
#include "corebpf/error.hpp"

namespace {

using namespace corebpf;

void check_inside(std::span<const std::byte> input, const std::vector<btf::ArchiveMember>& members) {
  for (const auto& m : members) {
    if (m.data.empty()) continue;
    if (m.data.data() < input.data() || m.data.data() + m.data.size() > input.data() + input.size()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        check_inside(input, btf::read_ar(input, "fuzz.deb"));
        break;
      case 1:
        check_inside(input, btf::read_tar(input, "fuzz.tar"));
        break;
      case 2:
        if (const auto blob = btf::find_btf_blob(input)) {
          if (blob->data() < input.data() || blob->data() + blob->size() > input.data() + input.size())
            __builtin_trap();
        }
        break;
      default:
        (void)btf::find_kernel_release(input);
        break;
    }
  } catch (const Error&) {
  }
  return 0;
}
