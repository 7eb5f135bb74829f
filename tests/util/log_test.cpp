#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corebpf/log.hpp"
#include "util/log_format.hpp"

namespace {

TEST(Log, OffByDefaultThenDeliversAtOrAboveLevel) {
  EXPECT_FALSE(corebpf::log_enabled(corebpf::LogLevel::error));
  std::vector<std::string> seen;
  corebpf::set_log_handler([&](corebpf::LogLevel, std::string_view m) { seen.emplace_back(m); },
                           corebpf::LogLevel::info);
  corebpf::util::log(corebpf::LogLevel::debug, "hidden {}", 1);
  corebpf::util::log(corebpf::LogLevel::warning, "shown {}", 2);
  corebpf::set_log_handler(nullptr);
  corebpf::util::log(corebpf::LogLevel::error, "after off {}", 3);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "shown 2");
}

}  // namespace
