// Whole lifecycles against the running kernel: 1,000 open/load/attach/destroy cycles leave no fd,
// program, map or link behind, and a process without privileges gets one clear error and no half-loaded state.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

const std::string core_task_object = COREBPF_BPF_OBJECT_DIR "/core_task.bpf.o";

const std::string lifecycle_object = COREBPF_BPF_OBJECT_DIR "/lifecycle.bpf.o";

bool exists(kernel::ObjectType type, std::uint32_t id) { return kernel::try_open_by_id(type, id).has_value(); }

// The kernel frees maps and programs after an RCU grace period, from a work queue: an id can
// outlive its last fd by a little. Waits (bounded) until none of `ids` exists; returns a survivor.
std::optional<std::uint32_t> survivor(kernel::ObjectType type, const std::vector<std::uint32_t>& ids) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (std::size_t next = 0; next < ids.size();) {
    if (!exists(type, ids[next])) {
      ++next;
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) return ids[next];
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

TEST(Lifecycle, ThousandCyclesLeaveNoFdsProgramsMapsOrLinks) {
  COREBPF_REQUIRE_ROOT();
  constexpr int cycles = 1000;
  const auto fds_before = test::open_fd_count();
  // Other tests may run beside this one, so the check is on the ids this test made, not on totals.
  std::vector<std::uint32_t> program_ids, map_ids, link_ids;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    auto object = Object::open(lifecycle_object);
    object.load();
    auto& program = object.program("count_syscalls");
    auto link = program.attach();
    program_ids.push_back(program.info().id);
    for (const auto& map : object.spec().maps()) map_ids.push_back(object.map(map.name()).info().id);
    if (link.fd() >= 0) link_ids.push_back(link.info().id);
  }
  EXPECT_EQ(test::open_fd_count(), fds_before);
  ASSERT_EQ(program_ids.size(), static_cast<std::size_t>(cycles));
  ASSERT_EQ(map_ids.size(), 5u * cycles) << "per_tgid, events, .rodata, .data, .bss each cycle";
  ASSERT_EQ(link_ids.size(), static_cast<std::size_t>(cycles)) << "raw_tp attachments are BPF links";
  EXPECT_EQ(survivor(kernel::ObjectType::link, link_ids), std::nullopt) << "a link outlived its cycle";
  EXPECT_EQ(survivor(kernel::ObjectType::program, program_ids), std::nullopt) << "a program outlived its cycle";
  EXPECT_EQ(survivor(kernel::ObjectType::map, map_ids), std::nullopt) << "a map outlived its cycle";
}

// Runs `body` in a child that dropped root (uid/gid nobody, no capabilities) and returns what it
// wrote to the pipe.
std::string run_unprivileged(void (*body)(int out_fd)) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      const std::string failure = "could not drop privileges";
      [[maybe_unused]] auto written = ::write(pipe_fds[1], failure.data(), failure.size());
      ::_exit(1);
    }
    body(pipe_fds[1]);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string output;
  char buffer[4096];
  ssize_t got;
  while ((got = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) output.append(buffer, static_cast<std::size_t>(got));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return output;
}

TEST(Lifecycle, WithoutPrivilegesOneClearErrorAndNothingLeft) {
  COREBPF_REQUIRE_ROOT();  // to drop root in a child
  const std::string report = run_unprivileged([](int out) {
    std::string result;
    const auto fds_before = test::open_fd_count();
    try {
      auto object = Object::open(core_task_object);
      object.load();
      result = "loaded without privileges";
    } catch (const Error& e) {
      result = (e.errno_value() == EPERM ? "EPERM|" : "errno " + std::to_string(e.errno_value()) + "|") + e.message();
    }
    if (test::open_fd_count() != fds_before) result += "|fd leak";
    [[maybe_unused]] auto written = ::write(out, result.data(), result.size());
  });
  EXPECT_TRUE(report.starts_with("EPERM|")) << report;
  EXPECT_NE(report.find("object 'core_task'"), std::string::npos) << report;
  EXPECT_NE(report.find("needs root, or CAP_BPF"), std::string::npos) << report;
  EXPECT_EQ(report.find("fd leak"), std::string::npos) << report;
}

}  // namespace
}  // namespace corebpf
