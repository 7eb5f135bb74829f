// Native code of JIT-compiled programs disassembled with Capstone (x86-64 in AT&T syntax, as
// bpftool and objdump print it; arm64), for `prog dump jited`. Capstone is linked into the CLI
// only: the library never disassembles native code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/insn_listing.hpp"
#include "cli/output.hpp"
#include "corebpf/kernel_description.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {

struct JitedLine {
  std::uint64_t offset = 0;  // from the function's start
  ListingLine line;
};

// One JIT-compiled function of a program.
struct JitedFunction {
  std::uint64_t address = 0;  // where the kernel put it (its ksym); 0 when unknown
  std::span<const std::byte> code;
  std::string name;              // "bpf_prog_<tag>_<name>"
  std::string proto;             // its BTF prototype, when known
  std::vector<JitedLine> lines;  // by offset
};

struct JitedOptions {
  bool opcodes = false;
  bool linum = false;
};

struct NativeInsn {
  std::uint64_t address = 0;
  std::span<const std::byte> bytes;
  std::string mnemonic;  // "(bad)" for bytes Capstone cannot decode
  std::string operands;
  std::optional<std::uint64_t> target;  // a call's or jump's immediate target
  bool is_call = false;
};

class JitedDisassembler {
 public:
  // For the host's architecture; throws corebpf::Error naming `what` (the program) when Capstone
  // has no disassembler for it.
  explicit JitedDisassembler(std::string_view what);
  ~JitedDisassembler();
  JitedDisassembler(const JitedDisassembler&) = delete;
  JitedDisassembler& operator=(const JitedDisassembler&) = delete;

  // Every instruction of the function, in order; undecodable bytes become one "(bad)" each.
  std::vector<NativeInsn> disassemble(const JitedFunction& function) const;

  void print_text(Output& out, const JitedFunction& function, const kernel::KernelSymbols& symbols,
                  const JitedOptions& options) const;
  void write_json(util::JsonWriter& json, const JitedFunction& function, const kernel::KernelSymbols& symbols,
                  const JitedOptions& options) const;

 private:
  std::size_t handle_ = 0;  // Capstone's csh
  bool arm64_ = false;
};

}  // namespace corebpf::cli
