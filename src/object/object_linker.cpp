// Subprogram linking: each entry program gets every function it reaches (calls and callback
// addresses) appended once, with call offsets, func_info, line_info, CO-RE relocations and
// extern uses rebased to its own instruction numbering.
#include <algorithm>
#include <span>

#include "object/object_parser.hpp"

namespace corebpf {

namespace {

class ProgramLinker {
 public:
  ProgramLinker(const ObjectParser& parser, ProgramSpec& program) : parser_(parser), program_(program) {}

  void link(std::size_t entry, std::vector<Insn>& insns, std::vector<FuncInfo>& func_info,
            std::vector<LineInfo>& line_info, std::vector<core::ReloRecord>& core_relos,
            std::vector<FunctionPlacement>& placements, std::vector<ExternUse>& extern_uses) {
    insns_ = &insns;
    place(entry);
    for (std::size_t k = 0; k < placed_.size(); ++k) fix_branches(placed_[k]);
    for (std::size_t f : placed_) collect(f, func_info, line_info, core_relos, placements, extern_uses);
    auto by_insn = [](const auto& a, const auto& b) { return a.insn_index < b.insn_index; };
    std::stable_sort(func_info.begin(), func_info.end(), by_insn);
    std::stable_sort(line_info.begin(), line_info.end(), by_insn);
    std::stable_sort(core_relos.begin(), core_relos.end(),
                     [](const core::ReloRecord& a, const core::ReloRecord& b) { return a.insn_off < b.insn_off; });
  }

 private:
  using Function = ObjectParser::Function;

  std::uint32_t place(std::size_t f) {
    const Function& function = parser_.functions[f];
    const auto& source = parser_.code.at(function.section).insns;
    const auto start = static_cast<std::uint32_t>(insns_->size());
    insns_->insert(insns_->end(), source.begin() + function.start, source.begin() + function.start + function.count);
    placement_[f] = start;
    placed_.push_back(f);
    return start;
  }

  std::size_t index_of(const Function* function) const {
    return static_cast<std::size_t>(function - parser_.functions.data());
  }

  void fix_branches(std::size_t f) {
    const Function& function = parser_.functions[f];
    const auto& section = parser_.code.at(function.section);
    const std::uint32_t base = placement_.at(f);
    for (std::uint32_t i = 0; i < function.count; ++i) {
      const std::uint32_t source_index = function.start + i;
      const Insn insn = (*insns_)[base + i];
      std::optional<ObjectParser::BranchTarget> target;
      if (auto it = section.branch_targets.find(source_index); it != section.branch_targets.end()) {
        target = it->second;
      } else if (section.extern_uses.contains(source_index)) {
        // A kfunc call: resolve_externs() rewrites it.
      } else if ((insn.is_call() && insn.src() == Insn::kPseudoCall) ||
                 (insn.is_ld_imm64() && insn.src() == Insn::kPseudoFunc)) {
        // No relocation: a call within the section, relative to the next instruction.
        const std::int64_t relative = static_cast<std::int64_t>(source_index) + insn.imm + 1;
        if (relative < 0 || relative >= static_cast<std::int64_t>(section.insns.size()))
          parser_.fail(
              "program '{}': function '{}' (section '{}') instruction {} branches to instruction {}, outside "
              "the section",
              program_.name(), function.name, section.elf->name, i, relative);
        target = ObjectParser::BranchTarget{function.section, static_cast<std::uint32_t>(relative)};
      }
      if (insn.is_ld_imm64()) ++i;
      if (!target) continue;
      const Function* callee = parser_.function_at(target->section, target->insn);
      if (!callee || callee->start != target->insn)
        parser_.fail(
            "program '{}': function '{}' (section '{}') instruction {} calls instruction {} of section '{}', "
            "which does not start a function",
            program_.name(), function.name, section.elf->name, source_index - function.start, target->insn,
            parser_.section_name(target->section));
      const std::size_t callee_index = index_of(callee);
      auto known = placement_.find(callee_index);
      const std::uint32_t callee_start = known != placement_.end() ? known->second : place(callee_index);
      const std::uint32_t at = base + (source_index - function.start);
      (*insns_)[at].imm = static_cast<std::int32_t>(static_cast<std::int64_t>(callee_start) - (at + 1));
    }
  }

  void collect(std::size_t f, std::vector<FuncInfo>& func_info, std::vector<LineInfo>& line_info,
               std::vector<core::ReloRecord>& core_relos, std::vector<FunctionPlacement>& placements,
               std::vector<ExternUse>& extern_uses) {
    const Function& function = parser_.functions[f];
    const auto& section = parser_.code.at(function.section);
    const std::uint32_t base = placement_.at(f);
    placements.push_back(
        {std::string(function.name), std::string(section.elf->name), base, function.count, function.hidden});
    constexpr auto kInsnSize = static_cast<std::uint32_t>(sizeof(Insn));
    // The function's records: read_btf_ext() sorted them by offset.
    auto inside = [&](const auto& records) {
      const std::uint32_t first = function.start * kInsnSize;
      const std::uint32_t end = (function.start + function.count) * kInsnSize;
      auto before = [](const auto& record, std::uint32_t insn_off) { return record.insn_off < insn_off; };
      const auto begin = std::lower_bound(records.begin(), records.end(), first, before);
      return std::span(begin, std::lower_bound(begin, records.end(), end, before));
    };
    auto rebase = [&](std::uint32_t insn_off) { return base + (insn_off / kInsnSize - function.start); };
    if (section.ext) {
      const auto& btf = *parser_.spec.btf();
      for (const auto& record : inside(section.ext->func_info))
        func_info.push_back({rebase(record.insn_off), record.type_id});
      for (const auto& record : inside(section.ext->line_info)) {
        LineInfo line;
        line.insn_index = rebase(record.insn_off);
        line.file_name_offset = record.file_name_off;
        line.line_offset = record.line_off;
        line.line = record.line_col >> 10;
        line.column = record.line_col & 0x3ff;
        line.file_name = btf.string_at(record.file_name_off);
        line.line_text = btf.string_at(record.line_off);
        line_info.push_back(line);
      }
      for (auto record : inside(section.ext->core_relos)) {
        record.insn_off = rebase(record.insn_off) * kInsnSize;
        core_relos.push_back(record);
      }
    }
    for (auto it = section.extern_uses.lower_bound(function.start);
         it != section.extern_uses.end() && it->first < function.start + function.count; ++it)
      extern_uses.push_back({base + (it->first - function.start), it->second});
  }

  const ObjectParser& parser_;
  ProgramSpec& program_;
  std::vector<Insn>* insns_ = nullptr;
  std::map<std::size_t, std::uint32_t> placement_;  // function -> first instruction
  std::vector<std::size_t> placed_;
};

}  // namespace

void ObjectParser::link_programs() {
  for (std::size_t p = 0; p < spec.programs_.size(); ++p) {
    auto& program = spec.programs_[p];
    ProgramLinker(*this, program)
        .link(entry_functions[p], program.insns_, program.func_info_, program.line_info_, program.core_relos_,
              program.functions_, program.extern_uses_);
  }
}

}  // namespace corebpf
