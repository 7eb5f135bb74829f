// libFuzzer: the parsers of user-space probe targets, which read files the caller names (any
// binary on the system): .note.stapsdt notes and their x86-64 argument specs, a whole ELF file's
// function symbols (versions, file offsets, globs) and USDT notes, and ld.so.cache images. The
// first byte picks the parser; every malformed input must be a corebpf::Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "corebpf/error.hpp"
#include "elf/elf_file.hpp"
#include "elf/elf_symbols.hpp"
#include "elf/library_search.hpp"
#include "elf/usdt_notes.hpp"

namespace {

using namespace corebpf;

void arguments(std::string_view specs) {
  try {
    const auto parsed = elf::parse_usdt_arguments(specs);
    if (parsed.size() > elf::usdt_max_arguments) __builtin_trap();
    for (const auto& argument : parsed) {
      if (argument.size != 1 && argument.size != 2 && argument.size != 4 && argument.size != 8) __builtin_trap();
      if (argument.kind != elf::UsdtArgKind::constant && argument.reg_offset > 152) __builtin_trap();
    }
  } catch (const Error&) {
  }
}

void notes(std::span<const std::byte> bytes, std::optional<std::uint64_t> base) {
  try {
    for (const auto& note : elf::parse_stapsdt_notes(bytes, "fuzz", base)) arguments(note.arguments);
  } catch (const Error&) {
  }
}

void elf_file(std::span<const std::byte> bytes) {
  try {
    const auto file = elf::ElfFile::from_memory(bytes, "fuzz");
    for (const auto& note : elf::read_usdt_notes(file)) {
      arguments(note.arguments);
      (void)elf::address_to_file_offset(file, note.address);
    }
    for (const auto& function : elf::match_functions(file, "*")) {
      // Every function found by pattern is found by name, at an offset inside a segment.
      const auto again = elf::find_function(file, function.name);
      if (!again) __builtin_trap();
    }
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  switch (data[0] % 5) {
    case 0:
      notes(bytes, std::nullopt);
      break;
    case 1:
      notes(bytes, 0x1000);
      break;
    case 2:
      arguments(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
      break;
    case 3:
      elf_file(bytes);
      break;
    case 4:
      try {
        (void)elf::parse_ld_so_cache(bytes);
      } catch (const Error&) {
      }
      break;
  }
  return 0;
}
