// Shared helpers of the object model tests: the BPF objects tests/bpf compiles, their bytes, and
// a little ELF surgery for the bad-input tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::test {

inline std::filesystem::path bpf_object_path(const std::string& name) {
  return std::filesystem::path(COREBPF_BPF_OBJECT_DIR) / (name + ".bpf.o");
}

inline ObjectSpec open_bpf_object(const std::string& name, const OpenOptions& options = {}) {
  return ObjectSpec::open(bpf_object_path(name).string(), options);
}

inline std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

// The message of the corebpf::Error `action` throws; fails the test when it throws nothing.
template <typename Action>
std::string error_of(Action&& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.message();
  }
  ADD_FAILURE() << "expected a corebpf::Error";
  return {};
}

template <typename T>
T load_le(const std::vector<std::byte>& bytes, std::size_t offset) {
  T value{};
  for (std::size_t i = sizeof(T); i-- > 0;)
    value = static_cast<T>((value << 8) | std::to_integer<T>(bytes[offset + i]));
  return value;
}

template <typename T>
void store_le(std::vector<std::byte>& bytes, std::size_t offset, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) bytes[offset + i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
}

// Section headers of a little-endian ELF64 file, enough to find and damage a section's bytes.
struct ElfSectionView {
  std::size_t header_offset = 0;
  std::uint32_t type = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::size_t name_at = 0;  // file offset of the section's name
};

inline std::optional<ElfSectionView> find_elf_section(const std::vector<std::byte>& elf, std::string_view name) {
  const auto shoff = load_le<std::uint64_t>(elf, 0x28);
  const auto shentsize = load_le<std::uint16_t>(elf, 0x3a);
  const auto shnum = load_le<std::uint16_t>(elf, 0x3c);
  const auto shstrndx = load_le<std::uint16_t>(elf, 0x3e);
  const auto names = load_le<std::uint64_t>(elf, shoff + std::size_t{shstrndx} * shentsize + 24);
  for (std::uint16_t i = 0; i < shnum; ++i) {
    const std::size_t header = shoff + std::size_t{i} * shentsize;
    const auto name_offset = load_le<std::uint32_t>(elf, header);
    const char* section_name = reinterpret_cast<const char*>(elf.data()) + names + name_offset;
    if (name != section_name) continue;
    return ElfSectionView{header, load_le<std::uint32_t>(elf, header + 4), load_le<std::uint64_t>(elf, header + 24),
                          load_le<std::uint64_t>(elf, header + 32), static_cast<std::size_t>(names + name_offset)};
  }
  return std::nullopt;
}

}  // namespace corebpf::test
