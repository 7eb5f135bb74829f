// ELF -> ObjectSpec: header, symbols, BTF, code sections and their relocations.
#include "object/object_parser.hpp"

#include <algorithm>

#include "object/byte_reader.hpp"

namespace corebpf {

using namespace elf_constants;

namespace {

constexpr std::size_t kSymbolSize = 24;      // Elf64_Sym
constexpr std::size_t kRelocationSize = 16;  // Elf64_Rel
constexpr std::size_t kElfTypeOffset = 16;   // e_type in the ELF header

Insn read_insn(const std::byte* raw, bool swap) {
  Insn insn;
  std::memcpy(&insn, raw, sizeof insn);
  if (swap) {
    // A big-endian bpf_insn stores dst_reg in the high nibble of the register byte.
    insn.regs = static_cast<std::uint8_t>((insn.regs << 4) | (insn.regs >> 4));
    insn.off = static_cast<std::int16_t>(__builtin_bswap16(static_cast<std::uint16_t>(insn.off)));
    insn.imm = static_cast<std::int32_t>(__builtin_bswap32(static_cast<std::uint32_t>(insn.imm)));
  }
  return insn;
}

std::int64_t ld_imm64_value(const Insn* insn) {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(insn[1].imm)) << 32) |
                                   static_cast<std::uint32_t>(insn[0].imm));
}

}  // namespace

ObjectParser::ObjectParser(const elf::ElfFile& elf_file, const OpenOptions& open_options, ObjectSpec& object)
    : elf(elf_file), options(open_options), spec(object), file(elf_file.name()) {}

void ObjectParser::parse() {
  check_header();
  read_symbols();
  read_btf();
  read_license_and_version();
  read_code_sections();
  read_btf_ext();
  read_btf_maps();
  read_legacy_maps();
  read_data_sections();
  read_struct_ops_sections();
  read_externs();
  add_kconfig_map();
  read_relocations();
  link_programs();
}

std::string ObjectParser::section_name(std::size_t index) const {
  for (const auto& section : elf.sections())
    if (section.index == index) return std::string(section.name);
  return fmt::format("#{}", index);
}

std::string ObjectParser::symbol_name(const Symbol& symbol) const {
  if (symbol.type == kSttSection || (symbol.name.empty() && symbol.section != kShnUndef))
    return section_name(symbol.section);
  return std::string(symbol.name);
}

const btf::Btf& ObjectParser::require_btf(std::string_view why) const {
  if (!spec.btf_) fail("{}, but the object has no .BTF section (compile with clang -g)", why);
  return *spec.btf_;
}

void ObjectParser::check_header() {
  if (!elf.is_64bit()) fail("is a 32-bit ELF file; BPF objects are 64-bit");
  if (elf.machine() != kEmBpf) fail("is not a BPF object: its ELF machine is {} (EM_BPF is {})", elf.machine(), kEmBpf);
  object::ByteReader header(elf.image(), elf.is_little_endian() != (btf::native_endian() == btf::Endian::little));
  if (!header.fits(kElfTypeOffset, 2)) fail("is too short for an ELF header");
  if (header.u16(kElfTypeOffset) != kEtRel)
    fail("is not a relocatable object (ELF type {}); BPF objects come from clang -c", header.u16(kElfTypeOffset));
  spec.endian_ = elf.is_little_endian() ? btf::Endian::little : btf::Endian::big;
  swap = spec.endian_ != btf::native_endian();
}

void ObjectParser::read_symbols() {
  const elf::Section* symtab = nullptr;
  for (const auto& section : elf.sections()) {
    if (section.type != kShtSymtab) continue;
    if (symtab) fail("has two symbol tables (sections {} and {})", symtab->index, section.index);
    symtab = &section;
  }
  if (!symtab) fail("has no symbol table");
  symtab_index = symtab->index;
  if (symtab->data.size() % kSymbolSize != 0)
    fail("symbol table size {} is not a multiple of {}", symtab->data.size(), kSymbolSize);
  const elf::Section* strtab = nullptr;
  for (const auto& section : elf.sections())
    if (section.index == symtab->link) strtab = &section;
  if (!strtab) fail("symbol table links to string section {}, which does not exist", symtab->link);
  const auto strings = strtab->data;

  object::ByteReader reader(symtab->data, swap);
  const std::size_t count = symtab->data.size() / kSymbolSize;
  symbols.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = i * kSymbolSize;
    Symbol symbol;
    const std::uint32_t name_offset = reader.u32(at);
    if (name_offset != 0) {
      if (name_offset >= strings.size())
        fail("symbol {} has name offset {}, beyond its {}-byte string table", i, name_offset, strings.size());
      const char* begin = reinterpret_cast<const char*>(strings.data()) + name_offset;
      const auto* end = static_cast<const char*>(std::memchr(begin, 0, strings.size() - name_offset));
      if (!end) fail("symbol {} has a name that runs off the end of its string table", i);
      symbol.name = std::string_view(begin, static_cast<std::size_t>(end - begin));
    }
    const auto info = std::to_integer<std::uint8_t>(symtab->data[at + 4]);
    symbol.type = info & 0xf;
    symbol.bind = info >> 4;
    symbol.visibility = std::to_integer<std::uint8_t>(symtab->data[at + 5]) & 0x3;
    symbol.section = reader.u16(at + 6);
    symbol.value = reader.u64(at + 8);
    symbol.size = reader.u64(at + 16);
    if (!symbol.name.empty()) symbols_by_name.emplace(symbol.name, i);
    symbols.push_back(symbol);
  }
}

const ObjectParser::Symbol* ObjectParser::find_symbol(std::size_t section, std::string_view name) const {
  auto [first, last] = symbols_by_name.equal_range(name);
  for (auto it = first; it != last; ++it) {
    const auto& symbol = symbols[it->second];
    if (symbol.section == section && symbol.type != kSttSection) return &symbol;
  }
  return nullptr;
}

void ObjectParser::read_btf() {
  const auto* section = elf.find_section(".BTF");
  if (!section || section->data.empty()) return;
  spec.btf_ = btf::Btf::from_bytes(section->data, {}, file + " .BTF");
}

void ObjectParser::read_license_and_version() {
  if (const auto* section = elf.find_section("license"); section && !section->data.empty()) {
    const auto* begin = reinterpret_cast<const char*>(section->data.data());
    const auto* end = static_cast<const char*>(std::memchr(begin, 0, section->data.size()));
    if (!end) fail("the license section is not a NUL-terminated string");
    spec.license_.assign(begin, end);
  }
  if (const auto* section = elf.find_section("version"); section && section->type != kShtNobits) {
    if (section->data.size() != 4)
      fail("the version section is {} bytes; it holds one 4-byte number", section->data.size());
    spec.kernel_version_ = object::ByteReader(section->data, swap).u32(0);
  }
}

void ObjectParser::read_code_sections() {
  for (const auto& section : elf.sections()) {
    if (section.type != kShtProgbits || (section.flags & kShfExecinstr) == 0) continue;
    if (section.data.size() % sizeof(Insn) != 0)
      fail("section '{}' is {} bytes, not a whole number of 8-byte instructions", section.name, section.data.size());
    CodeSection code_section;
    code_section.elf = &section;
    code_section.insns.reserve(section.data.size() / sizeof(Insn));
    for (std::size_t at = 0; at < section.data.size(); at += sizeof(Insn))
      code_section.insns.push_back(read_insn(section.data.data() + at, swap));
    if (section.name == ".text") text_section = section.index;
    code.emplace(section.index, std::move(code_section));
  }

  for (const auto& symbol : symbols) {
    if (symbol.type != kSttFunc) continue;
    auto it = code.find(symbol.section);
    if (it == code.end())
      fail("function '{}' lies in section '{}', which is not a code section", symbol.name,
           section_name(symbol.section));
    const auto& insns = it->second.insns;
    const auto name = std::string_view(it->second.elf->name);
    if (symbol.value % sizeof(Insn) != 0 || symbol.size % sizeof(Insn) != 0 || symbol.size == 0)
      fail("function '{}' in section '{}' (offset {}, size {}) does not cover whole instructions", symbol.name, name,
           symbol.value, symbol.size);
    if (symbol.value / sizeof(Insn) > insns.size() ||
        symbol.size / sizeof(Insn) > insns.size() - symbol.value / sizeof(Insn))
      fail("function '{}' (offset {}, size {}) lies beyond the end of section '{}' ({} bytes)", symbol.name,
           symbol.value, symbol.size, name, insns.size() * sizeof(Insn));
    if (symbol.name.empty()) fail("section '{}' has a function without a name at offset {}", name, symbol.value);
    Function function;
    function.name = symbol.name;
    function.section = symbol.section;
    function.start = static_cast<std::uint32_t>(symbol.value / sizeof(Insn));
    function.count = static_cast<std::uint32_t>(symbol.size / sizeof(Insn));
    function.global = symbol.bind == kStbGlobal || symbol.bind == kStbWeak;
    constexpr std::uint8_t stv_hidden = 2;
    function.hidden = function.global && symbol.visibility == stv_hidden;
    functions.push_back(function);
  }
  std::stable_sort(functions.begin(), functions.end(), [](const Function& a, const Function& b) {
    return a.section != b.section ? a.section < b.section : a.start < b.start;
  });
  for (std::size_t i = 0; i < functions.size(); ++i) {
    auto& section = code.at(functions[i].section);
    if (!section.functions.empty()) {
      const auto& previous = functions[section.functions.back()];
      if (previous.start + previous.count > functions[i].start)
        fail("functions '{}' and '{}' of section '{}' overlap", previous.name, functions[i].name, section.elf->name);
    }
    section.functions.push_back(i);
  }

  // Entry programs: the global functions of every code section but .text, whose functions
  // (like static functions elsewhere) are subprograms only.
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const auto& function = functions[i];
    if (!function.global || function.section == text_section) continue;
    std::string_view section = code.at(function.section).elf->name;
    ProgramSpec program;
    program.name_ = std::string(function.name);
    if (section.starts_with('?')) {
      program.autoload_ = false;
      section.remove_prefix(1);
    }
    program.section_ = std::string(section);
    auto definition = section_definition(section, options.section_handlers);
    if (!definition)
      fail(
          "program '{}' is in section '{}', which is not a known program section (see the libbpf SEC() names, "
          "or register a section handler)",
          function.name, section);
    program.definition_ = std::move(*definition);
    spec.programs_.push_back(std::move(program));
    entry_functions.push_back(i);
  }
}

void ObjectParser::read_btf_ext() {
  const auto* section = elf.find_section(".BTF.ext");
  if (!section || section->data.empty()) return;
  const auto& btf = require_btf("the object has a .BTF.ext section");
  btf_ext = object::parse_btf_ext(section->data, swap, btf, file);
  // The linker looks up each function's records by offset: sorted once here, not scanned per
  // function (an object with hundreds of programs in one section would be quadratic).
  auto by_offset = [](const auto& a, const auto& b) { return a.insn_off < b.insn_off; };
  for (auto& [section_name, ext] : btf_ext.sections) {
    std::stable_sort(ext.func_info.begin(), ext.func_info.end(), by_offset);
    std::stable_sort(ext.line_info.begin(), ext.line_info.end(), by_offset);
    std::stable_sort(ext.core_relos.begin(), ext.core_relos.end(), by_offset);
  }
  for (const auto& [section_name, ext] : btf_ext.sections) {
    const std::string_view name = section_name;  // clang 14 lambdas cannot capture structured bindings
    CodeSection* target = nullptr;
    for (auto& [index, code_section] : code)
      if (code_section.elf->name == name) target = &code_section;
    if (!target) fail(".BTF.ext describes section '{}', which is not a code section of the object", name);
    const std::uint64_t size = target->insns.size() * sizeof(Insn);
    auto check = [&](std::uint32_t insn_off, std::string_view what) {
      if (insn_off >= size)
        fail(".BTF.ext {} of section '{}' at offset {} lies beyond the section's {} bytes", what, name, insn_off, size);
    };
    for (const auto& record : ext.func_info) {
      check(record.insn_off, "func_info");
      auto type = btf.try_type(record.type_id);
      if (!type || type->kind() != btf::Kind::Func)
        fail(".BTF.ext func_info of section '{}' at offset {} names type {}, which is not a FUNC", name,
             record.insn_off, record.type_id);
    }
    for (const auto& record : ext.line_info) check(record.insn_off, "line_info");
    for (const auto& record : ext.core_relos) check(record.insn_off, "CO-RE relocation");
    target->ext = &ext;
  }
}

void ObjectParser::read_relocations() {
  for (const auto& section : elf.sections()) {
    if (section.type == kShtRela && code.contains(section.info))
      fail("section '{}' has RELA relocations; BPF objects use REL", section.name);
    if (section.type != kShtRel) continue;
    if (section.link != symtab_index)
      fail("relocation section '{}' refers to symbol table {}, not the object's ({})", section.name, section.link,
           symtab_index);
    if (auto it = code.find(section.info); it != code.end()) {
      read_code_relocations(section, it->second);
    } else if (maps_section && section.info == *maps_section) {
      read_map_slots(section);
    } else if (struct_ops_sections.contains(section.info)) {
      read_struct_ops_relocations(section);
    }
    // Relocations of DWARF, .BTF and .BTF.ext only matter to a linker.
  }
}

void ObjectParser::read_code_relocations(const elf::Section& relocations, CodeSection& code_section) {
  if (relocations.data.size() % kRelocationSize != 0)
    fail("relocation section '{}' size {} is not a multiple of {}", relocations.name, relocations.data.size(),
         kRelocationSize);
  object::ByteReader reader(relocations.data, swap);
  for (std::size_t i = 0; i < relocations.data.size() / kRelocationSize; ++i) {
    const std::uint64_t offset = reader.u64(i * kRelocationSize);
    const std::uint64_t info = reader.u64(i * kRelocationSize + 8);
    relocate_instruction(code_section, i, offset, static_cast<std::uint32_t>(info >> 32),
                         static_cast<std::uint32_t>(info));
  }
}

void ObjectParser::relocate_instruction(CodeSection& code_section, std::size_t relocation_index, std::uint64_t offset,
                                        std::uint32_t symbol_index, std::uint32_t type) {
  const std::string_view section = code_section.elf->name;
  auto& insns = code_section.insns;
  if (type == kRBpfNone) return;
  if (offset % sizeof(Insn) != 0 || offset / sizeof(Insn) >= insns.size())
    fail("section '{}': relocation {} at offset {} is not on an instruction (the section has {})", section,
         relocation_index, offset, insns.size());
  const auto index = static_cast<std::uint32_t>(offset / sizeof(Insn));
  if (symbol_index == 0 || symbol_index >= symbols.size())
    fail("section '{}': relocation {} at offset {} refers to symbol {}, outside the symbol table ({} symbols)", section,
         relocation_index, offset, symbol_index, symbols.size());
  const Symbol& symbol = symbols[symbol_index];
  // Only failures need the symbol's name, which for section symbols takes a search.
  auto where = [&] {
    return fmt::format("section '{}': relocation at offset {} against '{}'", section, offset, symbol_name(symbol));
  };
  if (type != kRBpf64_64 && type != kRBpf64_32) fail("{} has type {}, which BPF code does not use", where(), type);

  Insn& insn = insns[index];
  const bool is_call = insn.is_call();
  const bool is_ld_imm64 = insn.is_ld_imm64();
  if (is_ld_imm64 && index + 1 >= insns.size()) fail("{} is on an ld_imm64 cut off by the end of the section", where());
  if (!is_call && !is_ld_imm64)
    fail("{} is on instruction {} (opcode 0x{:02x}), which is neither a call nor an ld_imm64", where(), index,
         insn.code);
  if (is_call && insn.src() != Insn::kPseudoCall)
    fail("{} is on a call of helper {} (src_reg {}), not a BPF-to-BPF call", where(), insn.imm, insn.src());

  if (symbol.section == kShnUndef) {
    auto it = extern_by_name.find(symbol.name);
    if (symbol.name.empty() || it == extern_by_name.end()) fail("{}: the symbol is undefined", where());
    auto& ext = spec.externs_[it->second];
    if (is_call) {
      if (ext.kind != ExternKind::kfunc) fail("{}: a call of extern '{}', which is not a function", where(), ext.name);
      code_section.extern_uses[index] = it->second;
    } else if (ext.kind == ExternKind::kconfig) {
      const std::int64_t at = static_cast<std::int64_t>(ext.offset) + ld_imm64_value(&insn);
      if (at < 0 || at > static_cast<std::int64_t>(spec.maps_[*kconfig_map].value_size()))
        fail("{}: offset {} lies outside the .kconfig map", where(), at);
      insn.set_src(Insn::kPseudoMapIdxValue);
      insn.imm = static_cast<std::int32_t>(*kconfig_map);
      insns[index + 1].imm = static_cast<std::int32_t>(at);
    } else {
      code_section.extern_uses[index] = it->second;
    }
    return;
  }
  if (symbol.section >= kShnLoreserve)
    fail("{}: the symbol has the special section index 0x{:x}", where(), symbol.section);

  if (auto target = code.find(symbol.section); target != code.end()) {
    if (symbol.value % sizeof(Insn) != 0)
      fail("{}: the symbol's offset {} is not on an instruction", where(), symbol.value);
    std::int64_t target_insn = 0;
    if (is_call) {
      // The call's immediate is relative to the next instruction, starting from the symbol.
      target_insn = static_cast<std::int64_t>(symbol.value / sizeof(Insn)) + insn.imm + 1;
    } else {
      const std::int64_t byte = static_cast<std::int64_t>(symbol.value) + ld_imm64_value(&insn);
      if (byte % static_cast<std::int64_t>(sizeof(Insn)) != 0)
        fail("{}: the function address {} is not on an instruction", where(), byte);
      target_insn = byte / static_cast<std::int64_t>(sizeof(Insn));
      insn.set_src(Insn::kPseudoFunc);
      insn.imm = 0;
      insns[index + 1].imm = 0;
    }
    if (target_insn < 0 || target_insn >= static_cast<std::int64_t>(target->second.insns.size()))
      fail("{}: the target instruction {} lies outside section '{}'", where(), target_insn, target->second.elf->name);
    code_section.branch_targets[index] = {symbol.section, static_cast<std::uint32_t>(target_insn)};
    return;
  }

  if (is_call) fail("{}: a call into section '{}', which holds no code", where(), section_name(symbol.section));
  const std::int64_t byte = static_cast<std::int64_t>(symbol.value) + ld_imm64_value(&insn);
  if ((maps_section && symbol.section == *maps_section) ||
      (legacy_maps_section && symbol.section == *legacy_maps_section)) {
    const MapPlacement* placement = byte < 0 ? nullptr : map_at(symbol.section, static_cast<std::uint64_t>(byte));
    if (!placement)
      fail("{}: offset {} of section '{}' is not inside any map", where(), byte, section_name(symbol.section));
    insn.set_src(Insn::kPseudoMapIdx);
    insn.imm = static_cast<std::int32_t>(placement->map_index);
    insns[index + 1].imm = 0;
    return;
  }
  if (auto map = data_section_maps.find(symbol.section); map != data_section_maps.end()) {
    const auto& data = spec.maps_[map->second];
    if (byte < 0 || byte > static_cast<std::int64_t>(data.value_size()))
      fail("{}: offset {} lies outside section '{}' ({} bytes)", where(), byte, data.section(), data.value_size());
    insn.set_src(Insn::kPseudoMapIdxValue);
    insn.imm = static_cast<std::int32_t>(map->second);
    insns[index + 1].imm = static_cast<std::int32_t>(byte);
    return;
  }
  fail("{}: section '{}' holds neither code, maps nor global data", where(), section_name(symbol.section));
}

const ObjectParser::Function* ObjectParser::function_at(std::size_t section, std::uint32_t insn) const {
  auto it = code.find(section);
  if (it == code.end()) return nullptr;
  const auto& list = it->second.functions;
  auto pos = std::upper_bound(list.begin(), list.end(), insn,
                              [&](std::uint32_t value, std::size_t f) { return value < functions[f].start; });
  if (pos == list.begin()) return nullptr;
  const Function& function = functions[*std::prev(pos)];
  return insn < function.start + function.count ? &function : nullptr;
}

const ObjectParser::MapPlacement* ObjectParser::map_at(std::size_t section, std::uint64_t offset) const {
  for (const auto& placement : map_placements)
    if (placement.section == section && offset >= placement.offset && offset < placement.offset + placement.size)
      return &placement;
  return nullptr;
}

}  // namespace corebpf
