// corebpf::Program: a loaded BPF program (move-only, owns its fd), with pinning, lookup by pin or
// id, info, and BPF_PROG_TEST_RUN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "corebpf/fd.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object_spec.hpp"

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
  kernel::ProgramInfo info() const;

  // BPF_OBJ_PIN at `path` (bpffs); unpin removes the file.
  void pin(const std::string& path) const;
  static void unpin(const std::string& path);

  // Runs the program once (or `repeat` times) in the kernel on the given input. Throws
  // corebpf::Error naming the program (EINVAL / ENOTSUPP for types without test_run).
  TestRunResult test_run(const TestRunOptions& options = {}) const;

 private:
  UniqueFd fd_;
  std::string name_;
  ProgramType type_ = ProgramType::unspec;
};

}  // namespace corebpf
