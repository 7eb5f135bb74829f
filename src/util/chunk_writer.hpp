// Internal: an output buffer that hands its contents to a consumer in large chunks, so text
// producers can format piece by piece without paying a call per piece.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string_view>
#include <utility>

namespace corebpf::util {

template <typename Consumer>
class ChunkWriter {
 public:
  static constexpr std::size_t kChunkSize = std::size_t{64} * 1024;

  explicit ChunkWriter(Consumer consumer) : consumer_(std::move(consumer)) { buffer_.reserve(kChunkSize + 4096); }
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  fmt::memory_buffer& buffer() { return buffer_; }
  void append(std::string_view text) { buffer_.append(text.data(), text.data() + text.size()); }
  void put(char c) { buffer_.push_back(c); }
  template <typename... Args>
  void format(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(fmt::appender(buffer_), format, std::forward<Args>(args)...);
  }

  // Call at record boundaries: passes the buffer on once a chunk has accumulated.
  void flush_if_full() {
    if (buffer_.size() >= kChunkSize) flush();
  }
  // Passes on whatever is buffered. Not done by the destructor: a consumer may throw.
  void flush() {
    if (buffer_.size() == 0) return;
    consumer_(std::string_view(buffer_.data(), buffer_.size()));
    buffer_.clear();
  }

 private:
  Consumer consumer_;
  fmt::memory_buffer buffer_;
};

}  // namespace corebpf::util
