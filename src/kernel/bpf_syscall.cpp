#include "kernel/bpf_syscall.hpp"

#include <cstring>

#include "kernel/syscalls.hpp"
#include "util/error_format.hpp"

namespace corebpf::kernel::detail {

std::string_view command_name(int command) noexcept {
  const auto name =
      command < 0 ? std::string_view() : uapi::name_at(uapi::kCommandNames, static_cast<unsigned>(command));
  return name.empty() ? "BPF_UNKNOWN_COMMAND" : name;
}

long bpf_call(int command, bpf_attr& attr) noexcept { return syscalls().bpf(command, &attr, sizeof(attr)); }

long bpf_call(int command, uapi::bpf_attr& attr) noexcept { return syscalls().bpf(command, &attr, sizeof(attr)); }

namespace {

template <typename Attr>
UniqueFd fd_call(int command, Attr& attr, std::string_view what) {
  const long fd = bpf_call(command, attr);
  if (fd < 0) util::fail_errno("{} {}", command_name(command), what);
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace

UniqueFd bpf_fd_call(int command, bpf_attr& attr, std::string_view what) { return fd_call(command, attr, what); }

UniqueFd bpf_fd_call(int command, uapi::bpf_attr& attr, std::string_view what) { return fd_call(command, attr, what); }

void object_info(int fd, void* info, std::uint32_t size, std::string_view what) {
  bpf_attr attr = zeroed_attr();
  attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
  attr.info.info_len = size;
  attr.info.info = reinterpret_cast<std::uintptr_t>(info);
  if (bpf_call(BPF_OBJ_GET_INFO_BY_FD, attr) < 0) util::fail_errno("BPF_OBJ_GET_INFO_BY_FD {}", what);
}

}  // namespace corebpf::kernel::detail
