// Shared test helpers: paths, privilege and fixture checks that skip locally but fail in CI.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace corebpf::test {

bool running_in_ci();
std::filesystem::path source_dir();
std::filesystem::path build_dir();
std::filesystem::path cli_path();  // build/corebpf

// Directory of another kernel's files made by scripts/fetch-kernels ("6.1", "6.12"): it holds
// vmlinux.btf (raw BTF), version, and modules/*.ko. Empty when not fetched.
std::filesystem::path kernel_dir(const std::string& series);

// Runs `command` with /bin/sh, returns its exit status and puts stdout in `output`.
int run_command(const std::string& command, std::string* output = nullptr);

// What a command run with /bin/sh did: its exit status (-1 when a signal ended it), its standard
// output and its standard error, apart.
struct CommandOutcome {
  int status = -1;
  std::string out;
  std::string err;
};
CommandOutcome run_capturing(const std::string& command);
// The CLI under test (cli_path()) with `args`, as a user's shell would run it.
CommandOutcome run_cli(const std::string& args);

}  // namespace corebpf::test

// Skips the test with `why` outside CI; in CI (CI=true) a skip is a failure.
#define COREBPF_SKIP_OR_FAIL(why)                                                \
  do {                                                                           \
    if (::corebpf::test::running_in_ci()) FAIL() << "required in CI: " << (why); \
    GTEST_SKIP() << (why);                                                       \
  } while (0)

#define COREBPF_REQUIRE_ROOT()                                                           \
  do {                                                                                   \
    if (::geteuid() != 0) COREBPF_SKIP_OR_FAIL("needs root (kernel test): run as root"); \
  } while (0)
