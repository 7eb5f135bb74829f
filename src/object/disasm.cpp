#include "object/disasm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "corebpf/object_spec.hpp"

namespace corebpf::object {
namespace {

// Atomic operations (STX | ATOMIC's imm).
constexpr std::int32_t kAtomicFetch = 0x01, kAtomicXchg = 0xe0 | kAtomicFetch, kAtomicCmpxchg = 0xf0 | kAtomicFetch,
                       kLoadAcquire = 0x100, kStoreRelease = 0x110;
constexpr std::uint8_t kEnd = 0xd0, kNeg = 0x80, kDiv = 0x30, kMod = 0x90, kJcond = 0xe0;
// The mov forms that are no plain moves (their off).
constexpr std::int16_t kAddrSpaceCast = 1, kAddrPercpu = -1;

// Indexed by the operation's high nibble.
constexpr std::array<std::string_view, 16> kAluOps = {
    "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian", "", ""};
constexpr std::array<std::string_view, 16> kAtomicOps = {"add", "", "", "", "or", "and", "", "", "", "", "xor"};
constexpr std::array<std::string_view, 16> kJumpOps = {
    "", "==", ">", ">=", "&", "!=", "s>", "s>=", "", "", "<", "<=", "s<", "s<=", "", ""};

std::string_view size_text(const Insn& insn) {
  switch (insn.access_size()) {
    case 1:
      return "u8";
    case 2:
      return "u16";
    case 4:
      return "u32";
    default:
      return "u64";
  }
}

std::string_view signed_size_text(const Insn& insn) {
  switch (insn.access_size()) {
    case 1:
      return "s8";
    case 2:
      return "s16";
    case 4:
      return "s32";
    default:
      return "s64";
  }
}

std::string alu_text(const Insn& insn) {
  const bool is64 = insn.insn_class() == Insn::kAlu64;
  const char reg = is64 ? 'r' : 'w';
  const std::uint8_t op = insn.code & 0xf0;
  const unsigned dst = insn.dst();
  const unsigned src = insn.src();
  if (op == kEnd) {
    if (is64) return fmt::format("({:02x}) r{} = bswap{} r{}", insn.code, dst, insn.imm, dst);
    return fmt::format("({:02x}) r{} = {}{} r{}", insn.code, dst, (insn.code & Insn::kX) ? "be" : "le", insn.imm, dst);
  }
  if (op == kNeg) return fmt::format("({:02x}) {}{} = -{}{}", insn.code, reg, dst, reg, dst);
  std::string_view op_text = kAluOps[op >> 4];
  if ((op == kDiv || op == kMod) && insn.off == 1) op_text = op == kDiv ? "s/=" : "s%=";
  if ((insn.code & Insn::kX) == 0) return fmt::format("({:02x}) {}{} {} {}", insn.code, reg, dst, op_text, insn.imm);
  std::string_view extend;
  if (op == Insn::kMov) {
    if (is64 && insn.off == kAddrSpaceCast)
      return fmt::format("({:02x}) r{} = addr_space_cast(r{}, {}, {})", insn.code, dst, src,
                         static_cast<std::uint32_t>(insn.imm) >> 16, insn.imm & 0xffff);
    if (is64 && insn.off == kAddrPercpu)
      return fmt::format("({:02x}) r{} = &(void __percpu *)(r{})", insn.code, dst, src);
    if (insn.off == 8) extend = "(s8)";
    if (insn.off == 16) extend = "(s16)";
    if (insn.off == 32) extend = "(s32)";
  }
  return fmt::format("({:02x}) {}{} {} {}{}{}", insn.code, reg, dst, op_text, extend, reg, src);
}

std::string stx_text(const Insn& insn) {
  const std::uint8_t mode = insn.code & 0xe0;
  const unsigned dst = insn.dst();
  const unsigned src = insn.src();
  const auto size = size_text(insn);
  if (mode == Insn::kMem) return fmt::format("({:02x}) *({} *)(r{} {:+d}) = r{}", insn.code, size, dst, insn.off, src);
  if (mode != Insn::kAtomic) return fmt::format("({:02x}) BUG_stx_{:02x}", insn.code, insn.code);
  const std::string_view bits = insn.access_size() == 8 ? "64" : "";
  const std::int32_t imm = insn.imm;
  const std::int32_t op = imm & ~kAtomicFetch;
  const bool alu_op = op == Insn::kAdd || op == 0x40 || op == 0x50 || op == 0xa0;
  if (alu_op && (imm & kAtomicFetch) == 0)
    return fmt::format("({:02x}) lock *({} *)(r{} {:+d}) {} r{}", insn.code, size, dst, insn.off, kAluOps[op >> 4],
                       src);
  if (alu_op)
    return fmt::format("({:02x}) r{} = atomic{}_fetch_{}(({} *)(r{} {:+d}), r{})", insn.code, src, bits,
                       kAtomicOps[op >> 4], size, dst, insn.off, src);
  if (imm == kAtomicXchg)
    return fmt::format("({:02x}) r{} = atomic{}_xchg(({} *)(r{} {:+d}), r{})", insn.code, src, bits, size, dst,
                       insn.off, src);
  if (imm == kAtomicCmpxchg)
    return fmt::format("({:02x}) r0 = atomic{}_cmpxchg(({} *)(r{} {:+d}), r0, r{})", insn.code, bits, size, dst,
                       insn.off, src);
  if (imm == kLoadAcquire)
    return fmt::format("({:02x}) r{} = load_acquire(({} *)(r{} {:+d}))", insn.code, dst, size, src, insn.off);
  if (imm == kStoreRelease)
    return fmt::format("({:02x}) store_release(({} *)(r{} {:+d}), r{})", insn.code, size, dst, insn.off, src);
  return fmt::format("({:02x}) BUG_{:02x}", insn.code, insn.imm);
}

std::string default_call(const Insn& insn) {
  if (insn.src() == Insn::kPseudoCall) return fmt::format("{:+d}", insn.imm);
  if (insn.src() == Insn::kPseudoKfuncCall) return fmt::format("kernel-function#{}", insn.imm);
  const std::string_view name = insn.imm >= 0 ? helper_name(static_cast<std::uint32_t>(insn.imm)) : "";
  return fmt::format("{}#{}", name.empty() ? "unknown" : name, insn.imm);
}

std::string jump_text(std::span<const Insn> insns, std::size_t index, const InsnNaming& naming) {
  const Insn& insn = insns[index];
  const bool is32 = insn.insn_class() == Insn::kJmp32;
  const std::uint8_t op = insn.code & 0xf0;
  if (op == Insn::kCall) {
    std::string target = naming.call ? naming.call(index, insn) : std::string();
    if (target.empty()) target = default_call(insn);
    return fmt::format("({:02x}) call {}{}", insn.code, insn.src() == Insn::kPseudoCall ? "pc" : "", target);
  }
  if (op == Insn::kExit) return fmt::format("({:02x}) exit", insn.code);
  if (op == Insn::kJa) {
    if (is32) return fmt::format("({:02x}) gotol pc{:+d}", insn.code, insn.imm);
    return fmt::format("({:02x}) goto pc{:+d}", insn.code, insn.off);
  }
  if (op == kJcond) return fmt::format("({:02x}) may_goto pc{:+d}", insn.code, insn.off);
  const std::string_view op_text = kJumpOps[op >> 4];
  if (op_text.empty()) return fmt::format("({:02x}) BUG_jmp_{:02x}", insn.code, insn.code);
  const char reg = is32 ? 'w' : 'r';
  if (insn.code & Insn::kX)
    return fmt::format("({:02x}) if {}{} {} {}{} goto pc{:+d}", insn.code, reg, insn.dst(), op_text, reg, insn.src(),
                       insn.off);
  return fmt::format("({:02x}) if {}{} {} {:#x} goto pc{:+d}", insn.code, reg, insn.dst(), op_text,
                     static_cast<std::uint32_t>(insn.imm), insn.off);
}

std::string ld_text(std::span<const Insn> insns, std::size_t index, const InsnNaming& naming) {
  const Insn& insn = insns[index];
  const std::uint8_t mode = insn.code & 0xe0;
  if (insn.is_ld_imm64()) {
    if (index + 1 >= insns.size()) return fmt::format("({:02x}) <truncated ld_imm64>", insn.code);
    const Insn& second = insns[index + 1];
    std::string operand = naming.imm64 ? naming.imm64(index, insn, second) : std::string();
    if (operand.empty()) {
      const std::uint64_t value =
          (std::uint64_t{static_cast<std::uint32_t>(second.imm)} << 32) | static_cast<std::uint32_t>(insn.imm);
      operand = fmt::format("{:#x}", value);
    }
    return fmt::format("({:02x}) r{} = {}", insn.code, insn.dst(), operand);
  }
  if (mode == Insn::kAbs) return fmt::format("({:02x}) r0 = *({} *)skb[{}]", insn.code, size_text(insn), insn.imm);
  if (mode == Insn::kInd)
    return fmt::format("({:02x}) r0 = *({} *)skb[r{} + {}]", insn.code, size_text(insn), insn.src(), insn.imm);
  return fmt::format("({:02x}) BUG_ld_{:02x}", insn.code, insn.code);
}

}  // namespace

std::string format_insn(std::span<const Insn> insns, std::size_t index, const InsnNaming& naming) {
  const Insn& insn = insns[index];
  const std::uint8_t mode = insn.code & 0xe0;
  switch (insn.insn_class()) {
    case Insn::kAlu:
    case Insn::kAlu64:
      return alu_text(insn);
    case Insn::kStx:
      return stx_text(insn);
    case Insn::kSt:
      if (mode != Insn::kMem) return fmt::format("({:02x}) BUG_st_{:02x}", insn.code, insn.code);
      return fmt::format("({:02x}) *({} *)(r{} {:+d}) = {}", insn.code, size_text(insn), insn.dst(), insn.off,
                         insn.imm);
    case Insn::kLdx:
      if (mode != Insn::kMem && mode != Insn::kMemsx)
        return fmt::format("({:02x}) BUG_ldx_{:02x}", insn.code, insn.code);
      return fmt::format("({:02x}) r{} = *({} *)(r{} {:+d})", insn.code, insn.dst(),
                         mode == Insn::kMem ? size_text(insn) : signed_size_text(insn), insn.src(), insn.off);
    case Insn::kLd:
      return ld_text(insns, index, naming);
    default:
      return jump_text(insns, index, naming);
  }
}

InsnFlow insn_flow(std::span<const Insn> insns, std::size_t index) {
  const Insn& insn = insns[index];
  InsnFlow flow;
  const std::uint8_t cls = insn.insn_class();
  if (cls != Insn::kJmp && cls != Insn::kJmp32) return flow;
  const std::uint8_t op = insn.code & 0xf0;
  const auto next = static_cast<std::int64_t>(index) + 1;
  if (op == Insn::kCall) return flow;
  if (op == Insn::kExit) {
    flow.falls_through = false;
    flow.is_exit = true;
  } else if (op == Insn::kJa) {
    flow.falls_through = false;
    flow.jump_target = next + (cls == Insn::kJmp32 ? insn.imm : insn.off);
  } else {
    flow.jump_target = next + insn.off;
  }
  return flow;
}

std::vector<BasicBlock> basic_blocks(std::span<const Insn> insns, std::size_t begin, std::size_t end) {
  end = std::min(end, insns.size());
  std::set<std::size_t> leaders;
  if (begin < end) leaders.insert(begin);
  for (std::size_t i = begin; i < end; i += insn_slots(insns[i])) {
    const InsnFlow flow = insn_flow(insns, i);
    const std::size_t after = i + insn_slots(insns[i]);
    if ((flow.jump_target || flow.is_exit) && after < end) leaders.insert(after);
    if (flow.jump_target && *flow.jump_target >= static_cast<std::int64_t>(begin) &&
        *flow.jump_target < static_cast<std::int64_t>(end))
      leaders.insert(static_cast<std::size_t>(*flow.jump_target));
  }
  std::vector<BasicBlock> blocks;
  for (auto it = leaders.begin(); it != leaders.end(); ++it) {
    BasicBlock block;
    block.first = *it;
    block.end = std::next(it) == leaders.end() ? end : *std::next(it);
    blocks.push_back(block);
  }
  const auto block_at = [&](std::size_t index) -> std::optional<std::size_t> {
    const auto found = std::lower_bound(blocks.begin(), blocks.end(), index,
                                        [](const BasicBlock& b, std::size_t i) { return b.first < i; });
    if (found == blocks.end() || found->first != index) return std::nullopt;
    return static_cast<std::size_t>(found - blocks.begin());
  };
  for (BasicBlock& block : blocks) {
    std::size_t last = block.first;
    for (std::size_t i = block.first; i < block.end; i += insn_slots(insns[i])) last = i;
    const InsnFlow flow = insn_flow(insns, last);
    block.exits = flow.is_exit;
    if (flow.falls_through && block.end < end) {
      block.falls_through = true;
      block.successors.push_back(*block_at(block.end));
    }
    if (flow.jump_target) {
      const auto target = *flow.jump_target;
      const auto target_block = target >= 0 ? block_at(static_cast<std::size_t>(target)) : std::optional<std::size_t>();
      if (target_block) {
        block.successors.push_back(*target_block);
      } else {
        block.jumps_out = true;
      }
    }
  }
  return blocks;
}

}  // namespace corebpf::object
