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

using detail::RingWindow;
static_assert(RingWindow::header_size == BPF_RINGBUF_HDR_SZ && RingWindow::busy_bit == BPF_RINGBUF_BUSY_BIT &&
              RingWindow::discard_bit == BPF_RINGBUF_DISCARD_BIT);

std::uint64_t load_acquire(const std::uint64_t* position) noexcept { return RingWindow::load_acquire(position); }
void store_release(std::uint64_t* position, std::uint64_t value) noexcept {
  RingWindow::store_release(position, value);
}

struct Ring {
  std::string name;
  RingBuffer::Callback callback;
  util::MappedRegion consumer_page;   // RW
  util::MappedRegion producer_pages;  // RO: producer page + the data area twice
  std::size_t page_size = 0;
  RingWindow window;  // into the two mappings above

  std::uint64_t* consumer_position() const noexcept { return window.consumer; }

  // Records of released batches, kept for the next batch: its storage is reused, not allocated
  // (and, for big batches, page-faulted in) again.
  std::vector<std::span<const std::byte>> spare_records;

  template <typename Visit>
  std::uint64_t walk(std::uint64_t position, std::size_t& delivered, Visit&& visit) const {
    return window.walk(position, delivered, std::forward<Visit>(visit));
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
  ring->consumer_page = util::MappedRegion(
      ::mmap(nullptr, ring->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd(), 0), ring->page_size);
  if (!ring->consumer_page) util::fail_errno("map '{}': ring buffer: mmap of the consumer page", map.name());
  const std::size_t producer_size = ring->page_size + 2 * data_size;
  ring->producer_pages = util::MappedRegion(
      ::mmap(nullptr, producer_size, PROT_READ, MAP_SHARED, map.fd(), static_cast<off_t>(ring->page_size)),
      producer_size);
  if (!ring->producer_pages) util::fail_errno("map '{}': ring buffer: mmap of the data pages", map.name());
  ring->window.consumer = reinterpret_cast<std::uint64_t*>(ring->consumer_page.data());
  ring->window.producer = reinterpret_cast<const std::uint64_t*>(ring->producer_pages.data());
  ring->window.data = ring->producer_pages.data() + ring->page_size;
  ring->window.mask = data_size - 1;

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
  Ring& ring = *impl_->rings[ring_index];
  Batch batch;
  batch.consumer_position_ = ring.consumer_position();
  batch.home_ = &ring.spare_records;
  batch.records_ = std::move(ring.spare_records);
  ring.spare_records.clear();
  std::vector<std::span<const std::byte>>& records = batch.records_;
  std::size_t delivered = 0;
  batch.end_position_ = ring.walk(load_acquire(batch.consumer_position_), delivered, [&](auto record) {
    records.push_back(record);
    return true;
  });
  return batch;
}

RingBuffer::Batch::Batch(Batch&& other) noexcept
    : consumer_position_(std::exchange(other.consumer_position_, nullptr)),
      end_position_(other.end_position_),
      home_(std::exchange(other.home_, nullptr)),
      records_(std::move(other.records_)) {}

RingBuffer::Batch& RingBuffer::Batch::operator=(Batch&& other) noexcept {
  if (this != &other) {
    release();
    consumer_position_ = std::exchange(other.consumer_position_, nullptr);
    end_position_ = other.end_position_;
    home_ = std::exchange(other.home_, nullptr);
    records_ = std::move(other.records_);
  }
  return *this;
}

void RingBuffer::Batch::release() noexcept {
  if (consumer_position_ != nullptr) store_release(consumer_position_, end_position_);
  consumer_position_ = nullptr;
  records_.clear();
  // The storage goes back to the ring unless a later batch already brought its own back.
  if (home_ != nullptr && home_->capacity() < records_.capacity()) *home_ = std::move(records_);
  home_ = nullptr;
}

const detail::RingWindow& RingBuffer::ring_window(std::size_t ring) const {
  if (ring >= impl_->rings.size()) {
    util::fail(std::errc::invalid_argument, "ring buffer: no ring {} (there are {})", ring, impl_->rings.size());
  }
  return impl_->rings[ring]->window;
}

int RingBuffer::epoll_fd() const noexcept { return impl_->epoll.get(); }

}  // namespace corebpf
