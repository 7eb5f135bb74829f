// The runtime commands (prog, map, link) against the running kernel, with tests/bpf/cli_maps.bpf.c:
// loadall's pins, prog/map show against bpftool, map update/lookup/dump round trips with the
// BTF-formatted JSON compared to expected values and to bpftool's `-j map dump`, autoattach and
// the link commands, `-d` showing the loader's steps, errors naming the object. Every test works
// in its own bpffs directory and removes it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "corebpf/kernel.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::test::shell_quote;
using nlohmann::json;

const std::string kObject = COREBPF_BPF_OBJECT_DIR "/cli_maps.bpf.o";
const std::string kCoreObject = COREBPF_BPF_OBJECT_DIR "/core_task.bpf.o";

using Outcome = corebpf::test::CommandOutcome;
Outcome run(const std::string& command) { return corebpf::test::run_capturing(command); }
Outcome corebpf(const std::string& args) { return corebpf::test::run_cli(args); }

// The bytes of a cli_value (see cli_maps.bpf.c) as `value hex ...` words: pid 12, comm "bash",
// flags 3, level 17, offset -2, state CLI_RUNNING, inner {8080, -1}, u 0x01020304, counts {1, 2},
// ptr 0xffff888000001000, ok true.
constexpr std::string_view kValueHex =
    "0c 00 00 00 62 61 73 68 00 00 00 00 00 00 00 00 00 00 00 00 8b 0e 00 00 01 00 00 00 90 1f ff 00 "
    "04 03 02 01 00 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 00 10 00 00 80 88 ff ff "
    "01 00 00 00 00 00 00 00";

const json kFormattedValue = json::parse(R"({"pid": 12, "comm": "bash", "flags": "0x3", "level": "0x11",
    "offset": "0xe", "state": "CLI_RUNNING", "inner": {"port": 8080, "delta": -1},
    "u": {"as_u32": 16909060, "as_bytes": [4, 3, 2, 1]}, "counts": [1, 2],
    "ptr": 18446612682070036480, "ok": true})");

class CliRuntime : public testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    COREBPF_REQUIRE_BPFFS();
    dir_ = corebpf::test::bpffs_path("cli");
    fs::remove_all(dir_);
    fs::create_directory(dir_);
    progs_ = dir_ + "/progs";
    maps_ = dir_ + "/maps";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // `prog loadall` of cli_maps with its maps pinned; asserts success.
  void loadall() {
    const Outcome r = corebpf(fmt::format("prog loadall {} {} pinmaps {}", kObject, progs_, maps_));
    ASSERT_EQ(r.status, 0) << r.err;
  }
  std::string map(const std::string& name) const { return "pinned " + maps_ + "/" + name; }

  std::string dir_;
  std::string progs_;
  std::string maps_;
};

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

TEST_F(CliRuntime, LoadallPinsEveryProgramAndMap) {
  loadall();
  EXPECT_EQ(names_in(progs_), (std::set<std::string>{"cli_on_getppid", "cli_socket"}));
  // '.' is not allowed in bpffs names: the .bss map is pinned as cli_maps_bss.
  EXPECT_EQ(names_in(maps_),
            (std::set<std::string>{"cli_counts", "cli_extras", "cli_maps_bss", "cli_percpu", "cli_values"}));

  // prog show of the pin: the same as bpftool says, text and JSON.
  const std::string pin = progs_ + "/cli_on_getppid";
  const Outcome ours = corebpf("-j prog show pinned " + pin);
  ASSERT_EQ(ours.status, 0) << ours.err;
  const json program = json::parse(ours.out);
  EXPECT_EQ(program["name"], "cli_on_getppid");
  EXPECT_EQ(program["type"], "tracepoint");
  EXPECT_EQ(program["map_ids"].size(), 4u);
  EXPECT_GT(program["btf_id"].get<int>(), 0);
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  const Outcome theirs = run("bpftool -j prog show pinned " + pin);
  ASSERT_EQ(theirs.status, 0) << theirs.err;
  json expected = json::parse(theirs.out);
  json actual = program;
  // Fields bpftool 7.1 does not print.
  actual.erase("verified_insns");
  EXPECT_EQ(actual, expected);
  const Outcome text = corebpf("prog show pinned " + pin);
  EXPECT_EQ(text.out, run("bpftool prog show pinned " + pin).out);

  // Every map of the object in `map show`, as bpftool shows it.
  for (const std::string name : {"cli_values", "cli_percpu", "cli_counts", "cli_extras", "cli_maps_bss"}) {
    const Outcome m = corebpf("-j map show " + map(name));
    ASSERT_EQ(m.status, 0) << m.err;
    EXPECT_EQ(json::parse(m.out), json::parse(run("bpftool -j map show " + map(name)).out)) << name;
  }
}

TEST_F(CliRuntime, LoadallMakesMissingDirectoriesAndUndoesAFailure) {
  Outcome r = corebpf(fmt::format("prog loadall {} {}/a/b pinmaps {}/c/d", kObject, dir_, dir_));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(names_in(dir_ + "/a/b"), (std::set<std::string>{"cli_on_getppid", "cli_socket"}));
  EXPECT_EQ(names_in(dir_ + "/c/d").size(), 5u);

  // The second program's pin is taken: everything this loadall made goes again, what was there
  // before stays.
  const std::string taken = dir_ + "/x/progs";
  fs::create_directories(taken);
  ASSERT_EQ(
      corebpf(fmt::format("map create {}/cli_socket type array key 4 value 4 entries 1 name cli_taken", taken)).status,
      0);
  r = corebpf(fmt::format("prog loadall {} {} pinmaps {}/x/maps/deeper", kObject, taken, dir_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(taken + "/cli_socket"), std::string::npos) << r.err;
  EXPECT_EQ(names_in(taken), std::set<std::string>{"cli_socket"});
  EXPECT_FALSE(fs::exists(dir_ + "/x/maps"));
  EXPECT_EQ(corebpf("map show pinned " + taken + "/cli_socket").status, 0);
  r = corebpf("map dump pinned " + dir_ + "/x/maps/deeper/cli_values");
  EXPECT_EQ(r.err, fmt::format("corebpf: nothing is pinned at {}/x/maps/deeper/cli_values\n", dir_));
}

TEST_F(CliRuntime, LoadPinsTheFirstProgramOnly) {
  const std::string pin = dir_ + "/first";
  const Outcome r = corebpf(fmt::format("prog load {} {} type tracepoint", kObject, pin));
  ASSERT_EQ(r.status, 0) << r.err;
  const json program = json::parse(corebpf("-j prog show pinned " + pin).out);
  EXPECT_EQ(program["name"], "cli_on_getppid");
  EXPECT_EQ(names_in(dir_), std::set<std::string>{"first"});
  // A second load at the same path fails, naming it, and leaves the first pin alone.
  const Outcome again = corebpf(fmt::format("prog load {} {}", kObject, pin));
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find(pin), std::string::npos) << again.err;
  EXPECT_TRUE(fs::exists(pin));
}

TEST_F(CliRuntime, MapUpdateLookupDumpRoundTrip) {
  loadall();
  const std::string values = map("cli_values");
  Outcome r = corebpf(fmt::format("map update {} key 1 0 0 0 value hex {}", values, kValueHex));
  ASSERT_EQ(r.status, 0) << r.err;
  // The same key spelled as hex words and in C notation.
  r = corebpf(fmt::format("-j map lookup {} key hex 01 00 00 00", values));
  ASSERT_EQ(r.status, 0) << r.err;
  const json entry = json::parse(r.out);
  EXPECT_EQ(entry["key"], json::parse(R"(["0x01", "0x00", "0x00", "0x00"])"));
  EXPECT_EQ(entry["formatted"]["key"], 1);
  EXPECT_EQ(entry["formatted"]["value"], kFormattedValue);
  r = corebpf(fmt::format("map lookup {} key 0x1 0 00 0", values));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("key: 1  value: {.pid = 12, .comm = \"bash\", .flags = 0x3, .level = 0x11, .offset = -2, "
                       ".state = CLI_RUNNING, .inner = {.port = 8080, .delta = -1}"),
            std::string::npos)
      << r.out;

  // The whole dump, as bpftool dumps it.
  r = corebpf("-j map dump " + values);
  ASSERT_EQ(r.status, 0) << r.err;
  const json dump = json::parse(r.out);
  ASSERT_EQ(dump.size(), 1u);
  EXPECT_EQ(dump[0], entry);
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  EXPECT_EQ(dump, json::parse(run("bpftool -j map dump " + values).out));

  // Delete, then the key is gone and a lookup names the map and the key.
  ASSERT_EQ(corebpf(fmt::format("map delete {} key 1 0 0 0", values)).status, 0);
  r = corebpf(fmt::format("map lookup {} key 1 0 0 0", values));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "corebpf: map 'cli_values': no element with key 0x01 0x00 0x00 0x00\n");
  EXPECT_EQ(corebpf("map dump " + values).out, "Found 0 elements\n");
}

TEST_F(CliRuntime, PerCpuAndGlobalDataDumpsMatchBpftool) {
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  loadall();
  const std::string percpu = map("cli_percpu");
  ASSERT_EQ(corebpf(fmt::format("map update {} key 1 0 0 0 value 5 0 0 0 0 0 0 0", percpu)).status, 0);
  Outcome r = corebpf("-j map dump " + percpu);
  ASSERT_EQ(r.status, 0) << r.err;
  const json dump = json::parse(r.out);
  EXPECT_EQ(dump, json::parse(run("bpftool -j map dump " + percpu).out));
  // The value given is set on every CPU.
  ASSERT_EQ(dump.size(), 2u);
  for (const json& cpu : dump[1]["formatted"]["values"]) EXPECT_EQ(cpu["value"], 5);
  EXPECT_NE(corebpf("map lookup " + percpu + " key 1 0 0 0").out.find("  cpu 0: 5\n"), std::string::npos);

  // .bss: a DATASEC value without a key type.
  const std::string bss = map("cli_maps_bss");
  ASSERT_EQ(corebpf(fmt::format("map update {} key 0 0 0 0 value 7 0 0 0 0 0 0 0 9 0 0 0", bss)).status, 0);
  r = corebpf("-j map dump " + bss);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(run("bpftool -j map dump " + bss).out));
  EXPECT_EQ(json::parse(r.out)[0]["formatted"],
            json::parse(R"({"value": {".bss": [{"cli_hits": 7}, {"cli_target_tgid": 9}]}})"));
  EXPECT_EQ(corebpf("map dump " + bss).out,
            "key: 00 00 00 00  value: {.cli_hits = 7, .cli_target_tgid = 9}\nFound 1 element\n");
}

TEST_F(CliRuntime, EnumsAndWideIntegersAsBpftoolShowsThem) {
  loadall();
  const std::string extras = map("cli_extras");
  // big = CLI_BIG_HUGE (an ENUM64 value past 32 bits), sign = CLI_NEGATIVE, wide = 0x99:1122334455667788,
  // narrow = 42; then values no enumerator has.
  Outcome r = corebpf(fmt::format(
      "map update {} key 0 0 0 0 value hex 00 00 00 00 00 01 00 00 fd ff ff ff 00 00 00 00 88 77 66 55 44 33 22 11 "
      "99 00 00 00 00 00 00 00 2a 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      extras));
  ASSERT_EQ(r.status, 0) << r.err;
  r = corebpf(fmt::format(
      "map update {} key 1 0 0 0 value hex 07 00 00 00 00 00 00 00 fb ff ff ff 00 00 00 00 00 00 00 00 00 00 00 00 "
      "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
      extras));
  ASSERT_EQ(r.status, 0) << r.err;
  r = corebpf("-j map dump " + extras);
  ASSERT_EQ(r.status, 0) << r.err;
  const json dump = json::parse(r.out);
  ASSERT_EQ(dump.size(), 2u);
  EXPECT_EQ(dump[0]["formatted"]["value"], json::parse(R"({"big": "CLI_BIG_HUGE", "sign": "CLI_NEGATIVE",
      "wide": "0x991122334455667788", "narrow": "0x2a"})"));
  EXPECT_EQ(dump[1]["formatted"]["value"], json::parse(R"({"big": 7, "sign": -5, "wide": "0x0", "narrow": "0x0"})"));
  EXPECT_EQ(corebpf("map lookup " + extras + " key 0 0 0 0").out,
            "key: 0  value: {.big = CLI_BIG_HUGE, .sign = CLI_NEGATIVE, .wide = 0x991122334455667788, .narrow = "
            "0x2a}\n");
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  EXPECT_EQ(dump, json::parse(run("bpftool -j map dump " + extras).out));
}

TEST_F(CliRuntime, ErrorsNameTheObject) {
  loadall();
  Outcome r = corebpf(fmt::format("map lookup {} key 1 0 0", map("cli_counts")));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "corebpf: key has 3 bytes, map 'cli_counts' wants 4\n");
  r = corebpf(fmt::format("map update {} key 1 0 0 0 value 1", map("cli_counts")));
  EXPECT_EQ(r.err, "corebpf: value has 1 byte, map 'cli_counts' wants 4\n");
  r = corebpf(fmt::format("map update {} key 1 0 0 0 value 0x100 0 0 0", map("cli_counts")));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("'0x100'"), std::string::npos) << r.err;
  r = corebpf("map show id 4294967295");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "corebpf: there is no map with id 4294967295\n");
  r = corebpf("prog show id 4294967295");
  EXPECT_EQ(r.err, "corebpf: there is no program with id 4294967295\n");
  r = corebpf("map dump pinned " + progs_ + "/cli_socket");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, fmt::format("corebpf: {}/cli_socket is not a pinned map\n", progs_));
  r = corebpf("map dump name no_such_map_here");
  EXPECT_EQ(r.err, "corebpf: there is no map named 'no_such_map_here'\n");
  // noexist on a key that exists: the kernel's EEXIST, with the map named.
  ASSERT_EQ(corebpf(fmt::format("map update {} key 1 0 0 0 value 1 0 0 0", map("cli_counts"))).status, 0);
  r = corebpf(fmt::format("map update {} key 1 0 0 0 value 1 0 0 0 noexist", map("cli_counts")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cli_counts"), std::string::npos) << r.err;
  // Without privileges (as nobody): one line saying so, naming what was asked for.
  if (corebpf::test::run_command("command -v setpriv >/dev/null") == 0) {
    const std::string nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    r = run(nobody + corebpf::test::cli_path().string() + " prog list");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err,
              "corebpf: listing the kernel's programs: not permitted (run as root, or with CAP_BPF and "
              "CAP_SYS_ADMIN)\n");
    r = run(nobody + corebpf::test::cli_path().string() + " map show id 1");
    EXPECT_EQ(r.err, "corebpf: map id 1: not permitted (run as root, or with CAP_BPF and CAP_SYS_ADMIN)\n");
  }
  r = corebpf(fmt::format("map update {} key 1 0 0 0 value 1 0 0 0 noexist", map("cli_counts")));
  // Exactly one line on stderr each time.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(CliRuntime, AutoattachPinsLinksThatOutliveTheCommand) {
  const Outcome load = corebpf(fmt::format("prog loadall {} {} pinmaps {} autoattach", kObject, progs_, maps_));
  ASSERT_EQ(load.status, 0) << load.err;
  // The tracepoint program is attached and its link pinned; the socket filter has no target.
  EXPECT_EQ(names_in(progs_), (std::set<std::string>{"cli_on_getppid", "cli_on_getppid_link", "cli_socket"}));
  const json program = json::parse(corebpf("-j prog show pinned " + progs_ + "/cli_on_getppid").out);
  Outcome r = corebpf("-j link show pinned " + progs_ + "/cli_on_getppid_link");
  ASSERT_EQ(r.status, 0) << r.err;
  const json link = json::parse(r.out);
  EXPECT_EQ(link["prog_id"], program["id"]);
  EXPECT_EQ(link["type"], "perf_event");
  bool listed = false;
  for (const json& entry : json::parse(corebpf("-j link list").out)) listed |= entry["id"] == link["id"];
  EXPECT_TRUE(listed);
  EXPECT_NE(corebpf("link list")
                .out.find(fmt::format("{}: perf_event  prog {}", link["id"].get<int>(), program["id"].get<int>())),
            std::string::npos);

  // The attachment works after loadall has exited: getppid() from this process is counted.
  const auto tgid = static_cast<std::uint32_t>(::getpid());
  ASSERT_EQ(corebpf(fmt::format("map update {} key 0 0 0 0 value 0 0 0 0 0 0 0 0 {} {} {} {}", map("cli_maps_bss"),
                                tgid & 0xff, (tgid >> 8) & 0xff, (tgid >> 16) & 0xff, tgid >> 24))
                .status,
            0);
  for (int i = 0; i < 3; ++i) ::getppid();
  const auto counted = [&] {
    return json::parse(corebpf("-j map lookup " + map("cli_counts") + " key 0 0 0 0").out)["formatted"]["value"];
  };
  EXPECT_EQ(counted(), 3);

  // A perf_event link has no kernel detach: the command says so; removing the pin ends it.
  const std::string link_pin = progs_ + "/cli_on_getppid_link";
  r = corebpf("link detach pinned " + link_pin);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, fmt::format("corebpf: link {} (perf_event): the kernel cannot detach this type of link; it ends "
                               "when its pins are removed and no process holds it\n",
                               link["id"].get<int>()));
  ::getppid();
  EXPECT_EQ(counted(), 4);
  fs::remove(link_pin);
  // The kernel frees the link from a work queue once its last reference goes, its id first and
  // then the perf event: wait for the id to disappear, then until a getppid() is no longer
  // counted (conditions, not times). Once off, it stays off.
  const auto link_id = link["id"].get<std::uint32_t>();
  for (int i = 0; i < 500 && corebpf::kernel::try_open_by_id(corebpf::kernel::ObjectType::link, link_id); ++i)
    ::usleep(10'000);
  EXPECT_FALSE(corebpf::kernel::try_open_by_id(corebpf::kernel::ObjectType::link, link_id));
  json last = counted();
  for (int i = 0; i < 500; ++i) {
    ::getppid();
    const json now = counted();
    if (now == last) break;
    last = now;
  }
  ::getppid();
  ::getppid();
  EXPECT_EQ(counted(), last);
  r = corebpf(fmt::format("link show id {}", link_id));
  EXPECT_EQ(r.err, fmt::format("corebpf: there is no link with id {}\n", link_id));
}

TEST_F(CliRuntime, DebugLogShowsTheLoadersSteps) {
  const Outcome r = corebpf(fmt::format("-d prog load {} {}", kCoreObject, dir_ + "/core"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("program 'record_task' in section tracepoint/syscalls/sys_enter_getppid: tracepoint, "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("program 'record_task': 7 CO-RE relocations against the running kernel"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("CO-RE relocation insn 2 byte_off task_struct.tgid: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(".bss' created: array, key 4B, value 48B, max_entries 1, with BTF"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("program 'record_task' (tracepoint, section tracepoint/syscalls/sys_enter_getppid) loaded: "),
            std::string::npos)
      << r.err;
  // kernel_btf: the relocations are computed against that file instead.
  const Outcome against =
      corebpf(fmt::format("-d prog load {} {} kernel_btf /sys/kernel/btf/vmlinux", kCoreObject, dir_ + "/core_btf"));
  ASSERT_EQ(against.status, 0) << against.err;
  EXPECT_NE(against.err.find("7 CO-RE relocations against /sys/kernel/btf/vmlinux"), std::string::npos) << against.err;
  // Without -d, nothing on stderr.
  const Outcome quiet = corebpf(fmt::format("prog load {} {}", kCoreObject, dir_ + "/core2"));
  ASSERT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.err, "");
}

TEST_F(CliRuntime, MapAndProgPin) {
  loadall();
  const json values = json::parse(corebpf("-j map show " + map("cli_values")).out);
  Outcome r = corebpf(fmt::format("map pin id {} {}", values["id"].get<int>(), dir_ + "/values_again"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(corebpf("-j map show pinned " + dir_ + "/values_again").out)["id"], values["id"]);
  r = corebpf(fmt::format("prog pin name cli_socket {}", dir_ + "/socket_again"));
  // Other tests' programs may share the name; a unique one pins.
  if (r.status == 0) {
    EXPECT_EQ(json::parse(corebpf("-j prog show pinned " + dir_ + "/socket_again").out)["name"], "cli_socket");
  } else {
    EXPECT_NE(r.err.find("name one by id"), std::string::npos) << r.err;
  }
}

TEST_F(CliRuntime, QueueGetnextFreezeAndMapsOfMaps) {
  loadall();
  // A queue made by the CLI, pinned: values come out in order, then "empty".
  const std::string queue = dir_ + "/queue";
  Outcome r = corebpf(fmt::format("map create {} type queue key 0 value 4 entries 4 name cli_queue", queue));
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(corebpf("map push pinned " + queue + " value 1 0 0 0").status, 0);
  ASSERT_EQ(corebpf("map enqueue pinned " + queue + " value hex 02 00 00 00").status, 0);
  EXPECT_EQ(corebpf("map peek pinned " + queue).out, "value: 01 00 00 00\n");
  EXPECT_EQ(json::parse(corebpf("-j map pop pinned " + queue).out)["value"],
            json::parse(R"(["0x01", "0x00", "0x00", "0x00"])"));
  EXPECT_EQ(corebpf("map dequeue pinned " + queue).out, "value: 02 00 00 00\n");
  r = corebpf("map pop pinned " + queue);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "corebpf: map 'cli_queue' is empty\n");
  r = corebpf("map dump pinned " + queue);
  EXPECT_EQ(r.err,
            "corebpf: map 'cli_queue' (queue) cannot be dumped: its values have no keys: read them with 'map "
            "peek' or 'map pop'\n");

  // getnext walks an array's keys.
  const std::string counts = map("cli_counts");
  EXPECT_EQ(corebpf("map getnext " + counts).out, "key: None\nnext key: 00 00 00 00\n");
  EXPECT_EQ(corebpf("map getnext " + counts + " key 1 0 0 0").out, "key: 01 00 00 00\nnext key: 02 00 00 00\n");
  r = corebpf("map getnext " + counts + " key 3 0 0 0");
  EXPECT_EQ(r.err, "corebpf: map 'cli_counts': no key after 0x03 0x00 0x00 0x00\n");

  // freeze: user space can no longer write; show says so, as bpftool does.
  const std::string frozen = dir_ + "/frozen";
  ASSERT_EQ(corebpf(fmt::format("map create {} type hash key 4 value 4 entries 2 name cli_frozen", frozen)).status, 0);
  ASSERT_EQ(corebpf("map update pinned " + frozen + " key 1 0 0 0 value 2 0 0 0").status, 0);
  ASSERT_EQ(corebpf("map freeze pinned " + frozen).status, 0);
  r = corebpf("map update pinned " + frozen + " key 1 0 0 0 value 3 0 0 0");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cli_frozen"), std::string::npos) << r.err;
  const json shown = json::parse(corebpf("-j map show pinned " + frozen).out);
  EXPECT_EQ(shown["frozen"], 1);

  // An array of maps holding cli_counts: the dump gives the inner map's id.
  const std::string outer = dir_ + "/outer";
  r = corebpf(fmt::format("map create {} type array_of_maps key 4 value 4 entries 2 name cli_outer inner_map {}", outer,
                          counts));
  ASSERT_EQ(r.status, 0) << r.err;
  r = corebpf(fmt::format("map update pinned {} key 0 0 0 0 value {}", outer, counts));
  ASSERT_EQ(r.status, 0) << r.err;
  const json dump = json::parse(corebpf("-j map dump pinned " + outer).out);
  ASSERT_EQ(dump.size(), 1u);
  EXPECT_EQ(dump[0]["inner_map_id"], json::parse(corebpf("-j map show " + counts).out)["id"]);
  // A prog array takes a program as its value; a lookup gives the program's id.
  const std::string jumps = dir_ + "/jumps";
  ASSERT_EQ(corebpf(fmt::format("map create {} type prog_array key 4 value 4 entries 2 name cli_jumps", jumps)).status,
            0);
  r = corebpf(fmt::format("map update pinned {} key 1 0 0 0 value pinned {}/cli_socket", jumps, progs_));
  ASSERT_EQ(r.status, 0) << r.err;
  const auto socket_id =
      json::parse(corebpf("-j prog show pinned " + progs_ + "/cli_socket").out)["id"].get<std::uint32_t>();
  const json jump = json::parse(corebpf("-j map lookup pinned " + jumps + " key 1 0 0 0").out);
  EXPECT_EQ(jump["value"],
            json::parse(fmt::format(R"(["0x{:02x}", "0x{:02x}", "0x{:02x}", "0x{:02x}"])", socket_id & 0xff,
                                    (socket_id >> 8) & 0xff, (socket_id >> 16) & 0xff, socket_id >> 24)));

  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  EXPECT_EQ(shown, json::parse(run("bpftool -j map show pinned " + frozen).out));
  // bpftool 7.1 leaves out inner_map_id (newer bpftools print it).
  json without_inner = dump;
  without_inner[0].erase("inner_map_id");
  EXPECT_EQ(without_inner, json::parse(run("bpftool -j map dump pinned " + outer).out));
}

// Per-program verifier log levels (ObjectOptions::program_log_levels).
TEST(ObjectLogLevels, OnlyTheNamedProgramGetsAVerifierLog) {
  COREBPF_REQUIRE_ROOT();
  corebpf::ObjectOptions options;
  options.program_log_levels["cli_socket"] = 2;
  auto object = corebpf::Object::open(kObject, options);
  object.load();
  EXPECT_NE(object.verifier_log("cli_socket").find("processed"), std::string::npos)
      << object.verifier_log("cli_socket");
  EXPECT_EQ(object.verifier_log("cli_on_getppid"), "");
}

}  // namespace
