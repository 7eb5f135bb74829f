// Internal (kernel layer): the one door through which the library makes the system calls that
// create, change or attach kernel objects: bpf(2), perf_event_open(2) and the perf event ioctls,
// and the rtnetlink socket (socket, send, receive). Everything in src/kernel calls these through
// syscalls(), never ::syscall() or ::socket() directly, so a test can put a replacement in front of
// the kernel: a fake kernel that answers as an older one would (the fallbacks, unit-tested without
// root) or the real kernel with the N-th call failing (fault injection).
//
// Cost: syscalls() is one atomic load (a plain load on x86-64) and the call one indirect (virtual) call, against a
// system call of a microsecond or more. Ring buffer consumption and mmap()ed map reads make no
// system call and never come here; the perf/ring buffer epoll waits do not either.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>

namespace corebpf::kernel::detail {

// The real system calls. A replacement derives from it, overrides what it wants to change and
// calls Syscalls::bpf(...) (the base's, qualified) to reach the kernel. Every call returns what
// the system call returns: -1 with errno set on failure.
class Syscalls {
 public:
  constexpr Syscalls() = default;
  Syscalls(const Syscalls&) = delete;
  Syscalls& operator=(const Syscalls&) = delete;
  virtual ~Syscalls() = default;

  virtual long bpf(int command, void* attr, unsigned size) noexcept;
  virtual int perf_event_open(void* attr, int pid, int cpu, int group_fd, unsigned long flags) noexcept;
  // ioctl(2) on a perf event fd: PERF_EVENT_IOC_SET_BPF, _ENABLE, _DISABLE.
  virtual int perf_event_ioctl(int fd, unsigned long request, unsigned long argument) noexcept;
  // socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol).
  virtual int netlink_socket(int protocol) noexcept;
  virtual long netlink_send(int fd, const void* bytes, std::size_t size, const sockaddr* to,
                            socklen_t to_size) noexcept;
  virtual long netlink_receive(int fd, void* buffer, std::size_t size) noexcept;
};

namespace seam {
extern std::atomic<Syscalls*> current;
}

// The installed calls: the real ones unless a test replaced them.
inline Syscalls& syscalls() noexcept { return *seam::current.load(std::memory_order_acquire); }

// Test-only: makes `replacement` the door for every thread while it lives, then puts back what
// was there. Not thread-safe against itself (tests install one at a time); calls racing with the
// installation go to either the old or the new door, both valid.
class ScopedSyscalls {
 public:
  explicit ScopedSyscalls(Syscalls& replacement) noexcept
      : previous_(seam::current.exchange(&replacement, std::memory_order_acq_rel)) {}
  ~ScopedSyscalls() { seam::current.store(previous_, std::memory_order_release); }
  ScopedSyscalls(const ScopedSyscalls&) = delete;
  ScopedSyscalls& operator=(const ScopedSyscalls&) = delete;

  // What was installed before: a replacement that only adds faults delegates to it.
  Syscalls& previous() const noexcept { return *previous_; }

 private:
  Syscalls* previous_;
};

}  // namespace corebpf::kernel::detail
