// `gen disasm` (no kernel needed): an object's programs before loading, with its CO-RE
// relocations, maps, global variables, subprogram calls and callbacks named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

using corebpf::test::shell_quote;
using nlohmann::json;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

Outcome corebpf_cli(const std::string& args) {
  const auto err_file = std::filesystem::temp_directory_path() / fmt::format("corebpf_disasm_{}.err", ::getpid());
  Outcome r;
  r.status = corebpf::test::run_command(
      shell_quote(corebpf::test::cli_path().string()) + " " + args + " 2>" + shell_quote(err_file.string()), &r.out);
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return r;
}

TEST(GenDisasm, AnnotatesRelocationsMapsAndCalls) {
  const auto object = corebpf::test::bpf_object("cli_inspect");
  ASSERT_FALSE(object.empty());
  const Outcome all = corebpf_cli("gen disasm " + shell_quote(object.string()));
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_NE(all.out.find("inspect_xdp: xdp (section xdp), 39 instructions\n"), std::string::npos) << all.out;
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(r1 = map\[idx:0\]  // map inspect_counts\n)"))) << all.out;
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(= map\[idx:1\]\+0  // map cli_insp\.data: inspect_limit\n)")))
      << all.out;
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(r2 = subprog\[\+[0-9]+\]  // callback inspect_step\n)")))
      << all.out;
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(call pc\+[0-9]+  // calls inspect_scale\n)"))) << all.out;
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(call bpf_loop#181\n)"))) << all.out;
  EXPECT_TRUE(std::regex_search(all.out, std::regex(R"(// CO-RE byte_off task_struct\.tgid \(access 0:0\) = 0\n)")))
      << all.out;
  EXPECT_NE(all.out.find("; __u32 key = ctx->rx_queue_index & 3;\n"), std::string::npos);

  const Outcome one = corebpf_cli("-j gen disasm " + shell_quote(object.string()) + " prog inspect_tp linum");
  ASSERT_EQ(one.status, 0) << one.err;
  const json programs = json::parse(one.out);
  ASSERT_EQ(programs.size(), 1u);
  EXPECT_EQ(programs[0]["name"], "inspect_tp");
  EXPECT_EQ(programs[0]["type"], "tracepoint");
  EXPECT_EQ(programs[0]["section"], "tracepoint/syscalls/sys_enter_getppid");
  bool relocation = false;
  for (const json& insn : programs[0]["insns"]) {
    if (!insn.contains("notes")) continue;
    for (const json& note : insn["notes"])
      if (note.get<std::string>().starts_with("CO-RE byte_off task_struct.tgid")) relocation = true;
  }
  EXPECT_TRUE(relocation) << programs.dump(1);
  EXPECT_EQ(programs[0]["insns"][0]["proto"], "int inspect_tp(void * ctx)");
  EXPECT_TRUE(programs[0]["insns"][0]["file"].get<std::string>().ends_with("cli_inspect.bpf.c"));
}

TEST(GenDisasm, ErrorsNameTheObjectAndProgram) {
  const auto object = corebpf::test::bpf_object("cli_inspect");
  ASSERT_FALSE(object.empty());
  Outcome r = corebpf_cli("gen disasm " + shell_quote(object.string()) + " prog nope");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(object.string() + ": no program named 'nope'"), std::string::npos) << r.err;
  r = corebpf_cli("gen disasm /nonexistent/x.bpf.o");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent/x.bpf.o"), std::string::npos) << r.err;
  r = corebpf_cli("gen disasm " + shell_quote(object.string()) + " visual");
  EXPECT_EQ(r.status, 2);
}

}  // namespace
