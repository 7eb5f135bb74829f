// The tools (tools/) run for real against the running kernel: each test starts a tool with -j,
// waits for its ready line, makes the events it traces happen (a uniquely named binary exec()ed,
// a unique path opened...), stops it with SIGINT and looks for exactly those events in its JSON
// lines. On the host the tracepoint paths run; in the qemu guests (6.1, 6.12) the kprobe and
// fentry paths too, each forced with --attach when the probes say the kernel has it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
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

}  // namespace
}  // namespace corebpf
