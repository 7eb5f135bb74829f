#include "util/file_bytes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "corebpf/fd.hpp"
#include "util/error_format.hpp"

namespace corebpf::util {

FileBytes FileBytes::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail_errno("cannot open {}", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail_errno("cannot stat {}", path);
  if (S_ISDIR(st.st_mode)) fail(std::errc::is_a_directory, "cannot read {}: it is a directory", path);

  FileBytes result;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    // MAP_PRIVATE: sysfs BTF files accept only private read-only mappings.
    void* addr =
        ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (addr != MAP_FAILED) {
      result.data_ = static_cast<const std::byte*>(addr);
      result.size_ = static_cast<std::size_t>(st.st_size);
      result.mapped_ = true;
      return result;
    }
  }
  // Pipes, procfs and files that refuse mmap: read them whole. st_size may be 0 or a guess here.
  std::vector<std::byte> bytes;
  std::size_t capacity = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 1 << 16;
  bytes.resize(capacity);
  std::size_t used = 0;
  for (;;) {
    if (used == bytes.size()) bytes.resize(bytes.size() * 2);
    ssize_t n = ::read(fd.get(), bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot read {}", path);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  bytes.resize(used);
  return from_vector(std::move(bytes));
}

FileBytes FileBytes::from_vector(std::vector<std::byte> bytes) {
  FileBytes result;
  result.owned_ = std::move(bytes);
  result.data_ = result.owned_.data();
  result.size_ = result.owned_.size();
  return result;
}

FileBytes::FileBytes(FileBytes&& other) noexcept { *this = std::move(other); }

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this == &other) return *this;
  release();
  mapped_ = std::exchange(other.mapped_, false);
  size_ = std::exchange(other.size_, 0);
  owned_ = std::move(other.owned_);
  const std::byte* data = std::exchange(other.data_, nullptr);
  data_ = mapped_ ? data : owned_.data();
  return *this;
}

FileBytes::~FileBytes() { release(); }

void FileBytes::release() noexcept {
  if (mapped_ && data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
  owned_.clear();
}

}  // namespace corebpf::util
