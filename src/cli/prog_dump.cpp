// `corebpf prog dump xlated|jited PROG [file FILE] [opcodes] [linum] [visual]`: a loaded program's
// code as the kernel translated it (BPF instructions with helper, kfunc, subprogram and map names,
// source lines from its BTF line info, or a DOT control-flow graph) or as the JIT compiled it
// (native code through Capstone, per function, with source lines).
#include "cli/prog_dump.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "cli/insn_listing.hpp"
#include "cli/jited_disasm.hpp"
#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/kernel_description.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

struct DumpRequest {
  bool jited = false;
  Selector selector;
  std::string file;
  bool opcodes = false;
  bool linum = false;
  bool visual = false;
};

DumpRequest parse_dump(Arguments& args) {
  static constexpr std::string_view kinds[] = {"xlated", "jited"};
  static constexpr std::string_view xlated_keywords[] = {"file", "opcodes", "linum", "visual"};
  static constexpr std::string_view jited_keywords[] = {"file", "opcodes", "linum"};
  DumpRequest request;
  request.jited = args.take_keyword(kinds, "dump kind") == "jited";
  request.selector = take_selector(args, ObjectType::program);
  while (!args.empty()) {
    const std::string_view keyword = request.jited ? args.take_keyword(jited_keywords, "dump keyword")
                                                   : args.take_keyword(xlated_keywords, "dump keyword");
    if (keyword == "file") {
      request.file = std::string(args.take("output file path"));
    } else if (keyword == "opcodes") {
      request.opcodes = true;
    } else if (keyword == "linum") {
      request.linum = true;
    } else {
      request.visual = true;
    }
  }
  if (!request.file.empty() && (request.opcodes || request.linum || request.visual))
    throw UsageError("'file' writes the raw code: it takes no 'opcodes', 'linum' or 'visual'");
  return request;
}

// A loaded program's code and what names it.
struct LoadedProgram {
  kernel::ProgramInfo info;
  kernel::ProgramCode code;
  std::optional<btf::Btf> btf;
  std::string label;  // "program 12 (cli_on_getppid)" for messages
};

LoadedProgram load_program(const Selector& selector) {
  const UniqueFd fd = open_one(ObjectType::program, selector);
  LoadedProgram program;
  program.info = kernel::program_info(fd.get());
  program.code = kernel::program_code(fd.get());
  program.label = program.info.name.empty() ? fmt::format("program {}", program.info.id)
                                            : fmt::format("program {} ({})", program.info.id, program.info.name);
  if (program.code.btf_id != 0) {
    try {
      program.btf = kernel::load_kernel_btf_by_id(program.code.btf_id);
    } catch (const Error& e) {
      util::log(LogLevel::warning, "{}: its BTF {} cannot be read ({}): no source lines", program.label,
                program.code.btf_id, e.message());
    }
  }
  return program;
}

std::vector<ListingFunc> listing_funcs(const LoadedProgram& program) {
  std::vector<ListingFunc> funcs;
  for (const auto& func : program.code.func_info)
    funcs.push_back({func.insn_index, program.btf ? func_signature(*program.btf, func.type_id) : std::string()});
  return funcs;
}

ListingLine listing_line(const LoadedProgram& program, const kernel::ProgramCode::Line& line) {
  ListingLine out;
  out.insn_index = line.insn_index;
  out.line = line.line;
  out.column = line.column;
  if (program.btf) {
    out.file = program.btf->string_at(line.file_name_offset);
    out.text = program.btf->string_at(line.line_offset);
  }
  return out;
}

// Names of the maps a program's instructions refer to by id, looked up once each.
class MapNames {
 public:
  std::string name(std::uint32_t id) {
    if (const auto it = names_.find(id); it != names_.end()) return it->second;
    std::string name;
    if (auto fd = kernel::try_open_by_id(ObjectType::map, id)) name = kernel::map_info(fd->get()).name;
    return names_.emplace(id, std::move(name)).first->second;
  }

 private:
  std::map<std::uint32_t, std::string> names_;
};

// Helper and kfunc calls of translated code hold the callee's address relative to
// __bpf_call_base; BPF-to-BPF calls of a JIT-compiled program hold the callee's index in
// jited_ksyms (imm) and its relative offset (off), else the offset in imm.
object::InsnNaming xlated_naming(const LoadedProgram& program, const kernel::KernelSymbols& symbols) {
  object::InsnNaming naming;
  const std::optional<std::uint64_t> call_base = symbols.address("__bpf_call_base");
  naming.call = [&program, &symbols, call_base](std::size_t, const Insn& insn) -> std::string {
    if (insn.src() == Insn::kPseudoCall) {
      const auto& ksyms = program.code.jited_ksyms;
      if (ksyms.empty()) return {};
      const auto index = static_cast<std::uint32_t>(insn.imm);
      const std::uint64_t address = index < ksyms.size() ? ksyms[index] : 0;
      if (const auto* symbol = symbols.at(address)) return fmt::format("{:+d}#{}", insn.off, symbol->name);
      return fmt::format("{:+d}#{:#x}", insn.off, address);
    }
    // A helper id the kernel left as it is (addresses hidden).
    if (insn.src() == 0 && insn.imm >= 0 && !helper_name(static_cast<std::uint32_t>(insn.imm)).empty()) return {};
    if (!call_base) return {};
    const std::uint64_t address = *call_base + static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm));
    if (const auto* symbol = symbols.at(address)) return fmt::format("{}#{}", symbol->name, insn.imm);
    return fmt::format("{:#x}#{}", address, insn.imm);
  };
  naming.imm64 = [](std::size_t, const Insn& first, const Insn& second) -> std::string {
    switch (first.src()) {
      case Insn::kPseudoMapFd:
        return fmt::format("map[id:{}]", static_cast<std::uint32_t>(first.imm));
      case Insn::kPseudoMapValue:
        return fmt::format("map[id:{}][0]+{}", static_cast<std::uint32_t>(first.imm),
                           static_cast<std::uint32_t>(second.imm));
      case Insn::kPseudoMapIdxValue:
        return fmt::format("map[idx:{}]+{}", static_cast<std::uint32_t>(first.imm),
                           static_cast<std::uint32_t>(second.imm));
      case Insn::kPseudoFunc:
        return fmt::format("subprog[{:+d}]", first.imm);
      default:
        return {};
    }
  };
  return naming;
}

void dump_xlated(Context& context, const DumpRequest& request, const LoadedProgram& program) {
  const auto& insns = program.code.xlated;
  if (insns.empty())
    util::fail(std::errc::operation_not_permitted,
               "{}: the kernel gives no translated instructions (kernel.kptr_restrict hides them without "
               "CAP_SYSLOG)",
               program.label);
  if (!request.file.empty()) {
    write_file(request.file, std::as_bytes(std::span(insns)));
    return;
  }
  const kernel::KernelSymbols symbols = kernel::KernelSymbols::load();
  MapNames map_names;
  Listing listing;
  listing.insns = insns;
  listing.funcs = listing_funcs(program);
  for (const auto& line : program.code.line_info) listing.lines.push_back(listing_line(program, line));
  listing.naming = xlated_naming(program, symbols);
  listing.notes = [&insns, &map_names](std::size_t index) {
    std::vector<std::string> notes;
    const Insn& insn = insns[index];
    if (insn.is_ld_imm64() && (insn.src() == Insn::kPseudoMapFd || insn.src() == Insn::kPseudoMapValue)) {
      const std::string name = map_names.name(static_cast<std::uint32_t>(insn.imm));
      if (!name.empty()) notes.push_back(fmt::format("map {}", name));
    }
    return notes;
  };
  const ListingOptions options{request.opcodes, request.linum};
  if (request.visual) {
    print_listing_dot(context.out, listing);
  } else if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) { write_listing_json(json, listing, options); });
  } else {
    print_listing_text(context.out, listing, options);
  }
}

void dump_jited(Context& context, const DumpRequest& request, const LoadedProgram& program) {
  const auto& code = program.code;
  if (code.jited.empty()) {
    if (program.info.jited_size == 0)
      util::fail(std::errc::operation_not_supported, "{}: not JIT-compiled (net.core.bpf_jit_enable is 0?)",
                 program.label);
    util::fail(std::errc::operation_not_permitted,
               "{}: the kernel gives no native code (kernel.kptr_restrict hides it without CAP_SYSLOG)", program.label);
  }
  if (!request.file.empty()) {
    write_file(request.file, code.jited);
    return;
  }
  const kernel::KernelSymbols symbols = kernel::KernelSymbols::load();
  // The functions in jited order: the main program, then its subprograms.
  std::vector<JitedFunction> functions;
  std::size_t offset = 0;
  const std::size_t count = code.jited_func_lens.empty() ? 1 : code.jited_func_lens.size();
  for (std::size_t f = 0; f < count; ++f) {
    JitedFunction function;
    const std::size_t size = code.jited_func_lens.empty() ? code.jited.size() : code.jited_func_lens[f];
    if (offset + size > code.jited.size())
      util::fail(std::errc::invalid_argument, "{}: the kernel's function lengths exceed its {} bytes of native code",
                 program.label, code.jited.size());
    function.code = std::span(code.jited).subspan(offset, size);
    offset += size;
    function.address = f < code.jited_ksyms.size() ? code.jited_ksyms[f] : 0;
    if (const auto* symbol = symbols.at(function.address); symbol && function.address != 0) {
      function.name = symbol->name;
    } else {
      function.name = fmt::format("bpf_prog_{:02x}_{}", fmt::join(program.info.tag, ""),
                                  f == 0 ? program.info.name : fmt::format("F{}", f));
    }
    if (f < code.func_info.size() && program.btf)
      function.proto = func_signature(*program.btf, code.func_info[f].type_id);
    for (std::size_t l = 0; l < code.line_info.size() && l < code.jited_line_info.size(); ++l) {
      const std::uint64_t address = code.jited_line_info[l];
      if (address < function.address || address >= function.address + size) continue;
      function.lines.push_back({address - function.address, listing_line(program, code.line_info[l])});
    }
    functions.push_back(std::move(function));
  }
  const JitedOptions options{request.opcodes, request.linum};
  const JitedDisassembler disassembler(program.label);
  if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) {
      json.begin_array();
      for (const JitedFunction& function : functions) disassembler.write_json(json, function, symbols, options);
      json.end_array();
    });
    return;
  }
  for (std::size_t f = 0; f < functions.size(); ++f) {
    if (f != 0) context.out.write("\n");
    disassembler.print_text(context.out, functions[f], symbols, options);
  }
}

}  // namespace

void run_prog_dump(Context& context, Arguments& args) {
  const DumpRequest request = parse_dump(args);
  const LoadedProgram program = load_program(request.selector);
  if (request.jited) {
    dump_jited(context, request, program);
  } else {
    dump_xlated(context, request, program);
  }
}

}  // namespace corebpf::cli
