// .BTF.ext: CO-RE relocation records travel with their subprogram into every program that calls it.
#include <map>

#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::open_bpf_object;

std::string access(const ObjectSpec& spec, const core::ReloRecord& record) {
  return std::string(spec.btf()->string_at(record.access_str_off));
}

TEST(BtfExt, CoreRelocationsPerProgramAfterLinking) {
  const auto spec = open_bpf_object("object_core");
  const auto& first = spec.program("first");
  const auto& second = spec.program("second");
  ASSERT_EQ(first.functions().size(), 2u);
  ASSERT_EQ(first.functions()[1].name, "thing_flags");
  ASSERT_EQ(second.functions()[1].name, "thing_flags");

  auto split = [&](const ProgramSpec& program) {
    const std::uint32_t subprogram = program.functions()[1].insn_index;
    std::vector<core::ReloRecord> own, shared;
    for (const auto& record : program.core_relos()) {
      EXPECT_EQ(record.insn_off % 8, 0u);
      EXPECT_LT(record.insn_off / 8, program.insns().size());
      (record.insn_off / 8 >= subprogram ? shared : own).push_back(record);
    }
    for (auto& record : shared) record.insn_off -= subprogram * 8;
    return std::pair(own, shared);
  };
  const auto [first_own, first_shared] = split(first);
  const auto [second_own, second_shared] = split(second);

  // thing_flags reads thing->parent->flags: two field offsets, the same records in both programs.
  ASSERT_EQ(first_shared.size(), 2u);
  ASSERT_EQ(second_shared.size(), first_shared.size());
  for (std::size_t i = 0; i < first_shared.size(); ++i) {
    EXPECT_EQ(first_shared[i].insn_off, second_shared[i].insn_off);
    EXPECT_EQ(first_shared[i].kind, core::ReloKind::field_byte_offset);
    EXPECT_EQ(first_shared[i].access_str_off, second_shared[i].access_str_off);
  }
  EXPECT_EQ(access(spec, first_shared[0]), "0:2");
  EXPECT_EQ(access(spec, first_shared[1]), "0:1");
  EXPECT_EQ(spec.btf()->type(first_shared[0].type_id).name(), "kernel_thing");

  std::map<core::ReloKind, int> kinds;
  for (const auto& record : first_own) ++kinds[record.kind];
  EXPECT_EQ(kinds[core::ReloKind::field_byte_offset], 1);  // thing->id
  EXPECT_EQ(kinds[core::ReloKind::field_exists], 1);
  kinds.clear();
  for (const auto& record : second_own) ++kinds[record.kind];
  EXPECT_EQ(kinds[core::ReloKind::type_exists], 1);
  EXPECT_EQ(kinds[core::ReloKind::enumval_value], 1);
  for (const auto& record : second_own)
    if (record.kind == core::ReloKind::enumval_value) {
      EXPECT_EQ(spec.btf()->type(record.type_id).name(), "thing_state");
      EXPECT_EQ(access(spec, record), "1");
    }

  // The instruction a field-offset record sits on carries the compiled-in offset.
  for (const auto& record : first.core_relos())
    if (record.kind == core::ReloKind::field_byte_offset && access(spec, record) == "0:0") {
      const auto& insn = first.insns()[record.insn_off / 8];
      EXPECT_EQ(insn.insn_class(), Insn::kLdx);
      EXPECT_EQ(insn.off, 0);
    }
}

TEST(BtfExt, ProgramsWithoutBtfExtHaveNoRecords) {
  const auto spec = open_bpf_object("object_link");
  for (const auto& program : spec.programs()) EXPECT_TRUE(program.core_relos().empty()) << program.name();
}

}  // namespace
}  // namespace corebpf
