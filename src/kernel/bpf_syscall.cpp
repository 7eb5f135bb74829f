#include "kernel/bpf_syscall.hpp"

#include <array>
#include <cstring>

#include "kernel/syscalls.hpp"
#include "util/error_format.hpp"

namespace corebpf::kernel::detail {

std::string_view command_name(int command) noexcept {
  // Indexed by command number, which the UAPI fixes.
  static constexpr std::array<std::string_view, 38> names = {
      "BPF_MAP_CREATE",        "BPF_MAP_LOOKUP_ELEM",
      "BPF_MAP_UPDATE_ELEM",   "BPF_MAP_DELETE_ELEM",
      "BPF_MAP_GET_NEXT_KEY",  "BPF_PROG_LOAD",
      "BPF_OBJ_PIN",           "BPF_OBJ_GET",
      "BPF_PROG_ATTACH",       "BPF_PROG_DETACH",
      "BPF_PROG_TEST_RUN",     "BPF_PROG_GET_NEXT_ID",
      "BPF_MAP_GET_NEXT_ID",   "BPF_PROG_GET_FD_BY_ID",
      "BPF_MAP_GET_FD_BY_ID",  "BPF_OBJ_GET_INFO_BY_FD",
      "BPF_PROG_QUERY",        "BPF_RAW_TRACEPOINT_OPEN",
      "BPF_BTF_LOAD",          "BPF_BTF_GET_FD_BY_ID",
      "BPF_TASK_FD_QUERY",     "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
      "BPF_MAP_FREEZE",        "BPF_BTF_GET_NEXT_ID",
      "BPF_MAP_LOOKUP_BATCH",  "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
      "BPF_MAP_UPDATE_BATCH",  "BPF_MAP_DELETE_BATCH",
      "BPF_LINK_CREATE",       "BPF_LINK_UPDATE",
      "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
      "BPF_ENABLE_STATS",      "BPF_ITER_CREATE",
      "BPF_LINK_DETACH",       "BPF_PROG_BIND_MAP",
      "BPF_TOKEN_CREATE",      "BPF_PROG_STREAM_READ_BY_FD",
  };
  static_assert(BPF_BTF_GET_FD_BY_ID == 19 && BPF_PROG_BIND_MAP == 35, "bpf_cmd numbering");
  if (command < 0 || static_cast<std::size_t>(command) >= names.size()) return "BPF_UNKNOWN_COMMAND";
  return names[static_cast<std::size_t>(command)];
}

long bpf_call(int command, bpf_attr& attr) noexcept { return syscalls().bpf(command, &attr, sizeof(attr)); }

UniqueFd bpf_fd_call(int command, bpf_attr& attr, std::string_view what) {
  const long fd = bpf_call(command, attr);
  if (fd < 0) util::fail_errno("{} {}", command_name(command), what);
  return UniqueFd(static_cast<int>(fd));
}

void object_info(int fd, void* info, std::uint32_t size, std::string_view what) {
  bpf_attr attr = zeroed_attr();
  attr.info.bpf_fd = static_cast<std::uint32_t>(fd);
  attr.info.info_len = size;
  attr.info.info = reinterpret_cast<std::uintptr_t>(info);
  if (bpf_call(BPF_OBJ_GET_INFO_BY_FD, attr) < 0) util::fail_errno("BPF_OBJ_GET_INFO_BY_FD {}", what);
}

}  // namespace corebpf::kernel::detail
