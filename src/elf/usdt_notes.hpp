// USDT probes (SystemTap SDT, <sys/sdt.h>): the .note.stapsdt notes of a binary and the x86-64
// argument specs they carry ("-4@%eax", "8@-8(%rbp)", "4@$5"). Pure parsing of untrusted bytes:
// every malformed input is a corebpf::Error naming the file (or the spec), never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elf/elf_file.hpp"

namespace corebpf::elf {

struct UsdtNote {
  std::string provider;
  std::string name;
  std::uint64_t address = 0;    // of the probe's nop, after the .stapsdt.base (prelink) adjustment
  std::uint64_t semaphore = 0;  // address of the is-enabled counter, 0 when the probe has none
  std::string arguments;        // the raw spec, e.g. "-4@%edi 8@-16(%rbp)"
};

// The notes of one .note.stapsdt section's bytes (native byte order). `base_section_address`: where
// .stapsdt.base is in the file; each note records where it was when the note was written, and a
// prelinked file moved both, so addresses shift by the difference. nullopt: no such section.
std::vector<UsdtNote> parse_stapsdt_notes(std::span<const std::byte> notes, std::string_view file_name,
                                          std::optional<std::uint64_t> base_section_address);

// Every USDT probe of `file` (empty when it has none).
std::vector<UsdtNote> read_usdt_notes(const ElfFile& file);

enum class UsdtArgKind : std::uint8_t {
  constant,   // "$imm": value
  reg,        // "%reg": the register
  reg_deref,  // "off(%reg)": memory at register + value
};

struct UsdtArgument {
  UsdtArgKind kind = UsdtArgKind::constant;
  std::int64_t value = 0;        // the constant, or the offset added to the register
  std::string reg;               // as written, without '%' ("eax", "rbp")
  std::uint16_t reg_offset = 0;  // offsetof(struct pt_regs, <64-bit register>) on x86-64
  std::uint8_t size = 8;         // bytes: 1, 2, 4 or 8
  bool is_signed = false;
};

// The space-separated argument specs of one probe (at most 12). Throws corebpf::Error (EINVAL)
// naming the spec for a form x86-64 USDT does not use or that cannot be read from pt_regs
// (indexed memory "(%rax,%rbx,4)", symbolic offsets, unknown registers).
std::vector<UsdtArgument> parse_usdt_arguments(std::string_view specs);

inline constexpr std::size_t usdt_max_arguments = 12;

}  // namespace corebpf::elf
