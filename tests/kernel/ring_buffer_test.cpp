// RingBuffer against ringbuf maps filled by a real BPF program (tests/bpf/event_streams.bpf.c).
#include "corebpf/ring_buffer.hpp"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <cstring>
#include <string>
#include <vector>

#include "corebpf/map_view.hpp"
#include "kernel/kernel_test_support.hpp"
#include "kernel/test_program.hpp"

namespace corebpf {
namespace {

struct Config {
  std::uint32_t size;
  std::uint32_t discard_every;
  std::uint32_t second_ring;
  std::uint32_t pad;
  std::uint64_t seq;
};

std::string event_object() { return std::string(COREBPF_BPF_OBJECT_DIR) + "/event_streams.bpf.o"; }

class RingBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) COREBPF_SKIP_OR_FAIL("needs root (kernel test): run as root");
    COREBPF_REQUIRE_FEATURE(kernel::Feature::ringbuf);
    program_ = std::make_unique<test::TestProgram>(event_object(), "emit_ringbuf");
  }

  void configure(std::uint32_t size, std::uint32_t discard_every = 0, std::uint32_t second_ring = 0) {
    MapView<std::uint32_t, Config> config(program_->map("config"));
    Config value = config.lookup(0).value();
    value.size = size;
    value.discard_every = discard_every;
    value.second_ring = second_ring;
    config.update(0, value);
  }

  // Checks a record's bytes against the producer's pattern and returns its sequence number.
  static std::uint64_t check_record(std::span<const std::byte> record, std::size_t size) {
    EXPECT_EQ(record.size(), size);
    std::uint64_t seq = 0;
    std::memcpy(&seq, record.data(), 8);
    for (std::size_t index = 8; index < record.size(); ++index) {
      if (static_cast<std::uint8_t>(record[index]) != static_cast<std::uint8_t>(seq + index)) {
        ADD_FAILURE() << "record " << seq << " byte " << index << " is wrong";
        break;
      }
    }
    return seq;
  }

  std::unique_ptr<test::TestProgram> program_;
};

TEST_F(RingBufferTest, EveryRecordInOrder) {
  configure(40);
  RingBuffer ring;
  std::vector<std::uint64_t> seen;
  ring.add(program_->map("ring_a"), [&](std::span<const std::byte> record) {
    seen.push_back(check_record(record, 40));
    return 0;
  });
  EXPECT_EQ(ring.consume(), 0U);
  program_->run(50);
  EXPECT_EQ(ring.poll(1000), 50U);
  ASSERT_EQ(seen.size(), 50U);
  for (std::uint64_t index = 0; index < 50; ++index) EXPECT_EQ(seen[index], index);
  EXPECT_EQ(ring.poll(0), 0U);
}

TEST_F(RingBufferTest, WrapAroundManyTimesWithBothApis) {
  configure(200);  // 208 bytes with the header: never divides the 4096-byte ring evenly
  RingBuffer ring;
  std::uint64_t expected = 0;
  ring.add(program_->map("ring_a"), [&](std::span<const std::byte> record) {
    EXPECT_EQ(check_record(record, 200), expected++);
    return 0;
  });
  for (int round = 0; round < 40; ++round) {
    program_->run(13);
    if (round % 2 == 0) {
      EXPECT_EQ(ring.consume(), 13U);
    } else {
      RingBuffer::Batch batch = ring.read_batch(0);
      ASSERT_EQ(batch.size(), 13U);
      for (const auto record : batch) EXPECT_EQ(check_record(record, 200), expected++);
    }
  }
  EXPECT_EQ(expected, 40U * 13);
}

TEST_F(RingBufferTest, DiscardedRecordsAreSkipped) {
  configure(24, 3);
  RingBuffer ring;
  std::vector<std::uint64_t> seen;
  ring.add(program_->map("ring_a"), [&](std::span<const std::byte> record) {
    seen.push_back(check_record(record, 24));
    return 0;
  });
  program_->run(30);
  EXPECT_EQ(ring.consume(), 20U);
  ASSERT_EQ(seen.size(), 20U);
  for (const std::uint64_t seq : seen) EXPECT_NE(seq % 3, 0U);
  EXPECT_EQ(seen.front(), 1U);
  EXPECT_EQ(seen.back(), 29U);
}

TEST_F(RingBufferTest, FullRingDropsTheNewestRecords) {
  configure(200);
  RingBuffer ring;
  std::vector<std::uint64_t> seen;
  ring.add(program_->map("ring_a"), [&](std::span<const std::byte> record) {
    seen.push_back(check_record(record, 200));
    return 0;
  });
  program_->run(100);
  const std::size_t fits = 4096 / 208;
  EXPECT_EQ(ring.consume(), fits);
  for (std::size_t index = 0; index < seen.size(); ++index) EXPECT_EQ(seen[index], index);
  // Space is back: the next records arrive.
  program_->run(1);
  seen.clear();
  EXPECT_EQ(ring.consume(), 1U);
  EXPECT_EQ(seen.at(0), 100U);
}

TEST_F(RingBufferTest, CallbackCanStopConsumption) {
  configure(16);
  RingBuffer ring;
  std::vector<std::uint64_t> seen;
  ring.add(program_->map("ring_a"), [&](std::span<const std::byte> record) {
    seen.push_back(check_record(record, 16));
    return seen.size() == 3 ? 1 : 0;
  });
  program_->run(10);
  EXPECT_EQ(ring.consume(), 3U);
  EXPECT_EQ(ring.consume(), 7U);
  ASSERT_EQ(seen.size(), 10U);
  for (std::uint64_t index = 0; index < 10; ++index) EXPECT_EQ(seen[index], index);
}

TEST_F(RingBufferTest, TwoRingsOneEpollSet) {
  RingBuffer ring;
  std::size_t from_a = 0;
  std::size_t from_b = 0;
  EXPECT_EQ(ring.add(program_->map("ring_a"), [&](auto) { return ++from_a, 0; }), 0U);
  EXPECT_EQ(ring.add(program_->map("ring_b"), [&](auto) { return ++from_b, 0; }), 1U);
  EXPECT_EQ(ring.size(), 2U);
  configure(32, 0, 1);
  program_->run(5);
  // The epoll fd is readable for users' own loops.
  epoll_event event{};
  EXPECT_EQ(::epoll_wait(ring.epoll_fd(), &event, 1, 1000), 1);
  EXPECT_EQ(ring.poll(1000), 5U);
  EXPECT_EQ(from_b, 5U);
  configure(32, 0, 0);
  program_->run(4);
  EXPECT_EQ(ring.poll(1000), 4U);
  EXPECT_EQ(from_a, 4U);
  EXPECT_EQ(ring.poll(10), 0U);
}

TEST_F(RingBufferTest, ConsumeBatchVisitsEveryRecordInPlace) {
  RingBuffer ring;
  std::size_t callbacks = 0;
  ring.add(program_->map("ring_a"), [&](auto) { return ++callbacks, 0; });
  std::uint64_t produced = 0;  // the producer's next sequence number
  std::size_t total = 0;
  // Same-size runs (four headers checked at once), discards breaking them up, and 208-byte
  // records that wrap the 4096-byte ring at a different offset each round.
  for (int round = 0; round < 30; ++round) {
    const std::uint32_t size = round % 3 == 0 ? 200 : (round % 3 == 1 ? 16 : 56);
    const std::uint32_t discard_every = round % 5 == 4 ? 4 : 0;
    configure(size, discard_every);
    const std::uint32_t runs = size == 200 ? 17 : 41;
    program_->run(runs);
    std::vector<std::uint64_t> wanted;
    for (std::uint64_t seq = produced; seq < produced + runs; ++seq) {
      if (discard_every == 0 || seq % discard_every != 0) wanted.push_back(seq);
    }
    produced += runs;
    std::vector<std::uint64_t> seen;
    const std::size_t visited =
        ring.consume_batch(0, [&](std::span<const std::byte> record) { seen.push_back(check_record(record, size)); });
    EXPECT_EQ(visited, wanted.size()) << "round " << round;
    EXPECT_EQ(seen, wanted) << "round " << round;
    EXPECT_EQ(ring.consume(), 0U);  // the position was published
    total += visited;
  }
  EXPECT_GT(total, 900U);
  EXPECT_EQ(callbacks, 0U);
}

TEST_F(RingBufferTest, ConsumeBatchVisitorCanStop) {
  configure(24);
  RingBuffer ring;
  ring.add(program_->map("ring_a"), [](auto) { return 0; });
  program_->run(20);
  std::vector<std::uint64_t> seen;
  const auto take_seven = [&](std::span<const std::byte> record) {
    seen.push_back(check_record(record, 24));
    return seen.size() % 7 != 0;
  };
  EXPECT_EQ(ring.consume_batch(0, take_seven), 7U);
  EXPECT_EQ(ring.consume_batch(0, take_seven), 7U);
  EXPECT_EQ(ring.consume_batch(0, take_seven), 6U);
  ASSERT_EQ(seen.size(), 20U);
  for (std::uint64_t index = 0; index < 20; ++index) EXPECT_EQ(seen[index], index);
  EXPECT_THROW(ring.consume_batch(1, [](auto) {}), Error);
}

TEST_F(RingBufferTest, BatchStorageIsReusedAndBatchesMove) {
  configure(32);
  RingBuffer ring;
  ring.add(program_->map("ring_a"), [](auto) { return 0; });
  program_->run(9);
  const void* storage = nullptr;
  {
    RingBuffer::Batch batch = ring.read_batch(0);
    ASSERT_EQ(batch.size(), 9U);
    storage = batch.records().data();
    RingBuffer::Batch moved = std::move(batch);
    EXPECT_EQ(moved.size(), 9U);
    EXPECT_EQ(check_record(moved.records()[8], 32), 8U);
  }
  program_->run(5);
  RingBuffer::Batch again = ring.read_batch(0);
  ASSERT_EQ(again.size(), 5U);
  EXPECT_EQ(static_cast<const void*>(again.records().data()), storage);
  EXPECT_EQ(check_record(again.records()[0], 32), 9U);
  again.release();
  EXPECT_TRUE(ring.read_batch(0).empty());
}

TEST_F(RingBufferTest, WrongMapTypeIsRefused) {
  RingBuffer ring;
  try {
    ring.add(program_->map("config"), [](auto) { return 0; });
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "map 'config': ring buffer: the map is a array map, not a ringbuf map");
  }
}

TEST_F(RingBufferTest, NoFdOrMappingLeaks) {
  configure(16);
  const std::size_t before = test::open_fd_count();
  for (int round = 0; round < 20; ++round) {
    RingBuffer ring;
    ring.add(program_->map("ring_a"), [](auto) { return 0; });
    ring.add(program_->map("ring_b"), [](auto) { return 0; });
    program_->run(3);
    EXPECT_EQ(ring.consume(), 3U);
  }
  EXPECT_EQ(test::open_fd_count(), before);
}

}  // namespace
}  // namespace corebpf
