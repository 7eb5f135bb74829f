// [kernel] RingBuffer: the consumer side of BPF_MAP_TYPE_RINGBUF maps. Several rings share one epoll set;
// each has its own callback. Records are handed out in place (zero copy) and the consumer
// position is published once per batch, not per record.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "corebpf/map.hpp"

namespace corebpf {

namespace detail {

// One mapped ring as RingBuffer walks it: the consumer position (user space writes it), the
// producer position and the data area, which the kernel maps twice in a row so a record that
// wraps past the end reads as one contiguous span. Inline so consume_batch() can inline the
// caller's visitor into the walk.
struct RingWindow {
  // The kernel's record header (include/uapi/linux/bpf.h: BPF_RINGBUF_*): a 32-bit length whose
  // top bits say "still being written" and "discarded", then a word only the kernel reads.
  static constexpr std::uint32_t header_size = 8;
  static constexpr std::uint32_t busy_bit = 1U << 31;
  static constexpr std::uint32_t discard_bit = 1U << 30;
  // How many records ahead walk() prefetches.
  static constexpr std::uint64_t prefetch_distance = 8;

  std::uint64_t* consumer = nullptr;
  const std::uint64_t* producer = nullptr;
  const std::byte* data = nullptr;
  std::uint64_t mask = 0;  // data size - 1 (a power of two)

  static std::uint64_t load_acquire(const std::uint64_t* word) noexcept {
    return std::atomic_ref<std::uint64_t>(*const_cast<std::uint64_t*>(word)).load(std::memory_order_acquire);
  }
  static std::uint32_t load_acquire(const std::uint32_t* word) noexcept {
    return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(word)).load(std::memory_order_acquire);
  }
  static void store_release(std::uint64_t* word, std::uint64_t value) noexcept {
    std::atomic_ref<std::uint64_t>(*word).store(value, std::memory_order_release);
  }

  static std::uint64_t total_size(std::uint32_t length_word) noexcept {
    return (std::uint64_t{length_word & ~(busy_bit | discard_bit)} + header_size + 7) & ~std::uint64_t{7};
  }

  // Walks the complete records from `position`; `visit(span)` returns false to stop after that
  // record. Adds the records visited to `delivered`; returns the position after the last record
  // walked (discarded records are stepped over, a busy one ends the walk).
  //
  // Each header's address depends on the previous header's length, so a plain walk is one load
  // latency per record. Records tend to have the same size: when the last one's size, taken as a
  // stride, predicts where the next four headers are, all four are loaded at once and checked
  // (same size, complete, not discarded) before they are visited; and records larger than a
  // cache line are prefetched some records ahead.
  template <typename Visit>
  std::uint64_t walk(std::uint64_t position, std::size_t& delivered, Visit&& visit) const {
    // Locals: stores made by `visit` could otherwise alias the members and force reloads.
    const std::byte* const base = data;
    const std::uint64_t ring_mask = mask;
    const std::uint64_t* const producer_word = producer;
    const auto header_at = [base, ring_mask](std::uint64_t at) { return base + (at & ring_mask); };
    const auto word_at = [](const std::byte* header) {
      return load_acquire(reinterpret_cast<const std::uint32_t*>(header));
    };
    std::size_t count = 0;
    std::uint64_t stride = 0;  // the total size of the last record walked
    for (;;) {
      const std::uint64_t end = load_acquire(producer_word);
      if (position >= end) break;
      while (position < end) {
        if (stride != 0 && end - position >= 4 * stride) {
          const std::byte* const headers[4] = {header_at(position), header_at(position + stride),
                                               header_at(position + 2 * stride), header_at(position + 3 * stride)};
          const std::uint32_t words[4] = {word_at(headers[0]), word_at(headers[1]), word_at(headers[2]),
                                          word_at(headers[3])};
          if (((words[0] | words[1] | words[2] | words[3]) & (busy_bit | discard_bit)) == 0 &&
              total_size(words[0]) == stride && total_size(words[1]) == stride && total_size(words[2]) == stride &&
              total_size(words[3]) == stride) {
            if (stride > 64) __builtin_prefetch(header_at(position + (4 + prefetch_distance) * stride));
            for (int index = 0; index < 4; ++index) {
              position += stride;
              ++count;
              if (!visit(std::span<const std::byte>(headers[index] + header_size, words[index]))) {
                delivered += count;
                return position;
              }
            }
            continue;
          }
        }
        const std::byte* header = header_at(position);
        const std::uint32_t length_word = word_at(header);
        if ((length_word & busy_bit) != 0) {  // the producer is not done
          delivered += count;
          return position;
        }
        stride = total_size(length_word);
        if (stride > 64) __builtin_prefetch(header_at(position + prefetch_distance * stride));
        position += stride;
        if ((length_word & discard_bit) != 0) continue;
        ++count;
        if (!visit(std::span<const std::byte>(header + header_size, length_word))) {
          delivered += count;
          return position;
        }
      }
    }
    delivered += count;
    return position;
  }
};

}  // namespace detail

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
    std::vector<std::span<const std::byte>>* home_ = nullptr;  // the ring's spare storage
    std::vector<std::span<const std::byte>> records_;
  };
  Batch read_batch(std::size_t ring);

  // The fastest way to drain one ring: `visit(std::span<const std::byte> record)` runs inline for
  // every complete record available now, in place (zero copy), in one pass, and the consumer
  // position is published once at the end. `visit` returns void, or bool: false stops after
  // that record (which counts as consumed). Returns the records visited. The ring's callback
  // is not called. Throws corebpf::Error for a bad ring index.
  template <typename Visit>
  std::size_t consume_batch(std::size_t ring, Visit&& visit) {
    const detail::RingWindow& window = ring_window(ring);
    std::size_t delivered = 0;
    const std::uint64_t start = detail::RingWindow::load_acquire(window.consumer);
    const std::uint64_t end = window.walk(start, delivered, [&](std::span<const std::byte> record) {
      if constexpr (std::is_void_v<std::invoke_result_t<Visit&, std::span<const std::byte>>>) {
        visit(record);
        return true;
      } else {
        return static_cast<bool>(visit(record));
      }
    });
    if (end != start) detail::RingWindow::store_release(window.consumer, end);
    return delivered;
  }

  // For users' own event loops: readable when some ring has data; then call consume().
  int epoll_fd() const noexcept;

 private:
  const detail::RingWindow& ring_window(std::size_t ring) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corebpf
