// [kernel] PerfBuffer: the consumer side of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map. One perf event ring per
// CPU (a PERF_COUNT_SW_BPF_OUTPUT software event whose fd is stored in the map at the CPU's
// index), all rings under one epoll set. Programs write samples with bpf_perf_event_output(); when
// a ring is full the kernel drops samples and later reports how many through a lost record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "corebpf/map.hpp"

namespace corebpf {

struct PerfBufferOptions {
  // Data pages of each CPU's ring (a power of two); the kernel adds one metadata page.
  std::size_t data_pages = 8;
  // Wake the reader after this many samples (1: every sample) ...
  std::uint32_t wakeup_events = 1;
  // ... or, when non-zero, once this many bytes wait in a ring (wakeup_events is then unused).
  std::uint32_t wakeup_watermark_bytes = 0;
};

class PerfBuffer {
 public:
  // One sample as the program wrote it. The kernel pads raw data so that it ends 8-byte aligned
  // (counting a 4-byte size before it) and skips the padding without writing it, so `data` may
  // end with up to 7 bytes the program did not write (old ring contents). The span is valid
  // during the call only.
  using SampleCallback = std::function<void(std::uint32_t cpu, std::span<const std::byte> data)>;
  // `count` samples of `cpu` were dropped because its ring was full.
  using LostCallback = std::function<void(std::uint32_t cpu, std::uint64_t count)>;

  // Opens a ring for every possible CPU below the map's max_entries (offline CPUs are skipped)
  // and stores the event fds in `map`. The PerfBuffer keeps its own reference to the map; the
  // destructor removes its entries from it. Throws corebpf::Error naming the map and the CPU.
  PerfBuffer(const Map& map, SampleCallback on_sample, LostCallback on_lost = {},
             const PerfBufferOptions& options = {});
  PerfBuffer(PerfBuffer&&) noexcept;
  PerfBuffer& operator=(PerfBuffer&&) noexcept;
  PerfBuffer(const PerfBuffer&) = delete;
  PerfBuffer& operator=(const PerfBuffer&) = delete;
  ~PerfBuffer();

  // Waits up to `timeout_ms` (-1: forever) for a ring to wake the reader, then consumes the
  // rings that did. Returns the number of samples handed to the callback; EINTR gives 0.
  std::size_t poll(int timeout_ms);
  // Consumes whatever every ring holds now, without waiting.
  std::size_t consume();
  // Consumes the ring of one CPU (one of cpus()).
  std::size_t consume_cpu(std::uint32_t cpu);

  // The CPUs that have a ring, ascending.
  std::vector<std::uint32_t> cpus() const;
  // Samples reported lost so far, over all CPUs.
  std::uint64_t lost() const noexcept;
  // For users' own event loops: readable when some ring woke the reader; then call consume().
  int epoll_fd() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corebpf
