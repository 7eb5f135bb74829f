#include "kernel/prog_load.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "kernel/bpf_syscall.hpp"

namespace corebpf::kernel::detail {
namespace {

using corebpf::kernel::detail::zeroed_attr;

std::string log_text(const std::vector<char>& buffer) {
  return std::string(buffer.data(), strnlen(buffer.data(), buffer.size()));
}

// One BPF_PROG_LOAD attempt with a log of `log_size` bytes at `log_level` (0: none).
LoadOutcome attempt_program(const ProgramLoadRequest& request, std::uint32_t log_level, std::size_t log_size) {
  bpf_attr attr = zeroed_attr();
  attr.prog_type = static_cast<std::uint32_t>(request.type);
  attr.insns = reinterpret_cast<std::uintptr_t>(request.insns.data());
  attr.insn_cnt = static_cast<std::uint32_t>(request.insns.size());
  const std::string license(request.license);
  attr.license = reinterpret_cast<std::uintptr_t>(license.c_str());
  attr.kern_version = request.kernel_version;
  attr.prog_flags = request.flags;
  attr.prog_ifindex = request.ifindex;
  std::memcpy(attr.prog_name, request.name.data(), std::min(request.name.size(), sizeof(attr.prog_name) - 1));
  if (request.expected_attach_type)
    attr.expected_attach_type = static_cast<std::uint32_t>(*request.expected_attach_type);
  if (request.btf_fd >= 0) {
    attr.prog_btf_fd = static_cast<std::uint32_t>(request.btf_fd);
    if (!request.func_info.empty()) {
      attr.func_info_rec_size = sizeof(KernelFuncInfo);
      attr.func_info = reinterpret_cast<std::uintptr_t>(request.func_info.data());
      attr.func_info_cnt = static_cast<std::uint32_t>(request.func_info.size());
    }
    if (!request.line_info.empty()) {
      attr.line_info_rec_size = sizeof(KernelLineInfo);
      attr.line_info = reinterpret_cast<std::uintptr_t>(request.line_info.data());
      attr.line_info_cnt = static_cast<std::uint32_t>(request.line_info.size());
    }
  }
  attr.attach_btf_id = request.attach_btf_id;
  if (request.attach_btf_obj_fd >= 0) attr.attach_btf_obj_fd = static_cast<std::uint32_t>(request.attach_btf_obj_fd);
  if (request.attach_prog_fd >= 0) attr.attach_prog_fd = static_cast<std::uint32_t>(request.attach_prog_fd);
  if (!request.fd_array.empty()) attr.fd_array = reinterpret_cast<std::uintptr_t>(request.fd_array.data());
  std::vector<char> log;
  if (log_level != 0) {
    log.assign(log_size, '\0');
    attr.log_level = log_level;
    attr.log_buf = reinterpret_cast<std::uintptr_t>(log.data());
    attr.log_size = static_cast<std::uint32_t>(log.size());
  }
  LoadOutcome outcome;
  const long fd = bpf_call(BPF_PROG_LOAD, attr);
  if (fd >= 0) {
    outcome.fd = UniqueFd(static_cast<int>(fd));
  } else {
    outcome.error = errno;
  }
  if (log_level != 0) outcome.log = log_text(log);
  return outcome;
}

}  // namespace

LoadOutcome load_program(const ProgramLoadRequest& request) {
  const std::uint32_t level = request.log_level;
  LoadOutcome outcome = attempt_program(request, level, kInitialLogSize);
  if (outcome.fd && level == 0) return outcome;
  // A failure without a log is retried with one; a log that did not fit is retried bigger.
  const std::uint32_t retry_level = level == 0 ? 1 : level;
  std::size_t size = kInitialLogSize;
  if (level == 0) {
    if (outcome.error == EINTR || outcome.error == EAGAIN) outcome = attempt_program(request, 0, 0);
    if (outcome.fd) return outcome;
    outcome = attempt_program(request, retry_level, size);
  }
  while (outcome.error == ENOSPC && size < kMaxLogSize) {
    size *= 2;
    outcome = attempt_program(request, retry_level, size);
  }
  return outcome;
}

LoadOutcome load_btf(std::span<const std::byte> raw, bool want_log_on_failure) {
  auto attempt = [&](std::size_t log_size) {
    bpf_attr attr = zeroed_attr();
    attr.btf = reinterpret_cast<std::uintptr_t>(raw.data());
    attr.btf_size = static_cast<std::uint32_t>(raw.size());
    std::vector<char> log(log_size, '\0');
    if (log_size != 0) {
      attr.btf_log_level = 1;
      attr.btf_log_buf = reinterpret_cast<std::uintptr_t>(log.data());
      attr.btf_log_size = static_cast<std::uint32_t>(log.size());
    }
    LoadOutcome outcome;
    const long fd = bpf_call(BPF_BTF_LOAD, attr);
    if (fd >= 0) {
      outcome.fd = UniqueFd(static_cast<int>(fd));
    } else {
      outcome.error = errno;
    }
    if (log_size != 0) outcome.log = log_text(log);
    return outcome;
  };
  LoadOutcome outcome = attempt(0);
  if (outcome.fd || !want_log_on_failure) return outcome;
  std::size_t size = kInitialLogSize;
  outcome = attempt(size);
  while (outcome.error == ENOSPC && size < kMaxLogSize) {
    size *= 2;
    outcome = attempt(size);
  }
  return outcome;
}

}  // namespace corebpf::kernel::detail
