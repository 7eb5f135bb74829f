// Internal: the owner of one mmap()ed region, unmapped on destruction.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <utility>

namespace corebpf::util {

class MappedRegion {
 public:
  MappedRegion() noexcept = default;
  // Takes a region mmap() returned (MAP_FAILED or nullptr gives an empty region).
  MappedRegion(void* address, std::size_t size) noexcept
      : address_(address == MAP_FAILED ? nullptr : address), size_(address_ != nullptr ? size : 0) {}
  MappedRegion(MappedRegion&& other) noexcept
      : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedRegion& operator=(MappedRegion&& other) noexcept {
    if (this != &other) {
      reset();
      address_ = std::exchange(other.address_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion() { reset(); }

  explicit operator bool() const noexcept { return address_ != nullptr; }
  std::byte* data() const noexcept { return static_cast<std::byte*>(address_); }
  std::size_t size() const noexcept { return size_; }
  void reset() noexcept {
    if (address_ != nullptr) ::munmap(address_, size_);
    address_ = nullptr;
    size_ = 0;
  }

 private:
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace corebpf::util
