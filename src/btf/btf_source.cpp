#include "btf/btf_source.hpp"

#include <cstring>

#include "btf/btf_data.hpp"
#include "elf/elf_file.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"

namespace corebpf::btf::detail {
namespace {

bool has_btf_magic(std::span<const std::byte> bytes) {
  if (bytes.size() < 2) return false;
  std::uint16_t magic;
  std::memcpy(&magic, bytes.data(), 2);
  return magic == kBtfMagic || magic == __builtin_bswap16(kBtfMagic);
}

// `holder` owns the bytes of `bytes`; the result keeps it alive.
template <typename Holder>
BtfSource locate(std::shared_ptr<Holder> holder, std::span<const std::byte> bytes, const std::string& name) {
  if (has_btf_magic(bytes)) return {bytes, std::move(holder)};
  if (elf::ElfFile::looks_like_elf(bytes)) {
    auto elf = std::make_shared<elf::ElfFile>(elf::ElfFile::from_memory(bytes, name));
    const auto* section = elf->find_section(".BTF");
    if (section == nullptr) util::fail(std::errc::invalid_argument, "{}: ELF file has no .BTF section", name);
    auto blob = section->data;
    // The ELF view borrows from `holder`; keep both alive together.
    auto both = std::make_shared<std::pair<std::shared_ptr<Holder>, std::shared_ptr<elf::ElfFile>>>(
        std::move(holder), std::move(elf));
    return {blob, std::move(both)};
  }
  util::fail(std::errc::invalid_argument, "{}: not BTF: neither raw BTF (magic 0xeb9f) nor an ELF file with .BTF",
             name);
}

}  // namespace

BtfSource open_btf_source(const std::string& path) {
  auto file = std::make_shared<util::FileBytes>(util::FileBytes::open(path));
  return locate(file, file->bytes(), path);
}

BtfSource btf_source_from_memory(std::vector<std::byte> bytes, const std::string& name) {
  auto owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
  return locate(owned, std::span<const std::byte>(*owned), name);
}

}  // namespace corebpf::btf::detail
