#include "kernel/syscalls.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace corebpf::kernel::detail {

long Syscalls::bpf(int command, void* attr, unsigned size) noexcept { return ::syscall(__NR_bpf, command, attr, size); }

int Syscalls::perf_event_open(void* attr, int pid, int cpu, int group_fd, unsigned long flags) noexcept {
  return static_cast<int>(::syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags));
}

int Syscalls::perf_event_ioctl(int fd, unsigned long request, unsigned long argument) noexcept {
  return ::ioctl(fd, request, argument);
}

int Syscalls::netlink_socket(int protocol) noexcept { return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol); }

long Syscalls::netlink_send(int fd, const void* bytes, std::size_t size, const sockaddr* to,
                            socklen_t to_size) noexcept {
  return ::sendto(fd, bytes, size, 0, to, to_size);
}

long Syscalls::netlink_receive(int fd, void* buffer, std::size_t size) noexcept { return ::recv(fd, buffer, size, 0); }

namespace {
// constinit: valid before any static initializer of the library or its users runs.
constinit Syscalls real_syscalls;
}  // namespace

namespace seam {
constinit std::atomic<Syscalls*> current{&real_syscalls};
}  // namespace seam

}  // namespace corebpf::kernel::detail
