// UserRingBuffer over BPF_MAP_TYPE_USER_RINGBUF. The layout is the ringbuf map's (see
// ring_buffer.cpp) with the roles swapped: the kernel owns the consumer page, so user space may
// only map it read-only, and user space writes the producer page and the data area (mapped twice
// in a row, so a sample that wraps past the end is one contiguous span). The kernel's drain
// (kernel/bpf/ringbuf.c, __bpf_user_ringbuf_peek) reads the producer position, then the header at
// the consumer position: a busy sample stops it, a discarded one is skipped, and a header whose
// length runs past the producer position or the ring is an error for the BPF program. So the
// producer position moves when a sample is reserved (its header marked busy), and submit/discard
// only rewrite the header.
#include "corebpf/user_ring_buffer.hpp"

#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "util/error_format.hpp"
#include "util/mapped_region.hpp"

namespace corebpf {
namespace {

constexpr std::uint64_t header_size = BPF_RINGBUF_HDR_SZ;
// A sample reaches the BPF program as a dynptr, whose size field has 24 bits.
constexpr std::uint64_t dynptr_max_size = (std::uint64_t{1} << 24) - 1;

std::uint64_t total_size(std::size_t size) noexcept { return (size + header_size + 7) & ~std::uint64_t{7}; }

}  // namespace

struct UserRingBuffer::Impl {
  std::string name;
  util::MappedRegion consumer_page;   // RO: the kernel's consumer position
  util::MappedRegion producer_pages;  // RW: producer page + the data area twice
  UniqueFd epoll;
  std::uint64_t data_size = 0;  // a power of two, a multiple of the page size
  std::size_t page_size = 0;

  const std::uint64_t* consumer_position() const noexcept {
    return reinterpret_cast<const std::uint64_t*>(consumer_page.data());
  }
  std::uint64_t* producer_position() const noexcept { return reinterpret_cast<std::uint64_t*>(producer_pages.data()); }
  std::byte* data() const noexcept { return producer_pages.data() + page_size; }

  std::uint64_t load_consumer() const noexcept {
    return std::atomic_ref<std::uint64_t>(*const_cast<std::uint64_t*>(consumer_position()))
        .load(std::memory_order_acquire);
  }
  // Only this producer writes the position; relaxed is enough to read our own last store.
  std::uint64_t load_producer() const noexcept {
    return std::atomic_ref<std::uint64_t>(*producer_position()).load(std::memory_order_relaxed);
  }
  std::uint64_t max_sample() const noexcept { return std::min(data_size - header_size, dynptr_max_size); }

  void check_size(std::size_t size) const {
    if (size == 0) util::fail(std::errc::invalid_argument, "map '{}': user ring buffer: a sample of 0 bytes", name);
    if (size > max_sample()) {
      util::fail(std::errc::message_size,
                 "map '{}': user ring buffer: a sample of {} bytes never fits (at most {} bytes in a {}-byte ring)",
                 name, size, max_sample(), data_size);
    }
  }

  // The header word of a sample reserve() handed out; throws for any other span.
  std::uint32_t* reserved_header(std::span<std::byte> sample, const char* action) const {
    // Integers, not pointers: a span from elsewhere is not comparable with the ring's pointers.
    const auto address = reinterpret_cast<std::uintptr_t>(sample.data());
    const auto first = reinterpret_cast<std::uintptr_t>(data()) + header_size;
    const std::uintptr_t offset = address - first;
    if (sample.data() == nullptr || address < first || offset >= data_size || offset % 8 != 0) {
      util::fail(std::errc::invalid_argument,
                 "map '{}': user ring buffer: {} of a span that is not a sample of this ring", name, action);
    }
    auto* header = reinterpret_cast<std::uint32_t*>(data() + offset);
    const std::uint32_t word = std::atomic_ref<std::uint32_t>(*header).load(std::memory_order_relaxed);
    if ((word & BPF_RINGBUF_BUSY_BIT) == 0 || (word & ~BPF_RINGBUF_BUSY_BIT) != sample.size()) {
      util::fail(std::errc::invalid_argument,
                 "map '{}': user ring buffer: {} of a sample that is not reserved (already submitted or discarded, "
                 "or resized)",
                 name, action);
    }
    return header;
  }
};

UserRingBuffer::UserRingBuffer(const Map& map) : impl_(std::make_unique<Impl>()) {
  Impl& ring = *impl_;
  ring.name = map.name();
  if (map.type() != MapType::user_ringbuf) {
    util::fail(std::errc::invalid_argument, "map '{}': user ring buffer: the map is a {} map, not a user_ringbuf map",
               map.name(), map_type_name(map.type()));
  }
  ring.page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  ring.data_size = map.max_entries();
  ring.consumer_page =
      util::MappedRegion(::mmap(nullptr, ring.page_size, PROT_READ, MAP_SHARED, map.fd(), 0), ring.page_size);
  if (!ring.consumer_page) util::fail_errno("map '{}': user ring buffer: mmap of the consumer page", ring.name);
  const std::size_t producer_size = ring.page_size + 2 * ring.data_size;
  ring.producer_pages = util::MappedRegion(
      ::mmap(nullptr, producer_size, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd(), static_cast<off_t>(ring.page_size)),
      producer_size);
  if (!ring.producer_pages)
    util::fail_errno("map '{}': user ring buffer: mmap of the producer and data pages", ring.name);

  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) util::fail_errno("map '{}': user ring buffer: epoll_create1", ring.name);
  ring.epoll = UniqueFd(fd);
  // Edge-triggered: the map reports writable whenever the ring is not completely full, which
  // would wake a waiter for a large sample over and over; each drain's wakeup is what counts.
  epoll_event event{};
  event.events = EPOLLOUT | EPOLLET;
  if (::epoll_ctl(ring.epoll.get(), EPOLL_CTL_ADD, map.fd(), &event) != 0) {
    util::fail_errno("map '{}': user ring buffer: adding to the epoll set", ring.name);
  }
}

UserRingBuffer::UserRingBuffer(UserRingBuffer&&) noexcept = default;
UserRingBuffer& UserRingBuffer::operator=(UserRingBuffer&&) noexcept = default;
UserRingBuffer::~UserRingBuffer() = default;

std::span<std::byte> UserRingBuffer::try_reserve(std::size_t size) noexcept {
  Impl& ring = *impl_;
  if (size == 0 || size > ring.max_sample()) return {};
  const std::uint64_t total = total_size(size);
  const std::uint64_t consumer = ring.load_consumer();
  const std::uint64_t producer = ring.load_producer();
  if (total > ring.data_size - (producer - consumer)) return {};
  std::byte* header = ring.data() + (producer & (ring.data_size - 1));
  // The kernel does not read the second header word (the page offset) of user samples.
  std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(header))
      .store(static_cast<std::uint32_t>(size) | BPF_RINGBUF_BUSY_BIT, std::memory_order_relaxed);
  std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(header + 4)).store(0, std::memory_order_relaxed);
  // Release: the busy header is in place before the kernel can see the new position.
  std::atomic_ref<std::uint64_t>(*ring.producer_position()).store(producer + total, std::memory_order_release);
  return {header + header_size, size};
}

std::span<std::byte> UserRingBuffer::reserve(std::size_t size) {
  impl_->check_size(size);
  const std::span<std::byte> sample = try_reserve(size);
  if (sample.empty()) {
    util::fail(std::errc::no_buffer_space,
               "map '{}': user ring buffer: no room for a sample of {} bytes ({} of {} bytes free)", impl_->name, size,
               free_bytes(), impl_->data_size);
  }
  return sample;
}

std::span<std::byte> UserRingBuffer::reserve_blocking(std::size_t size, std::chrono::milliseconds timeout) {
  impl_->check_size(size);
  using Clock = std::chrono::steady_clock;
  const bool forever = timeout.count() < 0;
  const Clock::time_point deadline = Clock::now() + (forever ? std::chrono::milliseconds(0) : timeout);
  for (;;) {
    const std::span<std::byte> sample = try_reserve(size);
    if (!sample.empty()) return sample;
    int wait_ms = -1;
    if (!forever) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return {};
      wait_ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count(), 1 << 30));
    }
    epoll_event event{};
    if (::epoll_wait(impl_->epoll.get(), &event, 1, wait_ms) < 0 && errno != EINTR) {
      util::fail_errno("map '{}': user ring buffer: epoll_wait for room", impl_->name);
    }
  }
}

void UserRingBuffer::submit(std::span<std::byte> sample) {
  std::uint32_t* header = impl_->reserved_header(sample, "submit");
  // Release: the sample's bytes are written before the kernel sees the busy bit clear.
  std::atomic_ref<std::uint32_t>(*header).store(static_cast<std::uint32_t>(sample.size()), std::memory_order_release);
}

void UserRingBuffer::discard(std::span<std::byte> sample) {
  std::uint32_t* header = impl_->reserved_header(sample, "discard");
  std::atomic_ref<std::uint32_t>(*header).store(static_cast<std::uint32_t>(sample.size()) | BPF_RINGBUF_DISCARD_BIT,
                                                std::memory_order_release);
}

std::size_t UserRingBuffer::max_sample_size() const noexcept { return impl_->max_sample(); }

std::size_t UserRingBuffer::free_bytes() const noexcept {
  return impl_->data_size - (impl_->load_producer() - impl_->load_consumer());
}

const std::string& UserRingBuffer::name() const noexcept { return impl_->name; }

int UserRingBuffer::epoll_fd() const noexcept { return impl_->epoll.get(); }

}  // namespace corebpf
