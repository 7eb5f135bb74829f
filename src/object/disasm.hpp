// BPF instructions as text, in the kernel's notation ("(07) r1 += 8", "(85) call bpf_loop#181"):
// what the verifier log and bpftool's `prog dump xlated` print. The one decoder of the code base:
// `prog dump xlated` (the kernel's translated code) and `gen disasm` (an object before loading)
// both use it, and its control-flow view draws `prog dump xlated visual`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "corebpf/insn.hpp"

namespace corebpf::object {

// What the instructions alone cannot say: names of call targets and 64-bit immediates. Each
// returns "" for the decoder's default.
struct InsnNaming {
  // Instruction `index` is a call: the text after "call " for a helper or kfunc ("bpf_loop#181"),
  // after "call pc" for a BPF-to-BPF call ("+5#inspect_scale").
  std::function<std::string(std::size_t index, const Insn& insn)> call;
  // Instruction `index` is an ld_imm64: its operand ("map[id:12]", "0x10").
  std::function<std::string(std::size_t index, const Insn& first, const Insn& second)> imm64;
};

// Instruction `index` of `insns` as "(b7) r1 = 0" (an ld_imm64 also reads the slot after it; one
// cut short is "(18) <truncated ld_imm64>").
std::string format_insn(std::span<const Insn> insns, std::size_t index, const InsnNaming& naming = {});

// Slots an instruction takes: 2 for ld_imm64, else 1.
inline std::size_t insn_slots(const Insn& insn) { return insn.is_ld_imm64() ? 2 : 1; }

// Where control goes after instruction `index`: whether it falls through to the next instruction,
// and the target of its jump (a goto, conditional jump or may_goto) if it has one. exit and
// unconditional gotos do not fall through; calls do.
struct InsnFlow {
  bool falls_through = true;
  bool is_exit = false;
  std::optional<std::int64_t> jump_target;  // an instruction index (may be out of range on bad input)
};
InsnFlow insn_flow(std::span<const Insn> insns, std::size_t index);

// A basic block of [first, end) instructions and the blocks it leads to (indexes into the result).
struct BasicBlock {
  std::size_t first = 0;
  std::size_t end = 0;
  std::vector<std::size_t> successors;  // the next block first when falling through, then the jump target
  bool falls_through = false;           // into the next block
  bool exits = false;                   // ends with exit (leads to the function's EXIT)
  bool jumps_out = false;               // a jump outside [begin, end) of the function (bad input)
};
// The basic blocks of the function spanning instructions [begin, end) of `insns`, in instruction
// order.
std::vector<BasicBlock> basic_blocks(std::span<const Insn> insns, std::size_t begin, std::size_t end);

}  // namespace corebpf::object
