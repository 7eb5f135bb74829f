// Subprogram linking: reachable functions appended once, calls and callback addresses fixed,
// func_info/line_info following the instructions; checked against llvm-nm and the ELF bytes.
#include <map>
#include <set>
#include <sstream>

#include "elf/elf_file.hpp"
#include "object/object_test_support.hpp"
#include "support/test_support.hpp"

namespace corebpf {
namespace {

using test::open_bpf_object;

using Edges = std::set<std::pair<std::string, std::string>>;

// caller -> callee edges of a linked program, read back from its instructions.
Edges call_edges(const ProgramSpec& program) {
  std::map<std::uint32_t, std::string> starts;
  for (const auto& function : program.functions()) starts[function.insn_index] = function.name;
  auto owner = [&](std::uint32_t insn) {
    for (const auto& function : program.functions())
      if (insn >= function.insn_index && insn < function.insn_index + function.insn_count) return function.name;
    return std::string("?");
  };
  Edges edges;
  const auto insns = program.insns();
  for (std::uint32_t i = 0; i < insns.size(); ++i) {
    const bool call = insns[i].is_call() && insns[i].src() == Insn::kPseudoCall;
    const bool address = insns[i].is_ld_imm64() && insns[i].src() == Insn::kPseudoFunc;
    if (call || address) {
      const std::int64_t target = std::int64_t{i} + insns[i].imm + 1;
      auto it = starts.find(static_cast<std::uint32_t>(target));
      EXPECT_NE(it, starts.end()) << program.name() << ": instruction " << i << " branches to " << target
                                  << ", not a function start";
      if (it != starts.end()) edges.insert({owner(i), it->second});
    }
    if (insns[i].is_ld_imm64()) ++i;
  }
  return edges;
}

TEST(Linking, EachProgramGetsItsReachableSubprogramsOnce) {
  const auto spec = open_bpf_object("object_link");
  const std::map<std::string, Edges> expected = {
      {"xdp_main", {{"xdp_main", "twice"}, {"xdp_main", "in_xdp_static"}, {"twice", "leaf"}}},
      {"xdp_second", {{"xdp_second", "shared_global"}, {"shared_global", "leaf"}}},
      {"with_callbacks",
       {{"with_callbacks", "loop_cb"},
        {"with_callbacks", "each_cb"},
        {"with_callbacks", "shared_global"},
        {"each_cb", "leaf"},
        {"shared_global", "leaf"}}},
      {"calls_other_section",
       {{"calls_other_section", "xdp_second"}, {"xdp_second", "shared_global"}, {"shared_global", "leaf"}}},
      {"not_autoloaded", {}},
  };
  ASSERT_EQ(spec.programs().size(), expected.size());
  for (const auto& program : spec.programs()) {
    SCOPED_TRACE(program.name());
    ASSERT_TRUE(expected.contains(program.name()));
    EXPECT_EQ(call_edges(program), expected.at(program.name()));
    std::set<std::string> names;
    std::uint32_t next = 0;
    for (const auto& function : program.functions()) {
      EXPECT_TRUE(names.insert(function.name).second) << function.name << " placed twice";
      EXPECT_EQ(function.insn_index, next);
      next += function.insn_count;
    }
    EXPECT_EQ(next, program.insns().size());
    EXPECT_EQ(program.functions().front().name, program.name());
  }
  EXPECT_FALSE(spec.program("not_autoloaded").autoload());
  EXPECT_TRUE(spec.program("xdp_main").autoload());
  EXPECT_EQ(spec.program("xdp_main").functions()[2].name, "in_xdp_static");
  EXPECT_EQ(spec.program("xdp_main").functions()[2].section, "xdp");
}

TEST(Linking, FuncInfoAndLineInfoFollowTheInstructions) {
  const auto spec = open_bpf_object("object_link");
  const auto& btf = *spec.btf();
  for (const auto& program : spec.programs()) {
    SCOPED_TRACE(program.name());
    ASSERT_EQ(program.func_info().size(), program.functions().size());
    for (std::size_t i = 0; i < program.functions().size(); ++i) {
      const auto& function = program.functions()[i];
      const auto& info = program.func_info()[i];
      EXPECT_EQ(info.insn_index, function.insn_index);
      EXPECT_EQ(btf.type(info.type_id).kind(), btf::Kind::Func);
      EXPECT_EQ(btf.type(info.type_id).name(), function.name);
    }
    ASSERT_FALSE(program.line_info().empty());
    std::uint32_t previous = 0;
    for (const auto& line : program.line_info()) {
      EXPECT_GE(line.insn_index, previous);
      EXPECT_LT(line.insn_index, program.insns().size());
      previous = line.insn_index;
      EXPECT_TRUE(line.file_name.ends_with("object_link.bpf.c")) << line.file_name;
    }
    // Every function's first instruction has a line.
    for (const auto& function : program.functions()) {
      bool found = false;
      for (const auto& line : program.line_info())
        if (line.insn_index == function.insn_index) {
          found = true;
          EXPECT_GT(line.line, 0u) << function.name;
          EXPECT_FALSE(line.line_text.empty()) << function.name;
        }
      EXPECT_TRUE(found) << function.name;
    }
  }
}

TEST(Linking, MapAndGlobalReferencesNameTheirMap) {
  const auto spec = open_bpf_object("object_link");
  const auto maps = spec.maps();
  auto index_of = [&](std::string_view name) {
    for (std::size_t i = 0; i < maps.size(); ++i)
      if (maps[i].name() == name) return static_cast<std::int32_t>(i);
    return -1;
  };
  const auto& program = spec.program("with_callbacks");
  int map_refs = 0, data_refs = 0;
  const auto insns = program.insns();
  for (std::size_t i = 0; i + 1 < insns.size(); ++i) {
    if (!insns[i].is_ld_imm64()) continue;
    if (insns[i].src() == Insn::kPseudoMapIdx) {
      EXPECT_EQ(insns[i].imm, index_of("values"));
      ++map_refs;
    } else if (insns[i].src() == Insn::kPseudoMapIdxValue) {
      EXPECT_EQ(insns[i].imm, index_of("object_l.data"));
      EXPECT_EQ(insns[i + 1].imm, 0);  // counter is the only variable
      ++data_refs;
    }
    ++i;
  }
  EXPECT_EQ(map_refs, 1);
  EXPECT_GE(data_refs, 2);  // loop_cb and leaf
}

// Function sizes from llvm-nm, and the original instruction bytes from the ELF file: every
// placed function is a faithful copy except the immediates the linker fixed.
TEST(Linking, PlacedFunctionsMatchTheElfSymbolsAndBytes) {
  const auto path = test::bpf_object_path("object_link");
  std::string nm_output;
  if (test::run_command("(llvm-nm-16 -S --defined-only " + path.string() + " || llvm-nm -S --defined-only " +
                            path.string() + ") 2>/dev/null",
                        &nm_output) != 0)
    COREBPF_SKIP_OR_FAIL("llvm-nm is not installed");
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> symbols;  // name -> (value, size)
  std::istringstream lines(nm_output);
  std::string value, size, kind, name;
  while (lines >> value >> size >> kind >> name)
    if (kind == "t" || kind == "T") symbols[name] = {std::stoull(value, nullptr, 16), std::stoull(size, nullptr, 16)};

  const auto elf = elf::ElfFile::open(path.string());
  const auto spec = open_bpf_object("object_link");
  for (const auto& program : spec.programs()) {
    for (const auto& function : program.functions()) {
      SCOPED_TRACE(program.name() + "/" + function.name);
      ASSERT_TRUE(symbols.contains(function.name));
      const auto [offset, bytes] = symbols[function.name];
      EXPECT_EQ(function.insn_count * sizeof(Insn), bytes);
      const auto* section = elf.find_section(function.section);
      ASSERT_NE(section, nullptr);
      for (std::uint32_t i = 0; i < function.insn_count; ++i) {
        Insn original;
        std::memcpy(&original, section->data.data() + offset + i * sizeof(Insn), sizeof original);
        const Insn& linked = program.insns()[function.insn_index + i];
        EXPECT_EQ(linked.code, original.code) << i;
        if (original.is_ld_imm64() || original.is_call()) {
          if (original.is_ld_imm64()) ++i;
          continue;
        }
        EXPECT_EQ(linked.regs, original.regs) << i;
        EXPECT_EQ(linked.off, original.off) << i;
        EXPECT_EQ(linked.imm, original.imm) << i;
      }
    }
  }
}

TEST(Linking, Clang14OutputLinksTheSame) {
  const auto path = test::bpf_object_path("object_link_clang14");
  if (!std::filesystem::exists(path)) COREBPF_SKIP_OR_FAIL("clang-14 is not installed");
  const auto old = ObjectSpec::open(path.string());
  const auto current = open_bpf_object("object_link");
  ASSERT_EQ(old.programs().size(), current.programs().size());
  for (const auto& program : old.programs()) {
    SCOPED_TRACE(program.name());
    EXPECT_EQ(call_edges(program), call_edges(current.program(program.name())));
  }
}

}  // namespace
}  // namespace corebpf
