// Portability by probe: the ways a tool can hook its events, best first (fentry where BPF
// trampolines work, else kprobes, else a tracepoint), decided by corebpf's feature probes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "corebpf/link.hpp"
#include "corebpf/object.hpp"

namespace corebpf::tools {

enum class HookKind { fentry, kprobe, tracepoint, raw_tracepoint, tp_btf, uprobe };

struct AttachPath {
  HookKind kind;
  // The programs of the object this path loads and attaches (by SEC(): Program::attach()).
  std::vector<std::string> programs;
  // fentry/fexit and tp_btf: the kernel functions (btf_trace_<tracepoint> for tp_btf) that must
  // be in the vmlinux BTF; kprobe: none needed (the attach names a missing function).
  std::vector<std::string> btf_functions;
  // Programs attached only where their hook exists (sys_enter_open has no tracepoint on arm64):
  // loaded with the path, an attach failure leaves them out.
  std::vector<std::string> optional_programs = {};
};

std::string_view hook_kind_name(HookKind kind) noexcept;  // "fentry", "kprobe", "tracepoint"...

class AttachPlan {
 public:
  AttachPlan& add(AttachPath path);

  // Why the running kernel cannot use `path` (feature probe, function in BTF); nullopt if it can.
  static std::optional<std::string> unsupported(const AttachPath& path);

  // Picks the first path the kernel supports (or the one named by `forced`, "fentry"...), turns
  // autoload off for the other paths' programs. Throws CannotRun with every path's reason when
  // none fits ("fentry: this kernel (6.18.44) refuses fentry/fexit programs...; kprobe: ...").
  const AttachPath& choose(ObjectSpec& spec, const std::string& forced = {});
  // The chosen path's programs attached (after load), then those of its optional programs whose
  // hook exists.
  std::vector<Link> attach(Object& object) const;
  const AttachPath& chosen() const;
  // "tracepoint (handle_exec, handle_exit)" for the ready line.
  std::string describe() const;

 private:
  std::vector<AttachPath> paths_;
  std::optional<std::size_t> chosen_;
};

}  // namespace corebpf::tools
