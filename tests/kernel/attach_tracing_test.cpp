// Tracing attach against the running kernel: every test triggers its hook for real (fork+exec,
// write, connect, getppid, open) and checks what the program recorded. Hooks this kernel lacks
// (kprobes, trampolines) are decided by feature probe and skipped naming the kernel and feature;
// the qemu matrix runs them on kernels that have them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "attach_tracing.skel.hpp"
#include "attach_tracing_trampoline.skel.hpp"
#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/map_view.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

const std::string tracing_object = COREBPF_BPF_OBJECT_DIR "/attach_tracing.bpf.o";
const std::string trampoline_object = COREBPF_BPF_OBJECT_DIR "/attach_tracing_trampoline.bpf.o";
const std::string core_task_object = COREBPF_BPF_OBJECT_DIR "/core_task.bpf.o";
const std::string freplace_target_object = COREBPF_BPF_OBJECT_DIR "/attach_tracing_freplace_target.bpf.o";
const std::string freplace_object = COREBPF_BPF_OBJECT_DIR "/attach_tracing_freplace.bpf.o";

// The objects' state structs (tests/bpf/attach_tracing*.bpf.c), from their skeletons.
using TracingState = attach_tracing::types::tracing_state;
using TrampolineState = attach_tracing_trampoline::types::trampoline_state;

using kernel::Feature;
using test::unsupported;

// The object with only `programs` loaded (the others may need hooks this kernel lacks).
Object load_only(const std::string& path, std::initializer_list<const char*> programs) {
  auto object = Object::open(path);
  for (auto& program : object.spec().programs()) {
    bool wanted = false;
    for (const char* name : programs) wanted = wanted || program.name() == name;
    program.set_autoload(wanted);
  }
  object.load();
  return object;
}

TracingState& tracing_state(Object& object) {
  auto& state = object.bss<TracingState>();
  state.target_tgid = ::getpid();
  return state;
}

long raw_getppid() { return ::syscall(SYS_getppid); }  // not cached by the C library

std::string own_comm() {
  char comm[17] = {};
  ::prctl(PR_GET_NAME, comm);
  return comm;
}

bool has_kprobes() { return kernel::has_feature(Feature::kprobes); }

#define REQUIRE_KPROBES()                                                                \
  do {                                                                                   \
    COREBPF_REQUIRE_ROOT();                                                              \
    /* A tracepoint attach mounts tracefs when missing, so kprobe_events can be seen. */ \
    (void)tracefs_mounted();                                                             \
    COREBPF_REQUIRE_FEATURE(Feature::kprobes);                                           \
  } while (0)

// Mounts tracefs through the library (any tracepoint attach does) so file checks can see it.
bool tracefs_mounted() {
  try {
    auto object = load_only(tracing_object, {"on_getppid"});
    auto link = object.program("on_getppid").attach();
    return true;
  } catch (const Error&) {
    return false;
  }
}

// ---- tracepoints

TEST(AttachTracepoint, ExecveSeesTheForkedChildAndItsPath) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_execve");
  auto object = load_only(tracing_object, {"on_execve"});
  auto& state = tracing_state(object);
  auto link = object.program("on_execve").attach_tracepoint("syscalls", "sys_enter_execve");
  EXPECT_EQ(link.description(), "tracepoint syscalls/sys_enter_execve (program 'on_execve')");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The path from the stack: a fresh child has not faulted in the binary's read-only strings,
    // which the program's bpf_probe_read_user_str() cannot fault in.
    char path[] = "/bin/true";
    ::execl(path, "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(state.exec_pid, child);
  EXPECT_EQ(state.exec_parent, ::getpid());
  EXPECT_STREQ(state.exec_path, "/bin/true");
  EXPECT_EQ(std::string(state.exec_comm), own_comm()) << "execve's entry still runs under the parent's name";
}

TEST(AttachTracepoint, WriteToAPipeFromTheSectionName) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_write");
  auto object = load_only(tracing_object, {"on_write"});
  auto& state = tracing_state(object);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  state.watch_fd = write_end.get();
  auto link = object.program("on_write").attach();  // SEC("tracepoint/syscalls/sys_enter_write")
  ASSERT_EQ(::write(write_end.get(), "corebpf", 7), 7);
  ASSERT_EQ(::write(write_end.get(), "ab", 2), 2);
  EXPECT_EQ(state.write_fd, write_end.get());
  EXPECT_EQ(state.write_count, 2);
  EXPECT_EQ(state.write_hits, 2u);
  link = Link();
  ASSERT_EQ(::write(write_end.get(), "x", 1), 1);
  EXPECT_EQ(state.write_hits, 2u) << "detached on destruction";
}

TEST(AttachTracepoint, ConnectSeesTheSocketAndPort) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_connect");
  auto object = load_only(tracing_object, {"on_connect"});
  auto& state = tracing_state(object);
  auto link = object.program("on_connect").attach();
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(40123);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(state.connect_fd, sock.get());
  EXPECT_EQ(state.connect_len, static_cast<long>(sizeof(address)));
  EXPECT_EQ(ntohs(state.connect_port), 40123);
}

TEST(AttachTracepoint, CookieReachesTheProgram) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::perf_link);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_getppid");
  auto object = load_only(tracing_object, {"on_getppid"});
  auto& state = tracing_state(object);
  const long parent = ::getppid();
  auto link = object.program("on_getppid").attach_tracepoint("syscalls", "sys_enter_getppid", 0xc00c1e);
  EXPECT_GE(link.fd(), 0) << "a perf link";
  EXPECT_EQ(raw_getppid(), parent);
  EXPECT_EQ(state.tp_getppid_hits, 1u);
  EXPECT_EQ(state.tp_cookie, 0xc00c1eu);
}

TEST(AttachTracepoint, UnknownTracepointNamesItAndTheTracefsPath) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_getppid");
  auto object = load_only(tracing_object, {"on_getppid"});
  try {
    auto link = object.program("on_getppid").attach_tracepoint("syscalls", "sys_enter_no_such_call");
    FAIL() << "attached to a tracepoint that does not exist";
  } catch (const Error& e) {
    const std::string message = e.message();
    EXPECT_NE(message.find("syscalls/sys_enter_no_such_call"), std::string::npos) << message;
    EXPECT_NE(message.find("tracing/events/syscalls/sys_enter_no_such_call/id"), std::string::npos) << message;
    EXPECT_NE(message.find("'on_getppid'"), std::string::npos) << message;
    EXPECT_EQ(e.errno_value(), ENOENT);
  }
}

// Without tracefs (a private mount namespace where both mount points are gone, so tracefs cannot
// be mounted either) the error names both places.
TEST(AttachTracepoint, NoTracefsNamesBothMountPoints) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_getppid");
  auto object = load_only(tracing_object, {"on_getppid"});
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string report;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      report = std::string("setup: ") + std::strerror(errno);
    } else {
      ::umount2("/sys/kernel/debug/tracing", MNT_DETACH);
      ::umount2("/sys/kernel/tracing", MNT_DETACH);
      // An empty read-only /sys/kernel: neither directory exists to mount on.
      if (::mount("none", "/sys/kernel", "tmpfs", MS_RDONLY, "size=4k") != 0) {
        report = std::string("setup: ") + std::strerror(errno);
      } else {
        try {
          auto link = object.program("on_getppid").attach_tracepoint("syscalls", "sys_enter_getppid");
          report = "attached without tracefs";
        } catch (const Error& e) {
          report = e.message();
        }
      }
    }
    [[maybe_unused]] auto written = ::write(pipe_fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buffer[512];
  for (ssize_t got; (got = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) report.append(buffer, got);
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(report.find("setup: "), std::string::npos) << report;
  EXPECT_NE(report.find("no tracefs"), std::string::npos) << report;
  EXPECT_NE(report.find("/sys/kernel/tracing"), std::string::npos) << report;
  EXPECT_NE(report.find("/sys/kernel/debug/tracing"), std::string::npos) << report;
}

// ---- raw tracepoints and tp_btf

TEST(AttachRawTracepoint, SysEnterCountsGetppid) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_raw_sys_enter");
  auto object = load_only(tracing_object, {"on_raw_sys_enter"});
  auto& state = tracing_state(object);
  auto link = object.program("on_raw_sys_enter").attach();  // SEC("raw_tracepoint/sys_enter")
  EXPECT_GE(link.fd(), 0);
  const auto info = link.info();
  EXPECT_EQ(info.program_id, object.program("on_raw_sys_enter").info().id);
  // The tracepoint's name comes back through a second info call once the type is known.
  EXPECT_EQ(info.type, BPF_LINK_TYPE_RAW_TRACEPOINT);
  const auto* raw_tp = info.as<corebpf::kernel::RawTracepointLinkInfo>();
  ASSERT_NE(raw_tp, nullptr);
  EXPECT_EQ(raw_tp->tp_name, "sys_enter");
  for (int i = 0; i < 3; ++i) raw_getppid();
  EXPECT_EQ(state.raw_getppid_hits, 3u);
  link.detach();
  raw_getppid();
  EXPECT_EQ(state.raw_getppid_hits, 3u);
}

TEST(AttachRawTracepoint, Cookie) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::raw_tp_cookie);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_raw_sys_enter_cookie");
  auto object = load_only(tracing_object, {"on_raw_sys_enter_cookie"});
  auto& state = tracing_state(object);
  auto link = object.program("on_raw_sys_enter_cookie").attach_raw_tracepoint("sys_enter", 4242);
  raw_getppid();
  EXPECT_EQ(state.raw_cookie, 4242u);
}

TEST(AttachRawTracepoint, UnknownNameIsNamed) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_raw_sys_enter");
  auto object = load_only(tracing_object, {"on_raw_sys_enter"});
  try {
    auto link = object.program("on_raw_sys_enter").attach_raw_tracepoint("no_such_tracepoint");
    FAIL() << "attached to a raw tracepoint that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unknown raw tracepoint 'no_such_tracepoint'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("'on_raw_sys_enter'"), std::string::npos) << e.message();
  }
}

TEST(AttachTpBtf, SysEnterCountsGetppid) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::tracing_programs);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_btf_sys_enter");
  auto object = load_only(tracing_object, {"on_btf_sys_enter"});
  auto& state = tracing_state(object);
  auto link = object.program("on_btf_sys_enter").attach();  // SEC("tp_btf/sys_enter")
  for (int i = 0; i < 4; ++i) raw_getppid();
  EXPECT_EQ(state.btf_getppid_hits, 4u);
  link = Link();
  raw_getppid();
  EXPECT_EQ(state.btf_getppid_hits, 4u);
}

TEST(AttachTpBtf, Cookie) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::raw_tp_cookie);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_btf_sys_enter_cookie");
  auto object = load_only(tracing_object, {"on_btf_sys_enter_cookie"});
  auto& state = tracing_state(object);
  auto link = object.program("on_btf_sys_enter_cookie").attach_trace(0xbeef);
  raw_getppid();
  EXPECT_EQ(state.btf_cookie, 0xbeefu);
}

// ---- iterators

std::string own_task_line() { return std::to_string(::getpid()) + " " + std::to_string(::getpid()) + " " + own_comm(); }

TEST(AttachIter, TasksListOurselves) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::task_iterator);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "dump_tasks", "dump_task_ids");
  auto object = load_only(tracing_object, {"dump_tasks", "dump_task_ids"});
  auto link = object.program("dump_tasks").attach();  // SEC("iter/task")
  const auto output = link.read_iterator();
  EXPECT_NE(output.find("\n" + own_task_line() + "\n"), std::string::npos) << output.substr(0, 400);
  EXPECT_GT(std::count(output.begin(), output.end(), '\n'), 2) << "other tasks are listed too";

  // One process only (IterOptions::task_pid): every line is one of our threads.
  IterOptions only_us;
  only_us.task_pid = ::getpid();
  auto own = object.program("dump_tasks").attach_iter(only_us);
  const auto own_output = own.read_iterator();
  EXPECT_EQ(own_output.rfind(own_task_line() + "\n", 0), 0u) << own_output;
  std::istringstream lines(own_output);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.rfind(std::to_string(::getpid()) + " ", 0), 0u) << line;
  }

  // The program behind the link can be replaced (BPF_LINK_UPDATE); the next pass uses it.
  own.update_program(object.program("dump_task_ids"));
  EXPECT_EQ(own.read_iterator().rfind("T " + std::to_string(::getpid()) + "\n", 0), 0u);
}

TEST(AttachIter, PinnedIteratorReadsThroughThePin) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::task_iterator);
  COREBPF_REQUIRE_BPFFS();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "dump_tasks");
  auto object = load_only(tracing_object, {"dump_tasks"});
  const auto path = test::bpffs_path("iter_tasks");
  {
    auto link = object.program("dump_tasks").attach_iter();
    link.pin(path);
  }
  // The pin keeps the iterator after the Link is gone; reading the file runs it (like `cat`).
  std::string via_cat;
  ASSERT_EQ(test::run_command("cat " + path, &via_cat), 0);
  EXPECT_NE(via_cat.find("\n" + own_task_line() + "\n"), std::string::npos);
  auto reopened = Link::open_pinned(path);
  EXPECT_EQ(reopened.info().program_id, object.program("dump_tasks").info().id);
  const auto reopened_info = reopened.info();
  const auto* iter = reopened_info.as<corebpf::kernel::IterLinkInfo>();
  ASSERT_NE(iter, nullptr);
  EXPECT_EQ(iter->target_name, "task");
  EXPECT_FALSE(iter->map_id);
  EXPECT_NE(reopened.read_iterator().find(own_task_line()), std::string::npos);
  Link::unpin(path);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(AttachIter, MapElementsOfTheGivenMap) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::map_elem_iterator);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "dump_values");
  auto object = load_only(tracing_object, {"dump_values"});
  MapView<std::uint32_t, std::uint64_t> values(object.map("iter_values"));
  for (std::uint32_t key = 0; key < 3; ++key) values.update(key, (key + 1) * 10);
  IterOptions options;
  options.map_fd = object.map("iter_values").fd();
  auto link = object.program("dump_values").attach_iter(options);
  EXPECT_EQ(link.read_iterator(), "0=10\n1=20\n2=30\n");
  values.update(1, 7);
  EXPECT_EQ(link.read_iterator(), "0=10\n1=7\n2=30\n") << "each pass reads the map anew";
  // The iterator needs its map: the kernel refuses it without one.
  EXPECT_THROW(object.program("dump_values").attach_iter(), Error);
  IterOptions two;
  two.map_fd = options.map_fd;
  two.task_pid = ::getpid();
  try {
    auto bad = object.program("dump_values").attach_iter(two);
    FAIL() << "took a map and a task at once";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("one of a map, a task or a cgroup"), std::string::npos) << e.message();
  }
}

// A kernel that refuses a kind of program outright (EPERM before verification, as root) gets an
// error that says so, decided by the probe; a kernel that takes it loads the same program.
TEST(AttachIter, RefusedIteratorKindIsNamed) {
  COREBPF_REQUIRE_ROOT();
  if (kernel::has_iterator("bpf_map_elem")) {
    EXPECT_NO_THROW(load_only(tracing_object, {"dump_values"}));
    return;
  }
  try {
    load_only(tracing_object, {"dump_values"});
    FAIL() << "the probe said this kernel refuses bpf_map_elem iterators, but the program loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EPERM);
    EXPECT_NE(e.message().find("program 'dump_values'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("refuses bpf_map_elem iterators (EPERM before verification"), std::string::npos)
        << e.message();
    // As data: an UnsupportedError naming the feature, its release and this kernel's.
    const auto* unsupported = dynamic_cast<const UnsupportedError*>(&e);
    ASSERT_NE(unsupported, nullptr) << "a kernel that refuses a kind of program is an UnsupportedError";
    EXPECT_EQ(unsupported->feature(), "bpf_map_elem iterators");
    EXPECT_EQ(unsupported->minimum_version(), kernel::feature_info(Feature::map_elem_iterator).since);
    EXPECT_EQ(unsupported->minimum_release(), "5.9");
    EXPECT_EQ(unsupported->running_release(), kernel::running_kernel_release());
  }
}

TEST(AttachTrampoline, RefusedTrampolinesAreNamed) {
  COREBPF_REQUIRE_ROOT();
  if (!kernel::running_kernel_description().vmlinux_btf) COREBPF_SKIP_OR_FAIL("no vmlinux BTF");
  if (kernel::has_feature(Feature::trampolines)) {
    EXPECT_NO_THROW(load_only(trampoline_object, {"on_openat2_entry"}));
    return;
  }
  try {
    load_only(trampoline_object, {"on_openat2_entry"});
    FAIL() << "the probe said this kernel refuses fentry programs, but one loaded";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("program 'on_openat2_entry'"), std::string::npos) << e.message();
    if (e.errno_value() == EPERM) {
      EXPECT_NE(e.message().find("refuses fentry/fexit programs"), std::string::npos) << e.message();
    }
  }
}

// ---- perf events

TEST(AttachPerfEvent, CpuClockOnEveryCpuSamples) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_sample");
  auto object = load_only(tracing_object, {"on_sample"});
  auto& state = tracing_state(object);
  perf_event_attr attr{};
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = 100000;  // ns of CPU clock
  auto links = object.program("on_sample").attach_perf_event_per_cpu(attr);
  EXPECT_EQ(links.size(), static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  // Busy until a sample lands: bounded by work, not by time.
  volatile std::uint64_t work = 0;
  for (std::uint64_t i = 0; i < 20'000'000'000ULL && __atomic_load_n(&state.perf_samples, __ATOMIC_RELAXED) == 0; ++i)
    work = work + i;
  EXPECT_GT(state.perf_samples, 0u);
  links.clear();
  const auto after = state.perf_samples;
  for (std::uint64_t i = 0; i < 50'000'000ULL; ++i) work = work + i;
  EXPECT_EQ(state.perf_samples, after) << "no samples once the links are gone";
}

TEST(AttachPerfEvent, CallerOpenedTaskClockEvent) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_sample");
  auto object = load_only(tracing_object, {"on_sample"});
  auto& state = tracing_state(object);
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.sample_period = 50000;
  attr.disabled = 1;  // the attach enables it
  UniqueFd event(static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)));
  ASSERT_TRUE(event) << std::strerror(errno);
  auto link = object.program("on_sample").attach_perf_event(std::move(event));
  volatile std::uint64_t work = 0;
  for (std::uint64_t i = 0; i < 20'000'000'000ULL && __atomic_load_n(&state.perf_samples, __ATOMIC_RELAXED) == 0; ++i)
    work = work + i;
  EXPECT_GT(state.perf_samples, 0u);
}

// ---- links: pin, open, update, detach

TEST(TracingLinks, PinnedTracepointLinkOutlivesItsHandle) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_BPFFS();
  COREBPF_REQUIRE_FEATURE(Feature::perf_link);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_getppid");
  auto object = load_only(tracing_object, {"on_getppid"});
  auto& state = tracing_state(object);
  const auto path = test::bpffs_path("tp_getppid");
  auto link = object.program("on_getppid").attach();
  const auto id = link.info().id;
  link.pin(path);
  link = Link();  // the pin keeps it attached
  raw_getppid();
  EXPECT_EQ(state.tp_getppid_hits, 1u);
  auto pinned = Link::open_pinned(path);
  EXPECT_EQ(pinned.info().program_id, object.program("on_getppid").info().id);
  EXPECT_EQ(pinned.info().id, id);
  // Unpinned and its last handle detached: the program stops.
  Link::unpin(path);
  EXPECT_FALSE(std::filesystem::exists(path));
  pinned.detach();
  EXPECT_FALSE(pinned);
  raw_getppid();
  EXPECT_EQ(state.tp_getppid_hits, 1u);
}

TEST(TracingLinks, NothingLeaksAfterDestruction) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_getppid");
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_getppid", "on_raw_sys_enter", "dump_tasks", "on_sample");
  // Warm the process-wide caches (feature probes, tracefs, kernel description) first.
  {
    auto warm = load_only(tracing_object, {"on_getppid"});
    auto link = warm.program("on_getppid").attach();
  }
  const auto before = test::open_fd_count();
  {
    auto object = load_only(tracing_object, {"on_getppid", "on_raw_sys_enter", "dump_tasks", "on_sample"});
    std::vector<Link> links;
    links.push_back(object.program("on_getppid").attach());
    links.push_back(object.program("on_raw_sys_enter").attach());
    links.push_back(object.program("dump_tasks").attach());
    links.back().read_iterator();
    perf_event_attr attr{};
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_period = 1000000;
    for (auto& link : object.program("on_sample").attach_perf_event_per_cpu(attr)) links.push_back(std::move(link));
    EXPECT_GT(test::open_fd_count(), before);
  }
  EXPECT_EQ(test::open_fd_count(), before);
}

// ---- the CO-RE task object: what the kernel's task_struct says about the caller

TEST(CoreTask, GetppidSeesOurTaskAndMm) {
  COREBPF_REQUIRE_ROOT();
  auto object = Object::open(core_task_object);
  object.spec().set_global("target_tgid", static_cast<int>(::getpid()));
  object.load();
  auto link = object.program("record_task").attach();  // SEC("tracepoint/syscalls/sys_enter_getppid")
  const long parent = raw_getppid();
  struct TaskFacts {
    int pid;
    int tgid;
    int parent_tgid;
    unsigned int hits;
    unsigned long mm_start_stack;
    unsigned long mm_total_vm;
    char comm[16];
  } facts{};
  const auto* variable = object.spec().find_section_map(".bss")->find_variable("facts");
  ASSERT_NE(variable, nullptr);
  ASSERT_EQ(variable->size, sizeof(TaskFacts));
  std::memcpy(&facts, std::as_const(object).section_bytes(".bss").data() + variable->offset, sizeof(facts));
  EXPECT_EQ(facts.hits, 1u);
  EXPECT_EQ(facts.pid, static_cast<int>(::syscall(SYS_gettid)));
  EXPECT_EQ(facts.tgid, ::getpid());
  EXPECT_EQ(facts.parent_tgid, parent);
  EXPECT_EQ(std::string(facts.comm), own_comm());
  // The stack top lies in our address space's [stack] mapping; total_vm counts pages mapped.
  std::ifstream maps("/proc/self/maps");
  bool stack_found = false;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("[stack]") == std::string::npos) continue;
    const auto dash = line.find('-');
    const auto low = std::stoul(line.substr(0, dash), nullptr, 16);
    const auto high = std::stoul(line.substr(dash + 1, line.find(' ') - dash - 1), nullptr, 16);
    EXPECT_GE(facts.mm_start_stack, low);
    EXPECT_LE(facts.mm_start_stack, high);
    stack_found = true;
  }
  EXPECT_TRUE(stack_found);
  EXPECT_GT(facts.mm_total_vm, 0u);
}

// ---- kprobes (the qemu matrix's kernels have them; this kernel may not)

TEST(AttachKprobe, WithoutKprobeSupportTheErrorSaysSo) {
  COREBPF_REQUIRE_ROOT();
  (void)tracefs_mounted();
  auto object = load_only(tracing_object, {"on_openat2"});
  auto& state = tracing_state(object);
  if (has_kprobes()) {
    // A kernel with kprobes: the same call attaches and fires.
    auto link = object.program("on_openat2").attach_kprobe("do_sys_openat2");
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    EXPECT_GE(state.kprobe_hits, 1u);
    return;
  }
  try {
    auto link = object.program("on_openat2").attach_kprobe("do_sys_openat2");
    FAIL() << "attached a kprobe on a kernel without kprobes";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("kernel has no kprobe support (no kprobe PMU and no kprobe_events in tracefs)"),
              std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find("do_sys_openat2"), std::string::npos) << e.message();
  }
  EXPECT_THROW(object.program("on_openat2").attach_ksyscall("getppid"), Error);
  KprobeMultiOptions multi;
  multi.symbols = {"do_sys_openat2"};
  try {
    auto link = object.program("on_openat2").attach_kprobe_multi(multi);
    FAIL() << "attached kprobe.multi on a kernel without kprobes";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no kprobe"), std::string::npos) << e.message();
  }
}

TEST(AttachKprobe, EntryWithCookieAndReturnValue) {
  REQUIRE_KPROBES();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_openat2", "on_openat2_return");
  auto object = load_only(tracing_object, {"on_openat2", "on_openat2_return"});
  auto& state = tracing_state(object);
  KprobeOptions options;
  options.cookie = kernel::has_perf_link() ? 0x5eed : 0;
  auto entry = object.program("on_openat2").attach_kprobe("do_sys_openat2", options);
  auto exit = object.program("on_openat2_return").attach();  // SEC("kretprobe/do_sys_openat2")
  // Attaching opened sysfs files itself (the PMU's type and format): count from here.
  state.kprobe_hits = state.kretprobe_hits = 0;
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file);
  EXPECT_EQ(state.kprobe_hits, 1u);
  EXPECT_EQ(state.kprobe_cookie, options.cookie);
  EXPECT_EQ(state.kretprobe_hits, 1u);
  EXPECT_EQ(state.kretprobe_ret, file.get());
}

TEST(AttachKprobe, ThroughTracefsRemovesItsEventAfterwards) {
  REQUIRE_KPROBES();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_openat2");
  const std::string events = std::filesystem::exists("/sys/kernel/tracing/kprobe_events")
                                 ? "/sys/kernel/tracing/kprobe_events"
                                 : "/sys/kernel/debug/tracing/kprobe_events";
  if (!std::filesystem::exists(events)) GTEST_SKIP() << unsupported("kprobe_events in tracefs");
  const auto listed = [&] {
    std::ifstream in(events);
    std::stringstream text;
    text << in.rdbuf();
    return text.str().find("corebpf_" + std::to_string(::getpid()) + "_") != std::string::npos;
  };
  auto object = load_only(tracing_object, {"on_openat2"});
  auto& state = tracing_state(object);
  KprobeOptions options;
  options.force_tracefs = true;
  {
    auto link = object.program("on_openat2").attach_kprobe("do_sys_openat2", options);
    EXPECT_TRUE(listed());
    state.kprobe_hits = 0;  // listed() opened kprobe_events
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(state.kprobe_hits, 1u);
  }
  EXPECT_FALSE(listed()) << "the kprobe event is removed with the Link";
}

TEST(AttachKprobe, KsyscallGetppid) {
  REQUIRE_KPROBES();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_ksyscall_getppid");
  auto object = load_only(tracing_object, {"on_ksyscall_getppid"});
  auto& state = tracing_state(object);
  auto link = object.program("on_ksyscall_getppid").attach();  // SEC("ksyscall/getppid")
  raw_getppid();
  raw_getppid();
  EXPECT_EQ(state.ksyscall_hits, 2u);
}

TEST(AttachKprobe, UnknownFunctionIsNamed) {
  REQUIRE_KPROBES();
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_openat2");
  auto object = load_only(tracing_object, {"on_openat2"});
  try {
    auto link = object.program("on_openat2").attach_kprobe("corebpf_no_such_function");
    FAIL() << "attached to a function that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("corebpf_no_such_function"), std::string::npos) << e.message();
  }
}

TEST(AttachKprobeMulti, SymbolsWithCookiesAndPattern) {
  REQUIRE_KPROBES();
  COREBPF_REQUIRE_FEATURE(Feature::kprobe_multi);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_openat2_multi");
  auto object = load_only(tracing_object, {"on_openat2_multi"});
  auto& state = tracing_state(object);
  {
    KprobeMultiOptions options;
    options.symbols = {"do_sys_openat2"};
    options.cookies = {0x77};
    auto link = object.program("on_openat2_multi").attach_kprobe_multi(options);
    state.multi_hits = 0;
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(state.multi_hits, 1u);
    EXPECT_EQ(state.multi_cookie, 0x77u);
  }
  auto link = object.program("on_openat2_multi").attach();  // SEC("kprobe.multi/do_sys_openat2"): a pattern
  state.multi_hits = 0;  // the pattern was expanded by reading available_filter_functions
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(state.multi_hits, 1u);
  KprobeMultiOptions nothing;
  nothing.pattern = "corebpf_no_such_function_*";
  EXPECT_THROW(object.program("on_openat2_multi").attach_kprobe_multi(nothing), Error);
}

TEST(AttachKprobeMulti, SessionRunsAtEntryAndReturn) {
  REQUIRE_KPROBES();
  COREBPF_REQUIRE_FEATURE(Feature::kprobe_session);
  COREBPF_REQUIRE_PROGRAMS(tracing_object, "on_openat2_session");
  auto object = load_only(tracing_object, {"on_openat2_session"});
  auto& state = tracing_state(object);
  auto link = object.program("on_openat2_session").attach();  // SEC("kprobe.session/do_sys_openat2")
  state.session_hits = 0;
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(state.session_hits, 2u);
}

// ---- BPF trampolines

TEST(AttachTrampoline, FentryFexitOnOpen) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::trampolines);
  COREBPF_REQUIRE_PROGRAMS(trampoline_object, "on_openat2_entry", "on_openat2_exit");
  auto object = load_only(trampoline_object, {"on_openat2_entry", "on_openat2_exit"});
  auto& state = object.bss<TrampolineState>();
  state.target_tgid = ::getpid();
  auto entry = object.program("on_openat2_entry").attach_trace(0x1234);
  auto exit = object.program("on_openat2_exit").attach();
  state.fentry_hits = state.fexit_hits = 0;
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file);
  EXPECT_EQ(state.fentry_hits, 1u);
  EXPECT_STREQ(state.fentry_path, "/dev/null");
  EXPECT_EQ(state.fexit_hits, 1u);
  EXPECT_EQ(state.fexit_ret, file.get());
  if (kernel::has_bpf_cookie()) {
    EXPECT_EQ(state.fentry_cookie, 0x1234u);
  }
}

// A test run of an fmod_ret program calls bpf_modify_return_test() (and, on newer kernels, more
// functions after it) and reports (side effects << 16) | sum of results. With the program attached
// and returning 42, that function's body is skipped: one side effect fewer, its result 42 instead
// of 4.
TEST(AttachTrampoline, FmodRetReplacesAFunctionsResult) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::fmod_ret);
  COREBPF_REQUIRE_PROGRAMS(trampoline_object, "on_modify_return");
  auto object = load_only(trampoline_object, {"on_modify_return"});
  auto& state = object.bss<TrampolineState>();
  state.fake_ret = 42;
  const Program& program = object.program("on_modify_return");
  std::uint32_t attached = 0;
  {
    auto link = program.attach();  // SEC("fmod_ret/bpf_modify_return_test")
    attached = program.test_run().retval;
    EXPECT_EQ(state.fmod_ret_hits, 1u);
  }
  const std::uint32_t detached = program.test_run().retval;
  EXPECT_EQ(state.fmod_ret_hits, 1u);
  EXPECT_EQ((detached >> 16) - (attached >> 16), 1u) << std::hex << attached << " " << detached;
  EXPECT_EQ(static_cast<int>(attached & 0xffff) - static_cast<int>(detached & 0xffff), 42 - 4)
      << std::hex << attached << " " << detached;
}

TEST(AttachTrampoline, LsmDeniesOpen) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_PROGRAMS(trampoline_object, "on_file_open");
  // The probe loads and attaches an LSM program: it fails when the bpf LSM is not active too.
  COREBPF_REQUIRE_FEATURE(Feature::lsm);
  auto object = load_only(trampoline_object, {"on_file_open"});
  auto& state = object.bss<TrampolineState>();
  state.target_tgid = ::getpid();
  state.deny_open = 1;
  {
    auto link = object.program("on_file_open").attach();  // SEC("lsm/file_open")
    errno = 0;
    EXPECT_LT(::open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(state.lsm_hits, 1u);
  }
  UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(file) << "allowed again once detached";
}

std::uint32_t xdp_verdict(const Program& program) {
  std::vector<std::byte> packet(64);
  TestRunOptions options;
  options.data_in = packet;
  return program.test_run(options).retval;
}

// freplace: drop_everything() replaces decide() of a loaded XDP program; test_run shows which runs.
TEST(AttachTrampoline, FreplaceSwapsAGlobalFunction) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(Feature::freplace);
  auto target = Object::open(freplace_target_object);
  target.load();
  const Program& xdp = target.program("xdp_target");
  ASSERT_EQ(xdp_verdict(xdp), static_cast<std::uint32_t>(XDP_PASS));

  ObjectOptions options;
  options.freplace_targets.emplace("drop_everything", xdp.fd());
  auto replacement = Object::open(freplace_object, options);
  replacement.load();
  {
    auto link = replacement.program("drop_everything").attach();  // SEC("freplace/decide")
    EXPECT_EQ(xdp_verdict(xdp), static_cast<std::uint32_t>(XDP_DROP));
  }
  EXPECT_EQ(xdp_verdict(xdp), static_cast<std::uint32_t>(XDP_PASS)) << "the original function is back";
}

TEST(AttachTrampoline, FreplaceWithoutTargetIsNamed) {
  COREBPF_REQUIRE_ROOT();
  auto replacement = Object::open(freplace_object);
  try {
    replacement.load();
    FAIL() << "loaded a freplace program with no target";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("freplace program 'drop_everything' needs the program it replaces"), std::string::npos)
        << e.message();
  }
}

}  // namespace
}  // namespace corebpf
