// Internal: recognising and expanding the compressed containers BTF arrives in: kernel modules
// (.ko.xz, .ko.zst, .ko.gz) and the payload of a kernel image (gzip, xz, zstd, lz4 legacy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corebpf::util {

enum class Compression : std::uint8_t {
  none,
  gzip,
  zstd,
  xz,
  lz4_frame,   // the lz4 tool's default format
  lz4_legacy,  // `lz4 -l`, as kernel images use: 8 MiB blocks, no checksums
};

// "gzip", "zstd", "xz", "lz4", "lz4 (legacy)"; "uncompressed" for none.
std::string_view compression_name(Compression compression) noexcept;

// Recognises a format by its magic number at the start of `bytes`.
Compression detect_compression(std::span<const std::byte> bytes) noexcept;

inline constexpr std::size_t kDefaultDecompressLimit = std::size_t{1} << 30;  // 1 GiB

struct DecompressOptions {
  // Output beyond this many bytes is an error, so a decompression bomb fails instead of
  // exhausting memory.
  std::size_t max_output = kDefaultDecompressLimit;
  // Expected output size, when the container tells it (kernel images do); only sizes the buffer.
  std::size_t size_hint = 0;
};

// Expands `input`, which holds data in `format` (one or more concatenated frames/members).
// `subject` names the input in errors, which read "<subject> is xz but corrupt at byte N: ...",
// "<subject> is zstd but truncated after N bytes" or "<subject> is gzip but expands beyond ...".
// Throws corebpf::Error; `format` must not be Compression::none.
std::vector<std::byte> decompress(std::span<const std::byte> input, Compression format, const std::string& subject,
                                  const DecompressOptions& options = {});

// xz-compresses `input` (preset 6, CRC64), as `xz` does: what BTFHub's .btf.tar.xz and
// `btf extract ... xz` hold. Throws corebpf::Error when liblzma fails.
std::vector<std::byte> compress_xz(std::span<const std::byte> input);

}  // namespace corebpf::util
