// Internal: BPF_PROG_LOAD and BPF_BTF_LOAD with their verifier logs, shared by the probes and the
// loader. Logs grow (doubling) until they fit, up to kMaxLogSize.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "corebpf/fd.hpp"
#include "corebpf/insn.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::kernel::detail {

inline constexpr std::size_t kInitialLogSize = std::size_t{64} << 10;
inline constexpr std::size_t kMaxLogSize = std::size_t{256} << 20;  // the kernel's own limit is UINT32_MAX >> 2

// bpf_func_info / bpf_line_info as the kernel reads them.
struct KernelFuncInfo {
  std::uint32_t insn_off;
  std::uint32_t type_id;
};
struct KernelLineInfo {
  std::uint32_t insn_off;
  std::uint32_t file_name_off;
  std::uint32_t line_off;
  std::uint32_t line_col;
};

struct ProgramLoadRequest {
  ProgramType type = ProgramType::unspec;
  std::span<const Insn> insns;
  std::string_view name;  // cut to 15 characters
  std::string_view license = "GPL";
  std::optional<AttachType> expected_attach_type;
  std::uint32_t kernel_version = 0;
  std::uint32_t flags = 0;  // BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS...
  int btf_fd = -1;
  std::span<const KernelFuncInfo> func_info;
  std::span<const KernelLineInfo> line_info;
  std::uint32_t attach_btf_id = 0;
  int attach_btf_obj_fd = -1;  // a module's BTF for attach_btf_id
  int attach_prog_fd = -1;     // freplace: the program whose function is replaced (attach_btf_id in its BTF)
  std::uint32_t ifindex = 0;   // prog_ifindex: offloaded to this network device (nfp)
  // Module BTF fds that kfunc calls name by index (the call's off); slot 0 stands for vmlinux.
  std::span<const int> fd_array;
  // 0: a log only when the load fails (then at level 1); 1 or 2: always at that level.
  std::uint32_t log_level = 0;
};

struct LoadOutcome {
  UniqueFd fd;      // valid on success
  int error = 0;    // errno on failure
  std::string log;  // the verifier log, when one was asked for or the load failed
};

// Never throws for a rejected load: the caller decides how to report it.
LoadOutcome load_program(const ProgramLoadRequest& request);

// BPF_BTF_LOAD of raw BTF; on failure retried with a log. Never throws.
LoadOutcome load_btf(std::span<const std::byte> raw, bool want_log_on_failure = true);

}  // namespace corebpf::kernel::detail
