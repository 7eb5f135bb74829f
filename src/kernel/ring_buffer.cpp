// RingBuffer over BPF_MAP_TYPE_RINGBUF. The kernel's layout (include/uapi/linux/bpf.h and
// kernel/bpf/ringbuf.c): page 0 holds the consumer position (user space writes it); page 1 the
// producer position; then the data area, which the kernel maps twice in a row so a record that
// wraps past the end reads as one contiguous span. Each record starts with an 8-byte header: a
// 32-bit length whose top bits say "still being written" (busy) and "discarded", and the offset
// of the record's page, which only the kernel uses.
#include "corebpf/ring_buffer.hpp"

#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "util/error_format.hpp"
#include "util/mapped_region.hpp"

namespace corebpf {
namespace {

constexpr std::uint32_t record_header_size = BPF_RINGBUF_HDR_SZ;

std::uint64_t load_acquire(const std::uint64_t* position) noexcept {
  return std::atomic_ref<std::uint64_t>(*const_cast<std::uint64_t*>(position)).load(std::memory_order_acquire);
}
std::uint32_t load_acquire(const std::uint32_t* word) noexcept {
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(word)).load(std::memory_order_acquire);
}
void store_release(std::uint64_t* position, std::uint64_t value) noexcept {
  std::atomic_ref<std::uint64_t>(*position).store(value, std::memory_order_release);
}

struct Ring {
  std::string name;
  RingBuffer::Callback callback;
  util::MappedRegion consumer_page;   // RW
  util::MappedRegion producer_pages;  // RO: producer page + the data area twice
  std::uint64_t mask = 0;             // data size - 1 (a power of two)
  std::size_t page_size = 0;

  std::uint64_t* consumer_position() const noexcept { return reinterpret_cast<std::uint64_t*>(consumer_page.data()); }
  const std::uint64_t* producer_position() const noexcept {
    return reinterpret_cast<const std::uint64_t*>(producer_pages.data());
  }
  const std::byte* data() const noexcept { return producer_pages.data() + page_size; }

  // Walks the complete records from the consumer position; `visit(span)` returns false to stop
  // after that record. Returns the position after the last record walked.
  template <typename Visit>
  std::uint64_t walk(std::uint64_t position, std::size_t& delivered, Visit&& visit) const {
    for (;;) {
      const std::uint64_t producer = load_acquire(producer_position());
      if (position >= producer) return position;
      while (position < producer) {
        const std::byte* header = data() + (position & mask);
        const std::uint32_t length_word = load_acquire(reinterpret_cast<const std::uint32_t*>(header));
        if ((length_word & BPF_RINGBUF_BUSY_BIT) != 0) return position;  // the producer is not done
        const std::uint32_t length = length_word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        position += (std::uint64_t{length} + record_header_size + 7) & ~std::uint64_t{7};
        if ((length_word & BPF_RINGBUF_DISCARD_BIT) != 0) continue;
        ++delivered;
        if (!visit(std::span<const std::byte>(header + record_header_size, length))) return position;
      }
    }
  }
};

}  // namespace

struct RingBuffer::Impl {
  UniqueFd epoll;
  std::vector<std::unique_ptr<Ring>> rings;
  std::vector<epoll_event> events;
  bool stopped = false;

  std::size_t consume(Ring& ring) {
    std::size_t delivered = 0;
    std::uint64_t* consumer = ring.consumer_position();
    const std::uint64_t start = load_acquire(consumer);
    const std::uint64_t end = ring.walk(start, delivered, [&](std::span<const std::byte> record) {
      if (ring.callback(record) == 0) return true;
      stopped = true;
      return false;
    });
    if (end != start) store_release(consumer, end);
    return delivered;
  }
};

RingBuffer::RingBuffer() : impl_(std::make_unique<Impl>()) {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) util::fail_errno("ring buffer: epoll_create1");
  impl_->epoll = UniqueFd(fd);
}

RingBuffer::RingBuffer(RingBuffer&&) noexcept = default;
RingBuffer& RingBuffer::operator=(RingBuffer&&) noexcept = default;
RingBuffer::~RingBuffer() = default;

std::size_t RingBuffer::add(const Map& map, Callback callback) {
  if (map.type() != MapType::ringbuf) {
    util::fail(std::errc::invalid_argument, "map '{}': ring buffer: the map is a {} map, not a ringbuf map", map.name(),
               map_type_name(map.type()));
  }
  if (!callback) util::fail(std::errc::invalid_argument, "map '{}': ring buffer: no callback", map.name());
  auto ring = std::make_unique<Ring>();
  ring->name = map.name();
  ring->callback = std::move(callback);
  ring->page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t data_size = map.max_entries();
  ring->mask = data_size - 1;
  ring->consumer_page = util::MappedRegion(
      ::mmap(nullptr, ring->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd(), 0), ring->page_size);
  if (!ring->consumer_page) util::fail_errno("map '{}': ring buffer: mmap of the consumer page", map.name());
  const std::size_t producer_size = ring->page_size + 2 * data_size;
  ring->producer_pages = util::MappedRegion(
      ::mmap(nullptr, producer_size, PROT_READ, MAP_SHARED, map.fd(), static_cast<off_t>(ring->page_size)),
      producer_size);
  if (!ring->producer_pages) util::fail_errno("map '{}': ring buffer: mmap of the data pages", map.name());

  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = impl_->rings.size();
  if (::epoll_ctl(impl_->epoll.get(), EPOLL_CTL_ADD, map.fd(), &event) != 0) {
    util::fail_errno("map '{}': ring buffer: adding to the epoll set", map.name());
  }
  impl_->rings.push_back(std::move(ring));
  impl_->events.resize(impl_->rings.size());
  return impl_->rings.size() - 1;
}

std::size_t RingBuffer::size() const noexcept { return impl_->rings.size(); }

std::size_t RingBuffer::poll(int timeout_ms) {
  if (impl_->rings.empty()) util::fail(std::errc::invalid_argument, "ring buffer: poll with no rings added");
  const int ready =
      ::epoll_wait(impl_->epoll.get(), impl_->events.data(), static_cast<int>(impl_->events.size()), timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) return 0;
    util::fail_errno("ring buffer: epoll_wait");
  }
  impl_->stopped = false;
  std::size_t delivered = 0;
  for (int index = 0; index < ready && !impl_->stopped; ++index) {
    delivered += impl_->consume(*impl_->rings[impl_->events[static_cast<std::size_t>(index)].data.u64]);
  }
  return delivered;
}

std::size_t RingBuffer::consume() {
  impl_->stopped = false;
  std::size_t delivered = 0;
  for (auto& ring : impl_->rings) {
    delivered += impl_->consume(*ring);
    if (impl_->stopped) break;
  }
  return delivered;
}

std::size_t RingBuffer::consume(std::size_t ring) {
  if (ring >= impl_->rings.size()) {
    util::fail(std::errc::invalid_argument, "ring buffer: no ring {} (there are {})", ring, impl_->rings.size());
  }
  impl_->stopped = false;
  return impl_->consume(*impl_->rings[ring]);
}

RingBuffer::Batch RingBuffer::read_batch(std::size_t ring_index) {
  if (ring_index >= impl_->rings.size()) {
    util::fail(std::errc::invalid_argument, "ring buffer: no ring {} (there are {})", ring_index, impl_->rings.size());
  }
  const Ring& ring = *impl_->rings[ring_index];
  Batch batch;
  batch.consumer_position_ = ring.consumer_position();
  std::size_t delivered = 0;
  batch.end_position_ = ring.walk(load_acquire(batch.consumer_position_), delivered, [&](auto record) {
    batch.records_.push_back(record);
    return true;
  });
  return batch;
}

RingBuffer::Batch::Batch(Batch&& other) noexcept
    : consumer_position_(std::exchange(other.consumer_position_, nullptr)),
      end_position_(other.end_position_),
      records_(std::move(other.records_)) {}

RingBuffer::Batch& RingBuffer::Batch::operator=(Batch&& other) noexcept {
  if (this != &other) {
    release();
    consumer_position_ = std::exchange(other.consumer_position_, nullptr);
    end_position_ = other.end_position_;
    records_ = std::move(other.records_);
  }
  return *this;
}

void RingBuffer::Batch::release() noexcept {
  if (consumer_position_ != nullptr) store_release(consumer_position_, end_position_);
  consumer_position_ = nullptr;
  records_.clear();
}

int RingBuffer::epoll_fd() const noexcept { return impl_->epoll.get(); }

}  // namespace corebpf
