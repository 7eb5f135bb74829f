// Standard output for the commands: buffered, written in large blocks, errors reported.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "corebpf/btf_dump.hpp"

namespace corebpf::cli {

class Output {
 public:
  explicit Output(int fd = 1) : fd_(fd) {}
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void write(std::string_view text);
  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(fmt::appender(buffer_), format, std::forward<Args>(args)...);
    if (buffer_.size() >= kFlushSize) flush();
  }
  // Throws corebpf::Error when the output cannot be written (a full disk, a closed pipe).
  void flush();
  // For the dumpers, which already produce large chunks: they go straight through.
  btf::Sink sink();

 private:
  static constexpr std::size_t kFlushSize = std::size_t{64} * 1024;
  void write_all(std::string_view bytes);

  int fd_;
  fmt::memory_buffer buffer_;
};

// Writes `bytes` to a new (or truncated) file; throws corebpf::Error naming `path`.
void write_file(const std::string& path, std::span<const std::byte> bytes);

}  // namespace corebpf::cli
