// examples/map-walk end to end: the typed map walk prints the system calls it counted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "support/test_support.hpp"

namespace corebpf {
namespace {

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
