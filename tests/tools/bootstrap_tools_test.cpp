// Learning eBPF's tools and the libbpf-bootstrap set (tools/), run for real: each test starts the
// tool with -j, waits for its ready line, makes exactly the events it traces happen (a uniquely
// named binary exec()ed, a unique file unlinked, pings on lo in a private network namespace, a
// call of the uprobe'd function from another process, a CPU burnt in a known function...), stops
// it with SIGINT and checks its JSON lines for those events. Tools whose hook the running kernel
// lacks (by corebpf's feature probes) must say so in one line and exit 1; the test then skips with
// "unsupported on <release>: <feature>".
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/fd.hpp"
#include "corebpf/features.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/test_support.hpp"
#include "tools/tool_runner.hpp"

// The function the profile test burns CPU in: a C name, so its frame resolves to exactly this.
extern "C" __attribute__((noinline)) void corebpf_profile_busy_loop(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  volatile std::uint64_t sink = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  }
}

namespace corebpf {
namespace {

using test::ToolRun;

std::string diagnostics(const ToolRun& tool) {
  return "stdout:\n" + tool.stdout_text() + "\nstderr:\n" + tool.stderr_text();
}

// A child process that waits (blocked in read(2) on a pipe) until released, then runs `work` and
// exits. Its pid is known before it does anything, so a tool can be told to watch it.
class Waiter {
 public:
  template <typename Work>
  explicit Waiter(Work work, const std::string& comm = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      if (!comm.empty()) ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
      char byte;
      if (::read(fds[0], &byte, 1) == 1) work();
      ::_exit(0);
    }
    ::close(fds[0]);
    release_fd_ = UniqueFd(fds[1]);
  }
  ~Waiter() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  pid_t pid() const noexcept { return pid_; }
  void release() {
    const char byte = 1;
    EXPECT_EQ(::write(release_fd_.get(), &byte, 1), 1);
  }
  // The child's exit status after release(); -1 when it was killed or did not end in 30 s.
  int wait() {
    for (int i = 0; i < 3000; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd release_fd_;
};

// Runs `path args...` to its end; returns its pid (the exit status in *status).
pid_t run(const std::string& path, const std::vector<std::string>& args = {}, int* status = nullptr) {
  std::vector<std::string> strings = {path};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  if (status != nullptr) *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return child;
}

// This process in a network namespace of its own (lo up, nothing else) until destroyed: tools
// started meanwhile inherit it, so what they see on lo is exactly what the test sends.
class PrivateNetns {
 public:
  PrivateNetns() : original_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!original_ || ::unshare(CLONE_NEWNET) != 0) {
      error_ = std::string("cannot make a network namespace: ") + std::strerror(errno);
      return;
    }
    UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::strcpy(request.ifr_name, "lo");
    if (!socket || ::ioctl(socket.get(), SIOCGIFFLAGS, &request) != 0) {
      error_ = std::string("lo: ") + std::strerror(errno);
      return;
    }
    request.ifr_flags |= IFF_UP;
    if (::ioctl(socket.get(), SIOCSIFFLAGS, &request) != 0) error_ = std::string("lo up: ") + std::strerror(errno);
  }
  ~PrivateNetns() {
    if (original_) {
      EXPECT_EQ(::setns(original_.get(), CLONE_NEWNET), 0) << std::strerror(errno);
    }
  }
  const std::string& error() const noexcept { return error_; }

 private:
  UniqueFd original_;
  std::string error_;
};

std::uint16_t icmp_checksum(const std::uint8_t* data, std::size_t size) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (size % 2) sum += static_cast<std::uint32_t>(data[size - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum));
}

// Sends `count` ICMP echo requests (56 bytes of payload, as ping's) to 127.0.0.1 with identifier
// `id` and sequences 1..count; returns how many were answered.
int ping_loopback(std::uint16_t id, int count) {
  UniqueFd socket(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
  EXPECT_TRUE(socket) << std::strerror(errno);
  if (!socket) return 0;
  const timeval timeout{0, 300000};
  ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int answered = 0;
  for (int sequence = 1; sequence <= count; ++sequence) {
    std::uint8_t packet[64] = {};
    packet[0] = ICMP_ECHO;
    const std::uint16_t id_n = htons(id), sequence_n = htons(static_cast<std::uint16_t>(sequence));
    std::memcpy(packet + 4, &id_n, 2);
    std::memcpy(packet + 6, &sequence_n, 2);
    const std::uint16_t checksum = icmp_checksum(packet, sizeof(packet));
    std::memcpy(packet + 2, &checksum, 2);
    EXPECT_EQ(::sendto(socket.get(), packet, sizeof(packet), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(sizeof(packet)));
    // A raw ICMP socket receives both our request and the reply (IP header included).
    for (int reads = 0; reads < 4; ++reads) {
      std::uint8_t reply[256];
      const ssize_t n = ::recv(socket.get(), reply, sizeof(reply), 0);
      if (n < 28) break;
      const std::size_t header = (reply[0] & 0xf) * 4u;
      std::uint16_t reply_id;
      std::memcpy(&reply_id, reply + header + 4, 2);
      if (reply[header] == ICMP_ECHOREPLY && ntohs(reply_id) == id) {
        ++answered;
        break;
      }
    }
  }
  return answered;
}

class BootstrapToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    dir_ = std::filesystem::path("/tmp") / ("cbt" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A shell script under a unique name of at most 15 characters (its comm once exec()ed) that
  // runs `body`. A script rather than a copy of /bin/true: in the qemu guests /bin holds busybox
  // links, and busybox under another name is no command.
  std::filesystem::path unique_script(const std::string& stem, const std::string& body = "exit 0") {
    const auto path = dir_ / (stem + std::to_string(::getpid() % 100000));
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
  }

  // A tool the kernel cannot run must say why in one line and exit 1.
  static void expect_cannot_run(const std::string& name, const std::vector<std::string>& args) {
    ToolRun tool(name, args);
    EXPECT_FALSE(tool.wait_ready()) << diagnostics(tool);
    EXPECT_EQ(tool.wait_exit(), 1) << diagnostics(tool);
    const auto text = tool.stderr_text();
    EXPECT_EQ(text.rfind(name + ": cannot run: ", 0), 0u) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  }

  std::filesystem::path dir_;
};

// ---- hello, hello-buffer-config (Learning eBPF)

TEST_F(BootstrapToolsTest, HelloReportsTheExecAndCountsItForItsUid) {
  const auto binary = unique_script("he");
  ToolRun tool("hello", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const pid_t child = run(binary.string());
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0;
  const auto lines = tool.json_lines();
  for (const auto& event : lines) {
    if (event.contains("pid") && event["pid"] == child) {
      ++found;
      EXPECT_EQ(event["comm"], binary.filename().string());
      EXPECT_EQ(event["ppid"], ::getpid());  // read in BPF through CO-RE
      EXPECT_EQ(event["uid"], 0);
    }
  }
  EXPECT_EQ(found, 1) << diagnostics(tool);
  // The last line is counter_table on the way out: uid 0 made at least our exec.
  ASSERT_FALSE(lines.empty());
  const auto& counts = lines.back()["counts"];
  ASSERT_TRUE(counts.is_array()) << diagnostics(tool);
  bool root = false;
  for (const auto& entry : counts) {
    if (entry["uid"] == 0) {
      root = true;
      EXPECT_GE(entry["count"].get<std::uint64_t>(), 1u);
    }
  }
  EXPECT_TRUE(root) << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, HelloRunsACommandAndStopsAfterIt) {
  // The user guide's first command: text output, the started program's exec, then the counts.
  const auto binary = unique_script("hr");
  ToolRun tool("hello", {"--run", binary.string()});
  ASSERT_EQ(tool.wait_exit(std::chrono::seconds(30)), 0) << diagnostics(tool);
  const auto text = tool.stdout_text();
  EXPECT_EQ(text.rfind("PID", 0), 0u) << text;
  EXPECT_NE(text.find(binary.filename().string()), std::string::npos) << text;
  EXPECT_NE(text.find("ID 0: "), std::string::npos) << text;
}

TEST_F(BootstrapToolsTest, HelloBufferConfigMessagesFromRodataAndTheHashMap) {
  // The event keeps 15 characters of the executed path: a script right in /tmp.
  const std::filesystem::path binary = "/tmp/hb" + std::to_string(::getpid() % 100000);
  std::ofstream(binary) << "#!/bin/sh\nexit 0\n";
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);
  struct Remove {
    std::filesystem::path path;
    ~Remove() { std::filesystem::remove(path); }
  } remove{binary};
  ASSERT_LE(binary.string().size(), 15u);
  {
    ToolRun tool("hello-buffer-config", {"-j", "--default", "Howdy"});
    ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
    const pid_t child = run(binary.string());
    ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
    int found = 0;
    for (const auto& event : tool.json_lines()) {
      if (event["path"] != binary.string()) continue;
      ++found;
      EXPECT_EQ(event["message"], "Howdy");  // .rodata, set before load
      EXPECT_EQ(event["uid"], 0);
      // At execve's entry the caller is still the forked test process.
      EXPECT_EQ(event["pid"], child);
    }
    EXPECT_EQ(found, 1) << diagnostics(tool);
  }
  ToolRun tool("hello-buffer-config",
               {"-j", "--default", "Howdy", "--message", "0", "HiRoot", "--message", "1000", "HiUser"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  run(binary.string());
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0;
  for (const auto& event : tool.json_lines()) {
    if (event["path"] != binary.string()) continue;
    ++found;
    EXPECT_EQ(event["message"], "HiRoot");  // my_config[0], set after load
  }
  EXPECT_EQ(found, 1) << diagnostics(tool);
}

// ---- minimal, bootstrap

TEST_F(BootstrapToolsTest, MinimalCountsExactlyTheWatchedProcessWrites) {
  Waiter writer([] {
    const int null = ::open("/dev/null", O_WRONLY);
    for (int i = 0; i < 3; ++i) (void)!::write(null, "x", 1);
  });
  ToolRun tool("minimal", {"-j", "-p", std::to_string(writer.pid())});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  writer.release();
  EXPECT_EQ(writer.wait(), 0);
  EXPECT_TRUE(tool.wait_output("\"writes\":3", std::chrono::seconds(10))) << diagnostics(tool);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_FALSE(lines.empty()) << diagnostics(tool);
  EXPECT_EQ(lines.back()["pid"], writer.pid());
  EXPECT_EQ(lines.back()["writes"], 3) << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, BootstrapReportsExecAndExitWithDurationAndExitCode) {
  const auto fast = unique_script("bf", "exit 3");
  const auto slow = unique_script("bs", "sleep 0.3");
  ToolRun tool("bootstrap", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const pid_t fast_pid = run(fast.string());
  const pid_t slow_pid = run(slow.string());
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int execs = 0, exits = 0;
  for (const auto& event : tool.json_lines()) {
    if (event["pid"] != fast_pid && event["pid"] != slow_pid) continue;
    const bool is_fast = event["pid"] == fast_pid;
    EXPECT_EQ(event["comm"], (is_fast ? fast : slow).filename().string());
    EXPECT_EQ(event["ppid"], ::getpid());
    if (event["event"] == "EXEC") {
      ++execs;
      EXPECT_EQ(event["filename"], (is_fast ? fast : slow).string());
    } else {
      ++exits;
      EXPECT_EQ(event["exit_code"], is_fast ? 3 : 0);
      if (!is_fast) {
        EXPECT_GE(event["duration_ms"].get<int>(), 290) << event.dump();
      }
    }
  }
  EXPECT_EQ(execs, 2) << diagnostics(tool);
  EXPECT_EQ(exits, 2) << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, BootstrapMinimumDurationLeavesOutExecsAndShortLives) {
  const auto fast = unique_script("df");
  const auto slow = unique_script("ds", "sleep 0.3");
  ToolRun tool("bootstrap", {"-j", "-d", "200"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const pid_t fast_pid = run(fast.string());
  const pid_t slow_pid = run(slow.string());
  ASSERT_EQ(tool.stop(SIGTERM), 0) << diagnostics(tool);  // SIGTERM ends it as cleanly as Ctrl-C
  int slow_exits = 0;
  for (const auto& event : tool.json_lines()) {
    EXPECT_EQ(event["event"], "EXIT") << event.dump();
    EXPECT_GE(event["duration_ms"].get<int>(), 200) << event.dump();
    EXPECT_NE(event["pid"], fast_pid);
    if (event["pid"] == slow_pid) ++slow_exits;
  }
  EXPECT_EQ(slow_exits, 1) << diagnostics(tool);
}

// ---- uprobe, usdt

TEST_F(BootstrapToolsTest, UprobeSeesAnotherProcessCallTheToolsOwnFunctions) {
  ToolRun tool("uprobe", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  int status = -1;
  const pid_t caller = run(test::tool_path("uprobe").string(), {"--call", "1234", "5678"}, &status);
  ASSERT_EQ(status, 0);
  ASSERT_TRUE(tool.wait_output("\"ret\":-4444", std::chrono::seconds(10))) << diagnostics(tool);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  std::vector<std::string> seen;
  int own = 0;
  for (const auto& event : tool.json_lines()) {
    if (event["pid"] == tool.pid()) ++own;  // the tool's own calls, once a second
    if (event["pid"] != caller) continue;
    std::string what = event["function"].get<std::string>() + " " + event["probe"].get<std::string>() + " ";
    what += event["probe"] == "entry" ? event["args"].dump() : event["ret"].dump();
    seen.push_back(what);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"uprobed_add entry [1234,5678]", "uprobed_add exit 6912",
                                            "uprobed_sub entry [1234,5678]", "uprobed_sub exit -4444"}))
      << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, UsdtReadsTheProbeArguments) {
  const auto usdt = test::tool_path("usdt").string();
  ToolRun tool("usdt", {"-j", "--binary", usdt, "--probe", "corebpf:trigger"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  int status = -1;
  const pid_t caller = run(usdt, {"--call", "777"}, &status);
  ASSERT_EQ(status, 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0;
  for (const auto& event : tool.json_lines()) {
    EXPECT_EQ(event["pid"], caller) << event.dump();
    ++found;
    EXPECT_EQ(event["probe"], "corebpf:trigger");
    EXPECT_EQ(event["args"], nlohmann::json({777, 778, 779}));
  }
  EXPECT_EQ(found, 1) << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, UsdtOnLibcSetjmpOrAClearReasonWhenLibcHasNoProbes) {
  // The default probe is libc's setjmp; glibc builds without SystemTap probes (Debian's) have none,
  // and the tool must then name the probe and the library in its one-line error.
  ToolRun tool("usdt", {"-j"});
  if (!tool.wait_ready()) {
    EXPECT_EQ(tool.wait_exit(), 1) << diagnostics(tool);
    const auto text = tool.stderr_text();
    EXPECT_NE(text.find("setjmp"), std::string::npos) << text;
    EXPECT_NE(text.find("libc"), std::string::npos) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    return;
  }
  int status = -1;
  const pid_t caller = run(test::tool_path("usdt").string(), {"--call", "1"}, &status);
  ASSERT_EQ(status, 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0;
  for (const auto& event : tool.json_lines()) {
    if (event["pid"] != caller) continue;
    ++found;
    EXPECT_EQ(event["args"].size(), 3u) << event.dump();
  }
  EXPECT_GE(found, 1) << diagnostics(tool);
}

// ---- tc, sockfilter, xdp-ping: in a private network namespace, on its lo

TEST_F(BootstrapToolsTest, TcCountsThePingsOnLoopbackIngress) {
  PrivateNetns netns;
  ASSERT_EQ(netns.error(), "");
  ToolRun tool("tc", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  EXPECT_EQ(ping_loopback(0x1234, 3), 3);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int packets = 0;
  const auto lines = tool.json_lines();
  for (const auto& event : lines) {
    if (event.contains("counts")) continue;
    ++packets;
    EXPECT_EQ(event["protocol"], "ICMP") << event.dump();
    EXPECT_EQ(event["saddr"], "127.0.0.1");
    EXPECT_EQ(event["daddr"], "127.0.0.1");
    EXPECT_EQ(event["tot_len"], 84);
    EXPECT_EQ(event["ttl"], 64);
  }
  EXPECT_EQ(packets, 6) << diagnostics(tool);  // 3 requests, 3 replies
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["counts"], nlohmann::json::parse(R"([{"protocol":"ICMP","packets":6,"bytes":504}])"))
      << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, SockfilterReportsTheDatagramsOnLoopback) {
  PrivateNetns netns;
  ASSERT_EQ(netns.error(), "");
  ToolRun tool("sockfilter", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  UniqueFd receiver(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(4321);
  ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  UniqueFd sender(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in from = address;
  from.sin_port = htons(1234);
  ASSERT_EQ(::bind(sender.get(), reinterpret_cast<const sockaddr*>(&from), sizeof(from)), 0);
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(::sendto(sender.get(), "hi", 2, 0, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int outgoing = 0, host = 0;
  for (const auto& event : tool.json_lines()) {
    EXPECT_EQ(event["protocol"], "UDP") << event.dump();
    EXPECT_EQ(event["src"], "127.0.0.1");
    EXPECT_EQ(event["src_port"], 1234);
    EXPECT_EQ(event["dst"], "127.0.0.1");
    EXPECT_EQ(event["dst_port"], 4321);
    EXPECT_EQ(event["interface"], "lo");
    if (event["pkt_type"] == "outgoing") ++outgoing;
    if (event["pkt_type"] == "host") ++host;
  }
  // A packet socket sees a loopback packet leave and arrive.
  EXPECT_EQ(outgoing, 2) << diagnostics(tool);
  EXPECT_EQ(host, 2) << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, XdpPingCountsEchoRequestsAndDropsThemOnRequest) {
  PrivateNetns netns;
  ASSERT_EQ(netns.error(), "");
  {
    ToolRun tool("xdp-ping", {"-j", "-i", "lo"});
    ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
    EXPECT_EQ(ping_loopback(0x4242, 3), 3);
    ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
    const auto lines = tool.json_lines();
    ASSERT_EQ(lines.size(), 4u) << diagnostics(tool);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(lines[i]["id"], 0x4242);
      EXPECT_EQ(lines[i]["seq"], i + 1);
      EXPECT_EQ(lines[i]["saddr"], "127.0.0.1");
      EXPECT_EQ(lines[i]["action"], "passed");
    }
    EXPECT_EQ(lines[3]["requests"], 3);
  }
  ToolRun tool("xdp-ping", {"-j", "-i", "lo", "--drop"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  EXPECT_EQ(ping_loopback(0x4243, 2), 0);  // dropped: no reply
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 3u) << diagnostics(tool);
  EXPECT_EQ(lines[0]["action"], "dropped");
  EXPECT_EQ(lines[1]["seq"], 2);
  EXPECT_EQ(lines[2]["requests"], 2);
  EXPECT_EQ(lines[2]["dropped"], 2);
  // With the tool gone the pings are answered again.
  EXPECT_EQ(ping_loopback(0x4244, 1), 1);
}

// ---- task_iter, profile

TEST_F(BootstrapToolsTest, TaskIterListsASleepingChildWithItsKernelStack) {
  if (!kernel::has_feature(kernel::Feature::task_iterator)) {
    expect_cannot_run("task_iter", {"-j"});
    GTEST_SKIP() << test::unsupported(kernel::Feature::task_iterator);
  }
  const std::string comm = "ti" + std::to_string(::getpid() % 100000);
  Waiter sleeper([] {}, comm);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // asleep in read(2)
  ToolRun tool("task_iter", {"-j", "-s", "-p", std::to_string(sleeper.pid())});
  ASSERT_EQ(tool.wait_exit(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(lines[0]["pid"], sleeper.pid());
  EXPECT_EQ(lines[0]["tid"], sleeper.pid());
  EXPECT_EQ(lines[0]["ppid"], ::getpid());
  EXPECT_EQ(lines[0]["comm"], comm);
  EXPECT_EQ(lines[0]["state"], "S");
  const auto& stack = lines[0]["kstack"];
  ASSERT_FALSE(stack.empty()) << diagnostics(tool);
  // Asleep in read(2) on a pipe: the stack holds the read path (pipe_read, vfs_read, ksys_read...).
  bool read_path = false;
  for (const auto& frame : stack) {
    const auto name = frame.get<std::string>();
    read_path |= name.rfind("vfs_read+", 0) == 0 || name.rfind("ksys_read+", 0) == 0;
  }
  EXPECT_TRUE(read_path) << stack.dump();
}

TEST_F(BootstrapToolsTest, ProfileResolvesTheBusyLoopByName) {
  Waiter burner([] { corebpf_profile_busy_loop(1.5); });
  ToolRun tool("profile", {"-j", "-F", "99", "-p", std::to_string(burner.pid())});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  burner.release();
  EXPECT_EQ(burner.wait(), 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int samples = 0, resolved = 0;
  for (const auto& event : tool.json_lines()) {
    EXPECT_EQ(event["pid"], burner.pid()) << event.dump();
    ++samples;
    for (const auto& frame : event["ustack"])
      if (frame.get<std::string>().rfind("corebpf_profile_busy_loop", 0) == 0) ++resolved;
  }
  EXPECT_GE(samples, 10) << diagnostics(tool);  // 1.5 s at 99 Hz
  EXPECT_GE(resolved, 1) << diagnostics(tool);
}

// ---- ksyscall, kprobe, fentry, lsm: kernel features the probes decide

TEST_F(BootstrapToolsTest, KsyscallSeesKillAndTgkill) {
  if (!kernel::has_feature(kernel::Feature::kprobes)) {
    expect_cannot_run("ksyscall", {"-j"});
    GTEST_SKIP() << test::unsupported(kernel::Feature::kprobes);
  }
  Waiter target([] {});
  ToolRun tool("ksyscall", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  ASSERT_EQ(::kill(target.pid(), 0), 0);
  ASSERT_EQ(::syscall(SYS_tgkill, target.pid(), target.pid(), 0), 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  std::vector<std::string> seen;
  for (const auto& event : tool.json_lines()) {
    if (event["target_pid"] != target.pid()) continue;
    EXPECT_EQ(event["pid"], ::getpid());
    EXPECT_EQ(event["sig"], 0);
    seen.push_back(event["syscall"]);
    if (event["syscall"] == "tgkill") {
      EXPECT_EQ(event["target_tid"], target.pid());
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"kill", "tgkill"})) << diagnostics(tool);
}

// kprobe and fentry trace do_unlinkat: a unique file removed, one that does not exist.
void expect_unlinks(const ToolRun& tool, const std::string& removed, const std::string& missing, bool exit_has_name) {
  std::vector<std::string> seen;
  for (const auto& event : tool.json_lines()) {
    if (event["pid"] != ::getpid()) continue;
    const std::string probe = event["probe"];
    if (probe == "entry" || probe == "fentry") {
      seen.push_back(probe + " " + event["filename"].get<std::string>());
    } else {
      std::string line = probe + " " + event["ret"].dump();
      if (exit_has_name) line += " " + event["filename"].get<std::string>();
      seen.push_back(line);
    }
  }
  const bool trampoline = exit_has_name;
  const std::string entry = trampoline ? "fentry" : "entry", exit = trampoline ? "fexit" : "exit";
  const std::string removed_suffix = exit_has_name ? " " + removed : "";
  const std::string missing_suffix = exit_has_name ? " " + missing : "";
  EXPECT_EQ(seen, (std::vector<std::string>{entry + " " + removed, exit + " 0" + removed_suffix, entry + " " + missing,
                                            exit + " " + std::to_string(-ENOENT) + missing_suffix}))
      << diagnostics(tool);
}

TEST_F(BootstrapToolsTest, KprobeSeesDoUnlinkatEntryAndReturn) {
  if (!kernel::has_feature(kernel::Feature::kprobes)) {
    expect_cannot_run("kprobe", {"-j"});
    GTEST_SKIP() << test::unsupported(kernel::Feature::kprobes);
  }
  const auto removed = (dir_ / "kprobe-unlinked").string();
  const auto missing = (dir_ / "kprobe-missing").string();
  std::ofstream(removed).put('x');
  ToolRun tool("kprobe", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  ASSERT_EQ(::unlink(removed.c_str()), 0);
  ASSERT_NE(::unlink(missing.c_str()), 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  expect_unlinks(tool, removed, missing, false);
}

TEST_F(BootstrapToolsTest, FentrySeesDoUnlinkatEntryAndExit) {
  if (!kernel::has_feature(kernel::Feature::trampolines)) {
    expect_cannot_run("fentry", {"-j"});
    GTEST_SKIP() << test::unsupported(kernel::Feature::trampolines);
  }
  const auto removed = (dir_ / "fentry-unlinked").string();
  const auto missing = (dir_ / "fentry-missing").string();
  std::ofstream(removed).put('x');
  ToolRun tool("fentry", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  ASSERT_EQ(::unlink(removed.c_str()), 0);
  ASSERT_NE(::unlink(missing.c_str()), 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  expect_unlinks(tool, removed, missing, true);
}

// Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems).
std::string cgroup2_root() {
  std::ifstream mounts("/proc/mounts");
  for (std::string device, path, type, rest; mounts >> device >> path >> type && std::getline(mounts, rest);)
    if (type == "cgroup2") return path;
  return {};
}

TEST_F(BootstrapToolsTest, LsmDeniesBpfToTheCgroupOnly) {
  const auto root = cgroup2_root();
  ASSERT_FALSE(root.empty()) << "no cgroup2 mount in /proc/mounts";
  const std::string cgroup = root + "/corebpf_lsm_" + std::to_string(::getpid());
  if (!kernel::has_feature(kernel::Feature::lsm)) {
    std::filesystem::create_directory(cgroup);
    expect_cannot_run("lsm", {"-j", "--cgroup", cgroup});
    std::filesystem::remove(cgroup);
    GTEST_SKIP() << test::unsupported(kernel::Feature::lsm);
  }
  ASSERT_TRUE(std::filesystem::create_directory(cgroup)) << cgroup;
  struct RemoveCgroup {
    std::string path;
    ~RemoveCgroup() { ::rmdir(path.c_str()); }
  } remove_cgroup{cgroup};
  // A child that moves itself into the cgroup and tries bpf(BPF_MAP_CREATE): its exit status is
  // the errno it got (0: allowed).
  const std::string procs = cgroup + "/cgroup.procs";
  Waiter child([procs] {
    std::ofstream(procs) << ::getpid() << std::flush;
    bpf_attr attr{};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    const long fd = ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
    ::_exit(fd >= 0 ? 0 : errno);
  });
  ToolRun tool("lsm", {"-j", "--cgroup", cgroup});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  child.release();
  EXPECT_EQ(child.wait(), EPERM);
  // This process, outside the cgroup, still may.
  bpf_attr attr{};
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  UniqueFd map(static_cast<int>(::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr))));
  EXPECT_TRUE(map) << std::strerror(errno);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(lines[0]["pid"], child.pid());
  EXPECT_EQ(lines[0]["cmd"], BPF_MAP_CREATE);
}

}  // namespace
}  // namespace corebpf
