// Big-endian objects (clang -target bpfeb) read into the same host-order model as little-endian
// ones; only global data keeps its byte order, and loading one is refused.
#include "object/fake_kernel.hpp"
#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::error_of;
using test::open_bpf_object;

class ByteOrder : public ::testing::TestWithParam<const char*> {};

TEST_P(ByteOrder, BigEndianTwinReadsTheSame) {
  const std::string name = GetParam();
  const auto little = open_bpf_object(name);
  const auto big = open_bpf_object(name + "_be");
  EXPECT_EQ(little.endian(), btf::Endian::little);
  EXPECT_EQ(big.endian(), btf::Endian::big);
  EXPECT_TRUE(little.is_native_endian());
  EXPECT_FALSE(big.is_native_endian());
  ASSERT_TRUE(big.btf());
  EXPECT_EQ(big.btf()->type_count(), little.btf()->type_count());
  EXPECT_EQ(big.license(), little.license());
  EXPECT_EQ(big.kernel_version(), little.kernel_version());

  ASSERT_EQ(big.programs().size(), little.programs().size());
  for (std::size_t p = 0; p < little.programs().size(); ++p) {
    const auto& l = little.programs()[p];
    const auto& b = big.programs()[p];
    SCOPED_TRACE(l.name());
    EXPECT_EQ(b.name(), l.name());
    EXPECT_EQ(b.section(), l.section());
    EXPECT_EQ(b.type(), l.type());
    ASSERT_EQ(b.insns().size(), l.insns().size());
    for (std::size_t i = 0; i < l.insns().size(); ++i) {
      EXPECT_EQ(b.insns()[i].code, l.insns()[i].code) << i;
      EXPECT_EQ(b.insns()[i].regs, l.insns()[i].regs) << i;
      EXPECT_EQ(b.insns()[i].off, l.insns()[i].off) << i;
      EXPECT_EQ(b.insns()[i].imm, l.insns()[i].imm) << i;
    }
    ASSERT_EQ(b.func_info().size(), l.func_info().size());
    for (std::size_t i = 0; i < l.func_info().size(); ++i) {
      EXPECT_EQ(b.func_info()[i].insn_index, l.func_info()[i].insn_index);
      EXPECT_EQ(b.func_info()[i].type_id, l.func_info()[i].type_id);
    }
    ASSERT_EQ(b.line_info().size(), l.line_info().size());
    for (std::size_t i = 0; i < l.line_info().size(); ++i) {
      EXPECT_EQ(b.line_info()[i].line, l.line_info()[i].line);
      EXPECT_EQ(b.line_info()[i].column, l.line_info()[i].column);
      EXPECT_EQ(b.line_info()[i].line_text, l.line_info()[i].line_text);
    }
    ASSERT_EQ(b.core_relos().size(), l.core_relos().size());
    for (std::size_t i = 0; i < l.core_relos().size(); ++i) {
      EXPECT_EQ(b.core_relos()[i].insn_off, l.core_relos()[i].insn_off);
      EXPECT_EQ(b.core_relos()[i].kind, l.core_relos()[i].kind);
      EXPECT_EQ(b.core_relos()[i].type_id, l.core_relos()[i].type_id);
    }
  }
  ASSERT_EQ(big.maps().size(), little.maps().size());
  for (std::size_t m = 0; m < little.maps().size(); ++m) {
    const auto& l = little.maps()[m];
    const auto& b = big.maps()[m];
    SCOPED_TRACE(l.name());
    EXPECT_EQ(b.type(), l.type());
    EXPECT_EQ(b.key_size(), l.key_size());
    EXPECT_EQ(b.value_size(), l.value_size());
    EXPECT_EQ(b.max_entries(), l.max_entries());
    EXPECT_EQ(b.flags(), l.flags());
    EXPECT_EQ(b.initial_slots().size(), l.initial_slots().size());
    EXPECT_EQ(b.variables().size(), l.variables().size());
  }
  ASSERT_EQ(big.externs().size(), little.externs().size());
  for (std::size_t e = 0; e < little.externs().size(); ++e) {
    EXPECT_EQ(big.externs()[e].name, little.externs()[e].name);
    EXPECT_EQ(big.externs()[e].offset, little.externs()[e].offset);
  }
}

INSTANTIATE_TEST_SUITE_P(Objects, ByteOrder,
                         ::testing::Values("object_link", "object_maps", "object_legacy", "object_globals",
                                           "object_externs", "object_core"));

TEST(ByteOrderData, GlobalDataKeepsTheObjectsByteOrder) {
  const auto big = open_bpf_object("object_globals_be");
  const auto bytes = big.global("rodata_limit");
  ASSERT_EQ(bytes.size(), 8u);
  EXPECT_EQ(bytes[7], std::byte{0xe8});  // 1000 = 0x3e8, most significant byte first
  EXPECT_EQ(bytes[6], std::byte{0x03});
  EXPECT_EQ(bytes[0], std::byte{0});
}

TEST(ByteOrderData, KconfigValuesAreWrittenInTheObjectsByteOrder) {
  auto big = open_bpf_object("object_externs_be");
  auto kernel = test::fake_kernel().description;
  kernel.kconfig["CONFIG_HZ"] = "0x01020304";
  big.resolve_externs(kernel);
  const MapSpec* kconfig = nullptr;
  for (const auto& map : big.maps())
    if (map.origin() == MapOrigin::kconfig) kconfig = &map;
  ASSERT_NE(kconfig, nullptr);
  const auto* hz = kconfig->find_variable("CONFIG_HZ");
  ASSERT_NE(hz, nullptr);
  const auto value = kconfig->initial_data().subspan(hz->offset, 4);
  EXPECT_EQ(value[0], std::byte{1});
  EXPECT_EQ(value[3], std::byte{4});
}

TEST(ByteOrderData, LoadingAForeignObjectIsRefused) {
  const auto big = open_bpf_object("object_link_be");
  const auto message = error_of([&] { big.require_native_endian(); });
  EXPECT_NE(message.find("big-endian"), std::string::npos) << message;
  EXPECT_NE(message.find("object_link_be.bpf.o"), std::string::npos) << message;
  open_bpf_object("object_link").require_native_endian();
}

}  // namespace
}  // namespace corebpf
