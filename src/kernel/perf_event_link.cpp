#include "kernel/perf_event_link.hpp"

#include <linux/perf_event.h>

#include <cerrno>
#include <cstring>

#include "corebpf/features.hpp"
#include "corebpf/log.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/syscalls.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::kernel::detail {
namespace {

class PerfEventAttachment final : public corebpf::detail::Attachment {
 public:
  PerfEventAttachment(UniqueFd event, UniqueFd link, std::string description, std::function<void()> cleanup)
      : Attachment(std::move(description)),
        event_(std::move(event)),
        link_(std::move(link)),
        cleanup_(std::move(cleanup)) {}

  ~PerfEventAttachment() override {
    try {
      detach();
    } catch (const std::exception& e) {
      util::log(LogLevel::warning, "{}", e.what());
    }
  }

  void detach() override {
    // Closing the link (or the event with its program) is the detach; the kernel cannot refuse it.
    // Only a pinned link outlives its fd, which is why BPF_LINK_DETACH comes first.
    if (link_) {
      bpf_attr attr = zeroed_attr();
      attr.link_detach.link_fd = static_cast<std::uint32_t>(link_.get());
      (void)bpf_call(BPF_LINK_DETACH, attr);
      link_.reset();
    } else if (event_) {
      (void)syscalls().perf_event_ioctl(event_.get(), PERF_EVENT_IOC_DISABLE, 0);
    }
    event_.reset();
    if (auto cleanup = std::exchange(cleanup_, nullptr)) cleanup();
  }

  int link_fd() const noexcept override { return link_.get(); }

 private:
  UniqueFd event_;
  UniqueFd link_;
  std::function<void()> cleanup_;
};

}  // namespace

int perf_event_open(void* attr, int pid, int cpu, int group_fd, unsigned long flags) noexcept {
  return syscalls().perf_event_open(attr, pid, cpu, group_fd, flags);
}

std::unique_ptr<corebpf::detail::Attachment> attach_to_perf_event(int program_fd, UniqueFd perf_event,
                                                                  std::uint64_t cookie, std::string description,
                                                                  std::function<void()> cleanup) {
  // Until the attachment exists, the cleanup is ours to run on the way out.
  struct CleanupGuard {
    std::function<void()>* cleanup;
    ~CleanupGuard() {
      if (cleanup != nullptr && *cleanup) {
        try {
          (*cleanup)();
        } catch (const std::exception& e) {
          util::log(LogLevel::warning, "{}", e.what());
        }
      }
    }
  } guard{&cleanup};

  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program_fd);
  attr.link_create.target_fd = static_cast<std::uint32_t>(perf_event.get());
  attr.link_create.attach_type = BPF_PERF_EVENT;
  attr.link_create.perf_event.bpf_cookie = cookie;
  UniqueFd link(static_cast<int>(bpf_call(BPF_LINK_CREATE, attr)));
  if (!link) {
    const int link_errno = errno;
    // EINVAL: a kernel before 5.15 without perf links; anything else is a real refusal.
    if (link_errno != EINVAL && link_errno != EOPNOTSUPP) {
      errno = link_errno;
      util::fail_errno("attaching {} (BPF_LINK_CREATE of a perf event)", description);
    }
    if (cookie != 0)
      fail_unsupported(
          Feature::perf_link,
          fmt::format("attaching {}: this kernel has no BPF links on perf events (5.15+), so no bpf cookie",
                      description));
    if (syscalls().perf_event_ioctl(perf_event.get(), PERF_EVENT_IOC_SET_BPF, program_fd) != 0)
      util::fail_errno("attaching {} (PERF_EVENT_IOC_SET_BPF)", description);
  }
  if (syscalls().perf_event_ioctl(perf_event.get(), PERF_EVENT_IOC_ENABLE, 0) != 0)
    util::fail_errno("enabling {}", description);
  auto attachment = std::make_unique<PerfEventAttachment>(std::move(perf_event), std::move(link),
                                                          std::move(description), std::move(cleanup));
  guard.cleanup = nullptr;
  return attachment;
}

}  // namespace corebpf::kernel::detail

namespace corebpf::detail {

MultiAttachment::MultiAttachment(std::vector<std::unique_ptr<Attachment>> parts, std::string description,
                                 std::function<void()> cleanup)
    : Attachment(std::move(description)), parts_(std::move(parts)), cleanup_(std::move(cleanup)) {}

MultiAttachment::~MultiAttachment() {
  try {
    detach();
  } catch (const std::exception& e) {
    util::log(LogLevel::warning, "{}", e.what());
  }
}

void MultiAttachment::detach() {
  // Every part goes even when one fails; the first failure is reported.
  std::exception_ptr first;
  while (!parts_.empty()) {
    try {
      parts_.back()->detach();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
    parts_.pop_back();
  }
  if (auto cleanup = std::exchange(cleanup_, nullptr)) {
    try {
      cleanup();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace corebpf::detail
