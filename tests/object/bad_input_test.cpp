// Malformed objects: one corebpf::Error naming the file and what is wrong, never a crash.
#include <random>

#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::bpf_object_path;
using test::error_of;
using test::find_elf_section;
using test::read_bytes;

std::string open_error(const std::vector<std::byte>& bytes, const std::string& name = "damaged.bpf.o") {
  return error_of([&] { ObjectSpec::from_memory(bytes, name); });
}

TEST(BadInput, MissingAndEmptyFiles) {
  const auto message = error_of([] { ObjectSpec::open("/nonexistent/thing.bpf.o"); });
  EXPECT_NE(message.find("/nonexistent/thing.bpf.o"), std::string::npos) << message;
  EXPECT_NE(open_error({}).find("damaged.bpf.o"), std::string::npos);
}

TEST(BadInput, EveryTruncationIsAnError) {
  const auto bytes = read_bytes(bpf_object_path("object_link"));
  ASSERT_GT(bytes.size(), 1000u);
  for (std::size_t size = 0; size < bytes.size(); size += size < 128 ? 1 : 61) {
    const std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
    const auto message = open_error(prefix);
    EXPECT_NE(message.find("damaged.bpf.o"), std::string::npos) << size << ": " << message;
  }
}

TEST(BadInput, NotABpfObject) {
  auto bytes = read_bytes(bpf_object_path("object_link"));
  auto machine = bytes;
  test::store_le<std::uint16_t>(machine, 18, 62);  // EM_X86_64
  auto message = open_error(machine);
  EXPECT_NE(message.find("not a BPF object"), std::string::npos) << message;
  EXPECT_NE(message.find("damaged.bpf.o"), std::string::npos) << message;

  auto type = bytes;
  test::store_le<std::uint16_t>(type, 16, 2);  // ET_EXEC
  message = open_error(type);
  EXPECT_NE(message.find("not a relocatable object"), std::string::npos) << message;

  std::vector<std::byte> text(64, std::byte{'x'});
  EXPECT_NE(open_error(text).find("not an ELF file"), std::string::npos);
}

class BadRelocation : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = read_bytes(bpf_object_path("object_link"));
    auto section = find_elf_section(bytes_, ".relxdp");
    ASSERT_TRUE(section);
    ASSERT_GE(section->size, 16u);
    relocation_ = section->offset;  // the first Elf64_Rel of xdp's relocations
    auto xdp = find_elf_section(bytes_, "xdp");
    ASSERT_TRUE(xdp);
    xdp_ = *xdp;
  }
  std::vector<std::byte> bytes_;
  std::size_t relocation_ = 0;
  test::ElfSectionView xdp_;
};

TEST_F(BadRelocation, OffsetNotOnAnInstruction) {
  test::store_le<std::uint64_t>(bytes_, relocation_, 3);
  const auto message = open_error(bytes_);
  EXPECT_NE(message.find("section 'xdp'"), std::string::npos) << message;
  EXPECT_NE(message.find("offset 3"), std::string::npos) << message;
  EXPECT_NE(message.find("not on an instruction"), std::string::npos) << message;
}

TEST_F(BadRelocation, OffsetBeyondTheSection) {
  test::store_le<std::uint64_t>(bytes_, relocation_, xdp_.size);
  const auto message = open_error(bytes_);
  EXPECT_NE(message.find("not on an instruction"), std::string::npos) << message;
}

TEST_F(BadRelocation, SymbolOutOfRange) {
  const auto info = test::load_le<std::uint64_t>(bytes_, relocation_ + 8);
  test::store_le<std::uint64_t>(bytes_, relocation_ + 8, (std::uint64_t{0xfffff} << 32) | (info & 0xffffffff));
  const auto message = open_error(bytes_);
  EXPECT_NE(message.find("section 'xdp'"), std::string::npos) << message;
  EXPECT_NE(message.find("symbol 1048575"), std::string::npos) << message;
  EXPECT_NE(message.find("outside the symbol table"), std::string::npos) << message;
}

TEST_F(BadRelocation, OnTheWrongInstruction) {
  // Point the relocation at an `exit`.
  std::optional<std::uint64_t> exit_offset;
  for (std::uint64_t at = 0; at < xdp_.size; at += 8)
    if (bytes_[xdp_.offset + at] == std::byte{0x95}) exit_offset = at;
  ASSERT_TRUE(exit_offset);
  test::store_le<std::uint64_t>(bytes_, relocation_, *exit_offset);
  const auto message = open_error(bytes_);
  EXPECT_NE(message.find("section 'xdp'"), std::string::npos) << message;
  EXPECT_NE(message.find("neither a call nor an ld_imm64"), std::string::npos) << message;
  EXPECT_NE(message.find("offset " + std::to_string(*exit_offset)), std::string::npos) << message;
}

TEST_F(BadRelocation, UnknownType) {
  const auto info = test::load_le<std::uint64_t>(bytes_, relocation_ + 8);
  test::store_le<std::uint64_t>(bytes_, relocation_ + 8, (info & ~std::uint64_t{0xffffffff}) | 77);
  const auto message = open_error(bytes_);
  EXPECT_NE(message.find("type 77"), std::string::npos) << message;
}

TEST(BadInput, DamagedBtfExt) {
  auto bytes = read_bytes(bpf_object_path("object_core"));
  const auto ext = find_elf_section(bytes, ".BTF.ext");
  ASSERT_TRUE(ext);
  auto magic = bytes;
  test::store_le<std::uint16_t>(magic, ext->offset, 0x1234);
  auto message = open_error(magic);
  EXPECT_NE(message.find(".BTF.ext"), std::string::npos) << message;
  EXPECT_NE(message.find("magic"), std::string::npos) << message;

  auto record_size = bytes;
  const auto header_size = test::load_le<std::uint32_t>(bytes, ext->offset + 4);
  const auto func_info_off = test::load_le<std::uint32_t>(bytes, ext->offset + 8);
  test::store_le<std::uint32_t>(record_size, ext->offset + header_size + func_info_off, 2);
  message = open_error(record_size);
  EXPECT_NE(message.find("func_info records are 2 bytes"), std::string::npos) << message;

  auto length = bytes;
  test::store_le<std::uint32_t>(length, ext->offset + 12, 0x7fffffff);
  message = open_error(length);
  EXPECT_NE(message.find("func_info block"), std::string::npos) << message;
}

// Random byte damage anywhere: the object opens or fails with corebpf::Error, nothing else.
TEST(BadInput, RandomDamageNeverEscapesAsAnythingButError) {
  std::mt19937 random(12345);
  for (const char* name : {"object_link", "object_maps", "object_externs", "object_core_be"}) {
    const auto original = read_bytes(bpf_object_path(name));
    for (int round = 0; round < 300; ++round) {
      auto bytes = original;
      const int flips = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<std::byte>(random() & 0xff);
      try {
        auto spec = ObjectSpec::from_memory(bytes, name);
        for (const auto& program : spec.programs()) (void)program.insns().size();
      } catch (const Error&) {
      } catch (const std::exception& other) {
        ADD_FAILURE() << name << " round " << round << ": " << typeid(other).name() << ": " << other.what();
      }
    }
  }
}

}  // namespace
}  // namespace corebpf
