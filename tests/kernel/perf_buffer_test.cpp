// PerfBuffer against a perf_event_array map filled by a real BPF program
// (tests/bpf/event_streams.bpf.c, emit_perf). test_run runs the program on the calling thread's
// CPU, so the tests pin themselves to one CPU and know which ring receives the samples.
#include "corebpf/perf_buffer.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
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
  std::uint32_t size_spread;
  std::uint64_t seq;
};

std::string event_object() { return std::string(COREBPF_BPF_OBJECT_DIR) + "/event_streams.bpf.o"; }

// The kernel pads raw sample data so that, with its 4-byte size field, it ends 8-byte aligned.
constexpr std::size_t padded_sample_size(std::size_t size) { return ((size + 4 + 7) & ~std::size_t{7}) - 4; }
// A whole sample record in the ring: perf_event_header, the size field, the padded data.
constexpr std::size_t sample_record_size(std::size_t size) { return 8 + 4 + padded_sample_size(size); }

struct Sample {
  std::uint32_t cpu;
  std::uint64_t seq;
};

class PerfBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    ASSERT_EQ(::sched_getaffinity(0, sizeof(saved_affinity_), &saved_affinity_), 0);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &saved_affinity_)) {
        cpu_ = static_cast<std::uint32_t>(cpu);
        break;
      }
    }
    cpu_set_t pinned;
    CPU_ZERO(&pinned);
    CPU_SET(cpu_, &pinned);
    ASSERT_EQ(::sched_setaffinity(0, sizeof(pinned), &pinned), 0);
    pinned_ = true;
    program_ = std::make_unique<test::TestProgram>(event_object(), "emit_perf");
  }

  void TearDown() override {
    if (pinned_) ::sched_setaffinity(0, sizeof(saved_affinity_), &saved_affinity_);
  }

  void configure(std::uint32_t size, std::uint32_t size_spread = 0) {
    MapView<std::uint32_t, Config> config(program_->map("config"));
    Config value = config.lookup(0).value();
    value.size = size;
    value.size_spread = size_spread;
    config.update(0, value);
  }

  Map& events() { return program_->map("perf_events"); }
  std::int32_t run(std::uint32_t repeat) { return static_cast<std::int32_t>(program_->run(repeat)); }

  // Checks a sample's bytes against the producer's pattern and returns its sequence number;
  // `size_of(seq)` is the size the program wrote. The kernel's padding after it is not written
  // (it holds old ring contents), so it is not checked.
  template <typename SizeOf>
  Sample check_sample(std::uint32_t cpu, std::span<const std::byte> data, SizeOf size_of) {
    EXPECT_EQ(cpu, cpu_);
    std::uint64_t seq = 0;
    if (data.size() < 8) {
      ADD_FAILURE() << "sample of " << data.size() << " bytes";
      return {cpu, seq};
    }
    std::memcpy(&seq, data.data(), 8);
    const std::size_t size = size_of(seq);
    EXPECT_EQ(data.size(), padded_sample_size(size)) << "sample " << seq;
    for (std::size_t index = 8; index < std::min(size, data.size()); ++index) {
      if (static_cast<std::uint8_t>(data[index]) != static_cast<std::uint8_t>(seq + index)) {
        ADD_FAILURE() << "sample " << seq << " byte " << index << " is wrong";
        break;
      }
    }
    return {cpu, seq};
  }

  std::uint32_t cpu_ = 0;
  cpu_set_t saved_affinity_{};
  bool pinned_ = false;
  std::unique_ptr<test::TestProgram> program_;
};

TEST_F(PerfBufferTest, EverySampleInOrder) {
  configure(40);
  std::vector<Sample> seen;
  PerfBuffer buffer(events(), [&](std::uint32_t cpu, std::span<const std::byte> data) {
    seen.push_back(check_sample(cpu, data, [](std::uint64_t) { return 40; }));
  });
  const std::vector<std::uint32_t> cpus = buffer.cpus();
  EXPECT_NE(std::find(cpus.begin(), cpus.end(), cpu_), cpus.end());
  EXPECT_EQ(buffer.consume(), 0U);
  EXPECT_EQ(run(50), 0);
  EXPECT_EQ(buffer.poll(1000), 50U);
  ASSERT_EQ(seen.size(), 50U);
  for (std::uint64_t index = 0; index < 50; ++index) EXPECT_EQ(seen[index].seq, index);
  EXPECT_EQ(buffer.consume(), 0U);
  EXPECT_EQ(buffer.lost(), 0U);
}

TEST_F(PerfBufferTest, SamplesWrappingTheRingEndArriveWhole) {
  // Odd sizes 13..73 through a one-page ring: records keep crossing its end.
  constexpr std::uint32_t first_size = 13;
  constexpr std::uint32_t spread = 61;
  const auto size_of = [](std::uint64_t seq) { return first_size + seq % spread; };
  configure(first_size, spread);
  PerfBufferOptions options;
  options.data_pages = 1;
  std::uint64_t expected = 0;
  PerfBuffer buffer(
      events(),
      [&](std::uint32_t cpu, std::span<const std::byte> data) {
        EXPECT_EQ(check_sample(cpu, data, size_of).seq, expected++);
      },
      {}, options);
  const std::size_t ring_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t position = 0;
  std::size_t wrapped = 0;
  for (int round = 0; round < 60; ++round) {
    EXPECT_EQ(run(7), 0);
    for (std::uint64_t seq = expected; seq < expected + 7; ++seq) {
      const std::size_t record = sample_record_size(size_of(seq));
      if (position % ring_size + record > ring_size) ++wrapped;
      position += record;
    }
    if (round % 2 == 0) {
      EXPECT_EQ(buffer.consume(), 7U);
    } else {
      EXPECT_EQ(buffer.consume_cpu(cpu_), 7U);
    }
  }
  EXPECT_EQ(expected, 60U * 7);
  EXPECT_GE(wrapped, 5U);  // the scenario really crossed the end
  EXPECT_EQ(buffer.lost(), 0U);
}

TEST_F(PerfBufferTest, LostSamplesAreCountedExactly) {
  configure(200);
  PerfBufferOptions options;
  options.data_pages = 1;
  std::vector<std::uint64_t> seen;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> lost_reports;
  PerfBuffer buffer(
      events(),
      [&](std::uint32_t cpu, std::span<const std::byte> data) {
        seen.push_back(check_sample(cpu, data, [](std::uint64_t) { return 200; }).seq);
      },
      [&](std::uint32_t cpu, std::uint64_t count) { lost_reports.emplace_back(cpu, count); }, options);
  constexpr std::uint64_t produced = 100;
  EXPECT_EQ(run(produced), -ENOSPC);  // the last run found the ring full
  const std::size_t received = buffer.consume();
  EXPECT_GT(received, 0U);
  EXPECT_LT(received, produced);
  ASSERT_EQ(seen.size(), received);
  for (std::size_t index = 0; index < received; ++index) EXPECT_EQ(seen[index], index);
  // The kernel reports the loss in front of the next sample that finds room.
  EXPECT_TRUE(lost_reports.empty());
  EXPECT_EQ(run(1), 0);
  EXPECT_EQ(buffer.consume(), 1U);
  ASSERT_EQ(lost_reports.size(), 1U);
  EXPECT_EQ(lost_reports[0].first, cpu_);
  EXPECT_EQ(lost_reports[0].second, produced - received);
  EXPECT_EQ(buffer.lost(), produced - received);
  EXPECT_EQ(seen.back(), produced);
}

TEST_F(PerfBufferTest, EpollWakesTheReader) {
  configure(24);
  std::size_t samples = 0;
  PerfBuffer buffer(events(), [&](std::uint32_t, std::span<const std::byte>) { ++samples; });
  epoll_event event{};
  EXPECT_EQ(::epoll_wait(buffer.epoll_fd(), &event, 1, 0), 0);
  EXPECT_EQ(buffer.poll(0), 0U);
  EXPECT_EQ(run(3), 0);
  EXPECT_EQ(buffer.poll(1000), 3U);
  EXPECT_EQ(buffer.poll(10), 0U);
  // Users' own loops wait on the epoll fd and then consume.
  EXPECT_EQ(run(4), 0);
  EXPECT_EQ(::epoll_wait(buffer.epoll_fd(), &event, 1, 1000), 1);
  EXPECT_EQ(buffer.consume(), 4U);
  EXPECT_EQ(samples, 7U);
}

TEST_F(PerfBufferTest, WatermarkWakesOnlyWhenEnoughBytesWait) {
  configure(40);  // 56-byte records
  PerfBufferOptions options;
  options.wakeup_watermark_bytes = 1024;
  std::size_t samples = 0;
  PerfBuffer buffer(
      events(), [&](std::uint32_t, std::span<const std::byte>) { ++samples; }, {}, options);
  EXPECT_EQ(run(5), 0);
  EXPECT_EQ(buffer.poll(0), 0U);  // 280 bytes: no wakeup yet, but the samples are there
  EXPECT_EQ(buffer.consume(), 5U);
  EXPECT_EQ(run(30), 0);
  EXPECT_EQ(buffer.poll(1000), 30U);
  EXPECT_EQ(samples, 35U);
}

TEST_F(PerfBufferTest, DestructionRemovesTheRingsAndLeaksNoFd) {
  configure(16);
  const std::size_t before = test::open_fd_count();
  for (int round = 0; round < 20; ++round) {
    std::size_t samples = 0;
    PerfBuffer buffer(events(), [&](std::uint32_t, std::span<const std::byte>) { ++samples; });
    EXPECT_EQ(run(3), 0);
    EXPECT_EQ(buffer.consume(), 3U);
    EXPECT_EQ(samples, 3U);
  }
  EXPECT_EQ(test::open_fd_count(), before);
  // The map no longer holds a ring for this CPU.
  EXPECT_EQ(run(1), -ENOENT);
}

TEST_F(PerfBufferTest, MovedBufferKeepsWorking) {
  configure(16);
  std::size_t samples = 0;
  PerfBuffer first(events(), [&](std::uint32_t, std::span<const std::byte>) { ++samples; });
  PerfBuffer second = std::move(first);
  EXPECT_EQ(run(2), 0);
  EXPECT_EQ(second.poll(1000), 2U);
  EXPECT_EQ(samples, 2U);
}

TEST_F(PerfBufferTest, BadArgumentsAreRefused) {
  const auto ignore = [](std::uint32_t, std::span<const std::byte>) {};
  try {
    PerfBuffer buffer(program_->map("config"), ignore);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "map 'config': perf buffer: the map is a array map, not a perf_event_array map");
  }
  PerfBufferOptions options;
  options.data_pages = 3;
  try {
    PerfBuffer buffer(events(), ignore, {}, options);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "map 'perf_events': perf buffer: 3 data pages per CPU: not a power of two");
  }
  options.data_pages = 1;
  options.wakeup_watermark_bytes = 1 << 20;
  EXPECT_THROW(PerfBuffer(events(), ignore, {}, options), Error);
}

}  // namespace
}  // namespace corebpf
