// examples/hello end to end: the example runs a program after attaching and must print that
// program's exec with its pid, its parent (the example itself, read in BPF through CO-RE) and its
// name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "support/test_support.hpp"

namespace corebpf {
namespace {

TEST(HelloExample, PrintsTheExecOfTheProgramItStarts) {
  COREBPF_REQUIRE_ROOT();
  const auto hello = test::build_dir() / "examples/hello/hello";
  ASSERT_TRUE(std::filesystem::exists(hello)) << hello;
  // A copy of /bin/true with a name of our own, so its line cannot be anybody else's exec.
  const auto probe_dir = std::filesystem::temp_directory_path() / ("corebpf_hello_" + std::to_string(::getpid()));
  std::filesystem::create_directories(probe_dir);
  const auto probe = probe_dir / "hello_probe";
  std::filesystem::copy_file("/bin/true", probe, std::filesystem::copy_options::overwrite_existing);

  std::string output;
  // The shell prints its pid and then becomes the example: that pid is the probe's parent.
  const int status =
      test::run_command("sh -c 'echo $$; exec " + hello.string() + " --run " + probe.string() + "'", &output);
  std::filesystem::remove_all(probe_dir);
  ASSERT_EQ(status, 0) << output;

  std::istringstream lines(output);
  std::string hello_pid;
  std::getline(lines, hello_pid);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.substr(0, 3), "PID") << output;
  bool found = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string pid, ppid, comm;
    fields >> pid >> ppid >> comm;
    if (comm != "hello_probe") continue;
    found = true;
    EXPECT_EQ(ppid, hello_pid) << line;
    EXPECT_GT(std::stoi(pid), 0) << line;
    EXPECT_NE(pid, hello_pid) << line;
  }
  EXPECT_TRUE(found) << "no exec line for hello_probe in:\n" << output;
}

}  // namespace
}  // namespace corebpf
