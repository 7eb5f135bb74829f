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

namespace {

// "12: (85) call ..." (an instruction) or "12: R1=..." (state after one): the index, else empty.
std::optional<std::uint32_t> numbered(std::string_view line, std::string_view* rest) {
  std::uint32_t index = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), index);
  if (ec != std::errc() || end == line.data() || end == line.data() + line.size() || *end != ':') return std::nullopt;
  *rest = line.substr(static_cast<std::size_t>(end - line.data()));
  return index;
}

// Register or stack state, a source line, the closing statistics, precision tracking: not a reason.
bool is_commentary(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\0')) line.remove_suffix(1);
  if (line.empty() || line.starts_with(";") || line.starts_with("processed ") ||
      line.starts_with("verification time") || line.starts_with("stack depth") || line.starts_with("func#") ||
      line.starts_with("from ") || line.starts_with("last_idx") || line.starts_with("mark_precise") ||
      line.starts_with("regs=") || line.starts_with("parent ") || line.starts_with("Live regs") ||
      line.starts_with("Global function") || line.starts_with("Validating ") || line.starts_with("--"))
    return true;
  std::string_view rest;
  if (numbered(line, &rest)) return true;
  // "R1=ctx() R10=fp0", "R1_w=...", "fp-8=..." (states) as opposed to "R1 invalid mem access".
  if ((line.size() > 1 && line[0] == 'R' && line[1] >= '0' && line[1] <= '9') || line.starts_with("fp-")) {
    const auto word_end = line.find(' ');
    const auto word = line.substr(0, word_end);
    return word.find('=') != std::string_view::npos;
  }
  return false;
}

std::string_view trimmed(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\0')) line.remove_suffix(1);
  return line;
}

}  // namespace

std::string_view verifier_reason(std::string_view log) {
  std::string_view after_insn;  // the first candidate after the last instruction line
  std::string_view last_candidate;
  bool seen_insn = false;
  while (!log.empty()) {
    const auto newline = log.find('\n');
    const std::string_view line = trimmed(log.substr(0, newline));
    log = newline == std::string_view::npos ? std::string_view() : log.substr(newline + 1);
    std::string_view rest;
    if (numbered(line, &rest) && rest.starts_with(": (")) {
      seen_insn = true;
      after_insn = {};
      continue;
    }
    if (is_commentary(line)) continue;
    last_candidate = line;
    if (seen_insn && after_insn.empty()) after_insn = line;
  }
  return after_insn.empty() ? last_candidate : after_insn;
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
