// examples/hello-buffer-config and examples/map-walk end to end: the .rodata default message and
// a per-uid message from the hash map reach the perf buffer's events; the typed map walk prints
// the system calls it counted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "support/test_support.hpp"

namespace corebpf {
namespace {

// Runs hello-buffer-config with `options` while it execs a probe of a short path (the event keeps
// 15 characters of it); returns the probe's line.
std::string probe_line(const std::string& options) {
  const auto example = test::build_dir() / "examples/hello-buffer-config/hello-buffer-config";
  EXPECT_TRUE(std::filesystem::exists(example)) << example;
  const std::filesystem::path dir = "/tmp/hb" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const auto probe = dir / "t";
  std::filesystem::copy_file("/bin/true", probe, std::filesystem::copy_options::overwrite_existing);
  std::string output;
  const int status = test::run_command(example.string() + " " + options + " --run " + probe.string(), &output);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(status, 0) << output;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" " + probe.string() + " ") != std::string::npos) return line;
  }
  ADD_FAILURE() << "no event for " << probe << " in:\n" << output;
  return {};
}

TEST(HelloBufferConfigExample, DefaultMessageIsTheRodataSetting) {
  COREBPF_REQUIRE_ROOT();
  const auto line = probe_line("--default Howdy");
  EXPECT_NE(line.find("Howdy"), std::string::npos) << line;
  EXPECT_NE(line.find(" 0 "), std::string::npos) << line;  // uid 0
}

TEST(HelloBufferConfigExample, PerUidMessageComesFromTheHashMap) {
  COREBPF_REQUIRE_ROOT();
  const auto line = probe_line("--default Howdy --message 0 HiRoot --message 1000 HiUser");
  EXPECT_NE(line.find("HiRoot"), std::string::npos) << line;
  EXPECT_EQ(line.find("Howdy"), std::string::npos) << line;
}

TEST(MapWalkExample, PrintsTheCountedSyscalls) {
  COREBPF_REQUIRE_ROOT();
  const auto example = test::build_dir() / "examples/map-walk/map-walk";
  ASSERT_TRUE(std::filesystem::exists(example)) << example;
  std::string output;
  ASSERT_EQ(test::run_command(example.string() + " --seconds 0.5 --top 3", &output), 0) << output;
  std::istringstream lines(output);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.substr(0, 3), "PID") << output;
  std::size_t rows = 0;
  std::string last;
  for (std::string line; std::getline(lines, line);) {
    ++rows;
    last = line;
  }
  EXPECT_GE(rows, 2u) << output;  // at least one pair and the summary
  EXPECT_NE(last.find("pairs"), std::string::npos) << output;
  EXPECT_EQ(last.find(" 0 calls"), std::string::npos) << output;
}

}  // namespace
}  // namespace corebpf
