#include "symbols.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "elf/elf_file.hpp"
#include "elf/elf_symbols.hpp"

namespace corebpf::tools {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The next whitespace-separated field of `line`, advancing it.
std::string_view next_field(std::string_view& line) {
  const auto start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  const auto end = line.find_first_of(" \t");
  const auto field = line.substr(0, end);
  line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  return field;
}

bool parse_hex(std::string_view text, std::uint64_t& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return error == std::errc() && end == text.data() + text.size();
}

template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    visit(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
}

std::string with_offset(const ResolvedSymbol& symbol) {
  return symbol.offset == 0 ? symbol.name : fmt::format("{}+{:#x}", symbol.name, symbol.offset);
}

}  // namespace

std::vector<KernelSymbol> parse_kallsyms(std::string_view text) {
  std::vector<KernelSymbol> symbols;
  for_each_line(text, [&](std::string_view line) {
    std::uint64_t address = 0;
    if (!parse_hex(next_field(line), address) || address == 0) return;
    const auto type = next_field(line);
    if (type.size() != 1 || (type[0] != 't' && type[0] != 'T')) return;
    const auto name = next_field(line);
    if (name.empty()) return;
    auto module = next_field(line);
    if (module.size() >= 2 && module.front() == '[' && module.back() == ']')
      module = module.substr(1, module.size() - 2);
    else
      module = {};
    symbols.push_back({address, std::string(name), std::string(module)});
  });
  std::stable_sort(symbols.begin(), symbols.end(),
                   [](const KernelSymbol& a, const KernelSymbol& b) { return a.address < b.address; });
  return symbols;
}

std::vector<Mapping> parse_proc_maps(std::string_view text) {
  std::vector<Mapping> maps;
  for_each_line(text, [&](std::string_view line) {
    const auto range = next_field(line);
    const auto dash = range.find('-');
    Mapping mapping;
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), mapping.start) ||
        !parse_hex(range.substr(dash + 1), mapping.end) || mapping.end < mapping.start)
      return;
    const auto perms = next_field(line);
    if (perms.size() < 3 || !parse_hex(next_field(line), mapping.offset)) return;
    mapping.executable = perms[2] == 'x';
    next_field(line);                      // device
    if (next_field(line).empty()) return;  // inode
    const auto start = line.find_first_not_of(" \t");
    if (start != std::string_view::npos) mapping.path = std::string(line.substr(start));
    maps.push_back(std::move(mapping));
  });
  return maps;
}

// A file's functions sorted by address, and its loadable segments (file offset -> address).
struct Symbolizer::FileSymbols {
  struct Function {
    std::uint64_t address;
    std::uint64_t size;
    std::string name;
  };
  std::vector<Function> functions;
  std::vector<elf::Segment> segments;
};

Symbolizer::Symbolizer() = default;
Symbolizer::~Symbolizer() = default;

std::optional<ResolvedSymbol> Symbolizer::kernel_symbol(std::uint64_t address) {
  if (!kallsyms_loaded_) {
    kallsyms_ = parse_kallsyms(read_text("/proc/kallsyms"));
    kallsyms_loaded_ = true;
  }
  auto it = std::upper_bound(kallsyms_.begin(), kallsyms_.end(), address,
                             [](std::uint64_t a, const KernelSymbol& s) { return a < s.address; });
  if (it == kallsyms_.begin()) return std::nullopt;
  --it;
  return ResolvedSymbol{it->name, address - it->address, it->module};
}

const Symbolizer::FileSymbols* Symbolizer::file_symbols(const std::string& path) {
  auto [it, inserted] = files_.try_emplace(path);
  if (!inserted) return it->second.get();
  try {
    const auto file = elf::ElfFile::open(path);
    auto symbols = std::make_unique<FileSymbols>();
    for (const auto& segment : file.segments())
      if (segment.type == PT_LOAD) symbols->segments.push_back(segment);
    for (const std::string_view table : {".symtab", ".dynsym"}) {
      for (const auto& symbol : elf::read_symbols(file, table)) {
        if ((symbol.type != STT_FUNC && symbol.type != STT_GNU_IFUNC) || symbol.value == 0) continue;
        std::string_view name = symbol.name;
        name = name.substr(0, name.find('@'));
        symbols->functions.push_back({symbol.value, symbol.size, std::string(name)});
      }
      if (!symbols->functions.empty()) break;  // .symtab has everything .dynsym has
    }
    std::sort(symbols->functions.begin(), symbols->functions.end(),
              [](const FileSymbols::Function& a, const FileSymbols::Function& b) { return a.address < b.address; });
    it->second = std::move(symbols);
  } catch (const std::exception&) {
    // Unreadable or not ELF: its addresses stay unknown (cached as such).
  }
  return it->second.get();
}

std::optional<ResolvedSymbol> Symbolizer::user_symbol(pid_t pid, std::uint64_t address) {
  auto maps_it = maps_.find(pid);
  if (maps_it == maps_.end())
    maps_it = maps_.emplace(pid, parse_proc_maps(read_text(fmt::format("/proc/{}/maps", pid)))).first;
  const auto& maps = maps_it->second;
  const auto mapping = std::find_if(maps.begin(), maps.end(),
                                    [address](const Mapping& m) { return address >= m.start && address < m.end; });
  if (mapping == maps.end() || mapping->path.empty() || mapping->path.front() != '/') return std::nullopt;
  // The file as the process sees it (its mount namespace), else by the same path here.
  const FileSymbols* symbols = file_symbols(fmt::format("/proc/{}/root{}", pid, mapping->path));
  if (symbols == nullptr) symbols = file_symbols(mapping->path);
  if (symbols == nullptr) return std::nullopt;
  const std::uint64_t file_offset = address - mapping->start + mapping->offset;
  std::optional<std::uint64_t> virtual_address;
  for (const auto& segment : symbols->segments) {
    if (file_offset >= segment.offset && file_offset - segment.offset < segment.filesz) {
      virtual_address = segment.vaddr + (file_offset - segment.offset);
      break;
    }
  }
  if (!virtual_address) return std::nullopt;
  const auto& functions = symbols->functions;
  auto it = std::upper_bound(functions.begin(), functions.end(), *virtual_address,
                             [](std::uint64_t a, const FileSymbols::Function& f) { return a < f.address; });
  if (it == functions.begin()) return std::nullopt;
  --it;
  if (it->size != 0 && *virtual_address - it->address >= it->size) return std::nullopt;
  return ResolvedSymbol{it->name, *virtual_address - it->address, mapping->path};
}

std::string Symbolizer::kernel(std::uint64_t address) {
  const auto symbol = kernel_symbol(address);
  return symbol ? with_offset(*symbol) : "[unknown]";
}

std::string Symbolizer::user(pid_t pid, std::uint64_t address) {
  const auto symbol = user_symbol(pid, address);
  return symbol ? with_offset(*symbol) : "[unknown]";
}

void Symbolizer::forget(pid_t pid) { maps_.erase(pid); }

}  // namespace corebpf::tools
