#include "elf/elf_file.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cstring>

#include "util/error_format.hpp"

namespace corebpf::elf {
namespace {

void ensure_libelf_initialized() {
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  if (!ok) util::fail(std::errc::not_supported, "libelf is too old for this program: {}", elf_errmsg(-1));
}

}  // namespace

void ElfFile::ElfDeleter::operator()(::Elf* elf) const noexcept { elf_end(elf); }

ElfFile::ElfFile(ElfFile&&) noexcept = default;
ElfFile& ElfFile::operator=(ElfFile&&) noexcept = default;
ElfFile::~ElfFile() = default;

bool ElfFile::looks_like_elf(std::span<const std::byte> bytes) noexcept {
  return bytes.size() >= SELFMAG && std::memcmp(bytes.data(), ELFMAG, SELFMAG) == 0;
}

ElfFile ElfFile::open(const std::string& path) { return from_file_bytes(util::FileBytes::open(path), path); }

ElfFile ElfFile::from_file_bytes(util::FileBytes bytes, std::string name) {
  ElfFile file;
  file.name_ = std::move(name);
  file.owned_ = std::move(bytes);
  file.image_ = file.owned_.bytes();
  file.parse();
  return file;
}

ElfFile ElfFile::from_memory(std::span<const std::byte> bytes, std::string name) {
  ElfFile file;
  file.name_ = std::move(name);
  file.image_ = bytes;
  file.parse();
  return file;
}

void ElfFile::parse() {
  ensure_libelf_initialized();
  if (!looks_like_elf(image_)) util::fail(std::errc::invalid_argument, "{}: not an ELF file (bad magic)", name_);
  // libelf only reads the image in ELF_C_READ mode; the cast is required by its C interface.
  elf_.reset(elf_memory(const_cast<char*>(reinterpret_cast<const char*>(image_.data())), image_.size()));
  if (!elf_) util::fail(std::errc::invalid_argument, "{}: invalid ELF file: {}", name_, elf_errmsg(-1));
  if (elf_kind(elf_.get()) != ELF_K_ELF) util::fail(std::errc::invalid_argument, "{}: not an ELF object", name_);

  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf_.get(), &ehdr) == nullptr)
    util::fail(std::errc::invalid_argument, "{}: invalid ELF header: {}", name_, elf_errmsg(-1));
  little_endian_ = ehdr.e_ident[EI_DATA] == ELFDATA2LSB;
  is_64bit_ = ehdr.e_ident[EI_CLASS] == ELFCLASS64;
  machine_ = ehdr.e_machine;
  type_ = ehdr.e_type;

  std::size_t phnum = 0;
  if (elf_getphdrnum(elf_.get(), &phnum) != 0) phnum = 0;
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf_.get(), static_cast<int>(i), &phdr) == nullptr)
      util::fail(std::errc::invalid_argument, "{}: invalid program header {}: {}", name_, i, elf_errmsg(-1));
    segments_.push_back({phdr.p_type, phdr.p_flags, phdr.p_offset, phdr.p_vaddr, phdr.p_filesz, phdr.p_memsz});
  }

  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf_.get(), &shstrndx) != 0)
    util::fail(std::errc::invalid_argument, "{}: cannot find the section name table: {}", name_, elf_errmsg(-1));

  for (Elf_Scn* scn = elf_nextscn(elf_.get(), nullptr); scn != nullptr; scn = elf_nextscn(elf_.get(), scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr)
      util::fail(std::errc::invalid_argument, "{}: invalid section header {}: {}", name_, elf_ndxscn(scn),
                 elf_errmsg(-1));
    Section section;
    section.index = elf_ndxscn(scn);
    const char* name = elf_strptr(elf_.get(), shstrndx, shdr.sh_name);
    if (name == nullptr)
      util::fail(std::errc::invalid_argument, "{}: section {} has an invalid name offset {}", name_, section.index,
                 shdr.sh_name);
    section.name = name;
    section.type = shdr.sh_type;
    section.flags = shdr.sh_flags;
    section.addr = shdr.sh_addr;
    section.link = shdr.sh_link;
    section.info = shdr.sh_info;
    section.entsize = shdr.sh_entsize;
    section.size = shdr.sh_size;
    if (shdr.sh_type != SHT_NOBITS && shdr.sh_size > 0) {
      if (shdr.sh_offset > image_.size() || shdr.sh_size > image_.size() - shdr.sh_offset)
        util::fail(std::errc::invalid_argument,
                   "{}: section {} '{}' (offset {}, size {}) lies beyond the end of the file ({} bytes)", name_,
                   section.index, section.name, shdr.sh_offset, shdr.sh_size, image_.size());
      section.data = image_.subspan(shdr.sh_offset, shdr.sh_size);
    }
    sections_.push_back(section);
  }
}

const Section* ElfFile::find_section(std::string_view name) const noexcept {
  for (const auto& section : sections_)
    if (section.name == name) return &section;
  return nullptr;
}

}  // namespace corebpf::elf
