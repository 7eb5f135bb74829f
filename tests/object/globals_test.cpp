// Global data: internal array maps per section, their names, contents, DATASEC layout, and
// set_global.
#include <array>
#include <set>

#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::error_of;
using test::open_bpf_object;

struct Config {
  std::uint32_t a;
  std::uint16_t b;
  std::uint8_t c[2];
};

TEST(GlobalData, OneInternalMapPerSection) {
  const auto spec = open_bpf_object("object_globals");
  struct Expected {
    const char* name;
    const char* section;
    MapOrigin origin;
    std::uint32_t size;
    std::uint32_t flags;
  };
  const Expected expected[] = {
      {"object_g.data", ".data", MapOrigin::data, 4, kMapFlagMmapable},
      {"object_g.rodata", ".rodata", MapOrigin::rodata, 0, kMapFlagRdonlyProg | kMapFlagMmapable},
      {".data.custom", ".data.custom", MapOrigin::data, 4, kMapFlagMmapable},
      {".rodata.custom", ".rodata.custom", MapOrigin::rodata, 4, kMapFlagRdonlyProg | kMapFlagMmapable},
      {"object_g.bss", ".bss", MapOrigin::bss, 8, kMapFlagMmapable},
  };
  ASSERT_EQ(spec.maps().size(), std::size(expected));
  for (const auto& e : expected) {
    SCOPED_TRACE(e.name);
    const auto& map = spec.map(e.name);
    EXPECT_EQ(map.section(), e.section);
    EXPECT_EQ(map.origin(), e.origin);
    EXPECT_TRUE(map.is_internal());
    EXPECT_EQ(map.type(), MapType::array);
    EXPECT_EQ(map.key_size(), 4u);
    EXPECT_EQ(map.max_entries(), 1u);
    EXPECT_EQ(map.flags(), e.flags);
    if (e.size != 0) {
      EXPECT_EQ(map.value_size(), e.size);
    }
    EXPECT_EQ(map.initial_data().size(), map.value_size());
    const auto datasec = spec.btf()->type(map.definition().btf_value_type_id);
    EXPECT_EQ(datasec.kind(), btf::Kind::Datasec);
    EXPECT_EQ(datasec.name(), e.section);
  }
}

TEST(GlobalData, VariablesAndInitialContents) {
  const auto spec = open_bpf_object("object_globals");
  const auto& rodata = spec.map("object_g.rodata");
  std::set<std::string> names;
  std::uint32_t end = 0;
  for (const auto& variable : rodata.variables()) {
    names.insert(variable.name);
    EXPECT_GE(variable.offset, end) << variable.name;  // sorted, no overlap
    end = variable.offset + variable.size;
    EXPECT_EQ(spec.btf()->type(variable.var_type_id).kind(), btf::Kind::Var);
    EXPECT_EQ(spec.btf()->size_of(variable.type_id), variable.size) << variable.name;
  }
  EXPECT_TRUE(names.contains("rodata_limit"));
  EXPECT_TRUE(names.contains("cfg"));
  EXPECT_TRUE(names.contains("rodata_name"));
  EXPECT_LE(end, rodata.value_size());

  EXPECT_EQ(spec.get_global<int>("data_counter"), 42);
  EXPECT_EQ(spec.get_global<std::uint64_t>("rodata_limit"), 1000u);
  const auto cfg = spec.get_global<Config>("cfg");
  EXPECT_EQ(cfg.a, 1u);
  EXPECT_EQ(cfg.b, 2u);
  EXPECT_EQ(cfg.c[0], 3u);
  EXPECT_EQ(cfg.c[1], 4u);
  const auto name = spec.get_global<std::array<char, 16>>("rodata_name");
  EXPECT_STREQ(name.data(), "corebpf");
  EXPECT_EQ(spec.get_global<int>("custom_data"), 7);
  EXPECT_EQ(spec.get_global<int>("custom_rodata"), 9);
  EXPECT_EQ(spec.get_global<std::uint32_t>("bss_total"), 0u);

  const auto* bss_static = spec.map("object_g.bss").find_variable("bss_static");
  ASSERT_NE(bss_static, nullptr);
  EXPECT_FALSE(bss_static->is_global);
  EXPECT_TRUE(spec.map("object_g.bss").find_variable("bss_total")->is_global);
}

TEST(GlobalData, InstructionsPointIntoTheVariables) {
  const auto spec = open_bpf_object("object_globals");
  const auto insns = spec.program("use_globals").insns();
  int references = 0;
  for (std::size_t i = 0; i < insns.size(); ++i) {
    if (!insns[i].is_ld_imm64()) continue;
    ASSERT_EQ(insns[i].src(), Insn::kPseudoMapIdxValue);
    const auto& map = spec.maps()[static_cast<std::size_t>(insns[i].imm)];
    const auto offset = static_cast<std::uint32_t>(insns[i + 1].imm);
    bool inside = false;
    for (const auto& variable : map.variables())
      inside |= offset >= variable.offset && offset < variable.offset + variable.size;
    EXPECT_TRUE(inside) << map.name() << " offset " << offset;
    ++references;
    ++i;
  }
  EXPECT_GE(references, 6);
}

TEST(GlobalData, SetGlobalChecksNameAndSize) {
  auto spec = open_bpf_object("object_globals");
  spec.set_global("data_counter", 5);
  EXPECT_EQ(spec.get_global<int>("data_counter"), 5);
  spec.set_global("rodata_limit", std::uint64_t{77});
  EXPECT_EQ(spec.get_global<std::uint64_t>("rodata_limit"), 77u);
  spec.set_global("cfg", Config{9, 8, {7, 6}});
  EXPECT_EQ(spec.get_global<Config>("cfg").b, 8u);
  spec.set_global("bss_total", std::uint32_t{3});
  EXPECT_EQ(spec.map("object_g.bss").initial_data()[4], std::byte{3});

  auto message = error_of([&] { spec.set_global("data_counter", std::uint64_t{1}); });
  EXPECT_NE(message.find("'data_counter'"), std::string::npos) << message;
  EXPECT_NE(message.find("4 bytes"), std::string::npos) << message;
  message = error_of([&] { spec.set_global("no_such_variable", 1); });
  EXPECT_NE(message.find("'no_such_variable'"), std::string::npos) << message;
  message = error_of([&] { (void)spec.get_global<std::uint64_t>("data_counter"); });
  EXPECT_NE(message.find("'data_counter'"), std::string::npos) << message;

  spec.map(".data.custom").set_variable("custom_data", std::as_bytes(std::span<const int, 1>(std::array{11})));
  EXPECT_EQ(spec.get_global<int>("custom_data"), 11);
  // A copy is independent of the original.
  auto copy = spec;
  copy.set_global("data_counter", 1);
  EXPECT_EQ(spec.get_global<int>("data_counter"), 5);
}

TEST(GlobalData, InternalMapNamesFollowLibbpf) {
  OpenOptions options;
  options.object_name = "averyverylongname";
  const auto spec = open_bpf_object("object_globals", options);
  EXPECT_EQ(spec.name(), "averyverylongname");
  EXPECT_NE(spec.find_map("averyver.data"), nullptr);
  EXPECT_NE(spec.find_map("averyver.rodata"), nullptr);
  EXPECT_NE(spec.find_map("averyver.bss"), nullptr);
  EXPECT_NE(spec.find_map(".data.custom"), nullptr);

  options.object_name = "a-b";
  const auto short_name = open_bpf_object("object_globals", options);
  EXPECT_NE(short_name.find_map("a_b.rodata"), nullptr);
  EXPECT_EQ(open_bpf_object("object_globals").name(), "object_globals");
}

TEST(GlobalData, ExternsGetAKconfigMapLaidOutByAlignment) {
  const auto spec = open_bpf_object("object_externs");
  const auto& kconfig = spec.map("object_.kconfig");
  EXPECT_EQ(kconfig.origin(), MapOrigin::kconfig);
  EXPECT_EQ(kconfig.flags(), kMapFlagRdonlyProg | kMapFlagMmapable);
  EXPECT_EQ(kconfig.value_size() % 8, 0u);
  std::uint32_t end = 0;
  for (const auto& variable : kconfig.variables()) {
    EXPECT_GE(variable.offset, end) << variable.name;
    EXPECT_EQ(variable.offset % spec.btf()->alignment_of(variable.type_id), 0u) << variable.name;
    end = variable.offset + variable.size;
  }
  EXPECT_LE(end, kconfig.value_size());
  EXPECT_EQ(kconfig.variables().size(), 16u);
  EXPECT_EQ(kconfig.variables().front().size, 8u);  // the widest alignment first
}

}  // namespace
}  // namespace corebpf
