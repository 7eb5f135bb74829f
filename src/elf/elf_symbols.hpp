// Function symbols of an executable or shared library and the file offsets uprobes need: a
// symbol's value is a virtual address, the kernel wants the offset in the file, and the two differ
// by the PT_LOAD segment that maps the code (by a page or more in PIE and shared objects).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "elf/elf_file.hpp"

namespace corebpf::elf {

struct Symbol {
  std::string_view name;        // as stored ("malloc", or "foo@@VER_1" in some .symtab sections)
  std::string_view version;     // .dynsym: the version from .gnu.version_d/_r ("GLIBC_2.2.5"), else ""
  bool default_version = true;  // .dynsym: not a hidden (non-default) version
  std::uint64_t value = 0;
  std::uint64_t size = 0;
  std::uint8_t type = 0;  // STT_*
  std::uint8_t bind = 0;  // STB_*
  std::uint16_t section = 0;
};

// Every symbol of `table` (".symtab" or ".dynsym"); empty when the file has no such table.
// Throws corebpf::Error naming the file for a malformed table.
std::vector<Symbol> read_symbols(const ElfFile& file, std::string_view table);

// The file offset of virtual address `address` through the PT_LOAD segment whose file bytes hold
// it; nullopt when no segment does.
std::optional<std::uint64_t> address_to_file_offset(const ElfFile& file, std::uint64_t address);

struct FunctionLocation {
  std::string name;  // the symbol's name as stored
  std::uint64_t address = 0;
  std::uint64_t file_offset = 0;
  std::uint64_t size = 0;
  bool ifunc = false;      // STT_GNU_IFUNC: the address is the resolver's
  std::string_view table;  // ".symtab" or ".dynsym"
};

// A defined function (STT_FUNC or STT_GNU_IFUNC) called `name`: looked up in .symtab, then in
// .dynsym. `name` may carry a version ("malloc@@GLIBC_2.2.5", "memcpy@GLIBC_2.2.5"); a bare name
// also matches versioned names, preferring the default version. Aliases at one address are one
// match. nullopt when absent; throws corebpf::Error when several functions have the name or the
// function lies in no loadable segment.
std::optional<FunctionLocation> find_function(const ElfFile& file, std::string_view name);

// Every defined function whose bare name matches the glob `pattern` ('*', '?'), one per address,
// sorted by file offset. Throws corebpf::Error for a function in no loadable segment.
std::vector<FunctionLocation> match_functions(const ElfFile& file, std::string_view pattern);

// Glob match with '*' and '?' (no character classes), as kprobe.multi patterns.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace corebpf::elf
