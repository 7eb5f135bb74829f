// [kernel] UserRingBuffer: the user-space producer of a BPF_MAP_TYPE_USER_RINGBUF map, which BPF programs
// drain with bpf_user_ringbuf_drain(). Samples are written in place: reserve() hands out space in
// the ring, submit() or discard() hands it to the kernel. One producer per ring: the methods are
// not safe to call from several threads at once without the caller's own lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "corebpf/map.hpp"

namespace corebpf {

class UserRingBuffer {
 public:
  // Maps the ring of `map` (a user_ringbuf map; it may be closed afterwards: the mappings keep
  // the ring alive). Throws corebpf::Error naming the map.
  explicit UserRingBuffer(const Map& map);
  UserRingBuffer(UserRingBuffer&&) noexcept;
  UserRingBuffer& operator=(UserRingBuffer&&) noexcept;
  UserRingBuffer(const UserRingBuffer&) = delete;
  UserRingBuffer& operator=(const UserRingBuffer&) = delete;
  ~UserRingBuffer();

  // Space for one sample of `size` bytes (8-byte aligned), published to the kernel as busy: the
  // kernel stops draining at a busy sample until it is submitted or discarded, so every reserved
  // sample must be handed back, in any order. A size the ring can never hold (0, more than
  // max_sample_size()) throws naming the map; a ring without room now throws ENOSPC.
  std::span<std::byte> reserve(std::size_t size);
  // The same, but an empty span when the ring has no room now or the size can never fit.
  std::span<std::byte> try_reserve(std::size_t size) noexcept;
  // Waits up to `timeout` for a BPF program to drain enough of the ring (epoll on the map);
  // an empty span when the time runs out. Throws for an impossible size, like reserve().
  std::span<std::byte> reserve_blocking(std::size_t size, std::chrono::milliseconds timeout);

  // Hands a reserved sample to the kernel (it becomes drainable) or has the kernel skip it. The
  // span must be one reserve*() returned, not yet submitted or discarded (its size is the
  // reserved size); anything else throws EINVAL.
  void submit(std::span<std::byte> sample);
  void discard(std::span<std::byte> sample);

  // The largest sample the ring can ever hold (the data area less one 8-byte header).
  std::size_t max_sample_size() const noexcept;
  // Bytes not in use now (headers and padding included); what the kernel drains comes back.
  std::size_t free_bytes() const noexcept;
  const std::string& name() const noexcept;

  // Writable (EPOLLOUT, edge-triggered) when the kernel drained samples: for users' own loops.
  int epoll_fd() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corebpf
