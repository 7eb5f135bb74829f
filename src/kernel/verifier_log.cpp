#include "kernel/verifier_log.hpp"

#include <charconv>

#include <fmt/format.h>

namespace corebpf::kernel::detail {

std::optional<std::uint32_t> failing_instruction(std::string_view log) {
  std::optional<std::uint32_t> last;
  while (!log.empty()) {
    const auto newline = log.find('\n');
    const std::string_view line = log.substr(0, newline);
    log = newline == std::string_view::npos ? std::string_view() : log.substr(newline + 1);
    std::uint32_t index = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), index);
    if (ec != std::errc() || end == line.data()) continue;
    const std::string_view rest(end, static_cast<std::size_t>(line.data() + line.size() - end));
    // "12: (85) call ..." is an instruction; "12: R1=ctx() ..." is register state after it.
    if (rest.starts_with(": (")) last = index;
  }
  return last;
}

const LineInfo* line_for_instruction(std::span<const LineInfo> lines, std::uint32_t insn) {
  const LineInfo* best = nullptr;
  for (const LineInfo& line : lines) {
    if (line.insn_index <= insn && (!best || line.insn_index >= best->insn_index)) best = &line;
  }
  return best;
}

std::string source_location(const LineInfo* line) {
  if (!line) return {};
  std::string_view text = line->line_text;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return fmt::format("{}:{}:{}: {}", line->file_name, line->line, line->column, text);
}

}  // namespace corebpf::kernel::detail
