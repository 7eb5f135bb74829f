// The tools (tools/) run for real against the running kernel: each test starts a tool with -j,
// waits for its ready line, makes the events it traces happen (a uniquely named binary exec()ed,
// a unique path opened...), stops it with SIGINT and looks for exactly those events in its JSON
// lines. On the host the tracepoint paths run; in the qemu guests (6.1, 6.12) the kprobe and
// fentry paths too, each forced with --attach when the probes say the kernel has it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/loop.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/features.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/test_support.hpp"
#include "tools/tool_runner.hpp"

namespace corebpf {
namespace {

using test::ToolRun;

// A scratch directory unique to this test process.
class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    dir_ = std::filesystem::temp_directory_path() / ("corebpf-tools-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Runs `path args...` to its end; returns its pid.
  static pid_t run(const std::string& path, const std::vector<std::string>& args = {}) {
    std::vector<std::string> strings = {path};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t child = ::fork();
    if (child == 0) {
      ::execv(path.c_str(), argv.data());
      ::_exit(127);
    }
    ::waitpid(child, nullptr, 0);
    return child;
  }

  // A copy of /bin/true under a unique name (at most 15 characters, so it is also the comm).
  std::filesystem::path unique_true(const std::string& stem) {
    const auto path = dir_ / (stem + std::to_string(::getpid() % 100000));
    std::filesystem::copy_file("/bin/true", path, std::filesystem::copy_options::overwrite_existing);
    return path;
  }

  std::filesystem::path dir_;
};

std::string diagnostics(const ToolRun& tool) {
  return "stdout:\n" + tool.stdout_text() + "\nstderr:\n" + tool.stderr_text();
}

// ---- execsnoop

TEST_F(ToolsTest, ExecsnoopReportsAUniquelyNamedExec) {
  const auto binary = unique_true("es");
  ToolRun tool("execsnoop", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const pid_t child = run(binary.string(), {"first-arg", "second arg"});
  const pid_t failed = run((dir_ / "missing-binary").string());
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0, found_failed = 0;
  for (const auto& event : tool.json_lines()) {
    if (event["pid"] == child) {
      ++found;
      EXPECT_EQ(event["pcomm"], binary.filename().string());
      EXPECT_EQ(event["ret"], 0);
      EXPECT_EQ(event["args"], nlohmann::json({binary.string(), "first-arg", "second arg"}));
      EXPECT_EQ(event["ppid"], ::getpid());
    }
    if (event["pid"] == failed) {  // a failed exec keeps the caller's name
      ++found_failed;
      EXPECT_EQ(event["ret"], -ENOENT);
      EXPECT_EQ(event["args"], nlohmann::json({(dir_ / "missing-binary").string()}));
    }
  }
  EXPECT_EQ(found, 1) << diagnostics(tool);
  EXPECT_EQ(found_failed, 1) << diagnostics(tool);
}

TEST_F(ToolsTest, ExecsnoopFailedOnlyAndCommFilterOverThePerfBuffer) {
  const auto binary = unique_true("ex");
  ToolRun tool("execsnoop", {"-j", "-x", "--perf-buffer"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  EXPECT_NE(tool.stderr_text().find("perf buffer"), std::string::npos) << diagnostics(tool);
  const pid_t ok = run(binary.string());
  const pid_t failed = run((dir_ / "missing-binary").string());
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0;
  for (const auto& event : tool.json_lines()) {
    EXPECT_NE(event["ret"], 0) << event.dump();
    EXPECT_NE(event["pid"], ok);
    if (event["pid"] == failed) {
      ++found;
      EXPECT_EQ(event["ret"], -ENOENT);
    }
  }
  EXPECT_EQ(found, 1) << diagnostics(tool);

  ToolRun by_comm("execsnoop", {"-j", "-c", binary.filename().string()});
  ASSERT_TRUE(by_comm.wait_ready()) << diagnostics(by_comm);
  const pid_t wanted = run(binary.string());
  run("/bin/true");
  ASSERT_EQ(by_comm.stop(), 0) << diagnostics(by_comm);
  const auto events = by_comm.json_lines();
  ASSERT_EQ(events.size(), 1u) << diagnostics(by_comm);
  EXPECT_EQ(events[0]["pid"], wanted);
}

// ---- opensnoop

TEST_F(ToolsTest, OpensnoopReportsThisProcesssOpensOfUniquePaths) {
  const auto present = dir_ / "opensnoop-present";
  { std::ofstream(present) << "x"; }
  const auto missing = dir_ / "opensnoop-missing";
  ToolRun tool("opensnoop", {"-j", "-p", std::to_string(::getpid())});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const int fd = ::open(present.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_LT(::open(missing.c_str(), O_RDONLY), 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int seen_present = 0, seen_missing = 0;
  for (const auto& event : tool.json_lines()) {
    EXPECT_EQ(event["pid"], ::getpid()) << event.dump();
    if (event["path"] == present.string()) {
      ++seen_present;
      EXPECT_EQ(event["fd"], fd);
      EXPECT_EQ(event["err"], 0);
      EXPECT_EQ(event["flags"].get<std::uint64_t>() & O_CLOEXEC, static_cast<std::uint64_t>(O_CLOEXEC));
    }
    if (event["path"] == missing.string()) {
      ++seen_missing;
      EXPECT_EQ(event["fd"], -1);
      EXPECT_EQ(event["err"], ENOENT);
      EXPECT_EQ(event["errno"], "ENOENT");
    }
  }
  EXPECT_EQ(seen_present, 1) << diagnostics(tool);
  EXPECT_EQ(seen_missing, 1) << diagnostics(tool);
}

TEST_F(ToolsTest, OpensnoopFailedOnly) {
  const auto present = dir_ / "opensnoop-ok";
  { std::ofstream(present) << "x"; }
  const auto missing = dir_ / "opensnoop-fails";
  ToolRun tool("opensnoop", {"-j", "-x", "-p", std::to_string(::getpid())});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  ::close(::open(present.c_str(), O_RDONLY));
  ::open(missing.c_str(), O_RDONLY);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto events = tool.json_lines();
  ASSERT_EQ(events.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(events[0]["path"], missing.string());
}

// ---- exitsnoop

// Forks a child named `name` that sleeps `seconds`, then exits with `code` or raises `signal`.
pid_t exiting_child(const std::string& name, double seconds, int code, int signal) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::prctl(PR_SET_NAME, name.c_str());
    ::usleep(static_cast<useconds_t>(seconds * 1e6));
    if (signal != 0) {
      ::signal(signal, SIG_DFL);
      ::raise(signal);
    }
    ::_exit(code);
  }
  ::waitpid(child, nullptr, 0);
  return child;
}

TEST_F(ToolsTest, ExitsnoopReportsExitCodesSignalsAndAges) {
  const std::string name = "ex" + std::to_string(::getpid() % 100000);
  ToolRun tool("exitsnoop", {"-j", "-c", name});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const pid_t coded = exiting_child(name, 0.2, 3, 0);
  const pid_t killed = exiting_child(name, 0, 0, SIGTERM);
  const pid_t clean = exiting_child(name, 0, 0, 0);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto events = tool.json_lines();
  ASSERT_EQ(events.size(), 3u) << diagnostics(tool);
  for (const auto& event : events) {
    EXPECT_EQ(event["pcomm"], name);
    EXPECT_EQ(event["ppid"], ::getpid());
    EXPECT_EQ(event["tid"], event["pid"]);
  }
  EXPECT_EQ(events[0]["pid"], coded);
  EXPECT_EQ(events[0]["code"], 3);
  EXPECT_EQ(events[0]["exit"], "code 3");
  EXPECT_GE(events[0]["age"].get<double>(), 0.19);
  EXPECT_LT(events[0]["age"].get<double>(), 10.0);
  EXPECT_EQ(events[1]["pid"], killed);
  EXPECT_EQ(events[1]["signal"], SIGTERM);
  EXPECT_EQ(events[1]["exit"], "signal 15 (TERM)");
  EXPECT_EQ(events[2]["pid"], clean);
  EXPECT_EQ(events[2]["exit"], "0");

  ToolRun failed("exitsnoop", {"-j", "-x", "-c", name});
  ASSERT_TRUE(failed.wait_ready()) << diagnostics(failed);
  exiting_child(name, 0, 0, 0);
  const pid_t one = exiting_child(name, 0, 1, 0);
  ASSERT_EQ(failed.stop(), 0) << diagnostics(failed);
  const auto failures = failed.json_lines();
  ASSERT_EQ(failures.size(), 1u) << diagnostics(failed);
  EXPECT_EQ(failures[0]["pid"], one);
}

// ---- histogram tools

// A child named `name` that waits for a byte on a pipe, then runs `work` and exits: started
// before the tool so the tool can filter on its pid.
class WorkerChild {
 public:
  WorkerChild(const std::string& name, const std::function<void()>& work) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      ::prctl(PR_SET_NAME, name.c_str());
      char go;
      if (::read(fds[0], &go, 1) != 1) ::_exit(1);
      work();
      ::_exit(0);
    }
    ::close(fds[0]);
    go_ = fds[1];
  }
  ~WorkerChild() {
    if (go_ >= 0) ::close(go_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // Lets the child work and waits for its end; returns the CPU time it used, in microseconds.
  std::uint64_t run() {
    EXPECT_EQ(::write(go_, "g", 1), 1);
    ::close(go_);
    go_ = -1;
    struct rusage usage {};
    ::wait4(pid_, nullptr, 0, &usage);
    pid_ = -1;
    const auto micros = [](const timeval& t) { return std::uint64_t(t.tv_sec) * 1000000 + std::uint64_t(t.tv_usec); };
    return micros(usage.ru_utime) + micros(usage.ru_stime);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

// The histogram's buckets hold `count` values in all, and `sum` lies within their ranges.
void expect_consistent_histogram(const nlohmann::json& line) {
  std::uint64_t count = 0, low = 0, high = 0;
  for (const auto& bucket : line["buckets"]) {
    const auto n = bucket["count"].get<std::uint64_t>();
    count += n;
    low += n * bucket["low"].get<std::uint64_t>();
    high += n * bucket["high"].get<std::uint64_t>();
  }
  EXPECT_EQ(count, line["count"].get<std::uint64_t>()) << line.dump();
  EXPECT_GE(line["sum"].get<std::uint64_t>(), low) << line.dump();
  EXPECT_LE(line["sum"].get<std::uint64_t>(), high) << line.dump();
}

TEST_F(ToolsTest, RunqlatCountsEveryWakeupOfAProcess) {
  const std::string name = "rq" + std::to_string(::getpid() % 100000);
  constexpr int sleeps = 100;
  WorkerChild child(name, [] {
    for (int i = 0; i < sleeps; ++i) ::usleep(500);
  });
  const pid_t pid = child.pid();
  ToolRun tool("runqlat", {"-j", "-P", "-p", std::to_string(pid)});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  child.run();
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  const auto& line = lines[0];
  EXPECT_EQ(line["pid"], pid);
  EXPECT_EQ(line["comm"], name);
  EXPECT_EQ(line["unit"], "usecs");
  // Each sleep ends with a wakeup and a switch to the child (unless the timer fired before the
  // child was switched out); the start and exit add a few.
  EXPECT_GE(line["count"].get<int>(), sleeps * 8 / 10) << line.dump();
  EXPECT_LE(line["count"].get<int>(), 4 * sleeps) << line.dump();
  expect_consistent_histogram(line);
}

TEST_F(ToolsTest, RunqlatIntervalAndCountOnEveryAttachPath) {
  for (const std::string path : {"tp_btf", "raw_tracepoint"}) {
    SCOPED_TRACE(path);
    if (path == "tp_btf" && !kernel::has_feature(kernel::Feature::tracing_programs)) {
      std::cout << test::unsupported(kernel::Feature::tracing_programs) << "\n";
      continue;
    }
    ToolRun tool("runqlat", {"-j", "--attach", path, "0.3", "2"});
    ASSERT_EQ(tool.wait_exit(std::chrono::seconds(30)), 0) << diagnostics(tool);
    EXPECT_NE(tool.stderr_text().find("ready (" + path), std::string::npos) << diagnostics(tool);
    const auto lines = tool.json_lines();
    ASSERT_EQ(lines.size(), 2u) << diagnostics(tool);
    for (const auto& line : lines) {
      EXPECT_GT(line["count"].get<int>(), 0) << line.dump();  // a busy machine's scheduler
      expect_consistent_histogram(line);
    }
  }
}

// ---- syscount

// The count of `syscall` in a syscount JSON report, -1 when absent.
std::int64_t syscall_count(const std::vector<nlohmann::json>& reports, const std::string& syscall) {
  std::int64_t count = -1;
  for (const auto& report : reports)
    for (const auto& entry : report["syscalls"])
      if (entry["syscall"] == syscall) count = std::max<std::int64_t>(count, 0) + entry["count"].get<std::int64_t>();
  return count;
}

TEST_F(ToolsTest, SyscountCountsThisProcesssCalls) {
  ToolRun tool("syscount", {"-j", "-L", "-T", "50", "-p", std::to_string(::getpid())});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  for (int i = 0; i < 137; ++i) ::syscall(SYS_getppid);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto reports = tool.json_lines();
  ASSERT_EQ(reports.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(syscall_count(reports, "getppid"), 137) << diagnostics(tool);
  for (const auto& entry : reports[0]["syscalls"])
    if (entry["syscall"] == "getppid") {
      EXPECT_GT(entry["time_us"].get<double>(), 0.0);
    }
}

TEST_F(ToolsTest, SyscountErrnoFilter) {
  ToolRun tool("syscount", {"-j", "-e", "EBADF", "-p", std::to_string(::getpid())});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  for (int i = 0; i < 42; ++i) ::close(-1);
  for (int i = 0; i < 10; ++i) ::syscall(SYS_getppid);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto reports = tool.json_lines();
  EXPECT_EQ(syscall_count(reports, "close"), 42) << diagnostics(tool);
  EXPECT_EQ(syscall_count(reports, "getppid"), -1) << diagnostics(tool);
}

// ---- cpudist

void burn_cpu(std::chrono::milliseconds duration) {
  const auto end = std::chrono::steady_clock::now() + duration;
  volatile std::uint64_t sink = 0;
  while (std::chrono::steady_clock::now() < end) sink = sink + 1;
}

TEST_F(ToolsTest, CpudistOnCpuTimeAddsUpToTheCpuTimeUsed) {
  const std::string name = "cd" + std::to_string(::getpid() % 100000);
  WorkerChild child(name, [] {
    for (int i = 0; i < 5; ++i) {
      burn_cpu(std::chrono::milliseconds(40));
      ::usleep(5000);
    }
  });
  const pid_t pid = child.pid();
  ToolRun tool("cpudist", {"-j", "-P", "-p", std::to_string(pid)});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const auto cpu_us = child.run();
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(lines[0]["pid"], pid);
  EXPECT_EQ(lines[0]["comm"], name);
  EXPECT_GE(lines[0]["count"].get<int>(), 5);
  expect_consistent_histogram(lines[0]);
  // The on-CPU slices cover the CPU time the kernel accounted to the child (tick-based: loose).
  const auto sum = lines[0]["sum"].get<double>();
  EXPECT_GT(sum, 0.6 * static_cast<double>(cpu_us)) << "child used " << cpu_us << " us: " << lines[0].dump();
  EXPECT_LT(sum, 1.6 * static_cast<double>(cpu_us) + 20000) << "child used " << cpu_us << " us: " << lines[0].dump();
}

TEST_F(ToolsTest, CpudistOffCpuSleepsLandInTheirBucket) {
  const std::string name = "co" + std::to_string(::getpid() % 100000);
  WorkerChild child(name, [] {
    for (int i = 0; i < 10; ++i) ::usleep(20000);
  });
  const pid_t pid = child.pid();
  ToolRun tool("cpudist", {"-j", "-O", "-P", "-p", std::to_string(pid), "--attach", "raw_tracepoint"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  child.run();
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  std::uint64_t in_20ms_bucket = 0;
  for (const auto& bucket : lines[0]["buckets"])
    if (bucket["low"] == 16384) in_20ms_bucket = bucket["count"].get<std::uint64_t>();
  EXPECT_GE(in_20ms_bucket, 9u) << lines[0].dump();  // 20 ms sleeps: 16384 -> 32767 usecs
  expect_consistent_histogram(lines[0]);
}

// ---- TCP tools

// A TCP listener on 127.0.0.1 (an ephemeral port).
struct Listener {
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd, 4), 0);
    socklen_t size = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    port = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd); }
  int fd = -1;
  std::uint16_t port = 0;
};

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  return ntohs(address.sin_port);
}

void transfer(int from, int to, std::size_t bytes) {
  const std::string data(bytes, 'x');
  ASSERT_EQ(::write(from, data.data(), data.size()), static_cast<ssize_t>(bytes));
  std::string buffer(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(to, buffer.data() + got, bytes - got);
    ASSERT_GT(n, 0);
    got += static_cast<std::size_t>(n);
  }
}

TEST_F(ToolsTest, TcplifeReportsASessionOverLoopback) {
  Listener listener;
  ToolRun tool("tcplife", {"-j", "-D", std::to_string(listener.port)});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const int client = connect_to(listener.port);
  const int server = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(server, 0);
  const auto client_port = local_port(client);
  transfer(client, server, 3000);
  transfer(server, client, 5000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // The server closes first, so the client's close is a passive one (LAST_ACK, in this process).
  ::close(server);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::close(client);
  ASSERT_TRUE(tool.wait_output("\"lport\":" + std::to_string(client_port))) << diagnostics(tool);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto events = tool.json_lines();
  ASSERT_EQ(events.size(), 1u) << diagnostics(tool);  // -D: the client side only
  const auto& event = events[0];
  EXPECT_EQ(event["pid"], ::getpid());
  EXPECT_EQ(event["laddr"], "127.0.0.1");
  EXPECT_EQ(event["raddr"], "127.0.0.1");
  EXPECT_EQ(event["lport"], client_port);
  EXPECT_EQ(event["rport"], listener.port);
  // The kernel's byte counters count the FIN (and bytes_acked the SYN) as one byte each.
  EXPECT_GE(event["tx_bytes"], 3000);
  EXPECT_LE(event["tx_bytes"], 3002);
  EXPECT_GE(event["rx_bytes"], 5000);
  EXPECT_LE(event["rx_bytes"], 5001);
  EXPECT_GE(event["ms"].get<double>(), 40.0);
  EXPECT_LT(event["ms"].get<double>(), 10000.0);
}

TEST_F(ToolsTest, TcpconnectReportsAConnectOnEveryAttachPath) {
  Listener listener;
  const std::vector<std::pair<std::string, std::optional<kernel::Feature>>> paths = {
      {"fentry", kernel::Feature::trampolines}, {"kprobe", kernel::Feature::kprobes}, {"tracepoint", std::nullopt}};
  for (const auto& [path, feature] : paths) {
    SCOPED_TRACE(path);
    if (feature && !kernel::has_feature(*feature)) {
      // The path the kernel lacks must be refused in one line, exit status 1.
      ToolRun refused("tcpconnect", {"-j", "--attach", path});
      EXPECT_EQ(refused.wait_exit(), 1);
      EXPECT_NE(refused.stderr_text().find("tcpconnect: cannot run: " + path + ": "), std::string::npos)
          << diagnostics(refused);
      std::cout << test::unsupported(*feature) << " (tcpconnect --attach " << path << ")\n";
      continue;
    }
    ToolRun tool("tcpconnect", {"-j", "--attach", path, "-P", std::to_string(listener.port)});
    ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
    const int client = connect_to(listener.port);
    const auto client_port = local_port(client);
    const int server = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(server);
    ::close(client);
    ASSERT_TRUE(tool.wait_output("\"dport\":" + std::to_string(listener.port))) << diagnostics(tool);
    ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
    const auto events = tool.json_lines();
    ASSERT_EQ(events.size(), 1u) << diagnostics(tool);
    EXPECT_EQ(events[0]["pid"], ::getpid());
    EXPECT_EQ(events[0]["ip"], 4);
    EXPECT_EQ(events[0]["daddr"], "127.0.0.1");
    EXPECT_EQ(events[0]["dport"], listener.port);
    // The tracepoint fires before the local port is chosen.
    if (path != "tracepoint") {
      EXPECT_EQ(events[0]["lport"], client_port);
    }
  }
}

// ---- biolatency

// A loop device over a file of `size` bytes, detached on destruction; empty when the kernel has
// no loop driver.
class LoopDevice {
 public:
  LoopDevice(const std::filesystem::path& backing, std::size_t size) {
    { std::ofstream(backing) << std::string(size, 'b'); }
    const int control = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) return;
    const int index = ::ioctl(control, LOOP_CTL_GET_FREE);
    ::close(control);
    if (index < 0) return;
    path_ = "/dev/loop" + std::to_string(index);
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    const int file = ::open(backing.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0 || file < 0 || ::ioctl(fd_, LOOP_SET_FD, file) != 0) path_.clear();
    if (file >= 0) ::close(file);
  }
  ~LoopDevice() {
    if (fd_ >= 0) {
      if (!path_.empty()) ::ioctl(fd_, LOOP_CLR_FD, 0);
      ::close(fd_);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST_F(ToolsTest, BiolatencyCountsDirectReadsOfALoopDevice) {
  if (!std::filesystem::exists("/dev/loop-control")) {
    GTEST_SKIP() << test::unsupported("loop devices (no /dev/loop-control: the loop driver is not loaded)");
  }
  LoopDevice loop(dir_ / "loop-backing", 1 << 20);
  ASSERT_FALSE(loop.path().empty()) << "could not set up a loop device";
  const auto disk = std::filesystem::path(loop.path()).filename().string();
  ToolRun tool("biolatency", {"-j", "-D", "-d", loop.path()});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  constexpr int reads = 64;
  {
    const int fd = ::open(loop.path().c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    void* buffer = std::aligned_alloc(4096, 4096);
    for (int i = 0; i < reads; ++i) ASSERT_EQ(::pread(fd, buffer, 4096, static_cast<off_t>(i) * 4096), 4096);
    std::free(buffer);
    ::close(fd);
  }
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(lines[0]["disk"], disk);
  EXPECT_EQ(lines[0]["unit"], "usecs");
  EXPECT_EQ(lines[0]["count"], reads) << lines[0].dump();
  expect_consistent_histogram(lines[0]);
}

// ---- bashreadline

TEST_F(ToolsTest, BashreadlineReportsLinesTypedIntoABashUnderAPty) {
  if (!std::filesystem::exists("/bin/bash")) COREBPF_SKIP_OR_FAIL("no /bin/bash");
  ToolRun tool("bashreadline", {"-j"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  const std::string marker = "echo corebpf_marker_" + std::to_string(::getpid());
  int terminal = -1;
  const pid_t shell = ::forkpty(&terminal, nullptr, nullptr, nullptr);
  if (shell == 0) {
    ::execl("/bin/bash", "bash", "--norc", "--noprofile", "-i", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(shell, 0);
  // Drain the terminal in the background so the shell never blocks on output.
  std::thread reader([terminal] {
    char buffer[4096];
    while (::read(terminal, buffer, sizeof(buffer)) > 0) {
    }
  });
  const std::string input = marker + "\nexit\n";
  ASSERT_EQ(::write(terminal, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::waitpid(shell, nullptr, 0);
  ::close(terminal);
  reader.join();
  ASSERT_TRUE(tool.wait_output(marker)) << diagnostics(tool);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  int found = 0;
  for (const auto& event : tool.json_lines()) {
    if (event["pid"] != shell) continue;
    if (event["command"] == marker) ++found;
  }
  EXPECT_EQ(found, 1) << diagnostics(tool);
}

// ---- funclatency

TEST_F(ToolsTest, FunclatencyTimesAUserFunctionThroughUprobes) {
  ToolRun tool("funclatency", {"-j", "-u", "-p", std::to_string(::getpid()), "c:usleep"});
  ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
  for (int i = 0; i < 8; ++i) ::usleep(3000);
  ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
  const auto lines = tool.json_lines();
  ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
  EXPECT_EQ(lines[0]["unit"], "usecs");
  EXPECT_EQ(lines[0]["count"], 8) << lines[0].dump();
  std::uint64_t in_bucket = 0;  // 3 ms sleeps: 2048 -> 4095 usecs (a slow machine may take longer)
  for (const auto& bucket : lines[0]["buckets"])
    if (bucket["low"].get<std::uint64_t>() >= 2048) in_bucket += bucket["count"].get<std::uint64_t>();
  EXPECT_EQ(in_bucket, 8u) << lines[0].dump();
  expect_consistent_histogram(lines[0]);
}

TEST_F(ToolsTest, FunclatencyTimesAKernelFunctionOnEveryPathTheKernelHas) {
  const std::vector<std::pair<std::string, kernel::Feature>> paths = {{"fentry", kernel::Feature::trampolines},
                                                                      {"kprobe", kernel::Feature::kprobes}};
  const auto file = dir_ / "funclatency-target";
  { std::ofstream(file) << "x"; }
  bool ran = false;
  for (const auto& [path, feature] : paths) {
    SCOPED_TRACE(path);
    if (!kernel::has_feature(feature)) {
      std::cout << test::unsupported(feature) << " (funclatency --attach " << path << ")\n";
      continue;
    }
    ran = true;
    ToolRun tool("funclatency", {"-j", "--attach", path, "-p", std::to_string(::getpid()), "do_sys_openat2"});
    ASSERT_TRUE(tool.wait_ready()) << diagnostics(tool);
    for (int i = 0; i < 20; ++i) ::close(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(tool.stop(), 0) << diagnostics(tool);
    const auto lines = tool.json_lines();
    ASSERT_EQ(lines.size(), 1u) << diagnostics(tool);
    EXPECT_GE(lines[0]["count"].get<int>(), 20) << lines[0].dump();
    expect_consistent_histogram(lines[0]);
  }
  if (!ran) {
    // No way to hook a kernel function: the tool says so in one line and exits 1.
    ToolRun tool("funclatency", {"do_sys_openat2"});
    EXPECT_EQ(tool.wait_exit(), 1);
    EXPECT_NE(tool.stderr_text().find("funclatency: cannot run: fentry: "), std::string::npos) << diagnostics(tool);
    GTEST_SKIP() << test::unsupported(kernel::Feature::kprobes);
  }
}

}  // namespace
}  // namespace corebpf
