// Internal: the bytes of a file, mapped read-only when the file allows it, read otherwise.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace corebpf::util {

class FileBytes {
 public:
  // Throws corebpf::Error naming `path` when it cannot be opened or read.
  static FileBytes open(const std::string& path);
  // Takes ownership of bytes already in memory.
  static FileBytes from_vector(std::vector<std::byte> bytes);

  FileBytes() = default;
  FileBytes(FileBytes&& other) noexcept;
  FileBytes& operator=(FileBytes&& other) noexcept;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  bool is_mapped() const noexcept { return mapped_; }

 private:
  void release() noexcept;

  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::byte> owned_;
};

}  // namespace corebpf::util
