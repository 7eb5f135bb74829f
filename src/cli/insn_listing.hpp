// A listing of BPF instructions as bpftool's `prog dump xlated` prints it (text, JSON, DOT), with
// function signatures and source lines interleaved: shared by `prog dump xlated` (a loaded
// program) and `gen disasm` (an object's program before loading). The instructions themselves are
// decoded by object/disasm.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/output.hpp"
#include "corebpf/btf.hpp"
#include "object/disasm.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {

struct ListingFunc {
  std::size_t insn_index = 0;
  std::string signature;  // "int handler(void * ctx)"; empty when unknown
};

struct ListingLine {
  std::size_t insn_index = 0;
  std::string_view file;
  std::string_view text;  // the source line as the BTF holds it
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct Listing {
  std::span<const Insn> insns;
  std::vector<ListingFunc> funcs;  // by instruction
  std::vector<ListingLine> lines;  // by instruction
  object::InsnNaming naming;
  // What else to say about instruction `index` ("map cli_counts", a CO-RE relocation); may be unset.
  std::function<std::vector<std::string>(std::size_t index)> notes;
};

struct ListingOptions {
  bool opcodes = false;  // the raw bytes of each instruction
  bool linum = false;    // file, line and column of each source line
};

// `; source line [file:F line_num:L line_col:C]`, as bpftool prints a line record (also one
// without text: clang emits some).
std::string source_line_text(const ListingLine& line, bool linum);
// A source line without its leading blanks, as bpftool shows it.
std::string_view trim_source(std::string_view text);

void print_listing_text(Output& out, const Listing& listing, const ListingOptions& options);
void write_listing_json(util::JsonWriter& json, const Listing& listing, const ListingOptions& options);
// The control-flow graph of each function as Graphviz DOT: basic blocks, ENTRY and EXIT nodes,
// fall-through and jump edges.
void print_listing_dot(Output& out, const Listing& listing);

// A FUNC's prototype as bpftool prints it: "int handler(struct xdp_md * ctx)".
std::string func_signature(const btf::Btf& btf, btf::TypeId func);

}  // namespace corebpf::cli
