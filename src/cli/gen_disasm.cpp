// `corebpf gen disasm OBJ [prog NAME]`: an object's programs before loading, in `prog dump xlated`'s
// notation, with what a disassembler of the ELF file cannot say: each CO-RE relocation (kind,
// field path, the value compiled in), each map and global variable reference by name, each extern
// (kconfig, ksym, kfunc) and each subprogram call or callback by the callee's name.
#include "cli/gen_disasm.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "cli/insn_listing.hpp"
#include "cli/object_select.hpp"
#include "corebpf/core.hpp"
#include "corebpf/object_spec.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

// Notes per instruction of one program.
using Notes = std::map<std::size_t, std::vector<std::string>>;

std::string function_at(const ProgramSpec& program, std::int64_t index) {
  for (const FunctionPlacement& function : program.functions())
    if (static_cast<std::int64_t>(function.insn_index) == index) return function.name;
  return {};
}

// "map counts", "map hello.data: limit+4" (the variable holding the offset).
std::string map_note(const ObjectSpec& object, std::uint32_t map_index, std::optional<std::uint32_t> offset) {
  if (map_index >= object.maps().size())
    return fmt::format("map index {} (the object has {} maps)", map_index, object.maps().size());
  const MapSpec& map = object.maps()[map_index];
  if (!offset) return fmt::format("map {}", map.name());
  for (const DatasecVariable& variable : map.variables()) {
    if (*offset < variable.offset || *offset >= variable.offset + std::max<std::uint32_t>(variable.size, 1)) continue;
    if (*offset == variable.offset) return fmt::format("map {}: {}", map.name(), variable.name);
    return fmt::format("map {}: {}+{}", map.name(), variable.name, *offset - variable.offset);
  }
  return fmt::format("map {}+{}", map.name(), *offset);
}

Notes program_notes(const ObjectSpec& object, const ProgramSpec& program,
                    const std::optional<core::Target>& local_target) {
  Notes notes;
  const auto insns = program.insns();
  for (std::size_t i = 0; i < insns.size(); i += object::insn_slots(insns[i])) {
    const Insn& insn = insns[i];
    if (insn.is_ld_imm64() && i + 1 < insns.size()) {
      const auto index = static_cast<std::uint32_t>(insn.imm);
      if (insn.src() == Insn::kPseudoMapIdx) notes[i].push_back(map_note(object, index, std::nullopt));
      if (insn.src() == Insn::kPseudoMapIdxValue)
        notes[i].push_back(map_note(object, index, static_cast<std::uint32_t>(insns[i + 1].imm)));
      if (insn.src() == Insn::kPseudoFunc) {
        const std::string callee = function_at(program, static_cast<std::int64_t>(i) + 1 + insn.imm);
        if (!callee.empty()) notes[i].push_back(fmt::format("callback {}", callee));
      }
    }
    if (insn.is_call() && insn.src() == Insn::kPseudoCall) {
      const std::string callee = function_at(program, static_cast<std::int64_t>(i) + 1 + insn.imm);
      if (!callee.empty()) notes[i].push_back(fmt::format("calls {}", callee));
    }
  }
  for (const ExternUse& use : program.extern_uses()) {
    if (use.extern_index >= object.externs().size()) continue;
    const ExternSpec& ext = object.externs()[use.extern_index];
    notes[use.insn_index].push_back(
        fmt::format("extern {}{} {}", extern_kind_name(ext.kind), ext.weak ? " (weak)" : "", ext.name));
  }
  for (const core::ReloRecord& record : program.core_relos()) {
    const std::size_t index = record.insn_off / sizeof(Insn);
    std::string note;
    if (local_target) {
      const core::ReloResult result = core::compute(*object.btf(), record, *local_target);
      if (result.status != core::Status::error) {
        note =
            fmt::format("CO-RE {} {} (access {}) = {}", core::kind_name(result.kind),
                        result.spec.empty() ? result.local_type_name : result.spec, result.access, result.local_value);
      }
    }
    if (note.empty()) {
      const std::string access = object.btf() ? std::string(object.btf()->string_at(record.access_str_off)) : "?";
      note = fmt::format("CO-RE {} type [{}] (access {})", core::kind_name(record.kind), record.type_id, access);
    }
    notes[index].push_back(std::move(note));
  }
  return notes;
}

Listing program_listing(const ObjectSpec& object, const ProgramSpec& program, const Notes& notes) {
  Listing listing;
  listing.insns = program.insns();
  for (const FuncInfo& func : program.func_info())
    listing.funcs.push_back({func.insn_index, object.btf() ? func_signature(*object.btf(), func.type_id) : ""});
  for (const LineInfo& line : program.line_info())
    listing.lines.push_back({line.insn_index, line.file_name, line.line_text, line.line, line.column});
  listing.naming.call = [&object, &program](std::size_t index, const Insn&) -> std::string {
    // A kfunc call names its extern.
    for (const ExternUse& use : program.extern_uses())
      if (use.insn_index == index && use.extern_index < object.externs().size())
        return fmt::format("{}#0", object.externs()[use.extern_index].name);
    return {};
  };
  listing.naming.imm64 = [](std::size_t, const Insn& first, const Insn& second) -> std::string {
    switch (first.src()) {
      case Insn::kPseudoMapIdx:
        return fmt::format("map[idx:{}]", static_cast<std::uint32_t>(first.imm));
      case Insn::kPseudoMapIdxValue:
        return fmt::format("map[idx:{}]+{}", static_cast<std::uint32_t>(first.imm),
                           static_cast<std::uint32_t>(second.imm));
      case Insn::kPseudoFunc:
        return fmt::format("subprog[{:+d}]", first.imm);
      default:
        return {};
    }
  };
  listing.notes = [&notes](std::size_t index) {
    const auto it = notes.find(index);
    return it == notes.end() ? std::vector<std::string>() : it->second;
  };
  return listing;
}

}  // namespace

void run_gen_disasm(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"prog", "opcodes", "linum"};
  const std::string path(args.take("object file path"));
  std::string wanted;
  ListingOptions options;
  while (!args.empty()) {
    const std::string_view keyword = args.take_keyword(keywords, "disasm keyword");
    if (keyword == "prog") {
      wanted = std::string(args.take("program name"));
    } else if (keyword == "opcodes") {
      options.opcodes = true;
    } else {
      options.linum = true;
    }
  }
  const ObjectSpec object = ObjectSpec::open(path);
  std::vector<const ProgramSpec*> programs;
  for (const ProgramSpec& program : object.programs())
    if (wanted.empty() || program.name() == wanted) programs.push_back(&program);
  if (programs.empty()) {
    if (!wanted.empty()) util::fail(std::errc::no_such_file_or_directory, "{}: no program named '{}'", path, wanted);
    util::fail(std::errc::no_such_file_or_directory, "{}: the object has no programs", path);
  }
  // CO-RE relocations computed against the object's own BTF say which field each one names and
  // the value compiled in.
  std::optional<core::Target> local_target;
  if (object.btf()) local_target.emplace(*object.btf());

  if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) {
      json.begin_array();
      for (const ProgramSpec* program : programs) {
        const Notes notes = program_notes(object, *program, local_target);
        json.begin_object();
        json.member("name", program->name());
        json.member("section", program->section());
        json.member("type", program_type_name(program->type()));
        json.key("insns");
        write_listing_json(json, program_listing(object, *program, notes), options);
        json.end_object();
      }
      json.end_array();
    });
    return;
  }
  for (std::size_t p = 0; p < programs.size(); ++p) {
    const ProgramSpec& program = *programs[p];
    if (p != 0) context.out.write("\n");
    context.out.print("{}: {} (section {}), {} instructions\n", program.name(), program_type_name(program.type()),
                      program.section(), program.insns().size());
    const Notes notes = program_notes(object, program, local_target);
    print_listing_text(context.out, program_listing(object, program, notes), options);
  }
}

}  // namespace corebpf::cli
