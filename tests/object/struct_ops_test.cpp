// struct_ops maps in the object model: each variable of .struct_ops / .struct_ops.link is a map
// of the struct's bytes, its function pointer members (.rel.struct_ops*) name programs.
#include <algorithm>
#include <string>

#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::open_bpf_object;

std::uint32_t member_offset(const ObjectSpec& spec, const MapSpec& map, std::string_view name) {
  for (const auto member : spec.btf()->type(map.struct_ops_type_id()).members())
    if (member.name() == name) return member.bit_offset() / 8;
  ADD_FAILURE() << "no member " << name;
  return 0;
}

TEST(StructOpsMaps, AStructOpsVariableIsAMapOfItsStruct) {
  const auto spec = open_bpf_object("struct_ops");
  const auto& map = spec.map("corebpf_cc");
  EXPECT_EQ(map.origin(), MapOrigin::struct_ops);
  EXPECT_EQ(map_origin_name(map.origin()), "struct_ops");
  EXPECT_FALSE(map.is_internal());
  EXPECT_EQ(map.section(), ".struct_ops");
  EXPECT_EQ(map.type(), MapType::struct_ops);
  EXPECT_EQ(map.key_size(), 4u);
  EXPECT_EQ(map.max_entries(), 1u);
  EXPECT_EQ(map.flags(), 0u);
  EXPECT_EQ(map.struct_ops_type_name(), "tcp_congestion_ops");
  EXPECT_EQ(spec.btf()->type(map.struct_ops_type_id()).name(), "tcp_congestion_ops");
  EXPECT_EQ(spec.btf()->type(map.btf_var_or_datasec_id()).name(), "corebpf_cc");
  EXPECT_EQ(map.value_size(), spec.btf()->size_of(map.struct_ops_type_id()));
  ASSERT_EQ(map.initial_data().size(), map.value_size());

  // The name as initialized; the function pointers (relocated) left zero.
  const auto name = map.initial_data().subspan(member_offset(spec, map, "name"), 16);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(name.data())), "corebpf_cc");
  for (const char* pointer : {"init", "ssthresh", "cong_avoid", "undo_cwnd"}) {
    const auto bytes = map.initial_data().subspan(member_offset(spec, map, pointer), 8);
    EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; })) << pointer;
  }
}

TEST(StructOpsMaps, FunctionPointerMembersNamePrograms) {
  const auto spec = open_bpf_object("struct_ops");
  const auto& map = spec.map("corebpf_cc");
  const auto members = map.struct_ops_members();
  ASSERT_EQ(members.size(), 4u);
  const std::pair<const char*, const char*> expected[] = {{"init", "corebpf_init"},
                                                          {"ssthresh", "corebpf_ssthresh"},
                                                          {"cong_avoid", "corebpf_cong_avoid"},
                                                          {"undo_cwnd", "corebpf_undo_cwnd"}};
  for (const auto& entry : expected) {
    const std::string member = entry.first, program = entry.second;  // clang 14: no bindings in lambdas
    const auto found = std::find_if(members.begin(), members.end(), [&](const auto& m) { return m.member == member; });
    ASSERT_NE(found, members.end()) << member;
    EXPECT_EQ(found->program, program);
    EXPECT_EQ(found->offset, member_offset(spec, map, member));
    ASSERT_LT(found->program_index, spec.programs().size());
    EXPECT_EQ(spec.programs()[found->program_index].name(), program);
    EXPECT_EQ(spec.programs()[found->program_index].type(), ProgramType::struct_ops);
    EXPECT_TRUE(spec.programs()[found->program_index].autoload());
  }
  EXPECT_TRUE(
      std::is_sorted(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; }));
  // A struct_ops program no member names (the loader leaves it unloaded).
  EXPECT_EQ(spec.program("corebpf_unused").type(), ProgramType::struct_ops);
  EXPECT_TRUE(
      std::none_of(members.begin(), members.end(), [](const auto& m) { return m.program == "corebpf_unused"; }));
}

TEST(StructOpsMaps, TheLinkSectionAsksForABpfLink) {
  const auto spec = open_bpf_object("struct_ops_link");
  EXPECT_EQ(spec.find_map("corebpf_cc"), nullptr);
  const auto& map = spec.map("corebpf_ccl");
  EXPECT_EQ(map.section(), ".struct_ops.link");
  EXPECT_EQ(map.type(), MapType::struct_ops);
  EXPECT_EQ(map.flags(), kMapFlagLink);
  EXPECT_EQ(map.struct_ops_members().size(), 4u);
}

}  // namespace
}  // namespace corebpf
