// Syscall fault injection (issue 14): open+load+attach of a large object (tests/bpf/
// fault_injection.bpf.c) with the N-th call through the syscall seam failing, for every N, with
// each errno the kernel really returns from that kind of call. After each attempt nothing the
// attempt made may be left: no fd (/proc/self/fd as before), no program, map, BTF or link the
// process created (their ids no longer open), no pin, no XDP program or TC filter on the
// namespace's loopback; and the error names the step (the object, a map or a program).
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/link.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"
#include "kernel/netlink.hpp"
#include "kernel/syscalls.hpp"

namespace corebpf {
namespace {

namespace fs = std::filesystem;

enum class CallKind { bpf, perf_event_open, perf_ioctl, netlink_socket, netlink_send, netlink_receive };

const char* kind_name(CallKind kind) {
  switch (kind) {
    case CallKind::bpf:
      return "bpf";
    case CallKind::perf_event_open:
      return "perf_event_open";
    case CallKind::perf_ioctl:
      return "perf event ioctl";
    case CallKind::netlink_socket:
      return "netlink socket";
    case CallKind::netlink_send:
      return "netlink send";
    case CallKind::netlink_receive:
      return "netlink receive";
  }
  return "?";
}

struct Call {
  CallKind kind;
  int command = -1;  // bpf() only
};

// The errnos each call really returns, of ENOMEM EPERM EINVAL E2BIG EFAULT EAGAIN EBUSY: bpf(2)
// by command (kernel/bpf/syscall.c: every command copies its attr, EFAULT, and checks its unused
// tail, E2BIG/EINVAL), perf_event_open(2), the perf event ioctls, socket(2) and sendmsg/recvmsg
// on a blocking netlink socket.
std::vector<int> errnos_of(const Call& call) {
  switch (call.kind) {
    case CallKind::bpf:
      switch (call.command) {
        case BPF_MAP_CREATE:
        case BPF_BTF_LOAD:
        case BPF_OBJ_PIN:
          return {ENOMEM, EPERM, EINVAL, E2BIG, EFAULT};
        case BPF_PROG_LOAD:  // EAGAIN: the verifier interrupted by a signal
          return {ENOMEM, EPERM, EINVAL, E2BIG, EFAULT, EAGAIN};
        case BPF_OBJ_GET_INFO_BY_FD:
          return {EINVAL, E2BIG, EFAULT};
        case BPF_MAP_UPDATE_ELEM:  // EBUSY: a map locked by a program on this CPU
          return {ENOMEM, EPERM, EINVAL, E2BIG, EFAULT, EBUSY};
        case BPF_MAP_FREEZE:  // EBUSY: writable mappings
          return {EPERM, EINVAL, EBUSY};
        case BPF_LINK_DETACH:
          return {EPERM, EINVAL};
        default:  // BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN, BPF_PROG_ATTACH...: EBUSY/EAGAIN from the hooks
          return {ENOMEM, EPERM, EINVAL, E2BIG, EFAULT, EAGAIN, EBUSY};
      }
    case CallKind::perf_event_open:
      return {ENOMEM, EPERM, EINVAL, E2BIG, EFAULT, EBUSY};
    case CallKind::perf_ioctl:
      return {EPERM, EINVAL, EFAULT, EBUSY};
    case CallKind::netlink_socket:
      return {ENOMEM, EPERM, EINVAL};
    case CallKind::netlink_send:
      return {ENOMEM, EPERM, EINVAL, EFAULT};
    case CallKind::netlink_receive:
      return {ENOMEM, EFAULT};
  }
  return {};
}

struct Created {
  bpf_cmd get_fd_by_id;
  std::uint32_t id;
};

// Counts every call, fails the one numbered fail_at with fail_errno, and remembers the id of every
// program, map, BTF and link a successful call created.
class FaultInjector final : public kernel::detail::Syscalls {
 public:
  FaultInjector() : installed_(*this) {}

  std::size_t calls = 0;
  std::size_t fail_at = 0;  // 0: none
  int fail_errno = 0;
  bool failed = false;
  std::vector<Call> trace;
  std::vector<Created> created;

  void arm(std::size_t at, int error) {
    calls = 0;
    fail_at = at;
    fail_errno = error;
    failed = false;
    trace.clear();
    created.clear();
  }

  long bpf(int command, void* attr, unsigned size) noexcept override {
    if (fault(CallKind::bpf, command)) return -1;
    const long result = real().bpf(command, attr, size);
    if (result >= 0) remember(command, static_cast<int>(result));
    return result;
  }
  int perf_event_open(void* attr, int pid, int cpu, int group_fd, unsigned long flags) noexcept override {
    return fault(CallKind::perf_event_open) ? -1 : real().perf_event_open(attr, pid, cpu, group_fd, flags);
  }
  int perf_event_ioctl(int fd, unsigned long request, unsigned long argument) noexcept override {
    return fault(CallKind::perf_ioctl) ? -1 : real().perf_event_ioctl(fd, request, argument);
  }
  int netlink_socket(int protocol) noexcept override {
    return fault(CallKind::netlink_socket) ? -1 : real().netlink_socket(protocol);
  }
  long netlink_send(int fd, const void* bytes, std::size_t size, const sockaddr* to,
                    socklen_t to_size) noexcept override {
    return fault(CallKind::netlink_send) ? -1 : real().netlink_send(fd, bytes, size, to, to_size);
  }
  long netlink_receive(int fd, void* buffer, std::size_t size) noexcept override {
    return fault(CallKind::netlink_receive) ? -1 : real().netlink_receive(fd, buffer, size);
  }

  // Whether an object with this id still exists: the kernel's id walk (BPF_*_GET_NEXT_ID from the
  // id before it), which takes no reference. Opening it by id would: and closing such an fd on a
  // prog array whose last user reference is going re-queues its clearing work and leaks the map
  // (prog_array_map_clear takes a reference per call, the work runs once).
  bool alive(const Created& object) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.start_id = object.id - 1;
    if (real().bpf(next_id_command(object.get_fd_by_id), &attr, sizeof(attr)) != 0) return false;
    return attr.next_id == object.id;
  }

  // "map 68705 'fi_ring'": what a leftover is, for the failure message.
  std::string describe(const Created& object) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.prog_id = object.id;
    const long fd = real().bpf(object.get_fd_by_id, &attr, sizeof(attr));
    const char* kind = object.get_fd_by_id == BPF_PROG_GET_FD_BY_ID  ? "program"
                       : object.get_fd_by_id == BPF_MAP_GET_FD_BY_ID ? "map"
                       : object.get_fd_by_id == BPF_BTF_GET_FD_BY_ID ? "BTF"
                                                                     : "link";
    std::string text = std::string(kind) + " " + std::to_string(object.id);
    if (fd < 0) return text;
    union {
      bpf_prog_info program;
      bpf_map_info map;
    } info;
    std::memset(&info, 0, sizeof(info));
    std::memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
    attr.info.info_len = object.get_fd_by_id == BPF_PROG_GET_FD_BY_ID ? sizeof(bpf_prog_info) : sizeof(bpf_map_info);
    attr.info.info = reinterpret_cast<std::uintptr_t>(&info);
    if (object.get_fd_by_id == BPF_PROG_GET_FD_BY_ID || object.get_fd_by_id == BPF_MAP_GET_FD_BY_ID) {
      if (real().bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) == 0) {
        text += std::string(" '") + (object.get_fd_by_id == BPF_PROG_GET_FD_BY_ID ? info.program.name : info.map.name) +
                "'";
      }
    }
    ::close(static_cast<int>(fd));
    return text;
  }

 private:
  Syscalls& real() { return installed_.previous(); }

  static int next_id_command(bpf_cmd get_fd_by_id) {
    switch (get_fd_by_id) {
      case BPF_PROG_GET_FD_BY_ID:
        return BPF_PROG_GET_NEXT_ID;
      case BPF_MAP_GET_FD_BY_ID:
        return BPF_MAP_GET_NEXT_ID;
      case BPF_BTF_GET_FD_BY_ID:
        return BPF_BTF_GET_NEXT_ID;
      default:
        return BPF_LINK_GET_NEXT_ID;
    }
  }

  bool fault(CallKind kind, int command = -1) noexcept {
    trace.push_back({kind, command});
    if (++calls != fail_at) return false;
    failed = true;
    errno = fail_errno;
    return true;
  }

  void remember(int command, int fd) {
    bpf_cmd by_id;
    switch (command) {
      case BPF_PROG_LOAD:
        by_id = BPF_PROG_GET_FD_BY_ID;
        break;
      case BPF_MAP_CREATE:
        by_id = BPF_MAP_GET_FD_BY_ID;
        break;
      case BPF_BTF_LOAD:
        by_id = BPF_BTF_GET_FD_BY_ID;
        break;
      case BPF_LINK_CREATE:
      case BPF_RAW_TRACEPOINT_OPEN:
        by_id = BPF_LINK_GET_FD_BY_ID;
        break;
      default:
        return;
    }
    // Every info struct starts with (type, id) or, for BTF, (btf, btf_size, id).
    std::uint32_t info[64] = {};
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
    attr.info.info_len = sizeof(info);
    attr.info.info = reinterpret_cast<std::uintptr_t>(info);
    if (real().bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) != 0) return;
    const std::uint32_t id = by_id == BPF_BTF_GET_FD_BY_ID ? info[3] : info[1];
    if (by_id == BPF_PROG_GET_FD_BY_ID || by_id == BPF_MAP_GET_FD_BY_ID) {
      created.push_back({by_id, info[1]});
    } else if (by_id == BPF_BTF_GET_FD_BY_ID) {
      created.push_back({by_id, id});
    } else {
      created.push_back({by_id, info[1]});
    }
  }

  kernel::detail::ScopedSyscalls installed_;
};

std::map<int, std::string> open_fds() {
  std::map<int, std::string> fds;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = fs::read_symlink(entry.path(), error);
    if (target.string().starts_with("/proc/") && target.string().ends_with("/fd")) continue;  // the walk's own
    fds[std::stoi(entry.path().filename().string())] = target.string();
  }
  return fds;
}

class FaultInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    ASSERT_TRUE(test::ensure_bpffs());
    // A private network namespace for the process: XDP and TC on its own loopback.
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    loopback_ = static_cast<int>(::if_nametoindex("lo"));
    ASSERT_GT(loopback_, 0);
    pin_root_ = test::bpffs_path("faults");
    fs::create_directories(pin_root_);
  }
  void TearDown() override {
    if (!pin_root_.empty()) fs::remove_all(pin_root_);
  }

  // Sets loaded_ once load() succeeded: the pins of a loaded object are its to keep.
  void open_load_attach() {
    loaded_ = false;
    ObjectOptions options;
    options.pin_root = pin_root_;
    Object object = Object::open(COREBPF_BPF_OBJECT_DIR "/fault_injection.bpf.o", options);
    object.load();
    loaded_ = true;
    std::vector<Link> links;
    // Families whose detach is quick first; perf events (tracepoint, uprobe, CPU clock), whose
    // close waits for an RCU grace period, last: fewer attempts pay for them.
    links.push_back(object.program("fi_raw_tp").attach());
    if (kernel::has_feature(kernel::Feature::task_iterator)) links.push_back(object.program("fi_iter").attach_iter());
    // The test library, not this (30 MB) program: attaching reads the whole binary.
    if (kernel::has_feature(kernel::Feature::uprobe_multi)) {
      UprobeMultiOptions multi;
      multi.symbols = {"uprobe_target_lib_sub"};
      links.push_back(object.program("fi_uprobe_multi").attach_uprobe_multi(COREBPF_UPROBE_TARGET_LIB, multi));
    }
    links.push_back(object.program("fi_xdp").attach_xdp(loopback_, XdpOptions{.force_netlink = true}));
    links.push_back(object.program("fi_tc").attach_tc(loopback_, TcOptions{.force_netlink = true}));
    if (kernel::has_feature(kernel::Feature::tcx_link)) {
      links.push_back(object.program("fi_tc").attach_tc(loopback_, TcOptions{.egress = true}));
    }
    UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    links.push_back(object.program("fi_socket").attach_socket(socket.get()));
    links.push_back(object.program("fi_tracepoint").attach());
    links.push_back(object.program("fi_uprobe")
                        .attach_uprobe(COREBPF_UPROBE_TARGET_LIB, UprobeOptions{.function = "uprobe_target_lib_sub"}));
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.sample_period = 100000000;
    for (auto& link : object.program("fi_perf_event").attach_perf_event_per_cpu(attr)) links.push_back(std::move(link));
  }

  // What an attempt may not leave behind; empty when nothing is.
  std::string leftovers(FaultInjector& injector, const std::map<int, std::string>& fds_before) {
    std::string found;
    const auto fds = open_fds();
    for (const auto& [fd, target] : fds)
      if (!fds_before.contains(fd)) found += " fd " + std::to_string(fd) + " (" + target + ")";
    if (!fs::is_empty(pin_root_)) found += " a pin in " + pin_root_;
    // A program freed after an RCU grace period releases its maps then: wait for it, boundedly.
    std::vector<Created> alive;
    for (int round = 0; round < 2000; ++round) {
      alive.clear();
      for (const auto& object : injector.created)
        if (injector.alive(object)) alive.push_back(object);
      if (alive.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (const auto& object : alive) found += " " + injector.describe(object);
    if (kernel::netlink::query_xdp(loopback_).prog_id != 0) found += " an XDP program on lo";
    for (const std::uint32_t parent : {0xFFFFFFF2U, 0xFFFFFFF3U})  // clsact ingress, egress
      if (!kernel::netlink::list_filters(loopback_, parent).empty()) found += " a TC filter on lo";
    if (kernel::netlink::has_clsact(loopback_)) found += " a clsact qdisc on lo";
    return found;
  }

  int loopback_ = 0;
  bool loaded_ = false;
  std::string pin_root_;
};

// Names the step: a map or program (of the object's: "fi_...", "fault_in.rodata"...) or the object.
bool names_the_step(const std::string& message) {
  return message.find("map '") != std::string::npos || message.find("program '") != std::string::npos ||
         message.find("object 'fault_injection'") != std::string::npos ||
         message.find("fault_injection.bpf.o") != std::string::npos;
}

TEST_F(FaultInjection, EveryCallFailingWithEveryErrnoLeavesNothingBehind) {
  FaultInjector injector;
  // A first attempt without faults runs the feature probes (whose answers the process keeps) and
  // counts the calls an attempt makes.
  open_load_attach();
  fs::remove_all(pin_root_);
  fs::create_directories(pin_root_);
  injector.arm(0, 0);
  const auto fds_before = open_fds();
  open_load_attach();
  const std::vector<Call> calls = injector.trace;
  ASSERT_GT(calls.size(), 50U);
  // A clean attempt keeps only its pin (pins outlive the process by design).
  for (const auto& entry : fs::directory_iterator(pin_root_)) fs::remove(entry.path());
  ASSERT_EQ(leftovers(injector, fds_before), "") << "after a clean attempt";

  const auto start = std::chrono::steady_clock::now();
  std::size_t points = 0, failed_cleanly = 0, absorbed = 0;
  std::map<std::string, std::size_t> by_kind;
  std::vector<std::string> problems;
  for (std::size_t n = 1; n <= calls.size(); ++n) {
    for (const int error : errnos_of(calls[n - 1])) {
      const CallKind kind = calls[n - 1].kind;
      injector.arm(n, error);
      std::string message;
      try {
        open_load_attach();
      } catch (const Error& e) {
        message = e.what();
      }
      ++points;
      ++by_kind[kind_name(kind)];
      const std::string where =
          "call " + std::to_string(n) + " (" + kind_name(kind) + ") failing with " + std::strerror(error);
      if (!injector.failed) {
        problems.push_back(where + ": the attempt made fewer calls than the first");
        continue;
      }
      // A load that succeeded keeps its pins (by design, what a pinned map is for); nothing else may stay.
      if (loaded_) {
        for (const auto& entry : fs::directory_iterator(pin_root_)) fs::remove(entry.path());
      }
      if (message.empty()) {
        ++absorbed;  // a fallback or a retry took the fault
      } else {
        ++failed_cleanly;
        if (!names_the_step(message)) problems.push_back(where + ": the error does not name the step: " + message);
      }
      if (const auto left = leftovers(injector, fds_before); !left.empty()) {
        problems.push_back(where + ": left" + left + " (" + message + ")");
        // Start the next attempt from a clean state.
        fs::remove_all(pin_root_);
        fs::create_directories(pin_root_);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string kinds;
  for (const auto& [kind, count] : by_kind) kinds += " " + kind + "=" + std::to_string(count);
  std::printf("fault points: %zu (%zu calls per attempt; by kind:%s); failed cleanly %zu, absorbed %zu; %.1f s\n",
              points, calls.size(), kinds.c_str(), failed_cleanly, absorbed, seconds);
  RecordProperty("fault_points", static_cast<int>(points));
  std::string report;
  for (std::size_t i = 0; i < problems.size(); ++i) report += problems[i] + "\n";
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems:\n" << report;
}

}  // namespace
}  // namespace corebpf
