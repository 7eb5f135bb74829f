// Internal: the bpf() system call. The attribute layout is <linux/bpf.h> from linux-libc-dev
// (6.1 on Debian 12); the kernel accepts a larger or smaller attr as long as the bytes either
// side does not know are zero, so fields newer than the header must be written at their offsets
// by hand, never by enlarging this union.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "corebpf/fd.hpp"

namespace corebpf::kernel::detail {

// A bpf_attr with every byte zero: all of the union, not only its first member, since the kernel
// rejects a command whose unused tail is not zero.
inline bpf_attr zeroed_attr() noexcept {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  return attr;
}

// "BPF_MAP_CREATE", "BPF_BTF_GET_FD_BY_ID"... for messages.
std::string_view command_name(int command) noexcept;

// The raw call: the result, or -1 with errno set.
long bpf_call(int command, bpf_attr& attr) noexcept;

// For commands that return a new fd; throws corebpf::Error "<COMMAND> <what>: <strerror>".
UniqueFd bpf_fd_call(int command, bpf_attr& attr, std::string_view what);

// BPF_OBJ_GET_INFO_BY_FD into `info` of `size` bytes; throws naming `what` on failure.
void object_info(int fd, void* info, std::uint32_t size, std::string_view what);

}  // namespace corebpf::kernel::detail
