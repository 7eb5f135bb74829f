// [kernel] corebpf::Program: a loaded BPF program (move-only, owns its fd), with pinning, lookup by pin or
// id, info, and BPF_PROG_TEST_RUN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "corebpf/fd.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/link.hpp"
#include "corebpf/object_spec.hpp"

struct perf_event_attr;  // <linux/perf_event.h>

namespace corebpf {

struct TestRunOptions {
  std::span<const std::byte> data_in;  // the packet (skb/xdp programs)
  std::size_t data_out_size = 0;       // room for the packet out; 0: none
  std::span<const std::byte> ctx_in;   // the context (struct __sk_buff, xdp_md, raw_tp args...)
  std::size_t ctx_out_size = 0;
  std::uint32_t repeat = 0;  // 0 and 1 both run once
  std::uint32_t flags = 0;   // BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES
  std::uint32_t cpu = 0;     // with BPF_F_TEST_RUN_ON_CPU
};

struct TestRunResult {
  std::uint32_t retval = 0;
  std::uint32_t duration_ns = 0;  // mean per run
  std::vector<std::byte> data_out;
  std::vector<std::byte> ctx_out;
};

class Program {
 public:
  Program() = default;
  // Takes ownership of a program fd; the name and type are read from the kernel when empty.
  explicit Program(UniqueFd fd, std::string name = {});
  // A program the loader made from `definition` (its SEC() name), so attach() knows the hook.
  Program(UniqueFd fd, std::string name, ProgramDefinition definition, std::string section);
  Program(Program&&) noexcept = default;
  Program& operator=(Program&&) noexcept = default;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // A program pinned in bpffs, or by its kernel id. Throw corebpf::Error naming the path or id.
  static Program open_pinned(const std::string& path);
  static Program open_by_id(std::uint32_t id);

  int fd() const noexcept { return fd_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }
  const std::string& name() const noexcept { return name_; }
  ProgramType type() const noexcept { return type_; }
  // What the SEC() name said (empty definition for a program opened by pin or id).
  const ProgramDefinition& definition() const noexcept { return definition_; }
  const std::string& section() const noexcept { return section_; }
  kernel::ProgramInfo info() const;

  // BPF_OBJ_PIN at `path` (bpffs); unpin removes the file.
  void pin(const std::string& path) const;
  static void unpin(const std::string& path);

  // Runs the program once (or `repeat` times) in the kernel on the given input. Throws
  // corebpf::Error naming the program (EINVAL / ENOTSUPP for types without test_run).
  TestRunResult test_run(const TestRunOptions& options = {}) const;

  // ---- Attach. Every function returns the Link that keeps the program attached and throws
  // corebpf::Error naming the program, the target and the reason (unknown function or
  // tracepoint, missing tracefs, no privileges, a kernel without the hook).

  // The hook the SEC() name gives (tracepoint/cat/name, kprobe/func, uprobe/path:func, usdt/...,
  // fentry/func, lsm/hook, iter/task...). Throws (EINVAL) for a section that names no target.
  Link attach() const;

  // Tracing: tracefs tracepoints, raw tracepoints, BPF trampolines (fentry, fexit, fmod_ret,
  // tp_btf, lsm, freplace: the target was fixed at load), iterators, kprobes.
  Link attach_tracepoint(std::string_view category, std::string_view name, std::uint64_t cookie = 0) const;
  Link attach_raw_tracepoint(std::string_view name, std::uint64_t cookie = 0) const;
  Link attach_trace(std::uint64_t cookie = 0) const;
  Link attach_iter(const IterOptions& options = {}) const;
  Link attach_kprobe(std::string_view function, const KprobeOptions& options = {}) const;
  // The syscall's kernel function for this architecture (__x64_sys_<name> or sys_<name>).
  Link attach_ksyscall(std::string_view syscall, const KprobeOptions& options = {}) const;
  Link attach_kprobe_multi(const KprobeMultiOptions& options) const;
  // A perf event the caller opened (perf_event_open); the Link owns it from here.
  Link attach_perf_event(UniqueFd perf_event, std::uint64_t cookie = 0) const;
  // One perf event of `attr` (software, hardware, tracepoint...) opened for every task on each
  // online CPU, the program attached to each: one Link per CPU. Offline CPUs are skipped.
  std::vector<Link> attach_perf_event_per_cpu(const perf_event_attr& attr, std::uint64_t cookie = 0) const;

  // User space: `binary` is a path or a library name found the way the dynamic loader would
  // ("libc.so.6").
  Link attach_uprobe(const std::string& binary, const UprobeOptions& options) const;
  // A program loaded as uprobe.multi (expected attach type trace_uprobe_multi).
  Link attach_uprobe_multi(const std::string& binary, const UprobeMultiOptions& options) const;
  // One uprobe per location of the <sys/sdt.h> probe (semaphores counted while attached), all in
  // one Link. The argument specs go into the program's __bpf_usdt_specs map (found through the
  // program's own map ids), which <bpf/usdt.bpf.h>'s bpf_usdt_arg() and bpf_usdt_cookie() read.
  Link attach_usdt(const std::string& binary, std::string_view provider, std::string_view name,
                   const UsdtOptions& options = {}) const;

  // Networking.
  Link attach_xdp(int ifindex, const XdpOptions& options = {}) const;
  Link attach_tc(int ifindex, const TcOptions& options = {}) const;
  Link attach_cgroup(int cgroup_fd, const CgroupOptions& options = {}) const;
  Link attach_cgroup(const std::string& cgroup_path, const CgroupOptions& options = {}) const;
  // Socket filters (SO_ATTACH_BPF); the Link keeps its own dup of the socket to detach.
  Link attach_socket(int socket_fd) const;
  // sk_msg / sk_skb programs on a sockmap or sockhash. A socket takes the map's programs when it
  // is added to the map: attach before filling the map.
  Link attach_sockmap(const Map& map, const SockmapOptions& options = {}) const;
  // sk_lookup and flow_dissector programs on a network namespace (an fd of /proc/PID/ns/net).
  Link attach_netns(int netns_fd) const;

 private:
  UniqueFd fd_;
  std::string name_;
  ProgramType type_ = ProgramType::unspec;
  ProgramDefinition definition_;
  std::string section_;
};

}  // namespace corebpf
