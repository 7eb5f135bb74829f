#include "util/decompress.hpp"

#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>

#include "util/error_format.hpp"

namespace corebpf::util {
namespace {

constexpr std::uint32_t kLz4LegacyMagic = 0x184C2102;
constexpr std::uint32_t kLz4FrameMagic = 0x184D2204;
constexpr std::uint32_t kZstdMagic = 0xFD2FB528;
// A legacy lz4 block never decompresses to more than this (the format's fixed block size).
constexpr std::size_t kLz4LegacyBlockSize = std::size_t{8} << 20;
// xz headers can ask for huge dictionaries; refuse them rather than allocate.
constexpr std::uint64_t kXzMemoryLimit = std::uint64_t{1} << 30;

std::uint32_t load_le32(const std::byte* bytes) noexcept {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint32_t>(bytes[i]);
  return value;
}

std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0) return fmt::format("{} GiB", bytes >> 30);
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= (std::size_t{1} << 10) && bytes % (std::size_t{1} << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

// Everything one decompression knows for its error messages, and the growing output.
class Decoder {
 public:
  Decoder(std::span<const std::byte> input, Compression format, const std::string& subject,
          const DecompressOptions& options)
      : input_(input), format_(format), subject_(subject), limit_(options.max_output) {
    // Compressed data rarely expands more than 4x. A size hint comes from the container and may
    // lie, so it is trusted only up to a ratio no real kernel or module reaches.
    const std::size_t plausible = input.size() * 32 + (64 << 10);
    const std::size_t guess = options.size_hint != 0 ? std::min(options.size_hint, plausible)
                                                     : std::max<std::size_t>(input.size() * 4, 64 << 10);
    output_.resize(std::min(guess, limit_) + 1);
  }

  std::span<const std::byte> input() const { return input_; }

  // Free output space of at least `min_room` bytes. Growth by doubling stops at one byte past the
  // limit: a decoder that fills that byte has proven the output too big.
  std::span<std::byte> room(std::size_t min_room = 1) {
    if (output_.size() - used_ < min_room)
      output_.resize(std::max(std::min(output_.size() * 2, limit_ + 1), used_ + min_room));
    return {output_.data() + used_, output_.size() - used_};
  }

  void commit(std::size_t produced) {
    used_ += produced;
    if (used_ > limit_)
      fail(std::errc::file_too_large, "{} is {} but expands beyond the {} limit (a decompression bomb?)", subject_,
           compression_name(format_), size_text(limit_));
  }

  [[noreturn]] void error(std::errc code, std::string_view problem) const {
    fail(code, "{} is {} but {}", subject_, compression_name(format_), problem);
  }

  [[noreturn]] void corrupt(std::size_t offset, std::string_view detail) const {
    fail(std::errc::invalid_argument, "{} is {} but corrupt at byte {}: {}", subject_, compression_name(format_),
         offset, detail);
  }

  [[noreturn]] void truncated() const {
    fail(std::errc::invalid_argument, "{} is {} but truncated: the data ends after {} bytes", subject_,
         compression_name(format_), input_.size());
  }

  std::vector<std::byte> finish() {
    output_.resize(used_);
    return std::move(output_);
  }

 private:
  std::span<const std::byte> input_;
  Compression format_;
  const std::string& subject_;
  std::size_t limit_;
  std::vector<std::byte> output_;
  std::size_t used_ = 0;
};

std::vector<std::byte> decompress_gzip(Decoder& decoder) {
  struct Inflater {
    z_stream stream{};
    bool ready = false;
    ~Inflater() {
      if (ready) inflateEnd(&stream);
    }
  } inflater;
  auto& zs = inflater.stream;
  // 16 + MAX_WBITS: gzip framing only, with its CRC and length checks.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(std::errc::not_enough_memory, "zlib: cannot start inflate");
  inflater.ready = true;

  const auto input = decoder.input();
  std::size_t consumed = 0;
  for (;;) {
    const std::size_t in_chunk = std::min<std::size_t>(input.size() - consumed, UINT_MAX);
    auto out = decoder.room();
    zs.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(input.data() + consumed));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), UINT_MAX));
    const int ret = inflate(&zs, Z_NO_FLUSH);
    const std::size_t read = in_chunk - zs.avail_in;
    const std::size_t written = std::min<std::size_t>(out.size(), UINT_MAX) - zs.avail_out;
    consumed += read;
    decoder.commit(written);
    if (ret == Z_STREAM_END) {
      const auto rest = input.subspan(consumed);
      if (rest.empty()) break;
      // Concatenated gzip members form one stream; zero padding after the last one is harmless.
      if (rest.size() >= 2 && rest[0] == std::byte{0x1f} && rest[1] == std::byte{0x8b}) {
        inflateReset(&zs);
        continue;
      }
      if (std::all_of(rest.begin(), rest.end(), [](std::byte b) { return b == std::byte{0}; })) break;
      decoder.corrupt(consumed, fmt::format("{} bytes of unexpected data follow the gzip stream", rest.size()));
    }
    if (ret == Z_OK || ret == Z_BUF_ERROR) {
      if (read == 0 && written == 0 && consumed == input.size()) decoder.truncated();
      continue;
    }
    if (ret == Z_MEM_ERROR) fail(std::errc::not_enough_memory, "zlib: out of memory inflating");
    decoder.corrupt(consumed, zs.msg != nullptr ? zs.msg : "invalid deflate data");
  }
  return decoder.finish();
}

std::vector<std::byte> decompress_zstd(Decoder& decoder) {
  struct Context {
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    ~Context() { ZSTD_freeDCtx(dctx); }
  } context;
  if (context.dctx == nullptr) fail(std::errc::not_enough_memory, "zstd: cannot create a decompression context");

  const auto input = decoder.input();
  // Input goes in one block (128 KiB, zstd's largest) at a time so that an error can tell where it
  // is: zstd does not advance the position on failure.
  constexpr std::size_t kChunk = ZSTD_BLOCKSIZE_MAX;
  ZSTD_inBuffer in{input.data(), 0, 0};
  for (;;) {
    if (in.pos == in.size) in.size = std::min(input.size(), in.size + kChunk);
    auto out_room = decoder.room();
    ZSTD_outBuffer out{out_room.data(), out_room.size(), 0};
    const std::size_t ret = ZSTD_decompressStream(context.dctx, &out, &in);
    if (ZSTD_isError(ret)) decoder.corrupt(in.pos, ZSTD_getErrorName(ret));
    decoder.commit(out.pos);
    if (in.pos == input.size() && out.pos < out.size) {
      // All input read and the decoder stopped short of filling the output: it is done or starved.
      if (ret != 0) decoder.truncated();
      break;
    }
  }
  return decoder.finish();
}

std::vector<std::byte> decompress_xz(Decoder& decoder) {
  struct Stream {
    lzma_stream strm = LZMA_STREAM_INIT;
    ~Stream() { lzma_end(&strm); }
  } stream;
  auto& strm = stream.strm;
  // LZMA_CONCATENATED: several .xz streams back to back decode as one, as xz(1) does.
  const lzma_ret init = lzma_stream_decoder(&strm, kXzMemoryLimit, LZMA_CONCATENATED);
  if (init != LZMA_OK) fail(std::errc::not_enough_memory, "liblzma: cannot start an xz decoder ({})", int(init));

  const auto input = decoder.input();
  strm.next_in = reinterpret_cast<const std::uint8_t*>(input.data());
  strm.avail_in = input.size();
  for (;;) {
    auto out = decoder.room();
    strm.next_out = reinterpret_cast<std::uint8_t*>(out.data());
    strm.avail_out = out.size();
    const lzma_ret ret = lzma_code(&strm, LZMA_FINISH);
    decoder.commit(out.size() - strm.avail_out);
    switch (ret) {
      case LZMA_STREAM_END:
        return decoder.finish();
      case LZMA_OK:
        continue;
      case LZMA_BUF_ERROR:
        decoder.truncated();
      case LZMA_MEMLIMIT_ERROR:
        decoder.error(std::errc::not_enough_memory,
                      fmt::format("needs {} of memory to decode, more than the {} allowed",
                                  size_text(lzma_memusage(&strm)), size_text(kXzMemoryLimit)));
      case LZMA_MEM_ERROR:
        fail(std::errc::not_enough_memory, "liblzma: out of memory");
      case LZMA_FORMAT_ERROR:
        decoder.corrupt(strm.total_in, "not an .xz stream");
      case LZMA_OPTIONS_ERROR:
        decoder.corrupt(strm.total_in, "unsupported xz options");
      case LZMA_DATA_ERROR:
        decoder.corrupt(strm.total_in, "compressed data is corrupt");
      default:
        decoder.corrupt(strm.total_in, fmt::format("liblzma error {}", int(ret)));
    }
  }
}

std::vector<std::byte> decompress_lz4_frame(Decoder& decoder) {
  struct Context {
    LZ4F_dctx* dctx = nullptr;
    ~Context() { LZ4F_freeDecompressionContext(dctx); }
  } context;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context.dctx, LZ4F_VERSION)))
    fail(std::errc::not_enough_memory, "lz4: cannot create a decompression context");

  const auto input = decoder.input();
  std::size_t consumed = 0;
  for (;;) {
    auto out = decoder.room();
    std::size_t written = out.size();
    std::size_t read = input.size() - consumed;
    const std::size_t ret =
        LZ4F_decompress(context.dctx, out.data(), &written, input.data() + consumed, &read, nullptr);
    if (LZ4F_isError(ret)) decoder.corrupt(consumed + read, LZ4F_getErrorName(ret));
    consumed += read;
    decoder.commit(written);
    if (consumed == input.size() && written < out.size()) {
      if (ret != 0) decoder.truncated();  // 0 means the last frame ended exactly here
      break;
    }
  }
  return decoder.finish();
}

std::vector<std::byte> decompress_lz4_legacy(Decoder& decoder) {
  const auto input = decoder.input();
  const auto max_block = static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(kLz4LegacyBlockSize)));
  std::size_t pos = 4;  // after the magic
  while (pos < input.size()) {
    if (input.size() - pos < 4) decoder.truncated();
    const std::uint32_t block_size = load_le32(input.data() + pos);
    if (block_size == kLz4LegacyMagic) {  // another legacy stream follows
      pos += 4;
      continue;
    }
    if (block_size == 0 || block_size > max_block)
      decoder.corrupt(pos, fmt::format("block size {} is not within 1..{}", block_size, max_block));
    pos += 4;
    if (block_size > input.size() - pos) decoder.truncated();
    auto out = decoder.room(kLz4LegacyBlockSize);
    const int produced =
        LZ4_decompress_safe(reinterpret_cast<const char*>(input.data() + pos), reinterpret_cast<char*>(out.data()),
                            static_cast<int>(block_size), static_cast<int>(std::min(out.size(), kLz4LegacyBlockSize)));
    if (produced < 0)
      decoder.corrupt(pos, fmt::format("the block of {} bytes starting here does not decode", block_size));
    decoder.commit(static_cast<std::size_t>(produced));
    pos += block_size;
  }
  return decoder.finish();
}

}  // namespace

std::string_view compression_name(Compression compression) noexcept {
  switch (compression) {
    case Compression::none:
      return "uncompressed";
    case Compression::gzip:
      return "gzip";
    case Compression::zstd:
      return "zstd";
    case Compression::xz:
      return "xz";
    case Compression::lz4_frame:
      return "lz4";
    case Compression::lz4_legacy:
      return "lz4 (legacy format)";
  }
  return "unknown";
}

Compression detect_compression(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b}) return Compression::gzip;
  static constexpr unsigned char kXzMagic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  if (bytes.size() >= 6 && std::memcmp(bytes.data(), kXzMagic, 6) == 0) return Compression::xz;
  if (bytes.size() < 4) return Compression::none;
  const std::uint32_t magic = load_le32(bytes.data());
  if (magic == kZstdMagic) return Compression::zstd;
  if (magic == kLz4FrameMagic) return Compression::lz4_frame;
  if (magic == kLz4LegacyMagic) return Compression::lz4_legacy;
  return Compression::none;
}

std::vector<std::byte> decompress(std::span<const std::byte> input, Compression format, const std::string& subject,
                                  const DecompressOptions& options) {
  Decoder decoder(input, format, subject, options);
  switch (format) {
    case Compression::gzip:
      return decompress_gzip(decoder);
    case Compression::zstd:
      return decompress_zstd(decoder);
    case Compression::xz:
      return decompress_xz(decoder);
    case Compression::lz4_frame:
      return decompress_lz4_frame(decoder);
    case Compression::lz4_legacy:
      return decompress_lz4_legacy(decoder);
    case Compression::none:
      break;
  }
  fail(std::errc::invalid_argument, "{}: not compressed data (no gzip, zstd, xz or lz4 magic)", subject);
}

std::vector<std::byte> compress_xz(std::span<const std::byte> input) {
  std::vector<std::byte> out(lzma_stream_buffer_bound(input.size()));
  std::size_t used = 0;
  const lzma_ret ret =
      lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const std::uint8_t*>(input.data()),
                              input.size(), reinterpret_cast<std::uint8_t*>(out.data()), &used, out.size());
  if (ret != LZMA_OK) fail(std::errc::io_error, "liblzma: xz compression failed ({})", int(ret));
  out.resize(used);
  return out;
}

}  // namespace corebpf::util
