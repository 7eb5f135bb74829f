#include "object/btf_ext.hpp"

#include "object/byte_reader.hpp"
#include "util/error_format.hpp"

namespace corebpf::object {
namespace {

constexpr std::uint16_t kMagic = 0xeb9f;
constexpr std::uint32_t kHeaderWithoutCoreSize = 24;
constexpr std::uint32_t kHeaderWithCoreSize = 32;
// Records may grow in later versions; a size beyond this is damage, not a new format.
constexpr std::uint32_t kMaxRecordSize = 1024;

enum class Block { func_info, line_info, core_relo };

std::string_view block_name(Block block) {
  switch (block) {
    case Block::func_info:
      return "func_info";
    case Block::line_info:
      return "line_info";
    case Block::core_relo:
      return "CO-RE relocation";
  }
  return "";
}

std::uint32_t minimum_record_size(Block block) { return block == Block::func_info ? 8 : 16; }

class Parser {
 public:
  Parser(std::span<const std::byte> bytes, bool swap, const btf::Btf& btf, const std::string& file)
      : reader_(bytes, swap), btf_(btf), file_(file) {}

  BtfExt parse() {
    if (!reader_.fits(0, kHeaderWithoutCoreSize))
      fail("is {} bytes, shorter than its {}-byte header", reader_.size(), kHeaderWithoutCoreSize);
    if (reader_.u16(0) != kMagic) fail("has a bad magic number 0x{:04x}", reader_.u16(0));
    const auto version = std::to_integer<unsigned>(reader_.bytes()[2]);
    if (version != 1) fail("has version {}; corebpf reads version 1", version);
    const std::uint32_t header_size = reader_.u32(4);
    if (header_size < kHeaderWithoutCoreSize || header_size > reader_.size())
      fail("has a header size {} outside [{}, {}]", header_size, kHeaderWithoutCoreSize, reader_.size());
    read_block(Block::func_info, header_size, reader_.u32(8), reader_.u32(12));
    read_block(Block::line_info, header_size, reader_.u32(16), reader_.u32(20));
    if (header_size >= kHeaderWithCoreSize) read_block(Block::core_relo, header_size, reader_.u32(24), reader_.u32(28));
    return std::move(result_);
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    util::fail(std::errc::invalid_argument, "{}: .BTF.ext {}", file_, fmt::format(format, std::forward<Args>(args)...));
  }

  void read_block(Block block, std::uint64_t header_size, std::uint64_t offset, std::uint64_t length) {
    if (length == 0) return;
    const std::uint64_t start = header_size + offset;
    if (!reader_.fits(start, length))
      fail("{} block (offset {}, {} bytes) lies beyond the section's {} bytes", block_name(block), offset, length,
           reader_.size());
    if (start % 4 != 0) fail("{} block at offset {} is not 4-byte aligned", block_name(block), offset);
    if (length < 4) fail("{} block is too short for its record size", block_name(block));
    const std::uint32_t record_size = reader_.u32(start);
    if (record_size < minimum_record_size(block) || record_size > kMaxRecordSize || record_size % 4 != 0)
      fail("{} records are {} bytes; expected a multiple of 4 from {} to {}", block_name(block), record_size,
           minimum_record_size(block), kMaxRecordSize);
    std::uint64_t position = start + 4;
    const std::uint64_t end = start + length;
    while (position < end) {
      if (end - position < 8) fail("{} block ends inside a section header at offset {}", block_name(block), position);
      const std::uint32_t name_offset = reader_.u32(position);
      const std::uint32_t count = reader_.u32(position + 4);
      position += 8;
      const auto name = section_name(block, name_offset);
      if (count == 0) fail("{} of section '{}' has no records", block_name(block), name);
      if (std::uint64_t{count} * record_size > end - position)
        fail("{} of section '{}' claims {} records of {} bytes, more than the block holds", block_name(block), name,
             count, record_size);
      auto& section = result_.sections[std::string(name)];
      for (std::uint32_t i = 0; i < count; ++i, position += record_size) read_record(block, section, name, position);
    }
  }

  std::string_view section_name(Block block, std::uint32_t offset) {
    if (offset == 0 || offset >= btf_.string_section_size())
      fail("{} names a section at string offset {}, outside the BTF strings", block_name(block), offset);
    return btf_.string_at(offset);
  }

  void read_record(Block block, ExtSection& section, std::string_view name, std::uint64_t at) {
    const std::uint32_t insn_off = reader_.u32(at);
    if (insn_off % 8 != 0)
      fail("{} of section '{}' has instruction offset {}, not a multiple of 8", block_name(block), name, insn_off);
    switch (block) {
      case Block::func_info:
        section.func_info.push_back({insn_off, reader_.u32(at + 4)});
        break;
      case Block::line_info:
        section.line_info.push_back({insn_off, reader_.u32(at + 4), reader_.u32(at + 8), reader_.u32(at + 12)});
        break;
      case Block::core_relo: {
        const std::uint32_t kind = reader_.u32(at + 12);
        if (kind > static_cast<std::uint32_t>(core::ReloKind::type_matches))
          fail("CO-RE relocation at offset {} of section '{}' has unknown kind {}", insn_off, name, kind);
        section.core_relos.push_back(
            {insn_off, reader_.u32(at + 4), reader_.u32(at + 8), static_cast<core::ReloKind>(kind)});
        break;
      }
    }
  }

  ByteReader reader_;
  const btf::Btf& btf_;
  const std::string& file_;
  BtfExt result_;
};

}  // namespace

BtfExt parse_btf_ext(std::span<const std::byte> bytes, bool swap, const btf::Btf& btf, const std::string& file) {
  return Parser(bytes, swap, btf, file).parse();
}

}  // namespace corebpf::object
