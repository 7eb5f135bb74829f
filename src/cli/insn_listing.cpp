#include "cli/insn_listing.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "cli/object_select.hpp"

namespace corebpf::cli {
namespace {

// Walks a listing's function and line records along its instructions: each is shown at the
// instruction it names (a second record for the same instruction, or one naming the second slot
// of an ld_imm64, is not shown, as bpftool does).
class RecordCursor {
 public:
  explicit RecordCursor(const Listing& listing) : listing_(listing) {}
  const ListingFunc* func_at(std::size_t index) {
    while (func_ < listing_.funcs.size() && listing_.funcs[func_].insn_index < index) ++func_;
    if (func_ < listing_.funcs.size() && listing_.funcs[func_].insn_index == index) return &listing_.funcs[func_++];
    return nullptr;
  }
  const ListingLine* line_at(std::size_t index) {
    while (line_ < listing_.lines.size() && listing_.lines[line_].insn_index < index) ++line_;
    if (line_ < listing_.lines.size() && listing_.lines[line_].insn_index == index) return &listing_.lines[line_++];
    return nullptr;
  }

 private:
  const Listing& listing_;
  std::size_t func_ = 0;
  std::size_t line_ = 0;
};

std::vector<std::string> notes_of(const Listing& listing, std::size_t index) {
  return listing.notes ? listing.notes(index) : std::vector<std::string>();
}

std::string type_text(const btf::Btf& btf, btf::TypeId id, int depth = 0) {
  if (id == 0) return "void";
  const auto type = btf.try_type(id);
  if (!type || depth > 32) return "?";
  switch (type->kind()) {
    case btf::Kind::Ptr:
      return type_text(btf, type->type(), depth + 1) + " *";
    case btf::Kind::Const:
      return "const " + type_text(btf, type->type(), depth + 1);
    case btf::Kind::Volatile:
      return "volatile " + type_text(btf, type->type(), depth + 1);
    case btf::Kind::Restrict:
    case btf::Kind::TypeTag:
      return type_text(btf, type->type(), depth + 1);
    case btf::Kind::Struct:
      return fmt::format("struct {}", type->name());
    case btf::Kind::Union:
      return fmt::format("union {}", type->name());
    case btf::Kind::Enum:
    case btf::Kind::Enum64:
      return fmt::format("enum {}", type->name());
    case btf::Kind::Fwd:
      return fmt::format("{} {}", type->is_union_fwd() ? "union" : "struct", type->name());
    case btf::Kind::Array:
      return fmt::format("{}[{}]", type_text(btf, type->array().element_type, depth + 1), type->array().count);
    case btf::Kind::FuncProto:
      return "fn";
    default:
      return std::string(type->name());
  }
}

// Record labels of DOT treat these as syntax.
std::string dot_escape(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '<' || c == '>' || c == '{' || c == '}' || c == '|' || c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

std::string insn_line(const Listing& listing, std::size_t index) {
  std::string text = object::format_insn(listing.insns, index, listing.naming);
  const auto notes = notes_of(listing, index);
  if (!notes.empty()) text += fmt::format("  // {}", fmt::join(notes, "; "));
  return text;
}

}  // namespace

std::string_view trim_source(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r' || text.front() == '\v' || text.front() == '\f'))
    text.remove_prefix(1);
  return text;
}

std::string source_line_text(const ListingLine& line, bool linum) {
  std::string text = fmt::format("; {}", trim_source(line.text));
  if (linum) text += fmt::format(" [file:{} line_num:{} line_col:{}]", line.file, line.line, line.column);
  return text;
}

void print_listing_text(Output& out, const Listing& listing, const ListingOptions& options) {
  RecordCursor cursor(listing);
  for (std::size_t i = 0; i < listing.insns.size(); i += object::insn_slots(listing.insns[i])) {
    if (const ListingFunc* func = cursor.func_at(i); func && !func->signature.empty())
      out.print("{}:\n", func->signature);
    if (const ListingLine* line = cursor.line_at(i)) out.print("{}\n", source_line_text(*line, options.linum));
    out.print("{:4}: {}\n", i, insn_line(listing, i));
    if (options.opcodes) {
      const std::size_t slots = std::min(object::insn_slots(listing.insns[i]), listing.insns.size() - i);
      const auto bytes = std::as_bytes(listing.insns.subspan(i, slots));
      out.print("       {}\n", bytes_text(bytes));
    }
  }
}

void write_listing_json(util::JsonWriter& json, const Listing& listing, const ListingOptions& options) {
  RecordCursor cursor(listing);
  json.begin_array();
  for (std::size_t i = 0; i < listing.insns.size(); i += object::insn_slots(listing.insns[i])) {
    json.begin_object();
    if (const ListingFunc* func = cursor.func_at(i); func && !func->signature.empty())
      json.member("proto", func->signature);
    if (const ListingLine* line = cursor.line_at(i)) {
      json.member("src", trim_source(line->text));
      if (options.linum) {
        if (!line->file.empty()) json.member("file", line->file);
        if (line->line != 0) json.member("line_num", line->line);
        if (line->column != 0) json.member("line_col", line->column);
      }
    }
    json.member("disasm", object::format_insn(listing.insns, i, listing.naming));
    const auto notes = notes_of(listing, i);
    if (!notes.empty()) {
      json.key("notes");
      json.begin_array();
      for (const std::string& note : notes) json.value(note);
      json.end_array();
    }
    if (options.opcodes) {
      const Insn& insn = listing.insns[i];
      json.key("opcodes");
      json.begin_object();
      json.member("code", fmt::format("{:#04x}", insn.code));
      json.member("src_reg", fmt::format("{:#x}", insn.src()));
      json.member("dst_reg", fmt::format("{:#x}", insn.dst()));
      json.key("off");
      write_byte_array(json, std::as_bytes(std::span(&insn.off, 1)));
      json.key("imm");
      // An ld_imm64's imm runs on through the second slot's code, regs, off and imm.
      const auto* imm = reinterpret_cast<const std::byte*>(&insn.imm);
      write_byte_array(json, std::span(imm, insn.is_ld_imm64() && i + 1 < listing.insns.size() ? 12 : 4));
      json.end_object();
    }
    json.end_object();
  }
  json.end_array();
}

void print_listing_dot(Output& out, const Listing& listing) {
  // Functions: where the func records say, else the whole program as one.
  std::vector<std::size_t> starts;
  for (const ListingFunc& func : listing.funcs)
    if (func.insn_index < listing.insns.size()) starts.push_back(func.insn_index);
  if (starts.empty() || starts.front() != 0) starts.insert(starts.begin(), 0);
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());

  out.write("digraph \"DOT graph for eBPF program\" {\n");
  for (std::size_t f = 0; f < starts.size(); ++f) {
    const std::size_t begin = starts[f];
    const std::size_t end = f + 1 < starts.size() ? starts[f + 1] : listing.insns.size();
    const auto blocks = object::basic_blocks(listing.insns, begin, end);
    std::string label = fmt::format("func_{} ()", f);
    for (const ListingFunc& func : listing.funcs)
      if (func.insn_index == begin && !func.signature.empty()) label = func.signature;
    // Nodes: 0 is ENTRY, 1 is EXIT, blocks follow from 2.
    out.print("subgraph \"cluster_{}\" {{\n\tstyle=\"dashed\";\n\tcolor=\"black\";\n\tlabel=\"{}\";\n", f,
              dot_escape(label));
    out.print("\tfn_{}_bb_0 [shape=Mdiamond,style=filled,label=\"ENTRY\"];\n\n", f);
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      out.print("\tfn_{}_bb_{} [shape=record,style=filled,label=\"{{", f, b + 2);
      const char* separator = "";
      for (std::size_t i = blocks[b].first; i < blocks[b].end; i += object::insn_slots(listing.insns[i])) {
        out.print("{}{}\\l\\\n", separator, dot_escape(fmt::format("{:4}: {}", i, insn_line(listing, i))));
        separator = " | ";
      }
      out.write("}\"];\n\n");
    }
    out.print("\tfn_{}_bb_1 [shape=Mdiamond,style=filled,label=\"EXIT\"];\n\n", f);
    if (!blocks.empty())
      out.print("\tfn_{0}_bb_0:s -> fn_{0}_bb_2:n [style=\"solid,bold\", color=black, weight=10, constraint=true];\n",
                f);
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      const object::BasicBlock& block = blocks[b];
      for (std::size_t s = 0; s < block.successors.size(); ++s) {
        const bool fall_through = s == 0 && block.falls_through;
        out.print("\tfn_{0}_bb_{1}:s -> fn_{0}_bb_{2}:n [style=\"{3}\", color=\"{4}\", weight={5}, constraint=true];\n",
                  f, b + 2, block.successors[s] + 2, fall_through ? "solid,bold" : "solid",
                  fall_through ? "black" : "green", fall_through ? 10 : 1);
      }
      if (block.exits)
        out.print(
            "\tfn_{0}_bb_{1}:s -> fn_{0}_bb_1:n [style=\"solid,bold\", color=black, weight=10, constraint=true];\n", f,
            b + 2);
    }
    // Keeps EXIT below ENTRY in the layout.
    out.print("\tfn_{0}_bb_0:s -> fn_{0}_bb_1:n [style=\"invis\", constraint=true];\n", f);
    out.write("}\n");
  }
  out.write("}\n");
}

std::string func_signature(const btf::Btf& btf, btf::TypeId func) {
  const auto type = btf.try_type(func);
  if (!type || type->kind() != btf::Kind::Func) return {};
  const auto proto = btf.try_type(type->type());
  if (!proto || proto->kind() != btf::Kind::FuncProto) return {};
  std::vector<std::string> params;
  for (const auto& param : proto->params()) {
    if (param.type() == 0 && param.name().empty()) {
      params.emplace_back("...");
      continue;
    }
    std::string text = type_text(btf, param.type());
    if (!param.name().empty()) text += fmt::format(" {}", param.name());
    params.push_back(std::move(text));
  }
  return fmt::format("{} {}({})", type_text(btf, proto->type()), type->name(), fmt::join(params, ", "));
}

}  // namespace corebpf::cli
