// `core check` without a kernel: the guard walk (object/core/reachability) on hand-made
// instruction sequences, and the portability corpus (tests/bpf/portability_*.bpf.c) against
// Debian's 6.1 and 6.12 BTF, whose verdicts tests/kernel/core_check_test.cpp checks against real
// loads in the qemu guests.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "corebpf/btf_archive.hpp"
#include "corebpf/core_check.hpp"
#include "object/core/reachability.hpp"
#include "support/test_support.hpp"

namespace corebpf {
namespace {

Insn make(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  Insn insn;
  insn.code = code;
  insn.set_dst(dst);
  insn.set_src(src);
  insn.off = off;
  insn.imm = imm;
  return insn;
}
Insn mov_imm(std::uint8_t dst, std::int32_t imm) { return make(Insn::kAlu64 | Insn::kMov | Insn::kK, dst, 0, 0, imm); }
Insn jeq_imm(std::uint8_t dst, std::int32_t imm, std::int16_t off) {
  return make(Insn::kJmp | 0x10 | Insn::kK, dst, 0, off, imm);
}
Insn call_helper(std::int32_t id) { return make(Insn::kJmp | Insn::kCall, 0, 0, 0, id); }
Insn exit_insn() { return make(Insn::kJmp | Insn::kExit, 0, 0, 0, 0); }
Insn stx_dw(std::uint8_t base, std::uint8_t src, std::int16_t off) {
  return make(Insn::kStx | Insn::kMem | Insn::kDw, base, src, off, 0);
}
Insn ldx_dw(std::uint8_t dst, std::uint8_t base, std::int16_t off) {
  return make(Insn::kLdx | Insn::kMem | Insn::kDw, dst, base, off, 0);
}

std::vector<bool> reach(const std::vector<Insn>& insns, core::detail::FlowInput input = {}) {
  input.insns = insns;
  const auto result = core::detail::find_reachable(input);
  EXPECT_FALSE(result.exhausted);
  return result.reached;
}

TEST(CoreCheckWalk, AKnownFlagPrunesTheOtherSide) {
  // r1 = 0 (an existence check that said "absent"); if r1 == 0 goto out; call poison; out: exit
  const std::vector<Insn> insns = {mov_imm(1, 0), jeq_imm(1, 0, 1), call_helper(core::kPoisonHelperId), mov_imm(0, 0),
                                   exit_insn()};
  const auto reached = reach(insns);
  EXPECT_FALSE(reached[2]);
  EXPECT_TRUE(reached[3]);
}

TEST(CoreCheckWalk, AnUnknownValueTakesBothSides) {
  // r1 = helper result: unknown.
  const std::vector<Insn> insns = {call_helper(5),
                                   mov_imm(1, 0),
                                   make(Insn::kAlu64 | Insn::kMov | Insn::kX, 1, 0, 0, 0),
                                   jeq_imm(1, 0, 1),
                                   call_helper(core::kPoisonHelperId),
                                   exit_insn()};
  EXPECT_TRUE(reach(insns)[4]);
}

TEST(CoreCheckWalk, FlagsSurviveStackSpillsAndHelperCalls) {
  // r6 = 1; *(r10-8) = r6; call 5 (clobbers r0-r5); r1 = *(r10-8); if r1 == 0 goto +1; exit;
  // call poison (dead: r1 is 1)
  const std::vector<Insn> insns = {mov_imm(6, 1),     stx_dw(10, 6, -8), call_helper(5),
                                   ldx_dw(1, 10, -8), jeq_imm(1, 1, 1),  call_helper(core::kPoisonHelperId),
                                   exit_insn()};
  EXPECT_FALSE(reach(insns)[5]);
}

TEST(CoreCheckWalk, AStackPointerGivenToAHelperForgetsTheStack) {
  // The helper may write the slot: the flag read back is unknown.
  const std::vector<Insn> insns = {mov_imm(6, 1),
                                   stx_dw(10, 6, -8),
                                   make(Insn::kAlu64 | Insn::kMov | Insn::kX, 1, 10, 0, 0),
                                   make(Insn::kAlu64 | Insn::kAdd | Insn::kK, 1, 0, 0, -8),
                                   call_helper(5),
                                   ldx_dw(1, 10, -8),
                                   jeq_imm(1, 1, 1),
                                   call_helper(core::kPoisonHelperId),
                                   exit_insn()};
  EXPECT_TRUE(reach(insns)[7]);
}

TEST(CoreCheckWalk, FrozenMapValuesAreKnown) {
  // r1 = &map[0] + 4 (ld_imm64 map value); r2 = *(u32 *)(r1 + 0); if r2 == 7 goto +1; poison; exit
  std::vector<Insn> insns = {make(Insn::kLd | Insn::kImm | Insn::kDw, 1, Insn::kPseudoMapIdxValue, 0, 0),
                             make(0, 0, 0, 0, 4),
                             make(Insn::kLdx | Insn::kMem | Insn::kW, 2, 1, 0, 0),
                             jeq_imm(2, 7, 1),
                             call_helper(core::kPoisonHelperId),
                             exit_insn()};
  core::detail::FlowInput input;
  input.read_constant = [](std::uint32_t map, std::uint64_t offset, std::uint32_t size,
                           bool) -> std::optional<std::uint64_t> {
    if (map == 0 && offset == 4 && size == 4) return 7;
    return std::nullopt;
  };
  EXPECT_FALSE(reach(insns, input)[4]);
  EXPECT_TRUE(reach(insns)[4]);  // without the map's bytes: unknown, both sides
}

TEST(CoreCheckWalk, LoopsTerminateAndCalleesAreWalked) {
  // r1 = 0; loop: r1 += 1; if r1 != 100000 goto loop; call +1 (subprogram); exit; sub: poison; exit
  const std::vector<Insn> insns = {mov_imm(1, 0),
                                   make(Insn::kAlu64 | Insn::kAdd | Insn::kK, 1, 0, 0, 1),
                                   make(Insn::kJmp | 0x50 | Insn::kK, 1, 0, -2, 100000),
                                   make(Insn::kJmp | Insn::kCall, 0, Insn::kPseudoCall, 0, 1),
                                   exit_insn(),
                                   call_helper(core::kPoisonHelperId),
                                   exit_insn()};
  core::detail::FlowInput input;
  input.insns = insns;
  const auto result = core::detail::find_reachable(input);
  EXPECT_TRUE(result.reached[5]);
}

// ---- The corpus against Debian's kernels (BTF files from scripts/fetch-kernels). ----

std::string kernel_btf(const std::string& series) {
  const auto dir = test::kernel_dir(series);
  return dir.empty() ? std::string() : (dir / "vmlinux.btf").string();
}

// verdicts[program] for one object on one kernel file.
std::map<std::string, core::Verdict> verdicts(const std::string& object, const std::string& btf_path) {
  const auto spec = ObjectSpec::open(std::string(COREBPF_BPF_OBJECT_DIR) + "/" + object);
  const auto kernel = core::describe_kernel(btf::release_of_btf_file(btf_path), btf::release_of_btf_file(btf_path),
                                            btf::Btf::load(btf_path));
  const core::Target target(*kernel.description.vmlinux_btf);
  std::map<std::string, core::Verdict> out;
  for (const auto& p : core::check(spec, kernel, target).programs) out[p.name] = p.verdict;
  return out;
}

using V = core::Verdict;

TEST(CoreCheckCorpus, Debian61And612) {
  const auto btf61 = kernel_btf("6.1");
  const auto btf612 = kernel_btf("6.12");
  if (btf61.empty() || btf612.empty()) COREBPF_SKIP_OR_FAIL("no 6.1/6.12 kernel BTF: run scripts/fetch-kernels");
  const std::map<std::string, V> fields61 = {{"old_field_unguarded", V::loads},
                                             {"old_field_guarded", V::loads},
                                             {"new_field_unguarded", V::fails},
                                             {"new_or_old_field", V::guarded},
                                             {"type_and_enum", V::guarded}};
  const std::map<std::string, V> fields612 = {{"old_field_unguarded", V::fails},
                                              {"old_field_guarded", V::guarded},
                                              {"new_field_unguarded", V::loads},
                                              {"new_or_old_field", V::guarded},
                                              {"type_and_enum", V::loads}};
  EXPECT_EQ(verdicts("portability_fields.bpf.o", btf61), fields61);
  EXPECT_EQ(verdicts("portability_fields.bpf.o", btf612), fields612);
  EXPECT_EQ(verdicts("portability_kfunc.bpf.o", btf61),
            (std::map<std::string, V>{{"sum_numbers", V::fails}, {"plain", V::fails}}));
  EXPECT_EQ(verdicts("portability_kfunc.bpf.o", btf612),
            (std::map<std::string, V>{{"sum_numbers", V::loads}, {"plain", V::loads}}));
  EXPECT_EQ(verdicts("portability_kfunc_weak.bpf.o", btf61),
            (std::map<std::string, V>{
                {"guarded_by_type", V::guarded}, {"guarded_by_version", V::guarded}, {"unguarded", V::fails}}));
  EXPECT_EQ(verdicts("portability_kfunc_weak.bpf.o", btf612),
            (std::map<std::string, V>{
                {"guarded_by_type", V::loads}, {"guarded_by_version", V::loads}, {"unguarded", V::loads}}));
  EXPECT_EQ(verdicts("portability_cgrp.bpf.o", btf61), (std::map<std::string, V>{{"count_by_cgroup", V::fails}}));
  EXPECT_EQ(verdicts("portability_cgrp.bpf.o", btf612), (std::map<std::string, V>{{"count_by_cgroup", V::loads}}));
}

TEST(CoreCheckCorpus, ReasonsNameWhatIsMissing) {
  const auto btf61 = kernel_btf("6.1");
  if (btf61.empty()) COREBPF_SKIP_OR_FAIL("no 6.1 kernel BTF: run scripts/fetch-kernels");
  const auto spec = ObjectSpec::open(std::string(COREBPF_BPF_OBJECT_DIR) + "/portability_cgrp.bpf.o");
  const auto kernel = core::describe_kernel("6.1", "6.1.0", btf::Btf::load(btf61));
  const core::Target target(*kernel.description.vmlinux_btf);
  const auto result = core::check(spec, kernel, target);
  ASSERT_EQ(result.programs.size(), 1u);
  std::string all;
  for (const auto& f : result.programs[0].findings) all += f.text + "\n";
  EXPECT_NE(all.find("map 'cgroup_counts': type cgrp_storage (32)"), std::string::npos) << all;
  // One kernel alone cannot name a helper it lacks; check_all names it after another kernel.
  EXPECT_NE(all.find("helper #210 is not in this kernel's enum bpf_func_id"), std::string::npos) << all;
}

TEST(CoreCheckCorpus, ParallelEqualsSerial) {
  const auto btf61 = kernel_btf("6.1");
  const auto btf612 = kernel_btf("6.12");
  if (btf61.empty() || btf612.empty()) COREBPF_SKIP_OR_FAIL("no 6.1/6.12 kernel BTF: run scripts/fetch-kernels");
  std::vector<ObjectSpec> objects;
  for (const char* name : {"portability_fields.bpf.o", "portability_kfunc_weak.bpf.o", "core_task.bpf.o"})
    objects.push_back(ObjectSpec::open(std::string(COREBPF_BPF_OBJECT_DIR) + "/" + name));
  std::vector<core::CheckKernel> kernels;
  for (const auto& path : {btf61, btf612, btf61, btf612})
    kernels.push_back(core::describe_kernel(path, btf::release_of_btf_file(path), btf::Btf::load(path)));
  const auto serial = core::check_all(objects, kernels, 1);
  const auto parallel = core::check_all(objects, kernels, 4);
  ASSERT_EQ(serial.size(), parallel.size());
  for (std::size_t k = 0; k < serial.size(); ++k)
    for (std::size_t o = 0; o < objects.size(); ++o)
      for (std::size_t p = 0; p < serial[k][o].programs.size(); ++p)
        EXPECT_EQ(serial[k][o].programs[p].verdict, parallel[k][o].programs[p].verdict);
  EXPECT_EQ(serial[0][0].programs[2].verdict, V::fails);  // new_field_unguarded on 6.1
  EXPECT_EQ(serial[2][0].programs[2].verdict, V::fails);
}

}  // namespace
}  // namespace corebpf
