#include "cli/jited_disasm.hpp"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/utsname.h>

#include <memory>
#include <string>

#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

csh handle_of(std::size_t handle) { return static_cast<csh>(handle); }

// Capstone is opened when native code is to be listed, not linked into the CLI: its 77,000
// relocations and 1.8 MB of writable tables would otherwise be paid at the start of every command
// (a third of a `prog loadall`'s resident memory) for the one command that disassembles.
struct Capstone {
  decltype(&::cs_open) open = nullptr;
  decltype(&::cs_close) close = nullptr;
  decltype(&::cs_option) option = nullptr;
  decltype(&::cs_strerror) strerror = nullptr;
  decltype(&::cs_malloc) malloc = nullptr;
  decltype(&::cs_free) free = nullptr;
  decltype(&::cs_disasm_iter) disasm_iter = nullptr;
  decltype(&::cs_insn_group) insn_group = nullptr;
  std::string error;  // why it could not be opened; empty when usable

  static const Capstone& get() {
    static const Capstone library = open_library();
    return library;
  }

 private:
  template <typename Function>
  static bool bind(void* library, const char* name, Function& function, std::string& error) {
    function = reinterpret_cast<Function>(::dlsym(library, name));
    if (function == nullptr && error.empty()) error = fmt::format("{} has no {}", COREBPF_CAPSTONE_SONAME, name);
    return function != nullptr;
  }

  static Capstone open_library() {
    Capstone capstone;
    // Kept open for the life of the process: the functions are used until it exits.
    void* library = ::dlopen(COREBPF_CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char* why = ::dlerror();
      capstone.error = why != nullptr ? why : COREBPF_CAPSTONE_SONAME " cannot be opened";
      return capstone;
    }
    std::string& error = capstone.error;
    bind(library, "cs_open", capstone.open, error);
    bind(library, "cs_close", capstone.close, error);
    bind(library, "cs_option", capstone.option, error);
    bind(library, "cs_strerror", capstone.strerror, error);
    bind(library, "cs_malloc", capstone.malloc, error);
    bind(library, "cs_free", capstone.free, error);
    bind(library, "cs_disasm_iter", capstone.disasm_iter, error);
    bind(library, "cs_insn_group", capstone.insn_group, error);
    return capstone;
  }
};

// A call's or jump's immediate target, from Capstone's details of the instruction.
std::optional<std::uint64_t> branch_target(csh handle, const cs_insn& insn, bool arm64) {
  if (insn.detail == nullptr) return std::nullopt;
  const Capstone& capstone = Capstone::get();
  if (!capstone.insn_group(handle, &insn, CS_GRP_CALL) && !capstone.insn_group(handle, &insn, CS_GRP_JUMP))
    return std::nullopt;
  if (arm64) {
    const cs_arm64& detail = insn.detail->arm64;
    for (std::uint8_t i = 0; i < detail.op_count; ++i)
      if (detail.operands[i].type == ARM64_OP_IMM) return static_cast<std::uint64_t>(detail.operands[i].imm);
    return std::nullopt;
  }
  const cs_x86& detail = insn.detail->x86;
  for (std::uint8_t i = 0; i < detail.op_count; ++i)
    if (detail.operands[i].type == X86_OP_IMM) return static_cast<std::uint64_t>(detail.operands[i].imm);
  return std::nullopt;
}

// What a call or jump out of the function reaches: "bpf_get_current_pid_tgid", "__x86_return_thunk+0x5".
std::string target_note(const NativeInsn& insn, const JitedFunction& function, const kernel::KernelSymbols& symbols) {
  if (!insn.target) return {};
  const std::uint64_t target = *insn.target;
  if (function.address != 0 && target >= function.address && target < function.address + function.code.size())
    return {};
  if (const auto* symbol = symbols.at(target)) return symbol->name;
  if (const auto* symbol = symbols.containing(target))
    if (target - symbol->address < 0x100000) return fmt::format("{}+{:#x}", symbol->name, target - symbol->address);
  return {};
}

// Operands as bpftool's JSON lists them: the words between separators.
std::vector<std::string> operand_words(std::string_view operands) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : operands) {
    if (c == ',' || c == ' ' || c == '(' || c == ')' || c == '[' || c == ']' || c == '!') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

}  // namespace

JitedDisassembler::JitedDisassembler(std::string_view what) {
  utsname names{};
  ::uname(&names);
  const std::string_view machine = names.machine;
  cs_arch arch = CS_ARCH_X86;
  cs_mode mode = CS_MODE_64;
  if (machine == "aarch64" || machine == "arm64") {
    arch = CS_ARCH_ARM64;
    mode = CS_MODE_ARM;
    arm64_ = true;
  } else if (machine != "x86_64") {
    util::fail(std::errc::operation_not_supported, "{}: no disassembler for {} native code (x86_64 and aarch64 only)",
               what, machine);
  }
  const Capstone& capstone = Capstone::get();
  if (!capstone.error.empty())
    util::fail(std::errc::operation_not_supported, "{}: native code needs the Capstone disassembler: {}", what,
               capstone.error);
  csh handle = 0;
  if (const cs_err err = capstone.open(arch, mode, &handle); err != CS_ERR_OK)
    util::fail(std::errc::operation_not_supported, "{}: Capstone cannot disassemble {}: {}", what, machine,
               capstone.strerror(err));
  handle_ = static_cast<std::size_t>(handle);
  if (!arm64_) capstone.option(handle, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
  capstone.option(handle, CS_OPT_DETAIL, CS_OPT_ON);
}

JitedDisassembler::~JitedDisassembler() {
  csh handle = handle_of(handle_);
  Capstone::get().close(&handle);
}

std::vector<NativeInsn> JitedDisassembler::disassemble(const JitedFunction& function) const {
  const csh handle = handle_of(handle_);
  const Capstone& capstone = Capstone::get();
  std::vector<NativeInsn> out;
  const std::unique_ptr<cs_insn, void (*)(cs_insn*)> insn(capstone.malloc(handle),
                                                          [](cs_insn* p) { Capstone::get().free(p, 1); });
  if (!insn) throw Error(ENOMEM, "Capstone: out of memory");
  const auto* start = reinterpret_cast<const std::uint8_t*>(function.code.data());
  std::size_t offset = 0;
  while (offset < function.code.size()) {
    const std::uint8_t* code = start + offset;
    std::size_t left = function.code.size() - offset;
    std::uint64_t address = function.address + offset;
    NativeInsn native;
    if (capstone.disasm_iter(handle, &code, &left, &address, insn.get())) {
      native.address = insn->address;
      native.bytes = function.code.subspan(offset, insn->size);
      native.mnemonic = insn->mnemonic;
      native.operands = insn->op_str;
      native.target = branch_target(handle, *insn, arm64_);
      native.is_call = capstone.insn_group(handle, insn.get(), CS_GRP_CALL);
      offset += insn->size;
    } else {
      // Bytes Capstone does not know (arm64 moves 4 at a time): shown raw, the listing goes on.
      const std::size_t step = arm64_ ? std::min<std::size_t>(4, left) : 1;
      native.address = function.address + offset;
      native.bytes = function.code.subspan(offset, step);
      native.mnemonic = "(bad)";
      offset += step;
    }
    out.push_back(std::move(native));
  }
  return out;
}

void JitedDisassembler::print_text(Output& out, const JitedFunction& function, const kernel::KernelSymbols& symbols,
                                   const JitedOptions& options) const {
  if (!function.proto.empty()) out.print("{}:\n", function.proto);
  out.print("{}:\n", function.name);
  std::size_t line = 0;
  for (const NativeInsn& insn : disassemble(function)) {
    const std::uint64_t offset = insn.address - function.address;
    // The first line record at this offset; others at the same place add nothing new.
    while (line < function.lines.size() && function.lines[line].offset < offset) ++line;
    if (line < function.lines.size() && function.lines[line].offset == offset) {
      out.print("{}\n", source_line_text(function.lines[line].line, options.linum));
      while (line < function.lines.size() && function.lines[line].offset == offset) ++line;
    }
    out.print("{:4x}:\t{}\t{}", offset, insn.mnemonic, insn.operands);
    if (const std::string note = target_note(insn, function, symbols); !note.empty()) out.print("  // {}", note);
    out.write("\n");
    if (options.opcodes) {
      out.write("\t");
      for (const std::byte b : insn.bytes) out.print("{:02x} ", std::to_integer<unsigned>(b));
      out.write("\n");
    }
  }
}

void JitedDisassembler::write_json(util::JsonWriter& json, const JitedFunction& function,
                                   const kernel::KernelSymbols& symbols, const JitedOptions& options) const {
  json.begin_object();
  if (!function.proto.empty()) json.member("proto", function.proto);
  json.member("name", function.name);
  json.key("insns");
  json.begin_array();
  std::size_t line = 0;
  for (const NativeInsn& insn : disassemble(function)) {
    const std::uint64_t offset = insn.address - function.address;
    json.begin_object();
    while (line < function.lines.size() && function.lines[line].offset < offset) ++line;
    if (line < function.lines.size() && function.lines[line].offset == offset) {
      const ListingLine& source = function.lines[line].line;
      json.member("src", trim_source(source.text));
      if (options.linum) {
        if (!source.file.empty()) json.member("file", source.file);
        if (source.line != 0) json.member("line_num", source.line);
        if (source.column != 0) json.member("line_col", source.column);
      }
      while (line < function.lines.size() && function.lines[line].offset == offset) ++line;
    }
    json.member("pc", fmt::format("{:#x}", offset));
    json.member("operation", insn.mnemonic);
    json.key("operands");
    json.begin_array();
    for (const std::string& word : operand_words(insn.operands)) json.value(word);
    json.end_array();
    if (const std::string note = target_note(insn, function, symbols); !note.empty()) json.member("target", note);
    if (options.opcodes) {
      json.key("opcodes");
      write_byte_array(json, insn.bytes);
    }
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

}  // namespace corebpf::cli
