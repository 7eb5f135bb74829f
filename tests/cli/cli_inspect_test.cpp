// The inspection commands against the running kernel: `prog dump xlated` text and JSON compared
// with bpftool's for every program of the CLI test objects; the DOT graph of a hand-written
// program with known branches; `prog dump jited` checked against ground truth (the native code
// decodes whole, its calls reach the helpers the translated code calls, one block of code per
// function) and against bpftool 7.7 with LLVM when that peer is there; errors naming the program.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "corebpf/fd.hpp"
#include "corebpf/features.hpp"
#include "corebpf/insn.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/link.hpp"
#include "corebpf/program.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::Insn;
using corebpf::UniqueFd;
using corebpf::test::shell_quote;
using nlohmann::json;

using Outcome = corebpf::test::CommandOutcome;
Outcome run(const std::string& command) { return corebpf::test::run_capturing(command); }
Outcome corebpf(const std::string& args) { return corebpf::test::run_cli(args); }

// What bpftool 7.1 cannot say: our notes ("  // map counts"), and the per-CPU address move its
// disassembler prints as a plain move.
std::string as_bpftool_71(std::string text) {
  text = std::regex_replace(text, std::regex("  // [^\n]*"), "");
  return std::regex_replace(text, std::regex(R"(&\(void __percpu \*\)\((r[0-9]+)\))"), "$1");
}

json as_bpftool_71(json listing) {
  for (json& insn : listing) {
    insn.erase("notes");
    insn["disasm"] = as_bpftool_71(insn["disasm"].get<std::string>());
  }
  return listing;
}

// A socket filter of raw instructions, loaded for the test's lifetime.
UniqueFd load_raw(const std::vector<Insn>& insns) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  static const char license[] = "GPL";
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<std::uintptr_t>(insns.data());
  attr.insn_cnt = static_cast<std::uint32_t>(insns.size());
  attr.license = reinterpret_cast<std::uintptr_t>(license);
  std::strncpy(attr.prog_name, "inspect_raw", sizeof(attr.prog_name) - 1);
  return UniqueFd(static_cast<int>(::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr))));
}

Insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  Insn i;
  i.code = code;
  i.set_dst(dst);
  i.set_src(src);
  i.off = off;
  i.imm = imm;
  return i;
}

// r0 = 0; if r1 == 0 goto +2; r0 = 1; goto +1; r0 = 2; exit: blocks [0,1] [2,3] [4] [5].
std::vector<Insn> branchy_program() {
  return {
      insn(Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0, 0), insn(Insn::kJmp | 0x10 /* jeq */ | Insn::kK, 1, 0, 2, 0),
      insn(Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0, 1), insn(Insn::kJmp | Insn::kJa, 0, 0, 1, 0),
      insn(Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0, 2), insn(Insn::kJmp | Insn::kExit, 0, 0, 0, 0),
  };
}

// r0 = bpf_ktime_get_ns(); r0 = bpf_get_prandom_u32(); r0 = 0; exit.
std::vector<Insn> calling_program() {
  return {
      insn(Insn::kJmp | Insn::kCall, 0, 0, 0, BPF_FUNC_ktime_get_ns),
      insn(Insn::kJmp | Insn::kCall, 0, 0, 0, BPF_FUNC_get_prandom_u32),
      insn(Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0, 0),
      insn(Insn::kJmp | Insn::kExit, 0, 0, 0, 0),
  };
}

std::uint32_t id_of(const UniqueFd& fd) { return corebpf::kernel::program_info(fd.get()).id; }

class CliInspect : public testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    COREBPF_REQUIRE_BPFFS();
    dir_ = corebpf::test::bpffs_path("inspect");
    fs::remove_all(dir_);
    fs::create_directory(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // `prog loadall` of a test object into DIR/NAME; the pinned programs' paths.
  std::vector<std::string> loadall(const std::string& object) {
    const std::string path = fmt::format("{}/{}.bpf.o", COREBPF_BPF_OBJECT_DIR, object);
    const std::string pins = dir_ + "/" + object;
    const Outcome r = corebpf(fmt::format("prog loadall {} {}", path, pins));
    EXPECT_EQ(r.status, 0) << r.err;
    std::vector<std::string> programs;
    if (r.status != 0) return programs;
    for (const auto& entry : fs::directory_iterator(pins)) programs.push_back(entry.path().string());
    return programs;
  }
  std::string dir_;
};

TEST_F(CliInspect, XlatedMatchesBpftool) {
  std::vector<std::string> programs;
  for (const std::string object : {"cli_inspect", "cli_maps", "core_task"})
    for (const std::string& program : loadall(object)) programs.push_back(program);
  ASSERT_GE(programs.size(), 6u);
  const bool bpftool = corebpf::test::have_bpftool();
  for (const std::string& program : programs) {
    for (const std::string options : {"", "linum", "opcodes"}) {
      const std::string args = fmt::format("prog dump xlated pinned {} {}", program, options);
      const Outcome text = corebpf(args);
      ASSERT_EQ(text.status, 0) << args << ": " << text.err;
      // Every instruction line: "   N: (code) ...".
      EXPECT_TRUE(std::regex_search(text.out, std::regex(R"(\n +[0-9]+: \([0-9a-f]{2}\) )"))) << text.out;
      const Outcome as_json = corebpf("-j " + args);
      ASSERT_EQ(as_json.status, 0) << as_json.err;
      const json listing = json::parse(as_json.out);
      ASSERT_TRUE(listing.is_array());
      ASSERT_FALSE(listing.empty());
      if (!bpftool) continue;
      const Outcome theirs = run("bpftool " + args);
      ASSERT_EQ(theirs.status, 0) << theirs.err;
      EXPECT_EQ(corebpf::test::first_difference(as_bpftool_71(text.out), theirs.out), "") << args;
      const Outcome theirs_json = run("bpftool -j " + args);
      EXPECT_EQ(as_bpftool_71(listing), json::parse(theirs_json.out)) << args;
    }
  }
  if (!bpftool) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing: listings not compared");
}

TEST_F(CliInspect, XlatedNamesSubprogramsHelpersAndMaps) {
  loadall("cli_inspect");
  const std::string pin = dir_ + "/cli_inspect/inspect_xdp";
  const Outcome r = corebpf("prog dump xlated pinned " + pin + " linum");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("int inspect_xdp(struct xdp_md * ctx):\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("int inspect_scale(int x):\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("long inspect_step(__u32 index, void * ctx):\n"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(call pc[+-][0-9]+#bpf_prog_[0-9a-f]{16}_inspect_scale\n)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(= map\[id:[0-9]+\]  // map inspect_counts\n)"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(= map\[id:[0-9]+\]\[0\]\+0  // map cli_insp\.data\n)"))) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(; __u32 key = ctx->rx_queue_index & 3; \[file:[^\]]*cli_inspect\.bpf\.c line_num:29 )")))
      << r.out;
  // JSON: the map's name beside bpftool's fields.
  const json listing = json::parse(corebpf("-j prog dump xlated pinned " + pin).out);
  bool named = false;
  for (const json& insn : listing)
    if (insn.contains("notes") && insn["notes"] == json::array({"map inspect_counts"})) named = true;
  EXPECT_TRUE(named) << listing.dump(1);

  // file FILE: the raw instructions, as many bytes as prog show says.
  const std::string file = fs::temp_directory_path() / fmt::format("corebpf_inspect_{}.bin", ::getpid());
  ASSERT_EQ(corebpf(fmt::format("prog dump xlated pinned {} file {}", pin, file)).status, 0);
  const json info = json::parse(corebpf("-j prog show pinned " + pin).out);
  EXPECT_EQ(fs::file_size(file), info["bytes_xlated"].get<std::uintmax_t>());
  fs::remove(file);
}

TEST_F(CliInspect, VisualDrawsTheKnownBranches) {
  const UniqueFd fd = load_raw(branchy_program());
  ASSERT_TRUE(fd) << "BPF_PROG_LOAD: " << std::strerror(errno);
  const Outcome r = corebpf(fmt::format("prog dump xlated id {} visual", id_of(fd)));
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::pair<int, int>> edges;
  const std::regex edge(R"re(fn_0_bb_([0-9]+):s -> fn_0_bb_([0-9]+):n \[style="solid)re");
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), edge); it != std::sregex_iterator(); ++it)
    edges.emplace(std::stoi((*it)[1]), std::stoi((*it)[2]));
  // 0 ENTRY, 1 EXIT, 2 [0,1], 3 [2,3], 4 [4], 5 [5].
  EXPECT_EQ(edges, (std::set<std::pair<int, int>>{{0, 2}, {2, 3}, {2, 4}, {3, 5}, {4, 5}, {5, 1}})) << r.out;
  EXPECT_NE(r.out.find("fn_0_bb_3 [shape=record,style=filled,label=\"{   2: (b7) r0 = 1\\l\\\n |    3: (05) goto pc+1"),
            std::string::npos)
      << r.out;
}

TEST_F(CliInspect, JitedMatchesGroundTruth) {
  const UniqueFd fd = load_raw(calling_program());
  ASSERT_TRUE(fd) << "BPF_PROG_LOAD: " << std::strerror(errno);
  const auto info = corebpf::kernel::program_info(fd.get());
  if (info.jited_size == 0) GTEST_SKIP() << "the JIT is off (net.core.bpf_jit_enable=0)";
  const std::uint32_t id = info.id;
  const Outcome r = corebpf(fmt::format("-j prog dump jited id {} opcodes", id));
  ASSERT_EQ(r.status, 0) << r.err;
  const json functions = json::parse(r.out);
  ASSERT_EQ(functions.size(), 1u);
  EXPECT_TRUE(
      std::regex_match(functions[0]["name"].get<std::string>(), std::regex("bpf_prog_[0-9a-f]{16}_inspect_raw")))
      << functions[0]["name"];
  // The code decodes whole: the instructions' bytes add up to the JIT's size, none is "(bad)".
  std::size_t bytes = 0;
  std::vector<std::string> call_targets;
  for (const json& insn : functions[0]["insns"]) {
    EXPECT_NE(insn["operation"], "(bad)") << insn;
    bytes += insn["opcodes"].size();
    const std::string operation = insn["operation"];
    if (operation.starts_with("call") || operation == "bl") call_targets.push_back(insn.value("target", ""));
  }
  EXPECT_EQ(bytes, info.jited_size);
  // Its two calls reach the two helpers the translated code names.
  const Outcome xlated = corebpf(fmt::format("prog dump xlated id {}", id));
  std::vector<std::string> helpers;
  const std::regex call(R"(call ([A-Za-z0-9_]+)#)");
  for (auto it = std::sregex_iterator(xlated.out.begin(), xlated.out.end(), call); it != std::sregex_iterator(); ++it)
    helpers.push_back((*it)[1]);
  ASSERT_EQ(helpers.size(), 2u) << xlated.out;
  EXPECT_EQ(call_targets, helpers) << r.out;

  // bpftool 7.7 with LLVM, when there: as many instructions at the same offsets.
  const std::string peer = "/work/shared/peers/bpftool-7.7.0-llvm";
  if (!fs::exists(peer)) return;  // peer missing: the ground truth above stands alone
  const Outcome theirs = run(fmt::format("{} -j prog dump jited id {}", peer, id));
  if (theirs.status != 0) return;  // peer missing its LLVM
  std::vector<std::string> our_pcs, their_pcs;
  for (const json& insn : functions[0]["insns"]) our_pcs.push_back(insn["pc"]);
  // bpftool lists the instructions of a program without BTF func info as one flat array.
  const json their_listing = json::parse(theirs.out);
  const json& their_insns = their_listing.at(0).contains("insns") ? their_listing[0]["insns"] : their_listing;
  for (const json& insn : their_insns) their_pcs.push_back(insn["pc"]);
  // LLVM splits x86's lock prefix into an instruction of its own; there is none here.
  EXPECT_EQ(our_pcs, their_pcs);
}

TEST_F(CliInspect, JitedListsEveryFunctionWithSourceLines) {
  loadall("cli_inspect");
  const std::string pin = dir_ + "/cli_inspect/inspect_xdp";
  const auto fd = corebpf::kernel::open_pinned(pin);
  if (corebpf::kernel::program_info(fd.get()).jited_size == 0) GTEST_SKIP() << "the JIT is off";
  const Outcome r = corebpf("-j prog dump jited pinned " + pin + " linum");
  ASSERT_EQ(r.status, 0) << r.err;
  const json functions = json::parse(r.out);
  ASSERT_EQ(functions.size(), 3u);
  EXPECT_EQ(functions[0]["proto"], "int inspect_xdp(struct xdp_md * ctx)");
  std::set<std::string> called;
  for (const json& insn : functions[0]["insns"])
    if (insn.contains("target")) called.insert(insn["target"].get<std::string>());
  for (std::size_t f = 1; f < functions.size(); ++f) {
    const std::string name = functions[f]["name"];
    EXPECT_TRUE(called.count(name)) << name << " is not called from the main function";
  }
  bool has_line = false;
  for (const json& insn : functions[0]["insns"])
    if (insn.contains("line_num") && insn["file"].get<std::string>().ends_with("cli_inspect.bpf.c")) has_line = true;
  EXPECT_TRUE(has_line);
  const Outcome text = corebpf("prog dump jited pinned " + pin);
  EXPECT_NE(text.out.find("; bpf_loop(2, inspect_step, 0, 0);\n"), std::string::npos) << text.out;
}

TEST_F(CliInspect, DumpErrorsNameTheProgram) {
  Outcome r = corebpf("prog dump xlated id 4000000000");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("there is no program with id 4000000000"), std::string::npos) << r.err;
  r = corebpf("prog dump jited name no_such_program_here");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("there is no program named 'no_such_program_here'"), std::string::npos) << r.err;
  r = corebpf("prog dump jited id 1 visual");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown dump keyword 'visual'"), std::string::npos) << r.err;
  r = corebpf("prog dump xlated pinned /sys/fs/bpf file /tmp/x opcodes");
  EXPECT_EQ(r.status, 2);
  r = corebpf("prog dump source id 1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown dump kind 'source'"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// `feature probe`: bpftool 7.1's keys with the same values (but for the types 7.1's probe
// misjudges), helper lists as bpftool 7.7 finds them (7.1's helper probe takes every helper for
// available on kernels whose verifier words its refusals differently), macros agreeing with JSON.
TEST(CliFeature, ProbeMatchesBpftool) {
  COREBPF_REQUIRE_ROOT();
  const Outcome r = corebpf("-j feature probe");
  ASSERT_EQ(r.status, 0) << r.err;
  const json ours = json::parse(r.out);
  for (const char* section : {"system_config", "syscall_config", "program_types", "map_types", "helpers", "misc"})
    EXPECT_TRUE(ours.contains(section)) << section;
  EXPECT_EQ(ours["syscall_config"]["have_bpf_syscall"], true);
  EXPECT_EQ(ours["program_types"]["have_socket_filter_prog_type"], true);
  EXPECT_EQ(ours["map_types"]["have_hash_map_type"], true);
  // Ground truth: what socket filters may and may not call.
  const auto socket_helpers = ours["helpers"]["socket_filter_available_helpers"].get<std::vector<std::string>>();
  const auto has = [&](const std::string& helper) {
    return std::find(socket_helpers.begin(), socket_helpers.end(), helper) != socket_helpers.end();
  };
  EXPECT_TRUE(has("bpf_map_lookup_elem"));
  EXPECT_TRUE(has("bpf_skb_load_bytes"));
  EXPECT_FALSE(has("bpf_override_return"));
  EXPECT_FALSE(has("bpf_trace_printk"));  // its probe writes to the kernel log: only with `full`
  const json full = json::parse(corebpf("-j feature probe full").out);
  const auto full_helpers = full["helpers"]["socket_filter_available_helpers"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(full_helpers.begin(), full_helpers.end(), "bpf_trace_printk"), full_helpers.end());

  // Macros say what JSON says.
  const Outcome macros = corebpf("feature probe macros prefix CB_");
  ASSERT_EQ(macros.status, 0) << macros.err;
  for (const auto& [key, value] : ours["program_types"].items()) {
    std::string name = key.substr(5, key.size() - 5 - 10);  // have_<name>_prog_type
    std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    const std::string define = fmt::format("#define {}CB_HAVE_{}_PROG_TYPE\n", value.get<bool>() ? "" : "NO_", name);
    EXPECT_NE(macros.out.find(define), std::string::npos) << define;
  }
  EXPECT_NE(macros.out.find("#define CB_BPF__PROG_TYPE_socket_filter__HELPER_bpf_map_lookup_elem 1\n"),
            std::string::npos);
  EXPECT_EQ(corebpf("-j feature probe macros").status, 2);

  if (corebpf::test::have_bpftool()) {
    const json theirs = json::parse(run("bpftool -j feature probe").out);
    for (const char* section : {"system_config", "syscall_config", "program_types", "map_types", "misc"}) {
      for (const auto& [key, value] : theirs[section].items()) {
        // 7.1 takes the kernel's verifier message about a missing attach target for "unknown type".
        if (key == "have_tracing_prog_type" || key == "have_ext_prog_type" || key == "have_lsm_prog_type") continue;
        EXPECT_EQ(ours[section].value(key, json("missing")), value) << section << "." << key;
      }
    }
    // Text: the same lines, but for helper lists and the types and sections 7.1 does not know.
    const auto lines = [](const std::string& text) {
      std::set<std::string> set;
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);)
        if (!line.starts_with("\t") && line.find("tracing") == std::string::npos) set.insert(line);
      return set;
    };
    const auto our_lines = lines(corebpf("feature probe").out);
    for (const std::string& line : lines(run("bpftool feature probe").out))
      EXPECT_TRUE(our_lines.count(line)) << "bpftool says: " << line;
    // Helper lists are compared with bpftool 7.7 below: 7.1 takes any refusal but "invalid func"
    // for a yes, which on 6.18 lists packet helpers for cgroup_device programs.
  }
  const std::string peer = "/work/shared/peers/bpftool-7.7.0";
  if (fs::exists(peer)) {
    const Outcome theirs = run(peer + " -j feature probe");
    if (theirs.status == 0) {
      const json helpers = json::parse(theirs.out)["helpers"];
      for (const auto& [key, value] : helpers.items()) {
        // bpftool cannot load a tracing probe without a target and lists none; ours probes tp_btf.
        if (key == "tracing_available_helpers") continue;
        EXPECT_EQ(ours["helpers"].value(key, json("missing")), value) << key;
      }
    }
  }
}

// A device without offload: nothing, as bpftool says (text and JSON).
TEST(CliFeature, ProbeDeviceWithoutOffload) {
  COREBPF_REQUIRE_ROOT();
  const Outcome r = corebpf("-j feature probe dev lo");
  ASSERT_EQ(r.status, 0) << r.err;
  const json ours = json::parse(r.out);
  EXPECT_EQ(ours["program_types"], json::parse(R"({"have_sched_cls_prog_type":false,"have_xdp_prog_type":false})"));
  EXPECT_EQ(ours["map_types"], json::parse(R"({"have_hash_map_type":false,"have_array_map_type":false})"));
  EXPECT_EQ(ours["helpers"], json::parse(R"({"sched_cls_available_helpers":[],"xdp_available_helpers":[]})"));
  for (const auto& [key, value] : ours["misc"].items()) EXPECT_EQ(value, false) << key;
  if (corebpf::test::have_bpftool()) {
    const json theirs = json::parse(run("bpftool -j feature probe dev lo").out);
    for (const auto& [section, values] : theirs.items())
      for (const auto& [key, value] : values.items())
        EXPECT_EQ(ours[section].value(key, json("missing")), value) << section << "." << key;
    std::string text = corebpf("feature probe dev lo").out;
    text = std::regex_replace(text, std::regex("ISA extension v4 [^\n]*\n"), "");  // 7.1 predates v4
    EXPECT_EQ(text, run("bpftool feature probe dev lo").out);
  }
  const Outcome missing = corebpf("feature probe dev no_such_dev0");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("there is no network device 'no_such_dev0'"), std::string::npos) << missing.err;
}

TEST(CliFeature, UnprivilegedProbesDropCapabilities) {
  COREBPF_REQUIRE_ROOT();
  std::ifstream in("/proc/sys/kernel/unprivileged_bpf_disabled");
  int disabled = 0;
  in >> disabled;
  const Outcome r = corebpf("-j feature probe unprivileged");
  ASSERT_EQ(r.status, 0) << r.err;
  const json probed = json::parse(r.out);
  // With unprivileged bpf() disabled no program type loads; otherwise socket filters do.
  EXPECT_EQ(probed["program_types"]["have_socket_filter_prog_type"], disabled == 0);
  EXPECT_EQ(probed["program_types"]["have_xdp_prog_type"], false);  // needs CAP_NET_ADMIN... and CAP_BPF
}

}  // namespace

namespace {

// Runs `body` on a thread of its own in a new network namespace: the commands it starts inherit
// that namespace, the rest of the test process keeps the host's.
template <typename Body>
void in_private_netns(Body body) {
  std::string failure;
  std::thread thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      failure = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    body();
  });
  thread.join();
  ASSERT_EQ(failure, "");
}

// The entries bpftool 7.1 lists: without tcx and netfilter hooks, which it does not know.
json without_tcx(json listing) {
  listing.at(0).erase("netfilter");
  json& tc = listing.at(0)["tc"];
  json kept = json::array();
  for (const json& entry : tc)
    if (!entry["kind"].get<std::string>().starts_with("tcx/")) kept.push_back(entry);
  tc = kept;
  return listing;
}

TEST_F(CliInspect, NetAttachListDetach) {
  loadall("cli_inspect");
  const std::string xdp = dir_ + "/cli_inspect/inspect_xdp";
  const std::string tc = dir_ + "/cli_inspect/inspect_tc";
  const auto id_of_pin = [](const std::string& pin) {
    return corebpf::kernel::program_info(corebpf::kernel::open_pinned(pin).get()).id;
  };
  const std::uint32_t xdp_id = id_of_pin(xdp);
  const std::uint32_t tc_id = id_of_pin(tc);
  const bool tcx = corebpf::kernel::has_tcx_link();
  in_private_netns([&] {
    Outcome r = corebpf("net attach xdpgeneric pinned " + xdp + " dev lo");
    ASSERT_EQ(r.status, 0) << r.err;
    r = corebpf("net attach xdpgeneric pinned " + xdp + " dev lo");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("an XDP program is already attached (add 'overwrite' to replace it)"), std::string::npos)
        << r.err;
    r = corebpf("net attach xdpgeneric pinned " + xdp + " dev lo overwrite");
    EXPECT_EQ(r.status, 0) << r.err;
    if (tcx) {
      r = corebpf("net attach tcx_ingress pinned " + tc + " dev lo");
      EXPECT_EQ(r.status, 0) << r.err;
    }
    // A cls_bpf filter, made by the library, held while the listing runs.
    corebpf::Program program(corebpf::kernel::open_pinned(tc));
    corebpf::TcOptions options;
    options.egress = true;
    options.force_netlink = true;
    const corebpf::Link filter = program.attach_tc(1, options);

    r = corebpf("-j net list");
    ASSERT_EQ(r.status, 0) << r.err;
    const json listing = json::parse(r.out);
    EXPECT_EQ(listing[0]["xdp"],
              json::parse(fmt::format(R"([{{"devname":"lo","ifindex":1,"mode":"generic","id":{}}}])", xdp_id)));
    std::set<std::string> kinds;
    for (const json& entry : listing[0]["tc"]) {
      kinds.insert(entry["kind"].get<std::string>());
      EXPECT_EQ(entry.value("id", entry.value("prog_id", 0u)), tc_id) << entry;
    }
    std::set<std::string> expected_kinds = {"clsact/egress"};
    if (tcx) expected_kinds.insert("tcx/ingress");
    EXPECT_EQ(kinds, expected_kinds);
    EXPECT_EQ(corebpf("-j net list dev lo").out, r.out);
    if (corebpf::test::have_bpftool()) {
      EXPECT_EQ(without_tcx(listing), json::parse(run("bpftool -j net list").out));
      std::string text = corebpf("net list").out;
      text = std::regex_replace(text, std::regex("[^\n]* tcx/[^\n]*\n"), "");
      text = std::regex_replace(text, std::regex("netfilter:\n(\t[^\n]*\n)*\n"), "");
      EXPECT_EQ(text, run("bpftool net list").out);
    }

    EXPECT_EQ(corebpf("net detach xdpgeneric dev lo").status, 0);
    if (tcx) {
      EXPECT_EQ(corebpf("net detach tcx_ingress dev lo").status, 0);
    }
    const json after = json::parse(corebpf("-j net list").out);
    EXPECT_TRUE(after[0]["xdp"].empty()) << after;
    EXPECT_EQ(after[0]["tc"].size(), 1u) << after;  // the filter the library holds

    r = corebpf("net list dev no_such_dev0");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("there is no network device 'no_such_dev0' in this network namespace"), std::string::npos)
        << r.err;
    r = corebpf("net attach xdpfast pinned " + xdp + " dev lo");
    EXPECT_EQ(r.status, 2);
  });
}

}  // namespace

namespace {

// A cgroup2 hierarchy for the test: the system's, or one mounted on a temporary directory (the
// qemu guests' initramfs and containers have none); with a child cgroup of this process's own.
class TestCgroup2 {
 public:
  TestCgroup2() {
    std::ifstream mounts("/proc/self/mounts");
    for (std::string line; std::getline(mounts, line);) {
      std::istringstream fields(line);
      std::string device, mount_point, type;
      fields >> device >> mount_point >> type;
      if (type == "cgroup2") root_ = mount_point;
    }
    if (root_.empty()) {
      std::string dir = "/tmp/corebpf_cli_cgroup2_XXXXXX";
      if (::mkdtemp(dir.data()) == nullptr) return;
      if (::mount("cgroup2", dir.c_str(), "cgroup2", 0, nullptr) != 0) {
        ::rmdir(dir.c_str());
        return;
      }
      root_ = mounted_ = dir;
    }
    path_ = root_ + "/corebpf_cli_inspect_" + std::to_string(::getpid());
    if (::mkdir(path_.c_str(), 0755) != 0) path_.clear();
  }
  ~TestCgroup2() {
    if (!path_.empty()) ::rmdir(path_.c_str());
    if (!mounted_.empty()) {
      ::umount2(mounted_.c_str(), MNT_DETACH);
      ::rmdir(mounted_.c_str());
    }
  }
  const std::string& root() const { return root_; }
  const std::string& path() const { return path_; }

 private:
  std::string root_, mounted_, path_;
};

TEST_F(CliInspect, CgroupAttachShowTreeDetach) {
  const TestCgroup2 cgroup;
  if (cgroup.path().empty()) COREBPF_SKIP_OR_FAIL("no cgroup2 hierarchy and none could be mounted");
  loadall("cli_inspect");
  const std::string pin = dir_ + "/cli_inspect/inspect_egress";
  const std::uint32_t id = corebpf::kernel::program_info(corebpf::kernel::open_pinned(pin).get()).id;
  Outcome r = corebpf(fmt::format("cgroup attach {} egress pinned {} multi", cgroup.path(), pin));
  ASSERT_EQ(r.status, 0) << r.err;
  const json shown = json::parse(corebpf("-j cgroup show " + cgroup.path()).out);
  ASSERT_EQ(shown.size(), 1u) << shown;
  EXPECT_EQ(shown[0]["id"], id);
  EXPECT_EQ(shown[0]["attach_type"], "cgroup_inet_egress");
  EXPECT_EQ(shown[0]["attach_flags"], "multi");
  EXPECT_EQ(shown[0]["name"], "inspect_egress");
  const json tree = json::parse(corebpf("-j cgroup tree " + cgroup.root()).out);
  bool listed = false;
  for (const json& entry : tree)
    if (entry["cgroup"] == cgroup.path() && entry["programs"].size() == 1 && entry["programs"][0]["id"] == id)
      listed = true;
  EXPECT_TRUE(listed) << tree;
  if (corebpf::test::have_bpftool()) {
    for (const std::string& args : {"cgroup show " + cgroup.path(), "cgroup show " + cgroup.path() + " effective",
                                    "cgroup tree " + cgroup.path()}) {
      EXPECT_EQ(corebpf(args).out, run("bpftool " + args).out) << args;
      EXPECT_EQ(json::parse(corebpf("-j " + args).out), json::parse(run("bpftool -j " + args).out)) << args;
    }
  }
  r = corebpf(fmt::format("cgroup detach {} cgroup_inet_egress pinned {}", cgroup.path(), pin));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(corebpf("-j cgroup show " + cgroup.path()).out), json::array());
  r = corebpf(fmt::format("cgroup detach {} egress pinned {}", cgroup.path(), pin));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("from cgroup " + cgroup.path() + " (cgroup_inet_egress)"), std::string::npos) << r.err;
  r = corebpf(fmt::format("cgroup attach {} sideways pinned {}", cgroup.path(), pin));
  EXPECT_EQ(r.status, 2);
  r = corebpf("cgroup show /nonexistent/cgroup");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cgroup /nonexistent/cgroup"), std::string::npos) << r.err;
}

}  // namespace
