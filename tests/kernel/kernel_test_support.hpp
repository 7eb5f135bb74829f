// Helpers for tests against the running kernel: bpffs, fd counting.
#pragma once

#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include "support/test_support.hpp"

namespace corebpf::test {

inline constexpr const char* bpffs_root = "/sys/fs/bpf";

// Mounts bpffs at /sys/fs/bpf when it is not there yet (a fresh CI machine); false if impossible.
inline bool ensure_bpffs() {
  constexpr long bpf_fs_magic = 0xcafe4a11;
  struct statfs fs {};
  if (::statfs(bpffs_root, &fs) == 0 && static_cast<long>(fs.f_type) == bpf_fs_magic) return true;
  if (::mount("bpf", bpffs_root, "bpf", 0, nullptr) != 0) return false;
  return ::statfs(bpffs_root, &fs) == 0 && static_cast<long>(fs.f_type) == bpf_fs_magic;
}

// A fresh path under bpffs for this test process.
inline std::string bpffs_path(const std::string& name) {
  return std::string(bpffs_root) + "/corebpf_test_" + std::to_string(::getpid()) + "_" + name;
}

inline std::size_t open_fd_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

}  // namespace corebpf::test

#define COREBPF_REQUIRE_BPFFS()                                                                       \
  do {                                                                                                \
    if (!::corebpf::test::ensure_bpffs()) COREBPF_SKIP_OR_FAIL("bpffs not mountable at /sys/fs/bpf"); \
  } while (0)
