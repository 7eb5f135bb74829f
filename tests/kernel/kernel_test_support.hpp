// Helpers for tests against the running kernel: bpffs, fd counting.
#pragma once

#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object_spec.hpp"
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

// The skip message tests/vm/run accepts: "unsupported on <release>: <what>". Only for a gap a
// library probe decided.
inline std::string unsupported(std::string what) {
  const auto& release = kernel::running_kernel_release();
  // The library's reasons name the release too ("this kernel (R) refuses ..."): once is enough.
  const std::string again = "this kernel (" + release + ") ";
  if (what.starts_with(again)) what.replace(0, again.size(), "the kernel ");
  return "unsupported on " + release + ": " + what;
}

// "unsupported on 6.1.0-27-cloud-amd64: kprobe.session links (Linux 6.10+)", or, on a release
// that should have the feature, "... (refused by the probe; they need CONFIG_FPROBE)".
inline std::string unsupported(kernel::Feature feature) {
  const auto& info = kernel::feature_info(feature);
  std::string why;
  if (kernel::running_kernel_version() < info.since) {
    why = "Linux " + std::to_string(info.since >> 16) + "." + std::to_string((info.since >> 8) & 0xff) + "+";
  } else {
    why = "refused by the probe";
    if (!info.needs.empty()) why += "; they need " + std::string(info.needs);
  }
  return unsupported(std::string(info.name) + " (" + why + ")");
}

// Why the running kernel cannot load one of `programs` of the object at `path` (its program
// type, iterator target or trampoline kind, by probe); empty when it can.
inline std::string unsupported_programs(const std::string& path, std::initializer_list<std::string_view> programs) {
  const auto spec = ObjectSpec::open(path);
  for (const auto& program : spec.programs()) {
    for (const auto name : programs) {
      if (program.name() != name) continue;
      if (auto reason = kernel::missing_program_support(program)) return unsupported(*reason);
    }
  }
  return {};
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

// Skips (with the message tests/vm/run accepts) when the running kernel lacks `feature`.
#define COREBPF_REQUIRE_FEATURE(feature)                                                                 \
  do {                                                                                                   \
    if (!::corebpf::kernel::has_feature(feature)) GTEST_SKIP() << ::corebpf::test::unsupported(feature); \
  } while (0)

// Skips when the running kernel refuses the kind of one of the named programs of an object.
#define COREBPF_REQUIRE_PROGRAMS(path, ...)                                                        \
  do {                                                                                             \
    const auto corebpf_unsupported = ::corebpf::test::unsupported_programs((path), {__VA_ARGS__}); \
    if (!corebpf_unsupported.empty()) GTEST_SKIP() << corebpf_unsupported;                         \
  } while (0)
