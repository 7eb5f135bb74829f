// Internal: turning an ELF BPF object into an ObjectSpec. One ObjectParser lives for one open();
// its steps are spread over object_parser.cpp (ELF, code, relocations), object_maps.cpp (maps and
// global data), object_externs.cpp (externs) and object_linker.cpp (subprogram linking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "corebpf/object_spec.hpp"
#include "elf/elf_file.hpp"
#include "object/btf_ext.hpp"
#include "util/error_format.hpp"

namespace corebpf {

// ELF constants (<elf.h> values) the parser needs.
namespace elf_constants {
inline constexpr std::uint16_t kEmBpf = 247;
inline constexpr std::uint16_t kEtRel = 1;
inline constexpr std::uint32_t kShtProgbits = 1;
inline constexpr std::uint32_t kShtSymtab = 2;
inline constexpr std::uint32_t kShtRela = 4;
inline constexpr std::uint32_t kShtNobits = 8;
inline constexpr std::uint32_t kShtRel = 9;
inline constexpr std::uint64_t kShfExecinstr = 4;
inline constexpr std::uint16_t kShnUndef = 0;
inline constexpr std::uint16_t kShnLoreserve = 0xff00;
inline constexpr std::uint8_t kSttNotype = 0;
inline constexpr std::uint8_t kSttObject = 1;
inline constexpr std::uint8_t kSttFunc = 2;
inline constexpr std::uint8_t kSttSection = 3;
inline constexpr std::uint8_t kStbLocal = 0;
inline constexpr std::uint8_t kStbGlobal = 1;
inline constexpr std::uint8_t kStbWeak = 2;
// BPF relocation types.
inline constexpr std::uint32_t kRBpfNone = 0;
inline constexpr std::uint32_t kRBpf64_64 = 1;
inline constexpr std::uint32_t kRBpf64_32 = 10;
}  // namespace elf_constants

struct ObjectParser {
  struct Symbol {
    std::string_view name;
    std::uint64_t value = 0;
    std::uint64_t size = 0;
    std::uint16_t section = 0;
    std::uint8_t type = 0;
    std::uint8_t bind = 0;
    std::uint8_t visibility = 0;  // STV_*
  };

  struct Function {
    std::string_view name;
    std::size_t section = 0;  // ELF section index
    std::uint32_t start = 0;  // instruction index in the section
    std::uint32_t count = 0;
    bool global = false;
    bool hidden = false;  // a global with STV_HIDDEN visibility
  };

  // Where a BPF-to-BPF call or a callback address (ld_imm64) points, from its relocation.
  struct BranchTarget {
    std::size_t section = 0;
    std::uint32_t insn = 0;
  };

  struct CodeSection {
    const elf::Section* elf = nullptr;
    std::vector<Insn> insns;                               // host order, data relocations applied
    std::vector<std::size_t> functions;                    // into functions, by start
    std::map<std::uint32_t, BranchTarget> branch_targets;  // instruction -> target
    std::map<std::uint32_t, std::uint32_t> extern_uses;    // instruction -> extern index
    const object::ExtSection* ext = nullptr;
  };

  // A BTF-defined or legacy map's bytes in its section, for relocations that point into it.
  struct MapPlacement {
    std::size_t section = 0;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::size_t map_index = 0;
  };

  // The `values` member of a map-in-map or prog array: where its slots start in the map's bytes.
  struct ValuesField {
    std::uint64_t offset = 0;
    bool holds_programs = false;
  };

  ObjectParser(const elf::ElfFile& elf, const OpenOptions& options, ObjectSpec& spec);
  void parse();

  // object_parser.cpp
  void check_header();
  void read_symbols();
  void read_btf();
  void read_license_and_version();
  void read_code_sections();
  void read_btf_ext();
  void read_relocations();
  void read_code_relocations(const elf::Section& relocations, CodeSection& code);
  void relocate_instruction(CodeSection& code, std::size_t relocation_index, std::uint64_t offset,
                            std::uint32_t symbol_index, std::uint32_t type);
  // object_maps.cpp
  void read_btf_maps();
  void read_legacy_maps();
  void read_data_sections();
  void read_map_slots(const elf::Section& relocations);
  void read_struct_ops_sections();
  void read_struct_ops_relocations(const elf::Section& relocations);
  // The entry program a relocation's symbol names (a function's first instruction), if any.
  std::optional<std::size_t> program_of_symbol(const Symbol& symbol) const;
  // object_externs.cpp
  void read_externs();
  void add_kconfig_map();
  // object_linker.cpp
  void link_programs();

  const Symbol* find_symbol(std::size_t section, std::string_view name) const;
  const Function* function_at(std::size_t section, std::uint32_t insn) const;
  const MapPlacement* map_at(std::size_t section, std::uint64_t offset) const;
  std::string section_name(std::size_t index) const;
  std::string symbol_name(const Symbol& symbol) const;
  std::string internal_map_name(std::string_view section) const;
  const btf::Btf& require_btf(std::string_view why) const;

  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    util::fail(std::errc::invalid_argument, "{}: {}", file, fmt::format(format, std::forward<Args>(args)...));
  }

  const elf::ElfFile& elf;
  const OpenOptions& options;
  ObjectSpec& spec;
  const std::string& file;
  bool swap = false;

  std::vector<Symbol> symbols;
  std::size_t symtab_index = 0;
  std::multimap<std::string_view, std::size_t> symbols_by_name;
  std::vector<Function> functions;
  std::vector<std::size_t> entry_functions;  // parallel to spec.programs_
  std::map<std::size_t, CodeSection> code;   // by ELF section index
  std::optional<std::size_t> text_section;
  object::BtfExt btf_ext;
  std::vector<MapPlacement> map_placements;
  std::map<std::size_t, ValuesField> values_fields;      // map index -> its `values` member
  std::map<std::size_t, std::size_t> data_section_maps;  // ELF section index -> map index
  std::optional<std::size_t> kconfig_map;
  std::map<std::string_view, std::uint32_t, std::less<>> extern_by_name;
  std::optional<std::size_t> maps_section;
  std::optional<std::size_t> legacy_maps_section;
  std::map<std::size_t, std::vector<MapPlacement>> struct_ops_sections;  // ELF section index -> its maps
};

}  // namespace corebpf
