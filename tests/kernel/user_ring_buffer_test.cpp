// UserRingBuffer against a real consumer: tests/bpf/user_ringbuf.bpf.c drains the ring with
// bpf_user_ringbuf_drain when run with test_run and records every sample it got into .bss.
#include "corebpf/user_ring_buffer.hpp"

#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <array>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

constexpr std::size_t max_seen = 1024;
constexpr std::size_t ring_bytes = 4096;

// The program's `struct state` in .bss.
struct State {
  std::uint64_t drained;
  std::uint64_t bytes;
  std::int64_t last_result;
  std::uint32_t bad;
  std::uint32_t stop_after;
  std::uint32_t seqs[max_seen];
  std::uint32_t sizes[max_seen];
};

std::size_t total_size(std::size_t size) { return (size + 8 + 7) / 8 * 8; }

class UserRingBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    COREBPF_REQUIRE_FEATURE(kernel::Feature::user_ringbuf);
    object_ = std::make_unique<Object>(Object::open(std::string(COREBPF_BPF_OBJECT_DIR) + "/user_ringbuf.bpf.o"));
    object_->load();
  }

  Map& map() { return object_->map("samples"); }
  State& state() { return object_->bss<State>(); }

  // Runs the BPF program once: one bpf_user_ringbuf_drain call.
  std::int64_t drain() {
    std::array<std::byte, 64> packet{};
    TestRunOptions options;
    options.data_in = packet;
    object_->program("drain").test_run(options);
    return state().last_result;
  }

  // Writes sample `seq` into reserved space: seq, size, then byte i = seq + i.
  static void fill(std::span<std::byte> sample, std::uint32_t seq) {
    ASSERT_GE(sample.size(), 8U);
    const auto size = static_cast<std::uint32_t>(sample.size());
    std::memcpy(sample.data(), &seq, 4);
    std::memcpy(sample.data() + 4, &size, 4);
    for (std::size_t index = 8; index < sample.size(); ++index) sample[index] = static_cast<std::byte>(seq + index);
  }

  // What the program saw must be exactly `expected` (seq, size) pairs, in order, all intact.
  void expect_seen(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& expected) {
    const State& seen = state();
    ASSERT_EQ(seen.drained, expected.size());
    EXPECT_EQ(seen.bad, 0U);
    for (std::size_t index = 0; index < expected.size() && index < max_seen; ++index) {
      EXPECT_EQ(seen.seqs[index], expected[index].first) << "sample " << index;
      EXPECT_EQ(seen.sizes[index], expected[index].second) << "sample " << index;
    }
  }

  std::unique_ptr<Object> object_;
};

TEST_F(UserRingBufferTest, SamplesArriveInOrderWithTheirSizes) {
  UserRingBuffer ring(map());
  EXPECT_EQ(ring.name(), "samples");
  EXPECT_EQ(ring.max_sample_size(), ring_bytes - 8);
  EXPECT_EQ(ring.free_bytes(), ring_bytes);
  EXPECT_EQ(drain(), 0);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expected;
  const std::uint32_t sizes[] = {8, 9, 13, 16, 31, 64, 255, 100};
  std::uint32_t seq = 0;
  for (const std::uint32_t size : sizes) {
    std::span<std::byte> sample = ring.reserve(size);
    ASSERT_EQ(sample.size(), size);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(sample.data()) % 8, 0U);
    fill(sample, seq);
    ring.submit(sample);
    expected.emplace_back(seq++, size);
  }
  EXPECT_EQ(drain(), static_cast<std::int64_t>(std::size(sizes)));
  expect_seen(expected);
  EXPECT_EQ(ring.free_bytes(), ring_bytes);
  EXPECT_EQ(drain(), 0);
}

TEST_F(UserRingBufferTest, DiscardedSamplesAreSkipped) {
  UserRingBuffer ring(map());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expected;
  for (std::uint32_t seq = 0; seq < 12; ++seq) {
    std::span<std::byte> sample = ring.reserve(24);
    fill(sample, seq);
    if (seq % 3 == 0) {
      ring.discard(sample);
    } else {
      ring.submit(sample);
      expected.emplace_back(seq, 24);
    }
  }
  EXPECT_EQ(drain(), 8);
  expect_seen(expected);
  EXPECT_EQ(ring.free_bytes(), ring_bytes);  // the kernel stepped over the discarded ones too
}

TEST_F(UserRingBufferTest, WrapAroundManyTimesWithOddSizes) {
  UserRingBuffer ring(map());
  const std::uint32_t sizes[] = {13, 77, 200, 301, 9, 1000, 45};
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expected;
  std::uint64_t position = 0;
  std::size_t wrapped = 0;  // samples whose bytes run past the end of the data area
  std::uint32_t seq = 0;
  for (int round = 0; round < 200; ++round) {
    const int count = 1 + round % 4;
    for (int index = 0; index < count; ++index) {
      const std::uint32_t size = sizes[seq % std::size(sizes)];
      std::span<std::byte> sample = ring.reserve(size);
      fill(sample, seq);
      ring.submit(sample);
      if (position % ring_bytes + total_size(size) > ring_bytes) ++wrapped;
      position += total_size(size);
      expected.emplace_back(seq++, size);
    }
    EXPECT_EQ(drain(), count);
  }
  EXPECT_GT(position, 20 * ring_bytes);
  EXPECT_GT(wrapped, 5U);
  expect_seen(expected);
}

TEST_F(UserRingBufferTest, FullRingGivesNoSpaceUntilDrained) {
  UserRingBuffer ring(map());
  std::vector<std::span<std::byte>> reserved;
  for (;;) {
    std::span<std::byte> sample = ring.try_reserve(100);
    if (sample.empty()) break;
    reserved.push_back(sample);
  }
  ASSERT_EQ(reserved.size(), ring_bytes / total_size(100));
  // The rest of the ring still takes a sample that fits it exactly.
  const std::size_t rest = ring_bytes - reserved.size() * total_size(100);
  EXPECT_EQ(ring.free_bytes(), rest);
  reserved.push_back(ring.reserve(rest - 8));
  EXPECT_EQ(ring.free_bytes(), 0U);
  EXPECT_TRUE(ring.try_reserve(1).empty());
  try {
    (void)ring.reserve(1);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::make_error_code(std::errc::no_buffer_space));
    EXPECT_STREQ(error.what(),
                 "map 'samples': user ring buffer: no room for a sample of 1 bytes (0 of 4096 bytes free)");
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expected;
  for (std::uint32_t seq = 0; seq < reserved.size(); ++seq) {
    fill(reserved[seq], seq);
    ring.submit(reserved[seq]);
    expected.emplace_back(seq, static_cast<std::uint32_t>(reserved[seq].size()));
  }
  EXPECT_EQ(drain(), static_cast<std::int64_t>(reserved.size()));
  expect_seen(expected);
  EXPECT_FALSE(ring.try_reserve(100).empty());
}

TEST_F(UserRingBufferTest, BusySampleHoldsBackTheOnesAfterIt) {
  UserRingBuffer ring(map());
  std::span<std::byte> first = ring.reserve(40);
  std::span<std::byte> second = ring.reserve(40);
  fill(first, 0);
  fill(second, 1);
  ring.submit(second);
  EXPECT_EQ(drain(), 0);
  EXPECT_EQ(state().drained, 0U);
  ring.submit(first);
  EXPECT_EQ(drain(), 2);
  expect_seen({{0, 40}, {1, 40}});
}

TEST_F(UserRingBufferTest, LargestSampleFillsTheWholeRing) {
  UserRingBuffer ring(map());
  std::span<std::byte> sample = ring.reserve(ring.max_sample_size());
  fill(sample, 7);
  ring.submit(sample);
  EXPECT_EQ(ring.free_bytes(), 0U);
  EXPECT_EQ(drain(), 1);
  expect_seen({{7, static_cast<std::uint32_t>(ring_bytes - 8)}});
}

TEST_F(UserRingBufferTest, CallbackCanStopADrain) {
  UserRingBuffer ring(map());
  state().stop_after = 2;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> expected;
  for (std::uint32_t seq = 0; seq < 5; ++seq) {
    std::span<std::byte> sample = ring.reserve(16);
    fill(sample, seq);
    ring.submit(sample);
    expected.emplace_back(seq, 16);
  }
  EXPECT_EQ(drain(), 2);
  EXPECT_EQ(drain(), 2);
  EXPECT_EQ(drain(), 1);
  expect_seen(expected);
}

TEST_F(UserRingBufferTest, ReserveBlockingTimesOutOnAFullRing) {
  UserRingBuffer ring(map());
  std::span<std::byte> whole = ring.reserve(ring.max_sample_size());
  EXPECT_TRUE(ring.reserve_blocking(64, std::chrono::milliseconds(30)).empty());
  EXPECT_TRUE(ring.reserve_blocking(64, std::chrono::milliseconds(0)).empty());
  ring.discard(whole);
  EXPECT_EQ(drain(), 0);  // a discard-only drain hands nothing to the program
  EXPECT_EQ(ring.reserve_blocking(64, std::chrono::milliseconds(0)).size(), 64U);
}

TEST_F(UserRingBufferTest, ReserveBlockingWakesWhenTheProgramDrains) {
  UserRingBuffer ring(map());
  std::span<std::byte> whole = ring.reserve(ring.max_sample_size());
  fill(whole, 1);
  ring.submit(whole);
  std::thread consumer([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    drain();
  });
  // However the threads interleave, the wait ends with room: the drain frees the whole ring.
  std::span<std::byte> sample = ring.reserve_blocking(64, std::chrono::seconds(60));
  consumer.join();
  ASSERT_EQ(sample.size(), 64U);
  EXPECT_EQ(state().drained, 1U);
  ring.discard(sample);
}

TEST_F(UserRingBufferTest, ImpossibleSizesAndForeignSpansAreRefused) {
  UserRingBuffer ring(map());
  try {
    (void)ring.reserve(ring_bytes - 7);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::make_error_code(std::errc::message_size));
    EXPECT_STREQ(error.what(),
                 "map 'samples': user ring buffer: a sample of 4089 bytes never fits (at most 4088 bytes in a "
                 "4096-byte ring)");
  }
  EXPECT_THROW((void)ring.reserve(0), Error);
  EXPECT_THROW((void)ring.reserve_blocking(1 << 20, std::chrono::milliseconds(0)), Error);
  EXPECT_TRUE(ring.try_reserve(0).empty());
  EXPECT_TRUE(ring.try_reserve(ring_bytes).empty());

  std::array<std::byte, 32> elsewhere{};
  try {
    ring.submit(elsewhere);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "map 'samples': user ring buffer: submit of a span that is not a sample of this ring");
  }
  std::span<std::byte> sample = ring.reserve(32);
  fill(sample, 3);
  EXPECT_THROW(ring.submit(sample.first(16)), Error);
  ring.submit(sample);
  EXPECT_THROW(ring.discard(sample), Error);  // already submitted
  EXPECT_EQ(drain(), 1);
  expect_seen({{3, 32}});
}

TEST_F(UserRingBufferTest, WrongMapTypeIsRefused) {
  MapCreateOptions options;
  options.name = "not_a_ring";
  options.type = MapType::array;
  options.key_size = 4;
  options.value_size = 8;
  options.max_entries = 1;
  const Map array = Map::create(options);
  try {
    UserRingBuffer ring(array);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "map 'not_a_ring': user ring buffer: the map is a array map, not a user_ringbuf map");
  }
}

TEST_F(UserRingBufferTest, NoFdOrMappingLeaks) {
  const std::size_t before = test::open_fd_count();
  for (std::uint32_t round = 0; round < 20; ++round) {
    UserRingBuffer ring(map());
    std::span<std::byte> sample = ring.reserve(16);
    fill(sample, round);
    ring.submit(sample);
    EXPECT_EQ(drain(), 1);
  }
  EXPECT_EQ(test::open_fd_count(), before);
  EXPECT_EQ(state().drained, 20U);
  EXPECT_EQ(state().bad, 0U);
}

}  // namespace
}  // namespace corebpf
