// PerfBuffer over BPF_MAP_TYPE_PERF_EVENT_ARRAY. Each CPU's ring is the mmap of a perf event:
// one metadata page (struct perf_event_mmap_page: the kernel advances data_head, we advance
// data_tail) followed by a power-of-two data area that is mapped once, so a record crossing the
// end of the area is split in two and gets copied. Records are 8-byte aligned, so their 8-byte
// headers never straddle the end.
#include "corebpf/perf_buffer.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string>

#include "kernel/perf_event_link.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"
#include "util/mapped_region.hpp"

namespace corebpf {
namespace {

// The layouts that follow a perf_event_header for the two record types we read (sample_id_all
// is off, so nothing trails them).
struct LostRecordBody {
  std::uint64_t id;
  std::uint64_t lost;
};
constexpr std::size_t sample_size_field = sizeof(std::uint32_t);  // PERF_SAMPLE_RAW: u32 size, then data

template <typename Word>
Word load_acquire(const Word* word) noexcept {
  return std::atomic_ref<Word>(*const_cast<Word*>(word)).load(std::memory_order_acquire);
}
template <typename Word>
void store_release(Word* word, Word value) noexcept {
  std::atomic_ref<Word>(*word).store(value, std::memory_order_release);
}

struct CpuRing {
  std::uint32_t cpu = 0;
  UniqueFd event;
  util::MappedRegion region;  // metadata page + data area
  std::size_t page_size = 0;
  std::uint64_t data_size = 0;

  perf_event_mmap_page* metadata() const noexcept { return reinterpret_cast<perf_event_mmap_page*>(region.data()); }
  const std::byte* data() const noexcept { return region.data() + page_size; }
};

UniqueFd open_bpf_output_event(std::uint32_t cpu, const PerfBufferOptions& options) {
  perf_event_attr attr{};
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.sample_period = 1;
  if (options.wakeup_watermark_bytes != 0) {
    attr.watermark = 1;
    attr.wakeup_watermark = options.wakeup_watermark_bytes;
  } else {
    attr.wakeup_events = options.wakeup_events;
  }
  return UniqueFd(kernel::detail::perf_event_open(&attr, -1, static_cast<int>(cpu), -1, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

struct PerfBuffer::Impl {
  Map map;  // our own reference: the entries we store live as long as the map file they went through
  SampleCallback on_sample;
  LostCallback on_lost;
  UniqueFd epoll;
  std::vector<std::unique_ptr<CpuRing>> rings;
  std::vector<epoll_event> events;
  std::vector<std::byte> scratch;  // records that wrap past the end of a data area, made contiguous
  std::uint64_t lost = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    // Stop the kernel writing to rings that are about to be unmapped (the map may outlive us).
    for (const auto& ring : rings) {
      const std::uint32_t key = ring->cpu;
      [[maybe_unused]] const int error = map.try_erase(std::as_bytes(std::span(&key, 1)));
    }
  }

  std::size_t consume(CpuRing& ring) {
    perf_event_mmap_page* metadata = ring.metadata();
    const std::uint64_t head = load_acquire(&metadata->data_head);
    const std::uint64_t start = metadata->data_tail;  // only we write it
    std::uint64_t tail = start;
    // The space is handed back once, also when a callback throws (the record it was given
    // counts as consumed).
    struct PublishTail {
      perf_event_mmap_page* metadata;
      const std::uint64_t& tail;
      std::uint64_t start;
      ~PublishTail() {
        if (tail != start) store_release(&metadata->data_tail, static_cast<__u64>(tail));
      }
    } publish{metadata, tail, start};

    const std::uint64_t mask = ring.data_size - 1;
    std::size_t delivered = 0;
    while (tail < head) {
      const std::uint64_t offset = tail & mask;
      perf_event_header header{};
      std::memcpy(&header, ring.data() + offset, sizeof(header));
      if (header.size < sizeof(header) || header.size > head - tail) {
        util::fail(std::errc::bad_message,
                   "map '{}': perf buffer: CPU {}: corrupt ring: a record of {} bytes at position {} (head {})",
                   map.name(), ring.cpu, header.size, tail, head);
      }
      const std::byte* record = ring.data() + offset;
      if (offset + header.size > ring.data_size) {
        const std::size_t first_part = static_cast<std::size_t>(ring.data_size - offset);
        scratch.resize(header.size);
        std::memcpy(scratch.data(), record, first_part);
        std::memcpy(scratch.data() + first_part, ring.data(), header.size - first_part);
        record = scratch.data();
      }
      tail += header.size;
      const std::span<const std::byte> body(record + sizeof(header), header.size - sizeof(header));
      if (header.type == PERF_RECORD_SAMPLE) {
        std::uint32_t size = 0;
        if (body.size() >= sample_size_field) std::memcpy(&size, body.data(), sample_size_field);
        if (body.size() < sample_size_field || size > body.size() - sample_size_field) {
          util::fail(std::errc::bad_message, "map '{}': perf buffer: CPU {}: sample of {} bytes in a {}-byte record",
                     map.name(), ring.cpu, size, header.size);
        }
        ++delivered;
        on_sample(ring.cpu, body.subspan(sample_size_field, size));
      } else if (header.type == PERF_RECORD_LOST && body.size() >= sizeof(LostRecordBody)) {
        LostRecordBody lost_record{};
        std::memcpy(&lost_record, body.data(), sizeof(lost_record));
        lost += lost_record.lost;
        if (on_lost) on_lost(ring.cpu, lost_record.lost);
      }
    }
    return delivered;
  }

  CpuRing& ring_of(std::uint32_t cpu) {
    for (auto& ring : rings) {
      if (ring->cpu == cpu) return *ring;
    }
    util::fail(std::errc::invalid_argument, "map '{}': perf buffer: no ring for CPU {}", map.name(), cpu);
  }
};

PerfBuffer::PerfBuffer(const Map& map, SampleCallback on_sample, LostCallback on_lost, const PerfBufferOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (map.type() != MapType::perf_event_array) {
    util::fail(std::errc::invalid_argument, "map '{}': perf buffer: the map is a {} map, not a perf_event_array map",
               map.name(), map_type_name(map.type()));
  }
  if (!on_sample) util::fail(std::errc::invalid_argument, "map '{}': perf buffer: no sample callback", map.name());
  if (options.data_pages == 0 || !std::has_single_bit(options.data_pages)) {
    util::fail(std::errc::invalid_argument, "map '{}': perf buffer: {} data pages per CPU: not a power of two",
               map.name(), options.data_pages);
  }
  const std::size_t page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t data_size = std::uint64_t{options.data_pages} * page_size;
  if (options.wakeup_watermark_bytes == 0 && options.wakeup_events == 0) {
    util::fail(std::errc::invalid_argument, "map '{}': perf buffer: wakeup_events is 0 and no watermark is set",
               map.name());
  }
  if (options.wakeup_watermark_bytes >= data_size) {
    util::fail(std::errc::invalid_argument,
               "map '{}': perf buffer: wakeup watermark of {} bytes does not fit a ring of {} bytes", map.name(),
               options.wakeup_watermark_bytes, data_size);
  }

  const int own_fd = ::fcntl(map.fd(), F_DUPFD_CLOEXEC, 0);
  if (own_fd < 0) util::fail_errno("map '{}': perf buffer: duplicating the map fd", map.name());
  impl_->map = Map::adopt(UniqueFd(own_fd));
  impl_->on_sample = std::move(on_sample);
  impl_->on_lost = std::move(on_lost);
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) util::fail_errno("map '{}': perf buffer: epoll_create1", map.name());
  impl_->epoll = UniqueFd(epoll);

  const std::uint32_t cpu_count = std::min(possible_cpus(), map.max_entries());
  for (std::uint32_t cpu = 0; cpu < cpu_count; ++cpu) {
    auto ring = std::make_unique<CpuRing>();
    ring->cpu = cpu;
    ring->page_size = page_size;
    ring->data_size = data_size;
    ring->event = open_bpf_output_event(cpu, options);
    if (!ring->event) {
      if (errno == ENODEV) {  // an offline CPU
        util::log(LogLevel::debug, "map '{}': perf buffer: CPU {} is offline; no ring", map.name(), cpu);
        continue;
      }
      util::fail_errno("map '{}': perf buffer: CPU {}: perf_event_open", map.name(), cpu);
    }
    const std::size_t region_size = page_size + static_cast<std::size_t>(data_size);
    ring->region = util::MappedRegion(
        ::mmap(nullptr, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring->event.get(), 0), region_size);
    if (!ring->region) {
      util::fail_errno("map '{}': perf buffer: CPU {}: mmap of {} bytes", map.name(), cpu, region_size);
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = impl_->rings.size();
    if (::epoll_ctl(impl_->epoll.get(), EPOLL_CTL_ADD, ring->event.get(), &event) != 0) {
      util::fail_errno("map '{}': perf buffer: CPU {}: adding the ring to the epoll set", map.name(), cpu);
    }
    const std::uint32_t key = cpu;
    const std::uint32_t value = static_cast<std::uint32_t>(ring->event.get());
    const int error = impl_->map.try_update(std::as_bytes(std::span(&key, 1)), std::as_bytes(std::span(&value, 1)));
    if (error != 0) {
      throw Error(error, fmt::format("map '{}': perf buffer: CPU {}: storing the event fd in the map: {}", map.name(),
                                     cpu, std::generic_category().message(error)));
    }
    impl_->rings.push_back(std::move(ring));  // from here on the destructor erases the entry
  }
  if (impl_->rings.empty()) {
    util::fail(std::errc::no_such_device, "map '{}': perf buffer: no online CPU below {}", map.name(), cpu_count);
  }
  impl_->events.resize(impl_->rings.size());
}

PerfBuffer::PerfBuffer(PerfBuffer&&) noexcept = default;
PerfBuffer& PerfBuffer::operator=(PerfBuffer&&) noexcept = default;
PerfBuffer::~PerfBuffer() = default;

std::size_t PerfBuffer::poll(int timeout_ms) {
  const int ready =
      ::epoll_wait(impl_->epoll.get(), impl_->events.data(), static_cast<int>(impl_->events.size()), timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return 0;
    util::fail_errno("map '{}': perf buffer: epoll_wait", impl_->map.name());
  }
  std::size_t delivered = 0;
  for (int index = 0; index < ready; ++index) {
    delivered += impl_->consume(*impl_->rings[impl_->events[static_cast<std::size_t>(index)].data.u64]);
  }
  return delivered;
}

std::size_t PerfBuffer::consume() {
  std::size_t delivered = 0;
  for (auto& ring : impl_->rings) delivered += impl_->consume(*ring);
  return delivered;
}

std::size_t PerfBuffer::consume_cpu(std::uint32_t cpu) { return impl_->consume(impl_->ring_of(cpu)); }

std::vector<std::uint32_t> PerfBuffer::cpus() const {
  std::vector<std::uint32_t> result;
  result.reserve(impl_->rings.size());
  for (const auto& ring : impl_->rings) result.push_back(ring->cpu);
  return result;
}

std::uint64_t PerfBuffer::lost() const noexcept { return impl_->lost; }

int PerfBuffer::epoll_fd() const noexcept { return impl_->epoll.get(); }

}  // namespace corebpf
