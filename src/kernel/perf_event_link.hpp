// Internal: a BPF program on a perf event (tracepoint, kprobe, uprobe events) and a Link made of
// several attachments (one uprobe per USDT location). Shared by the tracing and uprobe attach code.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corebpf/fd.hpp"
#include "kernel/attachment.hpp"

namespace corebpf::kernel::detail {

// Puts program `program_fd` on the opened perf event: a BPF link (BPF_LINK_CREATE with
// BPF_PERF_EVENT, 5.15+, which carries `cookie`) where the kernel has one, else
// PERF_EVENT_IOC_SET_BPF (a nonzero cookie then fails: the kernel has nowhere to keep it). The
// event is enabled. `cleanup` runs after the event is closed (removing a tracefs probe); errors
// name `description`.
std::unique_ptr<corebpf::detail::Attachment> attach_to_perf_event(int program_fd, UniqueFd perf_event,
                                                                  std::uint64_t cookie, std::string description,
                                                                  std::function<void()> cleanup = {});

// perf_event_open(2); -1 with errno on failure.
int perf_event_open(void* attr, int pid, int cpu, int group_fd, unsigned long flags) noexcept;

}  // namespace corebpf::kernel::detail

namespace corebpf::detail {

// Several attachments undone together (in reverse order), as one Link; not a BPF link itself
// unless `link_fd_of` names a part whose BPF link represents the whole (a multi-probe link).
class MultiAttachment final : public Attachment {
 public:
  MultiAttachment(std::vector<std::unique_ptr<Attachment>> parts, std::string description,
                  std::function<void()> cleanup = {});
  ~MultiAttachment() override;
  void detach() override;

 private:
  std::vector<std::unique_ptr<Attachment>> parts_;
  std::function<void()> cleanup_;
};

}  // namespace corebpf::detail
