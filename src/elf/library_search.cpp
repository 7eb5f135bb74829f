#include "elf/library_search.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "corebpf/error.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"

namespace corebpf::elf {
namespace {

constexpr std::string_view old_magic = "ld.so-1.7.0";
constexpr std::string_view new_magic = "glibc-ld.so.cache1.1";
constexpr std::size_t new_header_size = 48;
constexpr std::size_t new_entry_size = 24;
constexpr std::size_t old_entry_size = 12;

// ld.so.cache entry flags: the ELF libc6 type, and the architecture bits of 64-bit x86 libraries.
constexpr std::uint32_t flag_elf_libc6 = 0x0003;
constexpr std::uint32_t flag_type_mask = 0x00ff;
constexpr std::uint32_t flag_arch_mask = 0xff00;
#if defined(__x86_64__)
constexpr std::uint32_t flag_this_arch = 0x0300;
#elif defined(__aarch64__)
constexpr std::uint32_t flag_this_arch = 0x0a00;
#else
constexpr std::uint32_t flag_this_arch = 0;
#endif

#if defined(__x86_64__)
constexpr const char* multiarch = "x86_64-linux-gnu";
#elif defined(__aarch64__)
constexpr const char* multiarch = "aarch64-linux-gnu";
#else
constexpr const char* multiarch = "";
#endif

template <typename T>
T load(std::span<const std::byte> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

std::string string_at(std::span<const std::byte> cache, std::uint32_t offset) {
  if (offset >= cache.size())
    util::fail(std::errc::invalid_argument, "ld.so.cache: string offset {} is past the end ({} bytes)", offset,
               cache.size());
  const char* begin = reinterpret_cast<const char*>(cache.data()) + offset;
  const void* nul = std::memchr(begin, 0, cache.size() - offset);
  if (nul == nullptr) util::fail(std::errc::invalid_argument, "ld.so.cache: string at {} is not terminated", offset);
  return {begin, static_cast<const char*>(nul)};
}

bool is_file(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_ld_so_cache(std::span<const std::byte> cache) {
  const auto starts_with = [&](std::size_t at, std::string_view magic) {
    return cache.size() >= at + magic.size() && std::memcmp(cache.data() + at, magic.data(), magic.size()) == 0;
  };
  std::size_t start = 0;
  if (starts_with(0, old_magic)) {
    // The old table comes first: its header (magic, count) and 12-byte entries, then the new
    // format 8-byte aligned.
    if (cache.size() < 16) util::fail(std::errc::invalid_argument, "ld.so.cache: truncated old header");
    const auto old_count = load<std::uint32_t>(cache, 12);
    start = 16 + std::size_t{old_count} * old_entry_size;
    start = (start + 7) & ~std::size_t{7};
  }
  if (!starts_with(start, new_magic))
    util::fail(std::errc::invalid_argument, "ld.so.cache: no '{}' table (unknown format)", new_magic);
  if (cache.size() < start + new_header_size) util::fail(std::errc::invalid_argument, "ld.so.cache: truncated header");
  const auto count = load<std::uint32_t>(cache, start + new_magic.size());
  if (std::uint64_t{count} * new_entry_size > cache.size() - start - new_header_size)
    util::fail(std::errc::invalid_argument, "ld.so.cache: {} entries do not fit in {} bytes", count, cache.size());
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = start + new_header_size + std::size_t{i} * new_entry_size;
    const auto flags = load<std::uint32_t>(cache, at);
    if ((flags & flag_type_mask) != flag_elf_libc6 || (flags & flag_arch_mask) != flag_this_arch) continue;
    // In the new format, string offsets count from the start of the new table.
    entries.emplace_back(string_at(cache, static_cast<std::uint32_t>(start + load<std::uint32_t>(cache, at + 4))),
                         string_at(cache, static_cast<std::uint32_t>(start + load<std::uint32_t>(cache, at + 8))));
  }
  return entries;
}

std::optional<std::string> find_library(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  if (const char* paths = std::getenv("LD_LIBRARY_PATH"); paths != nullptr) {
    std::string_view rest = paths;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto dir = rest.substr(0, colon);
      if (!dir.empty() && is_file(std::filesystem::path(dir) / name))
        return (std::filesystem::path(dir) / name).string();
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  try {
    const auto cache = util::FileBytes::open("/etc/ld.so.cache");
    for (const auto& [soname, path] : parse_ld_so_cache(cache.bytes()))
      if (soname == name && is_file(path)) return path;
  } catch (const Error&) {
    // No cache (or one we cannot read) is not an error: the loader then searches the directories.
  }
  std::vector<std::string> dirs;
  if (*multiarch != '\0') {
    dirs.push_back(std::string("/lib/") + multiarch);
    dirs.push_back(std::string("/usr/lib/") + multiarch);
  }
  for (const char* dir : {"/lib64", "/usr/lib64", "/lib", "/usr/lib"}) dirs.emplace_back(dir);
  for (const auto& dir : dirs)
    if (is_file(std::filesystem::path(dir) / name)) return (std::filesystem::path(dir) / name).string();
  return std::nullopt;
}

}  // namespace corebpf::elf
