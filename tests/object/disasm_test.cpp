// The instruction decoder (object/disasm.cpp): the kernel's notation for every instruction form,
// including those the test programs do not compile to (sign-extending moves and loads, byte
// swaps, signed division, atomics, long and may_goto jumps, legacy packet loads), and the basic
// blocks of a function.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <vector>

#include "object/disasm.hpp"

namespace {

using corebpf::Insn;
using corebpf::object::basic_blocks;
using corebpf::object::format_insn;

Insn make(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  Insn i;
  i.code = code;
  i.set_dst(dst);
  i.set_src(src);
  i.off = off;
  i.imm = imm;
  return i;
}

std::string text(const Insn& insn) {
  const std::vector<Insn> one = {insn};
  return format_insn(one, 0);
}

TEST(Disasm, AluForms) {
  EXPECT_EQ(text(make(0xb7, 1, 0, 0, -3)), "(b7) r1 = -3");
  EXPECT_EQ(text(make(0x0f, 1, 2, 0, 0)), "(0f) r1 += r2");
  EXPECT_EQ(text(make(0x04, 1, 0, 0, 5)), "(04) w1 += 5");
  EXPECT_EQ(text(make(0xc7, 1, 0, 0, 32)), "(c7) r1 s>>= 32");
  EXPECT_EQ(text(make(0x87, 3, 0, 0, 0)), "(87) r3 = -r3");
  EXPECT_EQ(text(make(0x84, 3, 0, 0, 0)), "(84) w3 = -w3");
  EXPECT_EQ(text(make(0x3f, 1, 2, 1, 0)), "(3f) r1 s/= r2");
  EXPECT_EQ(text(make(0x9f, 1, 2, 1, 0)), "(9f) r1 s%= r2");
  EXPECT_EQ(text(make(0xbf, 1, 2, 8, 0)), "(bf) r1 = (s8)r2");
  EXPECT_EQ(text(make(0xbc, 1, 2, 16, 0)), "(bc) w1 = (s16)w2");
  EXPECT_EQ(text(make(0xbf, 1, 2, -1, 0)), "(bf) r1 = &(void __percpu *)(r2)");
  EXPECT_EQ(text(make(0xbf, 1, 2, 1, 1)), "(bf) r1 = addr_space_cast(r2, 0, 1)");
  EXPECT_EQ(text(make(0xdc, 1, 0, 0, 16)), "(dc) r1 = be16 r1");
  EXPECT_EQ(text(make(0xd4, 1, 0, 0, 32)), "(d4) r1 = le32 r1");
  EXPECT_EQ(text(make(0xd7, 1, 0, 0, 64)), "(d7) r1 = bswap64 r1");
}

TEST(Disasm, MemoryForms) {
  EXPECT_EQ(text(make(0x61, 1, 2, 8, 0)), "(61) r1 = *(u32 *)(r2 +8)");
  EXPECT_EQ(text(make(0x91, 1, 2, -2, 0)), "(91) r1 = *(s8 *)(r2 -2)");
  EXPECT_EQ(text(make(0x7b, 10, 1, -8, 0)), "(7b) *(u64 *)(r10 -8) = r1");
  EXPECT_EQ(text(make(0x62, 10, 0, -4, 7)), "(62) *(u32 *)(r10 -4) = 7");
  EXPECT_EQ(text(make(0xdb, 1, 2, 0, 0x00)), "(db) lock *(u64 *)(r1 +0) += r2");
  EXPECT_EQ(text(make(0xc3, 1, 2, 4, 0x50)), "(c3) lock *(u32 *)(r1 +4) &= r2");
  EXPECT_EQ(text(make(0xdb, 1, 2, 0, 0x41)), "(db) r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)");
  EXPECT_EQ(text(make(0xc3, 1, 2, 0, 0xa1)), "(c3) r2 = atomic_fetch_xor((u32 *)(r1 +0), r2)");
  EXPECT_EQ(text(make(0xdb, 1, 2, 0, 0xe1)), "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)");
  EXPECT_EQ(text(make(0xdb, 1, 2, 0, 0xf1)), "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)");
  EXPECT_EQ(text(make(0x30, 0, 0, 0, 12)), "(30) r0 = *(u8 *)skb[12]");
  EXPECT_EQ(text(make(0x48, 0, 3, 0, 2)), "(48) r0 = *(u16 *)skb[r3 + 2]");
}

TEST(Disasm, JumpsCallsAndImm64) {
  EXPECT_EQ(text(make(0x05, 0, 0, -3, 0)), "(05) goto pc-3");
  EXPECT_EQ(text(make(0x06, 0, 0, 0, 70000)), "(06) gotol pc+70000");
  EXPECT_EQ(text(make(0xe5, 0, 0, 4, 0)), "(e5) may_goto pc+4");
  EXPECT_EQ(text(make(0x15, 1, 0, 2, 0)), "(15) if r1 == 0x0 goto pc+2");
  EXPECT_EQ(text(make(0xa6, 1, 0, 2, -1)), "(a6) if w1 < 0xffffffff goto pc+2");
  EXPECT_EQ(text(make(0xcd, 1, 2, -7, 0)), "(cd) if r1 s< r2 goto pc-7");
  EXPECT_EQ(text(make(0x85, 0, 0, 0, 1)), "(85) call bpf_map_lookup_elem#1");
  EXPECT_EQ(text(make(0x85, 0, 1, 0, 5)), "(85) call pc+5");
  EXPECT_EQ(text(make(0x85, 0, 2, 0, 42)), "(85) call kernel-function#42");
  EXPECT_EQ(text(make(0x95, 0, 0, 0, 0)), "(95) exit");
  const std::vector<Insn> imm64 = {make(0x18, 3, 0, 0, 0x55667788), make(0, 0, 0, 0, 0x11223344)};
  EXPECT_EQ(format_insn(imm64, 0), "(18) r3 = 0x1122334455667788");
  EXPECT_EQ(format_insn(std::span(imm64).first(1), 0), "(18) <truncated ld_imm64>");
  corebpf::object::InsnNaming naming;
  naming.imm64 = [](std::size_t, const Insn& first, const Insn&) { return fmt::format("map[id:{}]", first.imm); };
  EXPECT_EQ(format_insn(imm64, 0, naming), "(18) r3 = map[id:1432778632]");
  // Unknown opcodes say so instead of guessing.
  EXPECT_EQ(text(make(0xf5, 0, 0, 0, 0)), "(f5) BUG_jmp_f5");
  EXPECT_EQ(text(make(0x22, 0, 0, 0, 0)), "(22) BUG_st_22");
}

TEST(Disasm, BasicBlocks) {
  // 0: r0 = 0; 1: if r1 == 0 goto +3; 2-3: r2 = imm64; 4: goto +1; 5: r0 = 2; 6: exit
  const std::vector<Insn> insns = {make(0xb7, 0, 0, 0, 0), make(0x15, 1, 0, 3, 0), make(0x18, 2, 0, 0, 1),
                                   make(0, 0, 0, 0, 0),    make(0x05, 0, 0, 1, 0), make(0xb7, 0, 0, 0, 2),
                                   make(0x95, 0, 0, 0, 0)};
  const auto blocks = basic_blocks(insns, 0, insns.size());
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].first, 0u);
  EXPECT_EQ(blocks[0].end, 2u);
  EXPECT_EQ(blocks[0].successors, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(blocks[1].first, 2u);
  EXPECT_EQ(blocks[1].successors, (std::vector<std::size_t>{3}));
  EXPECT_FALSE(blocks[1].falls_through);
  EXPECT_EQ(blocks[2].first, 5u);
  EXPECT_EQ(blocks[2].successors, (std::vector<std::size_t>{3}));
  EXPECT_TRUE(blocks[2].falls_through);
  EXPECT_TRUE(blocks[3].exits);
  EXPECT_TRUE(blocks[3].successors.empty());
  // A jump out of the function is flagged, not followed.
  const std::vector<Insn> wild = {make(0x05, 0, 0, 100, 0), make(0x95, 0, 0, 0, 0)};
  const auto wild_blocks = basic_blocks(wild, 0, wild.size());
  EXPECT_TRUE(wild_blocks[0].jumps_out);
}

}  // namespace
