// prog tracelog / run / attach / detach, struct_ops show / dump / register / unregister and iter pin
// against the running kernel (and the qemu guests), with tests/bpf/cli_progcmds.bpf.c,
// attach_net.bpf.c and the cli_struct_ops builds of struct_ops.bpf.c; bpftool 7.1 as the oracle
// where it does the same. Capabilities (struct_ops, struct_ops links, map iterators) by probe.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <functional>
#include "corebpf/features.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/map.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::test::shell_quote;
using nlohmann::json;

const std::string kObjects = COREBPF_BPF_OBJECT_DIR;
const std::string kProgcmds = kObjects + "/cli_progcmds.bpf.o";

using Outcome = corebpf::test::CommandOutcome;
Outcome run(const std::string& command) { return corebpf::test::run_capturing(command); }
Outcome corebpf(const std::string& args) { return corebpf::test::run_cli(args); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class CliProgcmds : public testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    COREBPF_REQUIRE_BPFFS();
    dir_ = corebpf::test::bpffs_path("progcmds");
    fs::remove_all(dir_);
    fs::create_directory(dir_);
    files_ = fs::temp_directory_path() / fmt::format("corebpf_cli_progcmds_{}", ::getpid());
    fs::create_directories(files_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!files_.empty()) fs::remove_all(files_);
  }
  std::string file(const std::string& name) const { return (files_ / name).string(); }

  std::string dir_;
  fs::path files_;
};

// ---- prog tracelog

// `corebpf [flags] prog tracelog` as a child whose output is read until `wanted` appears (while
// `trigger` runs every 50 ms), then SIGINT or SIGTERM; returns the output and the exit status.
struct Followed {
  std::string out;
  bool seen = false;
  int status = -1;
};
Followed follow_tracelog(const std::string& flags, const std::string& wanted, int stop_signal,
                         const std::function<void()>& trigger) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  const std::string cli = corebpf::test::cli_path().string();
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(pipe_fds[1], 1);
    std::vector<std::string> words = {cli};
    if (!flags.empty()) words.push_back(flags);
    words.emplace_back("prog");
    words.emplace_back("tracelog");
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    ::execv(cli.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  Followed result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char chunk[4096];
  while (!result.seen && std::chrono::steady_clock::now() < deadline) {
    trigger();
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    const ssize_t n = ::read(pipe_fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    result.out.append(chunk, static_cast<std::size_t>(n));
    result.seen = result.out.find(wanted) != std::string::npos;
  }
  ::kill(child, stop_signal);
  for (ssize_t n; (n = ::read(pipe_fds[0], chunk, sizeof chunk)) > 0;)
    result.out.append(chunk, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

TEST_F(CliProgcmds, TracelogFollowsBpfPrintkUntilSignalled) {
  corebpf::Object object = corebpf::Object::open(kProgcmds);
  for (auto& program : object.spec().programs()) program.set_autoload(program.name() == "cli_printk");
  object.load();
  const corebpf::Link link = object.program("cli_printk").attach();
  const std::string wanted = fmt::format("corebpf-tracelog pid {}", ::getpid());
  const auto trigger = [] { ::syscall(SYS_getpgid, 0); };

  const Followed text = follow_tracelog("", wanted, SIGINT, trigger);
  EXPECT_TRUE(text.seen) << text.out;
  EXPECT_EQ(text.status, 0) << "SIGINT ends tracelog cleanly";
  EXPECT_NE(text.out.find("bpf_trace_printk: " + wanted), std::string::npos) << text.out;

  // -j: a JSON array of the lines, closed when SIGTERM ends it.
  const Followed listed = follow_tracelog("-j", wanted, SIGTERM, trigger);
  EXPECT_TRUE(listed.seen) << listed.out;
  EXPECT_EQ(listed.status, 0);
  const json lines = json::parse(listed.out);
  ASSERT_TRUE(lines.is_array());
  bool found = false;
  for (const json& line : lines) found = found || line.get<std::string>().find(wanted) != std::string::npos;
  EXPECT_TRUE(found) << listed.out;

  EXPECT_EQ(corebpf("prog tracelog extra").status, 2);
}

// ---- prog run

TEST_F(CliProgcmds, RunTestRunsLikeBpftool) {
  Outcome r = corebpf(fmt::format("prog loadall {} {}", kProgcmds, dir_ + "/p"));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string xdp = "pinned " + dir_ + "/p/cli_xdp_rewrite";
  std::vector<unsigned char> frame(23);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<unsigned char>(0x41 + i);
  write_bytes(file("in"), frame);
  // The program swaps the MAC addresses and adds 1 to byte 14.
  std::vector<unsigned char> expected = frame;
  std::swap_ranges(expected.begin(), expected.begin() + 6, expected.begin() + 6);
  expected[14] += 1;

  r = corebpf(fmt::format("prog run {} data_in {} data_out {}", xdp, file("in"), file("out")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("Return value: 3, duration: ")) << r.out;  // XDP_TX
  const std::string out = read_text(file("out"));
  EXPECT_EQ(std::vector<unsigned char>(out.begin(), out.end()), expected);

  r = corebpf(fmt::format("-j prog run {} data_in {} data_out - repeat 1", xdp, file("in")));
  ASSERT_EQ(r.status, 0) << r.err;
  const json result = json::parse(r.out);
  EXPECT_EQ(result["retval"], 3);
  EXPECT_EQ(result["data_out"], json(expected));
  EXPECT_TRUE(result["duration"].is_number());

  // Standard input in, a hex dump out; repeat averages.
  r = run(fmt::format("{} prog run {} data_in - data_out - repeat 4 <{}", corebpf::test::cli_path().string(), xdp,
                      file("in")));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Return value: 3, duration (average): "), std::string::npos) << r.out;

  // The context: cli_tc_mark adds the first byte to the mark given in and returns the length.
  std::vector<unsigned char> skb(48, 0);  // struct __sk_buff up to and with cb[]
  skb[8] = 0xe8;                          // mark 1000
  skb[9] = 0x03;
  write_bytes(file("ctx"), skb);
  r = corebpf(
      fmt::format("-j prog run pinned {}/p/cli_tc_mark data_in {} ctx_in {} ctx_out -", dir_, file("in"), file("ctx")));
  ASSERT_EQ(r.status, 0) << r.err;
  const json marked = json::parse(r.out);
  EXPECT_EQ(marked["retval"], frame.size());
  // The kernel gives back its whole struct __sk_buff, whatever part came in.
  ASSERT_GE(marked["ctx_out"].size(), skb.size());
  EXPECT_EQ(marked["ctx_out"][8].get<int>() + 256 * marked["ctx_out"][9].get<int>(), 1000 + 0x41);

  // Errors name the program or file and the reason.
  r = corebpf(fmt::format("prog run {} data_in {}", xdp, file("missing")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(file("missing")), std::string::npos) << r.err;
  r = corebpf(fmt::format("prog run pinned {}/p/cli_printk data_in {}", dir_, file("in")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("program 'cli_printk'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot test-run tracepoint programs"), std::string::npos) << r.err;
  r = corebpf(fmt::format("prog run {} data_in {} data_out - data_size_out 4", xdp, file("in")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cli_xdp_rewrite"), std::string::npos) << r.err;
  EXPECT_EQ(corebpf(fmt::format("prog run {}", xdp)).status, 2);

  // bpftool 7.1: the same return value, bytes and hex dump.
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  const Outcome theirs = run(fmt::format("bpftool prog run {} data_in {} data_out -", xdp, file("in")));
  ASSERT_EQ(theirs.status, 0) << theirs.err;
  const Outcome ours = corebpf(fmt::format("prog run {} data_in {} data_out -", xdp, file("in")));
  const auto without_duration = [](const std::string& text) { return text.substr(0, text.find(", duration")); };
  EXPECT_EQ(without_duration(ours.out), without_duration(theirs.out));
  const json their_json =
      json::parse(run(fmt::format("bpftool -j prog run {} data_in {} data_out -", xdp, file("in"))).out);
  EXPECT_EQ(their_json["retval"], result["retval"]);
  EXPECT_EQ(their_json["data_out"], result["data_out"]);
}

// ---- prog attach / detach

std::vector<std::uint32_t> attached(int target, corebpf::AttachType type) {
  return corebpf::kernel::query_attached(target, static_cast<std::uint32_t>(type), "test query");
}

std::uint32_t program_id(const std::string& pin) {
  return corebpf::kernel::program_info(corebpf::kernel::open_pinned(pin).get()).id;
}

TEST_F(CliProgcmds, AttachDetachSockmapPrograms) {
  const std::string object = kObjects + "/attach_net.bpf.o";
  Outcome r = corebpf(fmt::format("prog loadall {} {}/p pinmaps {}/m", object, dir_, dir_));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string map = "pinned " + dir_ + "/m/sock_map";
  const corebpf::UniqueFd map_fd = corebpf::kernel::open_pinned(dir_ + "/m/sock_map");
  const std::string msg = dir_ + "/p/sk_msg_drop_marked";
  const std::string skb = dir_ + "/p/sk_skb_count";

  r = corebpf(fmt::format("prog attach pinned {} sk_msg_verdict {}", msg, map));
  ASSERT_EQ(r.status, 0) << r.err;
  r = corebpf(fmt::format("prog attach pinned {} stream_verdict {}", skb, map));  // bpftool's older name
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(attached(map_fd.get(), corebpf::AttachType::sk_msg_verdict), std::vector<std::uint32_t>{program_id(msg)});
  EXPECT_EQ(attached(map_fd.get(), corebpf::AttachType::sk_skb_stream_verdict),
            std::vector<std::uint32_t>{program_id(skb)});

  r = corebpf(fmt::format("prog detach pinned {} sk_msg_verdict {}", msg, map));
  ASSERT_EQ(r.status, 0) << r.err;
  r = corebpf(fmt::format("prog detach pinned {} sk_skb_stream_verdict {}", skb, map));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(attached(map_fd.get(), corebpf::AttachType::sk_msg_verdict).empty());
  EXPECT_TRUE(attached(map_fd.get(), corebpf::AttachType::sk_skb_stream_verdict).empty());

  // Errors: detaching what is not attached, a map of the wrong type, an unknown attach type, no map.
  r = corebpf(fmt::format("prog detach pinned {} sk_msg_verdict {}", msg, map));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("program 'sk_msg_drop_mar"), std::string::npos) << r.err;
  r = corebpf(fmt::format("prog attach pinned {} sk_msg_verdict pinned {}/m/plain_array", msg, dir_));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("map 'plain_array'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a array map"), std::string::npos) << r.err;
  r = corebpf(fmt::format("prog attach pinned {} sk_msg_bogus {}", msg, map));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("no such attach type 'sk_msg_bogus'"), std::string::npos) << r.err;
  r = corebpf(fmt::format("prog attach pinned {} sk_msg_verdict", msg));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("needs a sockmap or sockhash"), std::string::npos) << r.err;
}

TEST_F(CliProgcmds, AttachDetachFlowDissectorInAPrivateNetns) {
  const std::string object = kObjects + "/attach_net.bpf.o";
  Outcome r = corebpf(fmt::format("prog loadall {} {}/p", object, dir_));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string dissector = dir_ + "/p/flow_dissect_udp";
  const std::uint32_t id = program_id(dissector);
  std::string failure;
  // A thread of its own in a new network namespace: the commands it starts inherit it.
  std::thread thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      failure = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    const corebpf::UniqueFd netns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    Outcome a = corebpf(fmt::format("prog attach pinned {} flow_dissector", dissector));
    EXPECT_EQ(a.status, 0) << a.err;
    EXPECT_EQ(attached(netns.get(), corebpf::AttachType::flow_dissector), std::vector<std::uint32_t>{id});
    Outcome listed = corebpf("-j net list");
    EXPECT_EQ(listed.status, 0) << listed.err;
    EXPECT_NE(listed.out.find(fmt::format("\"id\":{}", id)), std::string::npos) << listed.out;
    a = corebpf(fmt::format("prog attach pinned {} flow_dissector pinned {}", dissector, dissector));
    EXPECT_EQ(a.status, 2) << "flow_dissector takes no map";
    a = corebpf(fmt::format("prog detach pinned {} flow_dissector", dissector));
    EXPECT_EQ(a.status, 0) << a.err;
    EXPECT_TRUE(attached(netns.get(), corebpf::AttachType::flow_dissector).empty());
  });
  thread.join();
  ASSERT_EQ(failure, "");
  // The host's namespace never had it.
  const corebpf::UniqueFd host(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  for (const std::uint32_t attached_id : attached(host.get(), corebpf::AttachType::flow_dissector))
    EXPECT_NE(attached_id, id);
}

// ---- struct_ops

class CliStructOps : public CliProgcmds {
 protected:
  void TearDown() override {
    // Nothing registered by a failed test outlives it.
    for (const std::string name : {"cli_cc", "cli_ccl"}) corebpf("struct_ops unregister name " + name);
    CliProgcmds::TearDown();
  }
};

bool congestion_control_available(const std::string& name) {
  const std::string text = " " + read_text("/proc/sys/net/ipv4/tcp_available_congestion_control");
  return text.find(" " + name + " ") != std::string::npos || text.find(" " + name + "\n") != std::string::npos;
}

TEST_F(CliStructOps, RegisterShowDumpUnregister) {
  COREBPF_REQUIRE_FEATURE(corebpf::kernel::Feature::struct_ops);
  Outcome r = corebpf("struct_ops register " + kObjects + "/cli_struct_ops.bpf.o");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(r.out.starts_with("Registered tcp_congestion_ops cli_cc id ")) << r.out;
  const std::uint32_t id = static_cast<std::uint32_t>(std::stoul(r.out.substr(r.out.rfind(' ') + 1)));
  // Registered after the command ended: the kernel offers it as a congestion control.
  EXPECT_TRUE(congestion_control_available("cli_cc"));

  // One object for an id, an array for a name (which may match several), as bpftool prints them.
  const json shown =
      json::parse(fmt::format(R"({{"id":{},"name":"cli_cc","kernel_struct_ops":"tcp_congestion_ops"}})", id));
  r = corebpf(fmt::format("-j struct_ops show id {}", id));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), shown);
  r = corebpf("-j struct_ops show name cli_cc");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::array({shown}));
  r = corebpf("-j struct_ops list");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(fmt::format(R"({{"id":{},"name":"cli_cc")", id)), std::string::npos) << r.out;
  r = corebpf("struct_ops show name cli_cc");
  EXPECT_EQ(r.out, fmt::format("{}: cli_cc          tcp_congestion_ops              \n", id));

  r = corebpf("-j struct_ops dump name cli_cc");
  ASSERT_EQ(r.status, 0) << r.err;
  const json dump = json::parse(r.out);
  ASSERT_EQ(dump.size(), 2u) << r.out;
  EXPECT_EQ(dump[0]["bpf_map_info"]["id"], id);
  EXPECT_EQ(dump[0]["bpf_map_info"]["type"], 26);  // BPF_MAP_TYPE_STRUCT_OPS
  const json& value = dump[1]["bpf_struct_ops_tcp_congestion_ops"];
  EXPECT_EQ(value["data"]["name"], "cli_cc");
  // The state is in `common` since 6.9 (struct bpf_struct_ops_common_value), beside refcnt before.
  ASSERT_TRUE(value.is_object()) << r.out;
  const json& state_holder = value.contains("common") ? value["common"] : value;
  EXPECT_EQ(state_holder["state"], "BPF_STRUCT_OPS_STATE_INUSE") << r.out;
  EXPECT_TRUE(value["data"]["ssthresh"].get<std::string>().starts_with("u32 (struct sock *) corebpf_ssthresh/prog_id:"))
      << value["data"]["ssthresh"];
  EXPECT_TRUE(value["data"]["release"].get<std::string>().ends_with(") 0")) << value["data"]["release"];

  if (corebpf::test::have_bpftool()) {
    // bpftool 7.1: the same listing, and the same map info and typed value.
    const Outcome theirs = run(fmt::format("bpftool -j struct_ops show id {}", id));
    EXPECT_EQ(theirs.status, 0) << theirs.err;
    EXPECT_EQ(json::parse(corebpf(fmt::format("-j struct_ops show id {}", id)).out), json::parse(theirs.out));
    // (By name: bpftool's dump of one id is not a JSON document.)
    const Outcome their_dump = run("bpftool -j struct_ops dump name cli_cc");
    EXPECT_EQ(their_dump.status, 0) << their_dump.err;
    EXPECT_EQ(dump, json::parse(their_dump.out));
  } else {
    COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  }

  r = corebpf("struct_ops unregister name cli_cc");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("Unregistered tcp_congestion_ops cli_cc id {}\n", id));
  EXPECT_FALSE(congestion_control_available("cli_cc"));
  // The map goes with its registration.
  for (int i = 0; i < 100 && corebpf::kernel::try_open_by_id(corebpf::kernel::ObjectType::map, id); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  r = corebpf("struct_ops show name cli_cc");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("there is no struct_ops map named 'cli_cc'"), std::string::npos) << r.err;
}

TEST_F(CliStructOps, RegisterLinkPinsAndErrors) {
  COREBPF_REQUIRE_FEATURE(corebpf::kernel::Feature::struct_ops_link);
  const std::string object = kObjects + "/cli_struct_ops_link.bpf.o";
  Outcome r = corebpf("struct_ops register " + object);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("map 'cli_ccl' is a .struct_ops.link map"), std::string::npos) << r.err;
  EXPECT_FALSE(congestion_control_available("cli_ccl"));

  r = corebpf("-j struct_ops register " + object + " " + dir_);
  ASSERT_EQ(r.status, 0) << r.err;
  const json registered = json::parse(r.out);
  ASSERT_EQ(registered.size(), 1u);
  EXPECT_EQ(registered[0]["name"], "cli_ccl");
  EXPECT_EQ(registered[0]["pinned"], dir_ + "/cli_ccl");
  EXPECT_TRUE(fs::exists(dir_ + "/cli_ccl"));
  EXPECT_TRUE(congestion_control_available("cli_ccl"));
  r = corebpf("-j struct_ops show name cli_ccl");
  EXPECT_NE(r.out.find("\"kernel_struct_ops\":\"tcp_congestion_ops\""), std::string::npos) << r.out;

  // Unregistering detaches the link (6.9+); older kernels refuse, and removing the pin ends it.
  r = corebpf("struct_ops unregister name cli_ccl");
  if (r.status != 0) {
    EXPECT_NE(r.err.find("remove the link's pin instead"), std::string::npos) << r.err;
  }
  fs::remove(dir_ + "/cli_ccl");
  for (int i = 0; i < 100 && congestion_control_available("cli_ccl"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(congestion_control_available("cli_ccl"));

  // Errors: not an object with struct_ops maps, not a struct_ops map, a missing directory.
  r = corebpf("struct_ops register " + kProgcmds);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("has no struct_ops map"), std::string::npos) << r.err;
  r = corebpf(fmt::format("prog loadall {} {}/p pinmaps {}/m", kProgcmds, dir_, dir_));
  ASSERT_EQ(r.status, 0) << r.err;
  r = corebpf(fmt::format("struct_ops dump pinned {}/m/{}", dir_,
                          fs::directory_iterator(dir_ + "/m")->path().filename().string()));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not a struct_ops map"), std::string::npos) << r.err;
  r = corebpf("struct_ops register " + object + " " + dir_ + "/missing");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(dir_ + "/missing"), std::string::npos) << r.err;
}

// ---- iter pin

TEST_F(CliProgcmds, IterPinTaskIterator) {
  COREBPF_REQUIRE_PROGRAMS(kProgcmds, "cli_iter_tasks");
  const std::string pin = dir_ + "/tasks";
  Outcome r = corebpf(fmt::format("iter pin {} {}", kProgcmds, pin));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string listing = read_text(pin);
  EXPECT_NE(listing.find(fmt::format("\n{} ", ::getpid())), std::string::npos) << listing.substr(0, 400);
  EXPECT_NE(listing.find("1 "), std::string::npos);
  EXPECT_EQ(corebpf::kernel::object_type_of(corebpf::kernel::open_pinned(pin).get()),
            corebpf::kernel::ObjectType::link);
  fs::remove(pin);

  // Errors: a first program that is no iterator, a missing object, a pin path off bpffs.
  r = corebpf(fmt::format("iter pin {}/attach_net.bpf.o {}", kObjects, pin));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is not an iterator"), std::string::npos) << r.err;
  r = corebpf(fmt::format("iter pin {}/missing.bpf.o {}", kObjects, pin));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("missing.bpf.o"), std::string::npos) << r.err;
  r = corebpf(fmt::format("iter pin {} {}", kProgcmds, file("not_bpffs")));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(file("not_bpffs")), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(pin));
}

TEST_F(CliProgcmds, IterPinMapIterator) {
  const std::string object = kObjects + "/cli_iter_map.bpf.o";
  COREBPF_REQUIRE_PROGRAMS(object, "cli_iter_elems");
  corebpf::MapCreateOptions options;
  options.name = "cli_iter_in";
  options.type = corebpf::MapType::array;
  options.key_size = 4;
  options.value_size = 8;
  options.max_entries = 3;
  const corebpf::Map map = corebpf::Map::create(options);
  const std::uint32_t key = 1;
  const std::uint64_t value = 42;
  map.update(std::as_bytes(std::span(&key, 1)), std::as_bytes(std::span(&value, 1)));
  map.pin(dir_ + "/values");
  const std::string pin = dir_ + "/elems";
  const Outcome r = corebpf(fmt::format("iter pin {} {} map pinned {}/values", object, pin, dir_));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_text(pin), "0=0\n1=42\n2=0\n");
}

}  // namespace
