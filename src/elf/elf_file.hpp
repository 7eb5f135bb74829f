// Thin RAII layer over libelf: an ELF image (owned file bytes or borrowed memory) and its sections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_bytes.hpp"

struct Elf;

namespace corebpf::elf {

struct Section {
  std::size_t index = 0;
  std::string_view name;
  std::uint32_t type = 0;   // SHT_*
  std::uint64_t flags = 0;  // SHF_*
  std::uint64_t addr = 0;
  std::uint32_t link = 0;
  std::uint32_t info = 0;
  std::uint64_t entsize = 0;
  // The section's bytes as stored in the file (no byte-order translation); empty for SHT_NOBITS.
  std::span<const std::byte> data;
  std::uint64_t size = 0;  // sh_size, also for SHT_NOBITS
};

// A program header (segment): where file bytes are mapped in memory.
struct Segment {
  std::uint32_t type = 0;   // PT_*
  std::uint32_t flags = 0;  // PF_*
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
};

class ElfFile {
 public:
  // Throws corebpf::Error naming `path` if it cannot be read or is not a valid ELF file.
  static ElfFile open(const std::string& path);
  // Takes ownership of already loaded bytes; `name` is used in error messages.
  static ElfFile from_file_bytes(util::FileBytes bytes, std::string name);
  // Borrows `bytes`, which must outlive the ElfFile.
  static ElfFile from_memory(std::span<const std::byte> bytes, std::string name);

  static bool looks_like_elf(std::span<const std::byte> bytes) noexcept;

  ElfFile(ElfFile&&) noexcept;
  ElfFile& operator=(ElfFile&&) noexcept;
  ~ElfFile();

  const std::string& name() const noexcept { return name_; }
  bool is_little_endian() const noexcept { return little_endian_; }
  bool is_64bit() const noexcept { return is_64bit_; }
  std::uint16_t machine() const noexcept { return machine_; }
  std::uint16_t type() const noexcept { return type_; }  // ET_*
  std::span<const std::byte> image() const noexcept { return image_; }

  const std::vector<Section>& sections() const noexcept { return sections_; }
  // The first section called `name`, if any.
  const Section* find_section(std::string_view name) const noexcept;
  // The program headers (empty for relocatable objects).
  const std::vector<Segment>& segments() const noexcept { return segments_; }

 private:
  ElfFile() = default;
  void parse();

  std::string name_;
  util::FileBytes owned_;
  std::span<const std::byte> image_;
  struct ElfDeleter {
    void operator()(::Elf* elf) const noexcept;
  };
  std::unique_ptr<::Elf, ElfDeleter> elf_;
  std::vector<Section> sections_;
  std::vector<Segment> segments_;
  bool little_endian_ = true;
  bool is_64bit_ = true;
  std::uint16_t machine_ = 0;
  std::uint16_t type_ = 0;
};

}  // namespace corebpf::elf
