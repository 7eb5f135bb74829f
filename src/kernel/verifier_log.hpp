// Internal: reading a verifier log: which instruction failed, and where that is in the source.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "corebpf/object_spec.hpp"

namespace corebpf::kernel::detail {

// The instruction the verifier stopped at: the index of the last "N: (xx) ..." line of the log.
std::optional<std::uint32_t> failing_instruction(std::string_view log);

// Why the verifier refused the program, in its own words ("R1 unbounded memory access, make sure
// to bounds check any such access"): the first line after the failing instruction that is not
// register state, else the last line that is not the closing statistics. Empty when none.
std::string_view verifier_reason(std::string_view log);

// The line_info record that covers instruction `insn` (the last one starting at or before it);
// null when none does.
const LineInfo* line_for_instruction(std::span<const LineInfo> lines, std::uint32_t insn);

// "file.bpf.c:42:9: <source line>" for messages; empty without a record.
std::string source_location(const LineInfo* line);

}  // namespace corebpf::kernel::detail
