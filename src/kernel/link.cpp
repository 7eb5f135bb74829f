#include "corebpf/link.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "corebpf/program.hpp"
#include "kernel/attachment.hpp"
#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {

using corebpf::kernel::detail::zeroed_attr;

}  // namespace

namespace detail {

void BpfLinkAttachment::detach() {
  if (!fd_) return;
  bpf_attr attr = zeroed_attr();
  attr.link_detach.link_fd = static_cast<std::uint32_t>(fd_.get());
  // Links the kernel cannot force off (EOPNOTSUPP: older link types) still go when the last fd
  // closes, which is what follows.
  if (kernel::detail::bpf_call(BPF_LINK_DETACH, attr) < 0 && errno != EOPNOTSUPP) {
    util::fail_errno("detaching {}", description());
  }
  fd_.reset();
}

}  // namespace detail

Link::Link() noexcept = default;
Link::Link(std::unique_ptr<detail::Attachment> attachment) noexcept : attachment_(std::move(attachment)) {}
Link::Link(Link&&) noexcept = default;
Link& Link::operator=(Link&&) noexcept = default;
Link::~Link() = default;

namespace {

std::string describe_link(int fd) {
  const auto info = kernel::link_info(fd);
  return fmt::format("BPF link {} (program id {})", info.id, info.program_id);
}

}  // namespace

Link Link::open_pinned(const std::string& path) {
  bpf_attr attr = zeroed_attr();
  attr.pathname = reinterpret_cast<std::uintptr_t>(path.c_str());
  UniqueFd fd = kernel::detail::bpf_fd_call(BPF_OBJ_GET, attr, fmt::format("of pinned link {}", path));
  bpf_link_info info{};
  try {
    kernel::detail::object_info(fd.get(), &info, sizeof(info), path);
  } catch (const Error& e) {
    util::fail(std::errc::invalid_argument, "{} is not a BPF link: {}", path, e.message());
  }
  if (info.type == BPF_LINK_TYPE_UNSPEC || info.prog_id == 0) {
    util::fail(std::errc::invalid_argument, "{} is not a BPF link", path);
  }
  auto description = fmt::format("BPF link {} pinned at {}", info.id, path);
  return Link(std::make_unique<detail::BpfLinkAttachment>(std::move(fd), std::move(description)));
}

Link Link::open_by_id(std::uint32_t id) {
  UniqueFd fd = kernel::open_by_id(kernel::ObjectType::link, id);
  auto description = describe_link(fd.get());
  return Link(std::make_unique<detail::BpfLinkAttachment>(std::move(fd), std::move(description)));
}

int Link::fd() const noexcept { return attachment_ ? attachment_->link_fd() : -1; }

const std::string& Link::description() const noexcept {
  static const std::string empty = "empty link";
  return attachment_ ? attachment_->description() : empty;
}

namespace {

// The BPF link fd of `link`, or an error saying why `operation` needs one.
int require_bpf_link(const Link& link, std::string_view operation) {
  if (!link) util::fail(std::errc::invalid_argument, "cannot {} an empty link", operation);
  if (link.fd() < 0) {
    util::fail(std::errc::operation_not_supported, "cannot {} {}: it is not a BPF link", operation, link.description());
  }
  return link.fd();
}

}  // namespace

kernel::LinkInfo Link::info() const { return kernel::link_info(require_bpf_link(*this, "read the info of")); }

void Link::pin(const std::string& path) const {
  const int fd = require_bpf_link(*this, "pin");
  bpf_attr attr = zeroed_attr();
  attr.pathname = reinterpret_cast<std::uintptr_t>(path.c_str());
  attr.bpf_fd = static_cast<std::uint32_t>(fd);
  if (kernel::detail::bpf_call(BPF_OBJ_PIN, attr) < 0) util::fail_errno("pinning {} at {}", description(), path);
}

void Link::unpin(const std::string& path) {
  if (::unlink(path.c_str()) != 0) util::fail_errno("unpinning link {}", path);
}

void Link::update_program(const Program& program) {
  const int fd = require_bpf_link(*this, "update the program of");
  bpf_attr attr = zeroed_attr();
  attr.link_update.link_fd = static_cast<std::uint32_t>(fd);
  attr.link_update.new_prog_fd = static_cast<std::uint32_t>(program.fd());
  if (kernel::detail::bpf_call(BPF_LINK_UPDATE, attr) < 0) {
    util::fail_errno("replacing the program of {} by '{}'", description(), program.name());
  }
}

void Link::detach() {
  if (!attachment_) return;
  attachment_->detach();
  attachment_.reset();
}

void Link::disconnect() {
  if (!attachment_) return;
  if (!attachment_->disconnect())
    util::fail(std::errc::operation_not_supported, "{}: cannot be left attached without an owner (pin a BPF link)",
               attachment_->description());
  attachment_.reset();
}

}  // namespace corebpf
