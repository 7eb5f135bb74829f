#include "btf/btf_source.hpp"

#include <cstring>

#include "btf/btf_state.hpp"
#include "elf/elf_file.hpp"
#include "util/decompress.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"

namespace corebpf::btf::detail {
namespace {

// A compressed module holds an ELF file, a kernel image a compressed vmlinux: two levels at most,
// so crafted nesting cannot recurse without end.
constexpr int kMaxUnpackDepth = 2;

bool has_btf_magic(std::span<const std::byte> bytes) {
  if (bytes.size() < 2) return false;
  std::uint16_t magic;
  std::memcpy(&magic, bytes.data(), 2);
  return magic == kBtfMagic || magic == __builtin_bswap16(kBtfMagic);
}

std::uint32_t load_le(std::span<const std::byte> bytes, std::size_t offset, std::size_t width) {
  std::uint32_t value = 0;
  for (std::size_t i = width; i-- > 0;) value = (value << 8) | std::to_integer<std::uint32_t>(bytes[offset + i]);
  return value;
}

// The x86 boot protocol's setup header (Documentation/arch/x86/boot.rst): fields of a bzImage.
constexpr std::size_t kSetupSectsOffset = 0x1f1;
constexpr std::size_t kHeaderMagicOffset = 0x202;  // "HdrS"
constexpr std::size_t kBootProtocolOffset = 0x206;
constexpr std::size_t kPayloadOffsetOffset = 0x248;
constexpr std::size_t kPayloadLengthOffset = 0x24c;
constexpr std::uint32_t kFirstProtocolWithPayload = 0x208;

bool is_x86_kernel_image(std::span<const std::byte> bytes) {
  return bytes.size() >= kPayloadLengthOffset + 4 && std::memcmp(bytes.data() + kHeaderMagicOffset, "HdrS", 4) == 0;
}

// The ELF vmlinux compressed inside a bzImage.
std::vector<std::byte> unpack_kernel_image(std::span<const std::byte> image, const std::string& name) {
  const std::uint32_t protocol = load_le(image, kBootProtocolOffset, 2);
  if (protocol < kFirstProtocolWithPayload)
    util::fail(std::errc::invalid_argument,
               "{}: x86 kernel image with boot protocol {}.{:02} does not describe its payload (2.08 or later does)",
               name, protocol >> 8, protocol & 0xff);
  std::uint64_t setup_sects = load_le(image, kSetupSectsOffset, 1);
  if (setup_sects == 0) setup_sects = 4;  // the boot protocol's rule for very old images
  const std::uint64_t start = (setup_sects + 1) * 512 + load_le(image, kPayloadOffsetOffset, 4);
  const std::uint64_t length = load_le(image, kPayloadLengthOffset, 4);
  if (start > image.size() || length > image.size() - start)
    util::fail(std::errc::invalid_argument,
               "{}: kernel image payload (offset {}, {} bytes) lies outside the {}-byte file", name, start, length,
               image.size());
  auto payload = image.subspan(start, length);
  const std::string subject = fmt::format("{}: kernel image payload", name);

  const auto format = util::detect_compression(payload);
  if (format == util::Compression::none) {
    if (elf::ElfFile::looks_like_elf(payload)) return {payload.begin(), payload.end()};
    std::string magic;
    for (auto byte : payload.first(std::min<std::size_t>(payload.size(), 4)))
      magic += fmt::format("{:02x}", std::to_integer<unsigned>(byte));
    util::fail(std::errc::not_supported,
               "{} has a compression corebpf cannot read (magic {}); it reads gzip, xz, zstd and lz4 kernels", subject,
               magic);
  }
  util::DecompressOptions options;
  // Every kernel compressor but gzip (whose trailer has it) appends the uncompressed size.
  if (format != util::Compression::gzip && payload.size() > 4) {
    options.size_hint = load_le(payload, payload.size() - 4, 4);
    payload = payload.first(payload.size() - 4);
  }
  auto vmlinux = util::decompress(payload, format, subject, options);
  // Legacy lz4 has no checksum: the recorded size is the only check that damage did not slip by.
  if (options.size_hint != 0 && vmlinux.size() != options.size_hint)
    util::fail(std::errc::invalid_argument, "{} is {} but decompresses to {} bytes where the image records {}", subject,
               util::compression_name(format), vmlinux.size(), options.size_hint);
  if (!elf::ElfFile::looks_like_elf(vmlinux))
    util::fail(std::errc::invalid_argument, "{} is {} but does not decompress to an ELF vmlinux", subject,
               util::compression_name(format));
  return vmlinux;
}

// `holder` owns the bytes of `bytes`; the result keeps it alive.
template <typename Holder>
BtfSource locate(std::shared_ptr<Holder> holder, std::span<const std::byte> bytes, const std::string& name,
                 int depth = 0);

// Unpacked data is mostly not BTF (a vmlinux is 15 times its .BTF): keep only the blob.
BtfSource locate_unpacked(std::vector<std::byte> unpacked, const std::string& name, int depth) {
  if (depth >= kMaxUnpackDepth)
    util::fail(std::errc::invalid_argument, "{}: compressed data nested more than {} levels deep", name,
               kMaxUnpackDepth);
  auto owned = std::make_shared<std::vector<std::byte>>(std::move(unpacked));
  auto found = locate(owned, std::span<const std::byte>(*owned), name, depth + 1);
  if (found.blob.size() * 2 > owned->size()) return found;
  auto blob = std::make_shared<std::vector<std::byte>>(found.blob.begin(), found.blob.end());
  return {std::span<const std::byte>(*blob), std::move(blob)};
}

template <typename Holder>
BtfSource locate(std::shared_ptr<Holder> holder, std::span<const std::byte> bytes, const std::string& name, int depth) {
  if (has_btf_magic(bytes)) return {bytes, std::move(holder)};
  if (elf::ElfFile::looks_like_elf(bytes)) {
    auto elf = std::make_shared<elf::ElfFile>(elf::ElfFile::from_memory(bytes, name));
    const auto* section = elf->find_section(".BTF");
    if (section == nullptr) util::fail(std::errc::invalid_argument, "{}: ELF file has no .BTF section", name);
    auto blob = section->data;
    // The ELF view borrows from `holder`; keep both alive together.
    auto both = std::make_shared<std::pair<std::shared_ptr<Holder>, std::shared_ptr<elf::ElfFile>>>(std::move(holder),
                                                                                                    std::move(elf));
    return {blob, std::move(both)};
  }
  if (is_x86_kernel_image(bytes)) {
    auto vmlinux = unpack_kernel_image(bytes, name);
    holder.reset();
    return locate_unpacked(std::move(vmlinux), fmt::format("{} (its vmlinux)", name), depth);
  }
  if (const auto format = util::detect_compression(bytes); format != util::Compression::none) {
    auto unpacked = util::decompress(bytes, format, name);
    holder.reset();
    return locate_unpacked(std::move(unpacked),
                           fmt::format("{} ({}-decompressed)", name, util::compression_name(format)), depth);
  }
  util::fail(std::errc::invalid_argument,
             "{}: not BTF: neither raw BTF (magic 0xeb9f), an ELF file with .BTF, a compressed file (gzip, xz, "
             "zstd, lz4) nor an x86 kernel image",
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
