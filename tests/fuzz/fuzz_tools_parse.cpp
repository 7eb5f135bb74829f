// libFuzzer: the tools library's text parsers, which read /proc/kallsyms and /proc/PID/maps. The
// first byte picks the parser; any input must parse into sane records (never a crash).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "symbols.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    const auto symbols = corebpf::tools::parse_kallsyms(text);
    for (std::size_t i = 1; i < symbols.size(); ++i)
      if (symbols[i - 1].address > symbols[i].address || symbols[i].name.empty()) __builtin_trap();
  } else {
    for (const auto& mapping : corebpf::tools::parse_proc_maps(text))
      if (mapping.end < mapping.start) __builtin_trap();
  }
  return 0;
}
