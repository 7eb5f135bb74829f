#include "cli/output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "corebpf/fd.hpp"
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

void write_file(const std::string& path, std::span<const std::byte> bytes) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) util::fail_errno("{}: cannot create the output file", path);
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      util::fail_errno("{}: writing the output file", path);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace corebpf::cli
