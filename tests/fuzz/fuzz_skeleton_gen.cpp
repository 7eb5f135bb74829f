// libFuzzer: arbitrary bytes as a BPF object, made into a C++ skeleton header (names, types from
// the object's BTF, section structs) with a `type` root taken from the input's own BTF names.
// A refusal is a corebpf::Error; anything else (a crash, a hang, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "corebpf/error.hpp"
#include "corebpf/skeleton_gen.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  std::size_t written = 0;
  auto sink = [&](std::string_view chunk) { written += chunk.size(); };
  try {
    corebpf::generate_skeleton(bytes, "fuzz.bpf.o", {}, sink);
  } catch (const corebpf::Error&) {
  }
  try {
    corebpf::SkeletonOptions options;
    options.name = "fuzz";
    options.types = {"event", "stats"};
    corebpf::generate_skeleton(bytes, "fuzz.bpf.o", options, sink);
  } catch (const corebpf::Error&) {
  }
  return written == SIZE_MAX;
}
