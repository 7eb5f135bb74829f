#include <gtest/gtest.h>

#include "corebpf/error.hpp"
#include "corebpf/fd.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace {

TEST(Error, CarriesCodeAndMessage) {
  try {
    corebpf::util::fail(std::errc::invalid_argument, "type [{}] at byte offset {}: bad", 7, 96);
    FAIL() << "fail() returned";
  } catch (const corebpf::Error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_EQ(e.errno_value(), EINVAL);
    EXPECT_STREQ(e.what(), "type [7] at byte offset 96: bad");
  }
}

TEST(Error, MissingFileNamesPathAndReason) {
  try {
    corebpf::util::FileBytes::open("/nonexistent/corebpf-test");
    FAIL() << "open() of a missing file succeeded";
  } catch (const corebpf::Error& e) {
    EXPECT_EQ(e.errno_value(), ENOENT);
    EXPECT_NE(e.message().find("/nonexistent/corebpf-test"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("No such file"), std::string::npos) << e.message();
  }
}

TEST(UniqueFd, ClosesOnDestructionAndMove) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    corebpf::UniqueFd a(raw);
    corebpf::UniqueFd b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), raw);
    EXPECT_NE(::fcntl(raw, F_GETFD), -1);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1) << "fd still open after its owner was destroyed";
}

TEST(FileBytes, ReadsProcFilesThatCannotBeMapped) {
  auto bytes = corebpf::util::FileBytes::open("/proc/self/status");
  EXPECT_FALSE(bytes.is_mapped());
  ASSERT_GT(bytes.bytes().size(), 10u);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(bytes.bytes().data()), 5), "Name:");
}

}  // namespace
