#include "elf/elf_symbols.hpp"

#include <elf.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "util/error_format.hpp"

namespace corebpf::elf {
namespace {

const Section* section_by_index(const ElfFile& file, std::size_t index) {
  for (const auto& section : file.sections())
    if (section.index == index) return &section;
  return nullptr;
}

template <typename T>
T load(std::span<const std::byte> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

std::string_view string_at(const ElfFile& file, const Section& strings, std::uint64_t offset, std::string_view what) {
  if (offset >= strings.data.size())
    util::fail(std::errc::invalid_argument, "{}: {} name offset {} lies outside {} ({} bytes)", file.name(), what,
               offset, strings.name, strings.data.size());
  const char* begin = reinterpret_cast<const char*>(strings.data.data()) + offset;
  const std::size_t room = strings.data.size() - offset;
  const void* nul = std::memchr(begin, 0, room);
  if (nul == nullptr)
    util::fail(std::errc::invalid_argument, "{}: {} name at offset {} of {} is not terminated", file.name(), what,
               offset, strings.name);
  return {begin, static_cast<std::size_t>(static_cast<const char*>(nul) - begin)};
}

// Version index -> name, from .gnu.version_d (the versions this file defines).
std::map<std::uint16_t, std::string_view> defined_versions(const ElfFile& file) {
  std::map<std::uint16_t, std::string_view> names;
  const Section* verdef = nullptr;
  for (const auto& section : file.sections())
    if (section.type == SHT_GNU_verdef) verdef = &section;
  if (verdef == nullptr) return names;
  const Section* strings = section_by_index(file, verdef->link);
  if (strings == nullptr) return names;
  const auto data = verdef->data;
  std::size_t offset = 0;
  // vd_cnt bounds the walk as well as the bytes: a looping vd_next must not spin.
  for (std::uint32_t count = 0; count < verdef->info + 1 && offset + sizeof(Elf64_Verdef) <= data.size(); ++count) {
    const auto def = load<Elf64_Verdef>(data, offset);
    const std::size_t aux_offset = offset + def.vd_aux;
    if (def.vd_cnt > 0 && def.vd_aux >= sizeof(Elf64_Verdef) && aux_offset + sizeof(Elf64_Verdaux) <= data.size() &&
        aux_offset > offset) {
      const auto aux = load<Elf64_Verdaux>(data, aux_offset);
      names[def.vd_ndx] = string_at(file, *strings, aux.vda_name, "version");
    }
    if (def.vd_next == 0) break;
    offset += def.vd_next;
  }
  return names;
}

void require_native_64bit(const ElfFile& file) {
  const bool host_little = std::endian::native == std::endian::little;
  if (!file.is_64bit() || file.is_little_endian() != host_little)
    util::fail(std::errc::not_supported, "{}: only 64-bit ELF files of this machine's byte order are supported",
               file.name());
}

bool is_function(const Symbol& symbol) {
  return (symbol.type == STT_FUNC || symbol.type == STT_GNU_IFUNC) && symbol.section != SHN_UNDEF && symbol.value != 0;
}

std::string_view bare_name(std::string_view name) { return name.substr(0, name.find('@')); }

// "V1" of "foo@V1" / "foo@@V1"; "" without a version.
std::string_view version_of(std::string_view name) {
  const auto start = name.find_first_not_of('@', bare_name(name).size());
  return start == std::string_view::npos ? std::string_view{} : name.substr(start);
}

FunctionLocation locate(const ElfFile& file, const Symbol& symbol, std::string_view table) {
  const auto offset = address_to_file_offset(file, symbol.value);
  if (!offset)
    util::fail(std::errc::invalid_argument,
               "{}: function '{}' at address {:#x} ({}) lies in no loadable segment of the file", file.name(),
               symbol.name, symbol.value, table);
  return {std::string(symbol.name), symbol.value, *offset, symbol.size, symbol.type == STT_GNU_IFUNC, table};
}

}  // namespace

std::vector<Symbol> read_symbols(const ElfFile& file, std::string_view table) {
  std::vector<Symbol> symbols;
  const Section* section = file.find_section(table);
  if (section == nullptr || section->data.empty()) return symbols;
  require_native_64bit(file);
  if (section->entsize != sizeof(Elf64_Sym) || section->data.size() % sizeof(Elf64_Sym) != 0)
    util::fail(std::errc::invalid_argument, "{}: {} has entries of {} bytes over {} bytes, not {}-byte symbols",
               file.name(), table, section->entsize, section->data.size(), sizeof(Elf64_Sym));
  const Section* strings = section_by_index(file, section->link);
  if (strings == nullptr || strings->type != SHT_STRTAB)
    util::fail(std::errc::invalid_argument, "{}: {} links to section {}, which is not a string table", file.name(),
               table, section->link);

  // .gnu.version pairs with .dynsym entry by entry.
  const Section* versym = nullptr;
  std::map<std::uint16_t, std::string_view> versions;
  if (section->type == SHT_DYNSYM) {
    for (const auto& candidate : file.sections())
      if (candidate.type == SHT_GNU_versym && candidate.link == section->index) versym = &candidate;
    if (versym != nullptr) versions = defined_versions(file);
  }

  const std::size_t count = section->data.size() / sizeof(Elf64_Sym);
  symbols.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto raw = load<Elf64_Sym>(section->data, i * sizeof(Elf64_Sym));
    Symbol symbol;
    symbol.name = string_at(file, *strings, raw.st_name, "symbol");
    symbol.value = raw.st_value;
    symbol.size = raw.st_size;
    symbol.type = ELF64_ST_TYPE(raw.st_info);
    symbol.bind = ELF64_ST_BIND(raw.st_info);
    symbol.section = raw.st_shndx;
    if (versym != nullptr && (i + 1) * sizeof(std::uint16_t) <= versym->data.size()) {
      const auto index = load<std::uint16_t>(versym->data, i * sizeof(std::uint16_t));
      symbol.default_version = (index & 0x8000) == 0;
      if (const auto found = versions.find(index & 0x7fff); found != versions.end() && (index & 0x7fff) > 1)
        symbol.version = found->second;
    }
    symbols.push_back(symbol);
  }
  return symbols;
}

std::optional<std::uint64_t> address_to_file_offset(const ElfFile& file, std::uint64_t address) {
  for (const auto& segment : file.segments()) {
    if (segment.type != PT_LOAD) continue;
    if (address >= segment.vaddr && address - segment.vaddr < segment.filesz)
      return address - segment.vaddr + segment.offset;
  }
  return std::nullopt;
}

std::optional<FunctionLocation> find_function(const ElfFile& file, std::string_view name) {
  const auto at = name.find('@');
  const std::string_view wanted_base = name.substr(0, at);
  // "name@VER" asks for that version, "name@@VER" for it as the default one.
  const bool wants_version = at != std::string_view::npos;
  const std::string_view wanted_version = version_of(name);

  for (const std::string_view table : {".symtab", ".dynsym"}) {
    const auto symbols = read_symbols(file, table);
    struct Candidate {
      const Symbol* symbol;
      int rank;  // higher wins: default version, global binding, the name as spelled
    };
    std::vector<Candidate> candidates;
    for (const auto& symbol : symbols) {
      if (!is_function(symbol)) continue;
      const bool exact = symbol.name == name;
      if (!exact && bare_name(symbol.name) != wanted_base) continue;
      // .symtab spells versions into names ("foo@@V1"); .dynsym keeps them in .gnu.version.
      const bool spelled = symbol.name.size() > wanted_base.size();
      const std::string_view stored = spelled ? version_of(symbol.name) : symbol.version;
      if (!exact && wants_version && stored != wanted_version) continue;
      const bool is_default = spelled ? symbol.name.find("@@") != std::string_view::npos : symbol.default_version;
      int rank = (is_default ? 4 : 0) + (exact ? 1 : 0);
      if (symbol.bind != STB_LOCAL) rank += 2;
      candidates.push_back({&symbol, rank});
    }
    if (candidates.empty()) continue;
    const int best = std::max_element(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
                       return a.rank < b.rank;
                     })->rank;
    const Symbol* chosen = nullptr;
    for (const auto& candidate : candidates) {
      if (candidate.rank != best) continue;
      if (chosen != nullptr && chosen->value != candidate.symbol->value)
        util::fail(std::errc::invalid_argument,
                   "{}: function name '{}' is ambiguous in {}: at {:#x} and at {:#x} (give a version or an offset)",
                   file.name(), name, table, chosen->value, candidate.symbol->value);
      chosen = candidate.symbol;
    }
    return locate(file, *chosen, table);
  }
  return std::nullopt;
}

std::vector<FunctionLocation> match_functions(const ElfFile& file, std::string_view pattern) {
  std::map<std::uint64_t, FunctionLocation> by_address;
  for (const std::string_view table : {".symtab", ".dynsym"}) {
    for (const auto& symbol : read_symbols(file, table)) {
      if (!is_function(symbol) || by_address.contains(symbol.value)) continue;
      if (!glob_match(pattern, bare_name(symbol.name))) continue;
      by_address.emplace(symbol.value, locate(file, symbol, table));
    }
  }
  std::vector<FunctionLocation> functions;
  functions.reserve(by_address.size());
  for (auto& [address, location] : by_address) functions.push_back(std::move(location));
  std::sort(functions.begin(), functions.end(),
            [](const auto& a, const auto& b) { return a.file_offset < b.file_offset; });
  return functions;
}

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative matcher: backtracks only to the last '*', so it is linear-ish with no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace corebpf::elf
