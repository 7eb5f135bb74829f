// RingBuffer: the consumer side of BPF_MAP_TYPE_RINGBUF maps. Several rings share one epoll set;
// each has its own callback. Records are handed out in place (zero copy) and the consumer
// position is published once per batch, not per record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "corebpf/map.hpp"

namespace corebpf {

class RingBuffer {
 public:
  // Called for each record, in order. A non-zero return stops consumption after this record
  // (which counts as consumed); poll()/consume() then return early.
  using Callback = std::function<int(std::span<const std::byte> record)>;

  // Creates the epoll set. Throws corebpf::Error.
  RingBuffer();
  RingBuffer(RingBuffer&&) noexcept;
  RingBuffer& operator=(RingBuffer&&) noexcept;
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;
  ~RingBuffer();

  // Maps the ring of `map` (a ringbuf map; it may be closed afterwards: the mappings keep the
  // ring alive) and adds it to the epoll set. Returns the ring's index. Throws naming the map.
  std::size_t add(const Map& map, Callback callback);
  std::size_t size() const noexcept;

  // Waits up to `timeout_ms` (-1: forever) for data on any ring, then consumes the rings that
  // have some. Returns the number of records handed to callbacks (discarded records are not
  // counted); EINTR gives 0. Throws corebpf::Error on other failures.
  std::size_t poll(int timeout_ms);
  // Consumes whatever every ring holds now, without waiting.
  std::size_t consume();
  // Consumes one ring.
  std::size_t consume(std::size_t ring);

  // The zero-copy batch: every complete record of one ring available now, in place. The spans
  // stay valid until release() (or the destructor), which hands the space back to the producer
  // with one store of the consumer position.
  class Batch {
   public:
    Batch(Batch&& other) noexcept;
    Batch& operator=(Batch&& other) noexcept;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch() { release(); }

    std::span<const std::span<const std::byte>> records() const noexcept { return records_; }
    auto begin() const noexcept { return records_.begin(); }
    auto end() const noexcept { return records_.end(); }
    std::size_t size() const noexcept { return records_.size(); }
    bool empty() const noexcept { return records_.empty(); }
    void release() noexcept;

   private:
    friend class RingBuffer;
    Batch() = default;
    std::uint64_t* consumer_position_ = nullptr;
    std::uint64_t end_position_ = 0;
    std::vector<std::span<const std::byte>> records_;
  };
  Batch read_batch(std::size_t ring);

  // For users' own event loops: readable when some ring has data; then call consume().
  int epoll_fd() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corebpf
