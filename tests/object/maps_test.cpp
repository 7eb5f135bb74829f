// Maps: BTF-defined of every shape, map-in-map and prog array slots, legacy definitions, setters.
#include <set>

#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::error_of;
using test::open_bpf_object;

std::int32_t map_index(const ObjectSpec& spec, std::string_view name) {
  for (std::size_t i = 0; i < spec.maps().size(); ++i)
    if (spec.maps()[i].name() == name) return static_cast<std::int32_t>(i);
  return -1;
}

std::string type_name(const ObjectSpec& spec, btf::TypeId id) {
  return id == 0 ? std::string() : std::string(spec.btf()->type(id).name());
}

TEST(BtfMaps, DefinitionsOfEveryShape) {
  const auto spec = open_bpf_object("object_maps");
  const auto& hash = spec.map("hash_map");
  EXPECT_EQ(hash.origin(), MapOrigin::btf_defined);
  EXPECT_EQ(hash.section(), ".maps");
  EXPECT_EQ(hash.type(), MapType::hash);
  EXPECT_EQ(hash.key_size(), 4u);
  EXPECT_EQ(hash.value_size(), 16u);
  EXPECT_EQ(hash.max_entries(), 1024u);
  EXPECT_EQ(hash.flags(), 1u | 4u);  // BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE
  EXPECT_EQ(hash.definition().numa_node, 1u);
  EXPECT_EQ(hash.pinning(), Pinning::by_name);
  EXPECT_EQ(type_name(spec, hash.definition().btf_key_type_id), "__u32");
  EXPECT_EQ(type_name(spec, hash.definition().btf_value_type_id), "pair");
  EXPECT_EQ(spec.btf()->type(hash.btf_var_or_datasec_id()).name(), "hash_map");
  EXPECT_FALSE(hash.is_internal());

  const auto& sized = spec.map("sized");
  EXPECT_EQ(sized.type(), MapType::percpu_array);
  EXPECT_EQ(sized.key_size(), 4u);
  EXPECT_EQ(sized.value_size(), 16u);
  EXPECT_EQ(sized.definition().btf_key_type_id, 0u);
  EXPECT_EQ(sized.definition().btf_value_type_id, 0u);
  EXPECT_EQ(sized.pinning(), Pinning::none);

  const auto& lru = spec.map("lru");
  EXPECT_EQ(lru.type(), MapType::lru_hash);
  EXPECT_EQ(lru.key_size(), 16u);
  EXPECT_EQ(type_name(spec, lru.definition().btf_key_type_id), "pair");

  const auto& events = spec.map("events");
  EXPECT_EQ(events.type(), MapType::ringbuf);
  EXPECT_EQ(events.max_entries(), 4096u);
  EXPECT_EQ(events.key_size(), 0u);
  EXPECT_EQ(events.value_size(), 0u);

  const auto& perf = spec.map("perf");
  EXPECT_EQ(perf.type(), MapType::perf_event_array);
  EXPECT_EQ(perf.key_size(), 4u);
  EXPECT_EQ(perf.value_size(), 4u);
  EXPECT_EQ(perf.max_entries(), 0u);

  const auto& bloom = spec.map("bloom");
  EXPECT_EQ(bloom.type(), MapType::bloom_filter);
  EXPECT_EQ(bloom.definition().map_extra, 3u);
  EXPECT_EQ(bloom.value_size(), 8u);
}

TEST(BtfMaps, MapInMapWithInitialSlots) {
  const auto spec = open_bpf_object("object_maps");
  const auto& outer = spec.map("outer_array");
  EXPECT_EQ(outer.type(), MapType::array_of_maps);
  EXPECT_EQ(outer.key_size(), 4u);
  EXPECT_EQ(outer.value_size(), 4u);
  EXPECT_EQ(outer.max_entries(), 4u);
  EXPECT_EQ(outer.definition().btf_value_type_id, 0u);
  ASSERT_TRUE(outer.inner());
  EXPECT_EQ(outer.inner()->type, MapType::array);
  EXPECT_EQ(outer.inner()->max_entries, 8u);
  EXPECT_EQ(outer.inner()->key_size, 4u);
  EXPECT_EQ(outer.inner()->value_size, 4u);
  ASSERT_EQ(outer.initial_slots().size(), 2u);
  EXPECT_EQ(outer.initial_slots()[0].index, 0u);
  EXPECT_EQ(outer.initial_slots()[0].target, "inner_a");
  EXPECT_EQ(spec.maps()[outer.initial_slots()[0].target_index].name(), "inner_a");
  EXPECT_EQ(outer.initial_slots()[1].index, 3u);
  EXPECT_EQ(outer.initial_slots()[1].target, "inner_b");
  EXPECT_EQ(spec.maps()[outer.initial_slots()[1].target_index].name(), "inner_b");

  const auto& outer_hash = spec.map("outer_hash");
  EXPECT_EQ(outer_hash.type(), MapType::hash_of_maps);
  ASSERT_EQ(outer_hash.initial_slots().size(), 1u);
  EXPECT_EQ(outer_hash.initial_slots()[0].index, 1u);
  EXPECT_EQ(outer_hash.initial_slots()[0].target, "inner_b");

  EXPECT_TRUE(spec.map("inner_a").initial_slots().empty());
  EXPECT_FALSE(spec.map("inner_a").inner());
}

TEST(BtfMaps, ProgArrayWithInitialPrograms) {
  const auto spec = open_bpf_object("object_maps");
  const auto& jumps = spec.map("jump_table");
  EXPECT_EQ(jumps.type(), MapType::prog_array);
  EXPECT_EQ(jumps.key_size(), 4u);
  EXPECT_EQ(jumps.value_size(), 4u);
  EXPECT_FALSE(jumps.inner());
  ASSERT_EQ(jumps.initial_slots().size(), 2u);
  EXPECT_EQ(jumps.initial_slots()[0].index, 0u);
  EXPECT_EQ(jumps.initial_slots()[0].target, "tail_zero");
  EXPECT_EQ(spec.programs()[jumps.initial_slots()[0].target_index].name(), "tail_zero");
  EXPECT_EQ(jumps.initial_slots()[1].index, 2u);
  EXPECT_EQ(spec.programs()[jumps.initial_slots()[1].target_index].name(), "tail_two");
}

TEST(BtfMaps, InstructionsReferToMapsByIndex) {
  const auto spec = open_bpf_object("object_maps");
  std::set<std::int32_t> referenced;
  const auto insns = spec.program("use_maps").insns();
  for (std::size_t i = 0; i < insns.size(); ++i) {
    if (!insns[i].is_ld_imm64()) continue;
    EXPECT_EQ(insns[i].src(), Insn::kPseudoMapIdx);
    referenced.insert(insns[i].imm);
    ++i;
  }
  EXPECT_EQ(referenced, (std::set<std::int32_t>{map_index(spec, "hash_map"), map_index(spec, "events"),
                                                map_index(spec, "jump_table"), map_index(spec, "outer_array")}));
}

TEST(LegacyMaps, StructBpfMapDefRecords) {
  const auto spec = open_bpf_object("object_legacy");
  ASSERT_EQ(spec.maps().size(), 2u);
  const auto& hash = spec.map("legacy_hash");
  EXPECT_EQ(hash.origin(), MapOrigin::legacy);
  EXPECT_EQ(hash.section(), "maps");
  EXPECT_EQ(hash.type(), MapType::hash);
  EXPECT_EQ(hash.key_size(), 4u);
  EXPECT_EQ(hash.value_size(), 8u);
  EXPECT_EQ(hash.max_entries(), 128u);
  EXPECT_EQ(hash.flags(), 1u);
  const auto& array = spec.map("legacy_array");
  EXPECT_EQ(array.type(), MapType::array);
  EXPECT_EQ(array.value_size(), 32u);
  EXPECT_EQ(array.max_entries(), 4u);
  EXPECT_EQ(array.flags(), 0u);
  EXPECT_EQ(spec.license(), "Dual BSD/GPL");
  EXPECT_EQ(spec.kernel_version(), 0x060100u);

  std::set<std::int32_t> referenced;
  const auto insns = spec.program("use_legacy").insns();
  for (std::size_t i = 0; i < insns.size(); ++i)
    if (insns[i].is_ld_imm64()) {
      EXPECT_EQ(insns[i].src(), Insn::kPseudoMapIdx);
      referenced.insert(insns[i++].imm);
    }
  EXPECT_EQ(referenced, (std::set<std::int32_t>{0, 1}));
}

TEST(LegacyMaps, OpenWithoutBtf) {
  // Renamed .BTF and .BTF.ext make the object read as compiled without -g.
  auto bytes = test::read_bytes(test::bpf_object_path("object_legacy"));
  for (const char* name : {".BTF.ext", ".BTF"}) {
    const auto section = test::find_elf_section(bytes, name);
    ASSERT_TRUE(section) << name;
    bytes[section->name_at + 1] = std::byte{'X'};
  }
  const auto spec = ObjectSpec::from_memory(bytes, "nobtf.bpf.o");
  EXPECT_FALSE(spec.btf());
  EXPECT_EQ(spec.maps().size(), 2u);
  EXPECT_EQ(spec.map("legacy_hash").max_entries(), 128u);
  const auto& program = spec.program("use_legacy");
  EXPECT_TRUE(program.func_info().empty());
  EXPECT_TRUE(program.line_info().empty());
  EXPECT_EQ(program.insns().size(), open_bpf_object("object_legacy").program("use_legacy").insns().size());

  // BTF-defined maps cannot do without it.
  auto maps = test::read_bytes(test::bpf_object_path("object_maps"));
  for (const char* name : {".BTF.ext", ".BTF"}) maps[test::find_elf_section(maps, name)->name_at + 1] = std::byte{'X'};
  const auto message = error_of([&] { ObjectSpec::from_memory(maps, "nobtf_maps.bpf.o"); });
  EXPECT_NE(message.find("nobtf_maps.bpf.o"), std::string::npos) << message;
  EXPECT_NE(message.find("clang -g"), std::string::npos) << message;
}

TEST(MapSetters, UserMapsChangeFreely) {
  auto spec = open_bpf_object("object_maps");
  auto& hash = spec.map("hash_map");
  hash.set_max_entries(4);
  hash.set_flags(0);
  hash.set_numa_node(0);
  hash.set_map_extra(9);
  hash.set_pinning(Pinning::none);
  EXPECT_EQ(hash.max_entries(), 4u);
  EXPECT_EQ(hash.flags(), 0u);
  EXPECT_EQ(hash.definition().map_extra, 9u);
  EXPECT_EQ(hash.pinning(), Pinning::none);
  // The value type no longer describes a 32-byte value: its BTF id goes, the key's stays.
  hash.set_value_size(32);
  EXPECT_EQ(hash.value_size(), 32u);
  EXPECT_EQ(hash.definition().btf_value_type_id, 0u);
  EXPECT_NE(hash.definition().btf_key_type_id, 0u);
  hash.set_key_size(8);
  EXPECT_EQ(hash.definition().btf_key_type_id, 0u);
  hash.set_type(MapType::lru_hash);
  EXPECT_EQ(hash.type(), MapType::lru_hash);

  auto& lru = spec.map("lru");
  lru.set_value_size(8);  // unchanged: the BTF id stays
  EXPECT_NE(lru.definition().btf_value_type_id, 0u);
}

TEST(MapSetters, GlobalDataMapsKeepTheirShape) {
  auto spec = open_bpf_object("object_globals");
  auto& data = spec.map("object_g.data");
  EXPECT_NE(error_of([&] { data.set_type(MapType::hash); }).find("object_g.data"), std::string::npos);
  EXPECT_NE(error_of([&] { data.set_max_entries(2); }).find("one entry"), std::string::npos);
  EXPECT_NE(error_of([&] { data.set_key_size(8); }).find("4 bytes"), std::string::npos);
  EXPECT_NE(error_of([&] { data.set_value_size(2); }).find("data_counter"), std::string::npos);
  data.set_value_size(16);
  EXPECT_EQ(data.value_size(), 16u);
  ASSERT_EQ(data.initial_data().size(), 16u);
  EXPECT_EQ(data.initial_data()[15], std::byte{0});
  EXPECT_EQ(spec.get_global<int>("data_counter"), 42);
  EXPECT_EQ(data.definition().btf_value_type_id, 0u);
  data.set_flags(0);
  EXPECT_EQ(data.flags(), 0u);
}

TEST(MapLookups, ByNameAndSection) {
  auto spec = open_bpf_object("object_maps");
  EXPECT_EQ(spec.find_map("nope"), nullptr);
  const auto message = error_of([&] { spec.map("nope"); });
  EXPECT_NE(message.find("'nope'"), std::string::npos);
  EXPECT_NE(message.find("object_maps.bpf.o"), std::string::npos);
  EXPECT_NE(error_of([&] { spec.program("nope"); }).find("object_maps.bpf.o: no program 'nope'"), std::string::npos);
  EXPECT_EQ(spec.find_section_map(".data"), nullptr);
  auto globals = open_bpf_object("object_globals");
  ASSERT_NE(globals.find_section_map(".rodata.custom"), nullptr);
  EXPECT_EQ(globals.find_section_map(".rodata.custom")->name(), ".rodata.custom");
}

}  // namespace
}  // namespace corebpf
