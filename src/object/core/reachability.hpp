// Internal: which instructions of a linked program the kernel's verifier can reach, walked the
// way the verifier walks it but with only the values it knows exactly. `core check` uses it to
// decide whether a poisoned relocation, a helper the kernel lacks or a missing weak kfunc is
// guarded (dead on that kernel) or fails the load. Pure: no syscalls.
//
// The rule (docs/user-guide.md, "core check"): a path starts at the entry instruction and at every
// function the verifier checks on its own (global functions, callbacks), with every register
// unknown except r10. Values are known exactly only when the verifier knows them too: immediates
// (mov, ld_imm64, including the CO-RE values patched for the kernel), arithmetic on known values,
// reads at a known offset of a frozen read-only map (.rodata, .kconfig), and 8-byte stack spills
// of known values. A conditional jump between two known values follows one side; a map value or
// stack pointer compared with 0 is non-null; anything else follows both sides. A helper or kfunc
// call forgets r0-r5 (and the stack when a stack pointer was passed to it). The walk is path
// sensitive (each path keeps its own values) up to 8 distinct states per instruction, after which
// the states are joined (a value known differently becomes unknown), so it terminates; past one
// million instructions it gives up and reports every instruction the control flow graph reaches.
// It can only reach more than the verifier does (never less): `fails` can be pessimistic where the
// verifier's range tracking proves a branch dead, `loads` is not.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "corebpf/insn.hpp"

namespace corebpf::core::detail {

struct FlowInput {
  std::span<const Insn> insns;
  // The bytes at `offset` of map `map`'s value, `size` bytes read as an unsigned (or, with
  // `sign_extend`, signed) integer, when the verifier knows them (a frozen read-only map); empty
  // otherwise.
  std::function<std::optional<std::uint64_t>(std::uint32_t map, std::uint64_t offset, std::uint32_t size,
                                             bool sign_extend)>
      read_constant;
  // Instructions where the verifier starts a check of its own with unknown arguments, besides 0
  // (global functions that are not hidden).
  std::vector<std::uint32_t> independent_entries;
};

struct FlowResult {
  std::vector<bool> reached;  // per instruction (both slots of an ld_imm64)
  bool exhausted = false;     // the budget ran out; `reached` is then the whole control flow graph's
};

FlowResult find_reachable(const FlowInput& input);

}  // namespace corebpf::core::detail
