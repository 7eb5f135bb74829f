// External BTF: with /sys/kernel/btf/vmlinux hidden from the loader (an empty file bind-mounted
// over it in a private mount namespace), a CO-RE object relocates against a BTF file the caller
// passes in (ObjectOptions::target_btf), the way a kernel without built-in BTF is served. Runs on
// the host and in every guest of the qemu matrix, each serving its own kernel's BTF as the file.
// The object (tests/bpf/external_btf.bpf.c) reads task_struct / mm_struct from a raw tracepoint
// program that test_run runs in this thread, so what it read is checked against this process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <utility>

#include "corebpf/error.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

namespace fs = std::filesystem;

const std::string task_object = COREBPF_BPF_OBJECT_DIR "/external_btf.bpf.o";
constexpr const char* vmlinux_path = "/sys/kernel/btf/vmlinux";

// Mirrors struct task_facts in tests/bpf/external_btf.bpf.c.
struct TaskFacts {
  int pid;
  int tgid;
  int parent_tgid;
  unsigned int runs;
  unsigned long mm_start_stack;
  unsigned long mm_total_vm;
  char comm[16];
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `body` in a child process with a private mount namespace in which /sys/kernel/btf/vmlinux
// is an empty file; returns what the child reported ("" when `body` returned "" too). A child,
// because unshare(CLONE_NEWNS) needs a process whose filesystem context no other thread shares.
std::string with_vmlinux_hidden(const std::function<std::string()>& body) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t child = ::fork();
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string report;
    const std::string empty = "/tmp/corebpf_hidden_vmlinux_" + std::to_string(::getpid());
    if (::unshare(CLONE_NEWNS) != 0) {
      report = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      report = std::string("making / private: ") + std::strerror(errno);
    } else if (!std::ofstream(empty)) {
      report = "cannot create " + empty;
    } else if (::mount(empty.c_str(), vmlinux_path, nullptr, MS_BIND, nullptr) != 0) {
      report = std::string("bind-mounting an empty file over ") + vmlinux_path + ": " + std::strerror(errno);
    } else if (fs::file_size(vmlinux_path) != 0) {
      report = std::string(vmlinux_path) + " still has content after the bind mount";
    } else {
      try {
        report = body();
      } catch (const std::exception& e) {
        report = std::string("unexpected exception: ") + e.what();
      }
    }
    ::unlink(empty.c_str());
    std::size_t done = 0;
    while (done < report.size()) {
      const auto n = ::write(pipe_fds[1], report.data() + done, report.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) report.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    report += "\nthe child died (status " + std::to_string(status) + ")";
  return report;
}

// Loads the object (relocated against `target_btf`, or the running kernel's BTF when empty), runs
// its program once in this thread and compares what it read from task_struct / mm_struct with
// what this process knows about itself; "" when everything matches.
std::string task_facts_match(const std::string& target_btf, ObjectOptions options = {}) {
  options.target_btf = target_btf;
  auto object = Object::open(task_object, options);
  object.load();
  object.program("read_task").test_run();
  const long parent = ::syscall(SYS_getppid);
  const auto* variable = object.spec().find_section_map(".bss")->find_variable("facts");
  if (variable == nullptr || variable->size != sizeof(TaskFacts)) return "external_btf.bpf.o has no matching 'facts'";
  TaskFacts facts{};
  std::memcpy(&facts, std::as_const(object).section_bytes(".bss").data() + variable->offset, sizeof(facts));
  std::string comm = read_file("/proc/self/comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  std::string mismatches;
  const auto expect = [&](bool ok, const std::string& what) {
    if (!ok) mismatches += what + "\n";
  };
  expect(facts.runs == 1, "runs " + std::to_string(facts.runs) + ", want 1");
  expect(facts.pid == static_cast<int>(::syscall(SYS_gettid)), "pid " + std::to_string(facts.pid));
  expect(facts.tgid == ::getpid(), "tgid " + std::to_string(facts.tgid) + ", want " + std::to_string(::getpid()));
  expect(facts.parent_tgid == parent,
         "parent tgid " + std::to_string(facts.parent_tgid) + ", want " + std::to_string(parent));
  expect(std::string(facts.comm, strnlen(facts.comm, sizeof(facts.comm))) == comm,
         "comm '" + std::string(facts.comm, strnlen(facts.comm, sizeof(facts.comm))) + "', want '" + comm + "'");
  expect(facts.mm_start_stack != 0, "mm->start_stack is 0");
  expect(facts.mm_total_vm != 0, "mm->total_vm is 0");
  return mismatches;
}

class ExternalBtf : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) COREBPF_SKIP_OR_FAIL("needs root (kernel test): run as root");
    if (!fs::exists(vmlinux_path)) COREBPF_SKIP_OR_FAIL(std::string("no ") + vmlinux_path + " to serve as a file");
    // The running kernel's own BTF, served from a file as a distribution's BTF archive would.
    btf_file_ = "/tmp/corebpf_external_btf_" + std::to_string(::getpid()) + ".btf";
    fs::copy_file(vmlinux_path, btf_file_, fs::copy_options::overwrite_existing);
  }
  void TearDown() override {
    if (!btf_file_.empty()) ::unlink(btf_file_.c_str());
  }
  std::string btf_file_;
};

TEST_F(ExternalBtf, HiddenVmlinuxFailsWithoutAFileNamingIt) {
  const std::string report = with_vmlinux_hidden([] {
    try {
      auto object = Object::open(task_object);
      object.load();
      return std::string("loaded a CO-RE object with /sys/kernel/btf/vmlinux hidden and no BTF file");
    } catch (const Error& e) {
      if (std::string(e.message()).find(vmlinux_path) == std::string::npos) {
        return "the error does not name " + std::string(vmlinux_path) + ": " + e.message();
      }
      return std::string();
    }
  });
  EXPECT_EQ(report, "");
}

TEST_F(ExternalBtf, ObjectRelocatesAgainstTheFileAndReadsTheTask) {
  const std::string file = btf_file_;
  const std::string report = with_vmlinux_hidden([&file] { return task_facts_match(file); });
  EXPECT_EQ(report, "");
}

// A BTF archive (ObjectOptions::btf_archive, what a program ships for kernels without BTF): the
// loader takes the BTF for `uname -r` from it, as BTFHub's layout keeps it.
std::string uname_release() {
  utsname names{};
  ::uname(&names);
  return names.release;
}

TEST_F(ExternalBtf, ArchiveServesTheRunningRelease) {
  const fs::path archive = "/tmp/corebpf_btf_archive_" + std::to_string(::getpid());
  fs::create_directories(archive / "debian/12/x86_64");
  fs::copy_file(btf_file_, archive / "debian/12/x86_64" / (uname_release() + ".btf"));
  std::ofstream(archive / "debian/12/x86_64/0.0.1-other.btf") << "not read";
  const std::string report = with_vmlinux_hidden([&archive] {
    ObjectOptions options;
    options.btf_archive = archive.string();
    return task_facts_match("", options);
  });
  fs::remove_all(archive);
  EXPECT_EQ(report, "");
}

TEST_F(ExternalBtf, EmbeddedArchiveServesTheRunningRelease) {
  const std::string bytes = read_file(btf_file_);
  const std::string report = with_vmlinux_hidden([&bytes] {
    ObjectOptions options;
    options.embedded_btf_archive.kernels[uname_release()] =
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    return task_facts_match("", options);
  });
  EXPECT_EQ(report, "");
}

TEST_F(ExternalBtf, ArchiveWithoutTheReleaseSaysWhichItHas) {
  const fs::path archive = "/tmp/corebpf_btf_archive_" + std::to_string(::getpid());
  fs::create_directories(archive);
  fs::copy_file(btf_file_, archive / "0.0.1-other.btf");
  const std::string report = with_vmlinux_hidden([&archive] {
    ObjectOptions options;
    options.btf_archive = archive.string();
    try {
      auto object = Object::open(task_object, options);
      object.load();
      return std::string("loaded without a matching BTF in the archive");
    } catch (const Error& e) {
      const std::string want =
          "no BTF for kernel " + uname_release() + " in BTF archive " + archive.string() + " (it has 0.0.1-other)";
      if (e.message().find(want) == std::string::npos) return "error '" + e.message() + "' lacks '" + want + "'";
      if (e.message().find('\n') != std::string::npos) return "error is not one line: " + e.message();
      return std::string();
    }
  });
  fs::remove_all(archive);
  EXPECT_EQ(report, "");
}

// The same object and checks with the BTF visible: the file and the kernel's own BTF give the same
// answers (so the hidden run above proves the file was enough).
TEST_F(ExternalBtf, SameFactsFromTheRunningKernelsBtf) { EXPECT_EQ(task_facts_match(""), ""); }

}  // namespace
}  // namespace corebpf
