// What the CLI says about who uses the kernel's BPF objects: `pids` in prog/map/link show (a child
// process holding the objects must appear, found by our task_file iterator and by /proc alike),
// `-f` pinned paths (against bpftool 7.1), `perf list` (the test's own tracepoint, raw tracepoint,
// uprobe and, where kprobes exist, kprobe, against bpftool 7.1 field by field) and `btf dump prog`
// / `btf dump map` (against bpftool 7.1).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/object_refs.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::kernel::ObjectType;
using corebpf::test::shell_quote;
using nlohmann::json;

const std::string kMapsObject = COREBPF_BPF_OBJECT_DIR "/cli_maps.bpf.o";
const std::string kTracingObject = COREBPF_BPF_OBJECT_DIR "/attach_tracing.bpf.o";
const std::string kUprobeObject = COREBPF_BPF_OBJECT_DIR "/attach_uprobe.bpf.o";

using Outcome = corebpf::test::CommandOutcome;
Outcome run(const std::string& command) { return corebpf::test::run_capturing(command); }
Outcome corebpf(const std::string& args) { return corebpf::test::run_cli(args); }

// A child of the test that holds every fd the test had when it forked, under its own name.
class HoldingChild {
 public:
  explicit HoldingChild(const char* name) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_NAME, name);
      ::close(ready[0]);
      (void)!::write(ready[1], "r", 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char byte = 0;
    (void)!::read(ready[0], &byte, 1);
    ::close(ready[0]);
  }
  HoldingChild(const HoldingChild&) = delete;
  HoldingChild& operator=(const HoldingChild&) = delete;
  ~HoldingChild() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

bool holds(const json& object, pid_t pid, const std::string& comm) {
  if (!object.contains("pids")) return false;
  for (const json& holder : object["pids"])
    if (holder["pid"] == pid && holder["comm"] == comm) return true;
  return false;
}

class CliRefs : public testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    COREBPF_REQUIRE_BPFFS();
    dir_ = corebpf::test::bpffs_path("refs");
    fs::remove_all(dir_);
    fs::create_directory(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(CliRefs, PidsNameAChildHoldingTheObjects) {
  corebpf::Object object = corebpf::Object::open(kMapsObject);
  object.load();
  corebpf::Link link = object.program("cli_on_getppid").attach();
  const std::uint32_t map_id = object.map("cli_counts").info().id;
  const std::uint32_t prog_id = object.program("cli_on_getppid").info().id;
  const std::uint32_t link_id = link.info().id;
  HoldingChild child("refs_child");
  ASSERT_GT(child.pid(), 0);

  // Both ways of finding holders see the child (this process is left out of its own listing).
  std::vector<corebpf::cli::ObjectHolders> ways = {corebpf::cli::ObjectHolders::find_in_procfs()};
  if (corebpf::kernel::has_feature(corebpf::kernel::Feature::task_file_iterator))
    ways.push_back(corebpf::cli::ObjectHolders::find_with_iterator());
  const corebpf::cli::Holder expected{child.pid(), "refs_child"};
  for (const auto& holders : ways) {
    SCOPED_TRACE(holders.source() == corebpf::cli::ObjectHolders::Source::iterator ? "iterator" : "procfs");
    for (const auto& [type, id] : {std::pair{ObjectType::map, map_id}, std::pair{ObjectType::program, prog_id},
                                   std::pair{ObjectType::link, link_id}}) {
      const auto found = holders.of(type, id);
      EXPECT_NE(std::find(found.begin(), found.end(), expected), found.end()) << "id " << id;
      EXPECT_EQ(std::count_if(found.begin(), found.end(), [](const auto& h) { return h.pid == ::getpid(); }), 0)
          << "the reader lists itself";
    }
  }
  if (ways.size() == 2) {
    EXPECT_EQ(std::vector(ways[0].of(ObjectType::map, map_id).begin(), ways[0].of(ObjectType::map, map_id).end()),
              std::vector(ways[1].of(ObjectType::map, map_id).begin(), ways[1].of(ObjectType::map, map_id).end()));
  }

  // The commands: the child and the test process (which holds the objects too), text and JSON.
  const std::string test_comm = [] {
    std::ifstream in("/proc/self/comm");
    std::string comm;
    std::getline(in, comm);
    return comm;
  }();
  for (const auto& [noun, id] : {std::pair{"map", map_id}, std::pair{"prog", prog_id}, std::pair{"link", link_id}}) {
    const Outcome json_out = corebpf(fmt::format("-j {} show id {}", noun, id));
    ASSERT_EQ(json_out.status, 0) << json_out.err;
    const json shown = json::parse(json_out.out);
    EXPECT_TRUE(holds(shown, child.pid(), "refs_child")) << json_out.out;
    EXPECT_TRUE(holds(shown, ::getpid(), test_comm)) << json_out.out;
    const Outcome text = corebpf(fmt::format("{} show id {}", noun, id));
    ASSERT_EQ(text.status, 0) << text.err;
    EXPECT_NE(text.out.find("\tpids "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(fmt::format("refs_child({})", child.pid())), std::string::npos) << text.out;
  }
}

TEST_F(CliRefs, PinnedPathsMatchBpftool) {
  corebpf::Object object = corebpf::Object::open(kMapsObject);
  object.load();
  const std::string map_pin = dir_ + "/counts";
  const std::string map_pin2 = dir_ + "/counts_again";
  const std::string prog_pin = dir_ + "/prog";
  const std::string link_pin = dir_ + "/link";
  object.map("cli_counts").pin(map_pin);
  object.map("cli_counts").pin(map_pin2);
  object.program("cli_on_getppid").pin(prog_pin);
  corebpf::Link link = object.program("cli_on_getppid").attach();
  link.pin(link_pin);

  const auto pinned_of = [](const Outcome& outcome) {
    EXPECT_EQ(outcome.status, 0) << outcome.err;
    return json::parse(outcome.out)["pinned"];
  };
  json map_pins = pinned_of(corebpf("-j -f map show pinned " + map_pin));
  std::sort(map_pins.begin(), map_pins.end());  // listed in the directory walk's order
  EXPECT_EQ(map_pins, json({map_pin, map_pin2}));
  EXPECT_EQ(pinned_of(corebpf("-j --bpffs prog show pinned " + prog_pin)), json({prog_pin}));
  EXPECT_EQ(pinned_of(corebpf("-j -f link show pinned " + link_pin)), json({link_pin}));
  const Outcome text = corebpf("-f map show pinned " + map_pin);
  EXPECT_NE(text.out.find(fmt::format("\n\tpinned {}\n", map_pin)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(fmt::format("\n\tpinned {}\n", map_pin2)), std::string::npos) << text.out;
  // Without -f, no pinned paths.
  EXPECT_EQ(corebpf("map show pinned " + map_pin).out.find("pinned"), std::string::npos);

  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  // bpftool 7.1 (no pids: it is built without skeletons) says the same, text and JSON.
  for (const std::string& args : {"map show pinned " + map_pin, "prog show pinned " + prog_pin}) {
    SCOPED_TRACE(args);
    // Both list a map's pins in a directory walk's order, which is the file system's: compared
    // as sets.
    auto sorted_pins = [](json shown) {
      if (shown.contains("pinned")) std::sort(shown["pinned"].begin(), shown["pinned"].end());
      return shown;
    };
    auto sorted_lines = [](const std::string& text) {
      std::vector<std::string> lines;
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
      std::sort(lines.begin(), lines.end());
      return fmt::format("{}", fmt::join(lines, "\n"));
    };
    json ours = json::parse(corebpf("-j -f " + args).out);
    ours.erase("pids");
    ours.erase("verified_insns");  // bpftool 7.1 does not print it
    const json theirs = json::parse(run("bpftool -j -f " + args).out);
    EXPECT_EQ(sorted_pins(ours), sorted_pins(theirs));
    std::string ours_text = corebpf("-f " + args).out;
    const auto pids = ours_text.find("\tpids ");
    if (pids != std::string::npos) ours_text.erase(pids, ours_text.find('\n', pids) + 1 - pids);
    EXPECT_EQ(corebpf::test::first_difference(sorted_lines(ours_text), sorted_lines(run("bpftool -f " + args).out)),
              "");
  }
  const json theirs_link = json::parse(run("bpftool -j -f link show pinned " + link_pin).out);
  EXPECT_EQ(theirs_link["pinned"], json({link_pin}));
}

TEST_F(CliRefs, BtfDumpOfProgramAndMapMatchesBpftool) {
  corebpf::Object object = corebpf::Object::open(kMapsObject);
  object.load();
  const std::string map_pin = dir_ + "/values";
  const std::string prog_pin = dir_ + "/prog";
  object.map("cli_values").pin(map_pin);
  object.program("cli_on_getppid").pin(prog_pin);

  // Ours alone: the key and value types of cli_values, and the whole BTF of the program.
  const Outcome value = corebpf("btf dump map pinned " + map_pin + " value format c");
  ASSERT_EQ(value.status, 0) << value.err;
  EXPECT_NE(value.out.find("struct cli_value {"), std::string::npos) << value.out;
  const Outcome kv = corebpf("btf dump map pinned " + map_pin);
  ASSERT_EQ(kv.status, 0) << kv.err;
  EXPECT_NE(kv.out.find("TYPEDEF '__u32'"), std::string::npos) << kv.out;
  EXPECT_NE(kv.out.find("STRUCT 'cli_value'"), std::string::npos) << kv.out;
  const Outcome prog = corebpf("btf dump prog pinned " + prog_pin);
  ASSERT_EQ(prog.status, 0) << prog.err;
  EXPECT_NE(prog.out.find("FUNC 'cli_on_getppid'"), std::string::npos);
  // (The C of a whole program BTF is the dumper's, compared with bpftool by the btf tests: it
  // differs in spellings such as 64-bit enum values.)
  const Outcome prog_c = corebpf("btf dump prog pinned " + prog_pin + " format c");
  ASSERT_EQ(prog_c.status, 0) << prog_c.err;
  EXPECT_NE(prog_c.out.find("struct cli_value {"), std::string::npos);

  // Errors name the object and the reason.
  const Outcome missing = corebpf("btf dump map name corebpf_no_such_map");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("corebpf_no_such_map"), std::string::npos) << missing.err;

  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  const std::string map = "map pinned " + map_pin;
  for (const std::string& args : {map, map + " key", map + " value", map + " kv", map + " all", map + " format c",
                                  map + " value format c", "prog pinned " + prog_pin}) {
    SCOPED_TRACE(args);
    const Outcome ours = corebpf("btf dump " + args);
    ASSERT_EQ(ours.status, 0) << ours.err;
    EXPECT_EQ(corebpf::test::first_difference(ours.out, run("bpftool btf dump " + args).out), "");
  }
  for (const std::string& args : {map, map + " all", "prog pinned " + prog_pin}) {
    SCOPED_TRACE(args);
    EXPECT_EQ(json::parse(corebpf("-j btf dump " + args).out), json::parse(run("bpftool -j btf dump " + args).out));
  }
}

extern "C" __attribute__((noinline, used)) int cli_refs_uprobe_target(int a, int b) {
  asm volatile("" ::: "memory");
  return a + b;
}

TEST_F(CliRefs, PerfListShowsTheTestsAttachments) {
  COREBPF_REQUIRE_PROGRAMS(kTracingObject, "on_getppid", "on_raw_sys_enter");
  COREBPF_REQUIRE_PROGRAMS(kUprobeObject, "on_add");
  corebpf::Object tracing = corebpf::Object::open(kTracingObject);
  const bool kprobes = corebpf::kernel::has_feature(corebpf::kernel::Feature::kprobes);
  for (auto& program : tracing.spec().programs()) {
    const std::string name = program.name();
    program.set_autoload(name == "on_getppid" || name == "on_raw_sys_enter" || (kprobes && name == "on_openat2"));
  }
  tracing.load();
  corebpf::Object uprobes = corebpf::Object::open(kUprobeObject);
  for (auto& program : uprobes.spec().programs()) program.set_autoload(program.name() == "on_add");
  uprobes.load();

  std::vector<corebpf::Link> links;
  links.push_back(tracing.program("on_getppid").attach_tracepoint("syscalls", "sys_enter_getppid"));
  links.push_back(tracing.program("on_raw_sys_enter").attach_raw_tracepoint("sys_enter"));
  links.push_back(uprobes.program("on_add").attach_uprobe("/proc/self/exe", {.function = "cli_refs_uprobe_target"}));
  if (kprobes) links.push_back(tracing.program("on_openat2").attach_kprobe("do_sys_openat2"));

  const Outcome listing = corebpf("-j perf list");
  ASSERT_EQ(listing.status, 0) << listing.err;
  json ours = json::array();
  for (const json& entry : json::parse(listing.out))
    if (entry["pid"] == ::getpid()) ours.push_back(entry);
  const auto find = [&](const std::string& type, std::uint32_t prog_id) -> json {
    for (const json& entry : ours)
      if (entry["fd_type"] == type && entry["prog_id"] == prog_id) return entry;
    return nullptr;
  };
  const json tp = find("tracepoint", tracing.program("on_getppid").info().id);
  ASSERT_FALSE(tp.is_null()) << listing.out;
  EXPECT_EQ(tp["tracepoint"], "sys_enter_getppid");
  const json raw = find("raw_tracepoint", tracing.program("on_raw_sys_enter").info().id);
  ASSERT_FALSE(raw.is_null()) << listing.out;
  EXPECT_EQ(raw["tracepoint"], "sys_enter");
  const json up = find("uprobe", uprobes.program("on_add").info().id);
  ASSERT_FALSE(up.is_null()) << listing.out;
  EXPECT_FALSE(up["filename"].get<std::string>().empty());
  EXPECT_GT(up["offset"].get<std::uint64_t>(), 0u);
  if (kprobes) {
    const json kp = find("kprobe", tracing.program("on_openat2").info().id);
    ASSERT_FALSE(kp.is_null()) << listing.out;
    EXPECT_EQ(kp["func"], "do_sys_openat2");
    EXPECT_EQ(kp["offset"], 0);
  }
  // The text form names the same fds.
  const Outcome text = corebpf("perf list");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find(fmt::format("pid {}  fd {}: prog_id {}  tracepoint  sys_enter_getppid\n", ::getpid(),
                                      tp["fd"].get<int>(), tp["prog_id"].get<int>())),
            std::string::npos)
      << text.out;

  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  json theirs = json::array();
  for (const json& entry : json::parse(run("bpftool -j perf list").out))
    if (entry["pid"] == ::getpid()) theirs.push_back(entry);
  EXPECT_EQ(ours, theirs);
  std::string our_lines, their_lines;
  const std::string prefix = fmt::format("pid {}  ", ::getpid());
  for (const auto& [from, to] :
       {std::pair{text.out, &our_lines}, std::pair{run("bpftool perf list").out, &their_lines}}) {
    std::istringstream in(from);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with(prefix)) *to += line + "\n";
  }
  EXPECT_EQ(corebpf::test::first_difference(our_lines, their_lines), "");
}

TEST(CliRefsUsage, PerfListTakesNoArguments) {
  const Outcome r = corebpf("perf list extra");
  EXPECT_EQ(r.status, 2) << r.err;
}

}  // namespace
