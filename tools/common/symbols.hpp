// Symbolization: kernel addresses from /proc/kallsyms, user addresses from the ELF symbols
// (.symtab, else .dynsym; src/elf's reader) of the files /proc/PID/maps maps. One cache per
// Symbolizer: kallsyms is read once, each file's symbols once, each process's maps once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corebpf::tools {

struct KernelSymbol {
  std::uint64_t address = 0;
  std::string name;
  std::string module;  // "" for vmlinux
};

// /proc/kallsyms' text ("ffffffff81000000 T _text", "... t name\t[module]"): function (text)
// symbols only, sorted by address. Malformed lines are skipped; zero addresses (no privilege to
// see them) are dropped.
std::vector<KernelSymbol> parse_kallsyms(std::string_view text);

struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t offset = 0;  // file offset of `start`
  bool executable = false;
  std::string path;  // "" for anonymous mappings, "[vdso]", "/usr/lib/...so"
};

// /proc/PID/maps' text, in order; malformed lines are skipped.
std::vector<Mapping> parse_proc_maps(std::string_view text);

struct ResolvedSymbol {
  std::string name;
  std::uint64_t offset = 0;  // from the symbol's start
  std::string module;        // kernel module or the mapped file
};

class Symbolizer {
 public:
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  std::optional<ResolvedSymbol> kernel_symbol(std::uint64_t address);
  std::optional<ResolvedSymbol> user_symbol(pid_t pid, std::uint64_t address);
  // "name+0x1a" ("name" at offset 0), or "[unknown]".
  std::string kernel(std::uint64_t address);
  std::string user(pid_t pid, std::uint64_t address);
  // Forgets a process's maps (after it exited or exec()ed).
  void forget(pid_t pid);

 private:
  struct FileSymbols;
  const FileSymbols* file_symbols(const std::string& path);

  bool kallsyms_loaded_ = false;
  std::vector<KernelSymbol> kallsyms_;
  std::map<pid_t, std::vector<Mapping>> maps_;
  std::map<std::string, std::unique_ptr<FileSymbols>> files_;
};

}  // namespace corebpf::tools
