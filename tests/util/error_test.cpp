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

// The two error kinds callers branch on stay corebpf::Errors with their message and errno.
TEST(ErrorTypes, VerifierAndUnsupportedErrorsCarryTheirFacts) {
  try {
    throw corebpf::VerifierError(EACCES, "object 'x': program 'p': the kernel rejected it",
                                 {"p", 7, "x.bpf.c:3:5: return *v;", "R0 invalid mem access 'scalar'", "0: (b7) ..."});
  } catch (const corebpf::Error& e) {
    EXPECT_STREQ(e.what(), "object 'x': program 'p': the kernel rejected it");
    EXPECT_EQ(e.errno_value(), EACCES);
    const auto& verifier = dynamic_cast<const corebpf::VerifierError&>(e);
    EXPECT_EQ(verifier.program(), "p");
    EXPECT_EQ(verifier.instruction(), 7U);
    EXPECT_EQ(verifier.source_line(), "x.bpf.c:3:5: return *v;");
    EXPECT_EQ(verifier.reason(), "R0 invalid mem access 'scalar'");
    EXPECT_EQ(verifier.log(), "0: (b7) ...");
  }
  const corebpf::UnsupportedError unsupported(EOPNOTSUPP, "no kprobe.session",
                                              {"kprobe.session links", (6U << 16) + (10U << 8), "6.1.0-27-amd64"});
  EXPECT_EQ(unsupported.errno_value(), EOPNOTSUPP);
  EXPECT_EQ(unsupported.feature(), "kprobe.session links");
  EXPECT_EQ(unsupported.minimum_release(), "6.10");
  EXPECT_EQ(unsupported.running_release(), "6.1.0-27-amd64");
  EXPECT_EQ(corebpf::UnsupportedError(EPERM, "m", {"bpf_map_elem iterators", 0, "6.18"}).minimum_release(), "");
}

}  // namespace
