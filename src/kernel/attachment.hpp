// Internal: what a Link owns. Each way of attaching (BPF link, perf event, netlink, socket option,
// BPF_PROG_ATTACH) is an Attachment whose destructor undoes the attachment quietly and whose
// detach() does it loudly. New attach code adds a subclass here or next to its attach function.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "corebpf/fd.hpp"

namespace corebpf::detail {

class Attachment {
 public:
  explicit Attachment(std::string description) : description_(std::move(description)) {}
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;
  // Undoes the attachment if detach() has not; never throws (errors go to the log hook).
  virtual ~Attachment() = default;

  // Undoes the attachment now; throws corebpf::Error naming description() on failure.
  virtual void detach() = 0;
  // Gives the attachment up without undoing it (the destructor then leaves it); false for the
  // kinds that cannot outlive their owner this way.
  virtual bool disconnect() noexcept { return false; }
  // The BPF link fd, or -1 when this attachment is not a BPF link.
  virtual int link_fd() const noexcept { return -1; }

  const std::string& description() const noexcept { return description_; }

 private:
  std::string description_;
};

// A BPF link (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN): closing the fd detaches unless pinned.
class BpfLinkAttachment final : public Attachment {
 public:
  BpfLinkAttachment(UniqueFd fd, std::string description) : Attachment(std::move(description)), fd_(std::move(fd)) {}
  void detach() override;
  int link_fd() const noexcept override { return fd_.get(); }

 private:
  UniqueFd fd_;
};

}  // namespace corebpf::detail
