// Finding a shared library by name ("libc.so.6") the way the dynamic loader does, so a uprobe on
// "libc.so.6:malloc" lands on the file programs really map.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corebpf::elf {

// (soname, path) entries of an /etc/ld.so.cache image (the "glibc-ld.so.cache1.1" format, alone
// or after the old "ld.so-1.7.0" table) for this machine's 64-bit libraries, in cache order
// (the loader's preference). Throws corebpf::Error for a malformed cache.
std::vector<std::pair<std::string, std::string>> parse_ld_so_cache(std::span<const std::byte> cache);

// The path of library `name`: LD_LIBRARY_PATH, then /etc/ld.so.cache, then the default
// directories (/lib/<multiarch>, /usr/lib/<multiarch>, /lib64, /usr/lib64, /lib, /usr/lib).
// nullopt when none has it.
std::optional<std::string> find_library(std::string_view name);

}  // namespace corebpf::elf
