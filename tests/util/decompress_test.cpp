#include "util/decompress.hpp"

#include <gtest/gtest.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "corebpf/error.hpp"
#include "support/test_support.hpp"

namespace {

using corebpf::Error;
using corebpf::util::Compression;
using corebpf::util::decompress;
using corebpf::util::DecompressOptions;
using corebpf::util::detect_compression;
using Bytes = std::vector<std::byte>;

// Compressible but not trivial: words from a small vocabulary with random numbers between them.
Bytes sample_data(std::size_t size, unsigned seed = 1) {
  static const char* const kWords[] = {"task_struct ", "btf ", "vmlinux ", "relocation ", "\n", "\0\0\0\0"};
  std::mt19937 rng(seed);
  Bytes out;
  out.reserve(size + 32);
  while (out.size() < size) {
    const char* word = kWords[rng() % std::size(kWords)];
    const std::size_t len = std::max<std::size_t>(std::strlen(word), 1);
    for (std::size_t i = 0; i < len; ++i) out.push_back(std::byte(word[i]));
    out.push_back(std::byte(rng() & 0xff));
  }
  out.resize(size);
  return out;
}

Bytes gzip_compress(const Bytes& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes zstd_compress(const Bytes& in) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  Bytes out(ZSTD_compressBound(in.size()));
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), in.data(), in.size());
  EXPECT_FALSE(ZSTD_isError(n));
  ZSTD_freeCCtx(cctx);
  out.resize(n);
  return out;
}

Bytes xz_compress(const Bytes& in) {
  Bytes out(lzma_stream_buffer_bound(in.size()));
  std::size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, nullptr, reinterpret_cast<const std::uint8_t*>(in.data()),
                                    in.size(), reinterpret_cast<std::uint8_t*>(out.data()), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

Bytes lz4_frame_compress(const Bytes& in) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  Bytes out(LZ4F_compressFrameBound(in.size(), &prefs));
  const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  EXPECT_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

void put_le32(Bytes& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(std::byte((value >> (8 * i)) & 0xff));
}

// The legacy format: magic, then (compressed size, block) pairs of at most 8 MiB input each.
Bytes lz4_legacy_compress(const Bytes& in) {
  constexpr std::size_t kBlock = 8 << 20;
  Bytes out;
  put_le32(out, 0x184C2102);
  std::vector<char> block(LZ4_compressBound(kBlock));
  for (std::size_t pos = 0; pos < in.size(); pos += kBlock) {
    const int len = static_cast<int>(std::min(kBlock, in.size() - pos));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(in.data() + pos), block.data(), len,
                                       static_cast<int>(block.size()));
    EXPECT_GT(n, 0);
    put_le32(out, static_cast<std::uint32_t>(n));
    out.insert(out.end(), reinterpret_cast<std::byte*>(block.data()), reinterpret_cast<std::byte*>(block.data() + n));
  }
  return out;
}

Bytes compress(Compression format, const Bytes& in) {
  switch (format) {
    case Compression::gzip:
      return gzip_compress(in);
    case Compression::zstd:
      return zstd_compress(in);
    case Compression::xz:
      return xz_compress(in);
    case Compression::lz4_frame:
      return lz4_frame_compress(in);
    case Compression::lz4_legacy:
      return lz4_legacy_compress(in);
    case Compression::none:
      break;
  }
  return in;
}

class DecompressTest : public testing::TestWithParam<Compression> {};

TEST_P(DecompressTest, RoundTrips) {
  const auto original = sample_data(3 << 20);
  const auto packed = compress(GetParam(), original);
  ASSERT_LT(packed.size(), original.size());
  EXPECT_EQ(detect_compression(packed), GetParam());
  EXPECT_EQ(decompress(packed, GetParam(), "sample"), original);
}

TEST_P(DecompressTest, EmptyInputRoundTrips) {
  const auto packed = compress(GetParam(), {});
  EXPECT_EQ(detect_compression(packed), GetParam());
  EXPECT_TRUE(decompress(packed, GetParam(), "empty").empty());
}

TEST_P(DecompressTest, ConcatenatedStreamsDecodeAsOne) {
  const auto first = sample_data(100000, 1);
  const auto second = sample_data(70000, 2);
  auto packed = compress(GetParam(), first);
  auto packed_second = compress(GetParam(), second);
  packed.insert(packed.end(), packed_second.begin(), packed_second.end());
  auto expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(decompress(packed, GetParam(), "two streams"), expected);
}

TEST_P(DecompressTest, TruncatedInputIsAnErrorNamingTheInput) {
  const auto packed = compress(GetParam(), sample_data(1 << 20));
  for (std::size_t keep : {packed.size() / 2, packed.size() - 1}) {
    Bytes cut(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(keep));
    try {
      decompress(cut, GetParam(), "cut.bin");
      FAIL() << "no error for input truncated to " << keep << " bytes";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cut.bin is "), std::string::npos) << e.what();
      EXPECT_EQ(e.code(), std::errc::invalid_argument) << e.what();
    }
  }
}

TEST_P(DecompressTest, BombHitsTheOutputLimit) {
  const Bytes zeros(16 << 20);
  const auto packed = compress(GetParam(), zeros);
  ASSERT_LT(packed.size(), 1u << 20);
  try {
    decompress(packed, GetParam(), "bomb", DecompressOptions{.max_output = 1 << 20});
    FAIL() << "no error past the limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::file_too_large) << e.what();
    EXPECT_NE(std::string(e.what()).find("beyond the 1 MiB limit"), std::string::npos) << e.what();
  }
  // Exactly at the limit is fine.
  EXPECT_EQ(decompress(packed, GetParam(), "bomb", DecompressOptions{.max_output = 16 << 20}).size(), zeros.size());
}

TEST_P(DecompressTest, DamagedInputNeverCrashes) {
  const auto original = sample_data(200000);
  const auto packed = compress(GetParam(), original);
  std::mt19937 rng(7);
  int errors = 0;
  for (int round = 0; round < 300; ++round) {
    Bytes damaged = packed;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) damaged[rng() % damaged.size()] ^= std::byte(1u << (rng() % 8));
    if (round % 3 == 0) damaged.resize(rng() % damaged.size());
    try {
      auto out = decompress(damaged, GetParam(), "damaged");
      EXPECT_LE(out.size(), original.size() * 2);
    } catch (const Error&) {
      ++errors;
    }
  }
  // Every format but legacy lz4 has checksums, so nearly every damage is caught.
  EXPECT_GT(errors, GetParam() == Compression::lz4_legacy ? 50 : 250);
}

INSTANTIATE_TEST_SUITE_P(Formats, DecompressTest,
                         testing::Values(Compression::gzip, Compression::zstd, Compression::xz, Compression::lz4_frame,
                                         Compression::lz4_legacy),
                         [](const auto& info) {
                           std::string name(corebpf::util::compression_name(info.param));
                           return name.substr(0, name.find(' ')) +
                                  (info.param == Compression::lz4_legacy ? "_legacy" : "");
                         });

TEST(Decompress, Lz4LegacySpansSeveralBlocks) {
  const auto original = sample_data(20 << 20);
  const auto packed = lz4_legacy_compress(original);
  EXPECT_EQ(decompress(packed, Compression::lz4_legacy, "big"), original);
  EXPECT_EQ(decompress(packed, Compression::lz4_legacy, "big", DecompressOptions{.size_hint = original.size()}),
            original);
}

TEST(Decompress, Lz4LegacyBadBlockSizeNamesTheByte) {
  auto packed = lz4_legacy_compress(sample_data(1000));
  for (int i = 4; i < 8; ++i) packed[i] = std::byte{0xff};  // the first block's size
  try {
    decompress(packed, Compression::lz4_legacy, "vmlinuz: kernel image payload");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vmlinuz: kernel image payload is lz4 (legacy format) but corrupt at byte 4"),
              std::string::npos)
        << e.what();
  }
}

TEST(Decompress, TrailingGarbageIsAnError) {
  for (auto format : {Compression::gzip, Compression::zstd, Compression::xz, Compression::lz4_frame}) {
    auto packed = compress(format, sample_data(5000));
    for (char c : std::string("garbage!")) packed.push_back(std::byte(c));
    EXPECT_THROW(decompress(packed, format, "trailing"), Error) << corebpf::util::compression_name(format);
  }
}

TEST(Decompress, RecognisesOnlyKnownMagic) {
  EXPECT_EQ(detect_compression({}), Compression::none);
  const auto elf = std::vector<std::byte>{std::byte{0x7f}, std::byte{'E'}, std::byte{'L'}, std::byte{'F'}};
  EXPECT_EQ(detect_compression(elf), Compression::none);
  EXPECT_THROW(decompress(elf, Compression::none, "elf"), Error);
}

// The command-line tools make the files users have (.ko.xz, .zst, lz4 -l kernels): read theirs too.
TEST(Decompress, ReadsWhatTheToolsWrite) {
  const auto dir = std::filesystem::temp_directory_path() / ("corebpf-decompress-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto original = sample_data(9 << 20);
  {
    std::ofstream(dir / "data", std::ios::binary)
        .write(reinterpret_cast<const char*>(original.data()), static_cast<std::streamsize>(original.size()));
  }
  struct Tool {
    const char* command;
    const char* suffix;
    Compression format;
  };
  const Tool tools[] = {{"gzip -c", "gz", Compression::gzip},
                        {"zstd -q -c", "zst", Compression::zstd},
                        {"xz -0 -c", "xz", Compression::xz},
                        {"lz4 -q -c", "lz4", Compression::lz4_frame},
                        {"lz4 -q -l -9 -c", "lz4l", Compression::lz4_legacy}};
  for (const auto& tool : tools) {
    const auto packed_path = dir / (std::string("data.") + tool.suffix);
    const auto command = std::string(tool.command) + " " + (dir / "data").string() + " > " + packed_path.string();
    if (corebpf::test::run_command(command) != 0) {
      std::filesystem::remove_all(dir);
      COREBPF_SKIP_OR_FAIL(std::string("`") + tool.command + "` failed: run scripts/setup");
    }
    std::ifstream in(packed_path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Bytes packed(reinterpret_cast<std::byte*>(chars.data()), reinterpret_cast<std::byte*>(chars.data() + chars.size()));
    EXPECT_EQ(detect_compression(packed), tool.format) << tool.command;
    EXPECT_EQ(decompress(packed, tool.format, packed_path.string()), original) << tool.command;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
