#include "cli/output.hpp"

#include <unistd.h>

#include <cerrno>

#include "util/error_format.hpp"

namespace corebpf::cli {

void Output::write(std::string_view text) {
  if (buffer_.size() + text.size() > kFlushSize) {
    flush();
    if (text.size() >= kFlushSize) {
      write_all(text);
      return;
    }
  }
  buffer_.append(text.data(), text.data() + text.size());
}

void Output::flush() {
  if (buffer_.size() == 0) return;
  const std::string_view pending(buffer_.data(), buffer_.size());
  buffer_.clear();
  write_all(pending);
}

btf::Sink Output::sink() {
  return [this](std::string_view chunk) { write(chunk); };
}

void Output::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      util::fail_errno("writing the output");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace corebpf::cli
