// Ring buffer consumption, corebpf against libbpf (the peer), on one ringbuf map (4 MiB) that a
// socket filter (bench/bpf/ring_burst.bpf.c, run with BPF_PROG_TEST_RUN) fills with a burst of
// records of 16, 64, 256 or 1024 bytes through bpf_loop: 65536 records, or as many as fit.
//
//   ringbuf/corebpf/N        corebpf::RingBuffer::consume_batch, the fastest API: zero copy, one
//                            pass with the visitor inlined, the consumer position published once
//   ringbuf/corebpf_batch/N  corebpf::RingBuffer::read_batch: the same records collected as spans
//                            first (for callers that keep them until release), then visited
//   ringbuf/libbpf/N         libbpf 1.1's ring_buffer__consume with a C callback
//
//   user_ringbuf/corebpf/N   corebpf::UserRingBuffer: reserve, write the first 8 bytes, submit,
//                            until 65536 samples or a full 4 MiB user ring (the producer side)
//   user_ringbuf/libbpf/N    libbpf's user_ring_buffer__reserve / __submit, the same samples
//   (bench/bpf/user_drain.bpf.c drains the ring between iterations, outside the window)
//
// Both consumers do the same work per record (add its first 8 bytes to a sum) and both windows
// hold consumption alone (manual time, in the thread's CPU time): the producer's run happens before the clock starts,
// and is the same program for both. bench/run divides by the records per iteration (the counter `records`) and reports
// events/s.
#include <benchmark/benchmark.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "corebpf/error.hpp"
#include "corebpf/object.hpp"
#include "corebpf/ring_buffer.hpp"
#include "corebpf/user_ring_buffer.hpp"

namespace {

struct Burst {
  std::uint32_t record_size;
  std::uint32_t records;
  std::uint64_t emitted;
  std::uint64_t seq;
};

constexpr std::uint32_t records_per_run = 65536;

std::uint64_t first_word(const void* record) {
  std::uint64_t value;
  std::memcpy(&value, record, sizeof(value));
  return value;
}

int libbpf_record(void* context, void* data, size_t) {
  *static_cast<std::uint64_t*>(context) += first_word(data);
  return 0;
}

struct Fixture {
  corebpf::Object object = corebpf::Object::open(RINGBUF_BENCH_OBJECT);
  corebpf::RingBuffer ours;
  ring_buffer* theirs = nullptr;
  std::uint64_t libbpf_sum = 0;

  Fixture() {
    object.load();
    ours.add(object.map("events"), [](auto) { return 0; });
    theirs = ring_buffer__new(object.map("events").fd(), libbpf_record, &libbpf_sum, nullptr);
    if (theirs == nullptr) throw corebpf::Error(errno, "ring_buffer__new failed");
  }
  ~Fixture() { ring_buffer__free(theirs); }

  // Fills the ring; returns the records written.
  std::uint64_t produce(std::uint32_t size) {
    Burst& burst = object.bss<Burst>();
    burst.record_size = size;
    burst.records = records_per_run;
    std::array<std::byte, 64> packet{};
    corebpf::TestRunOptions options;
    options.data_in = packet;
    object.program("emit_burst").test_run(options);
    return burst.emitted;
  }
};

// The user ring buffer side: a user_ringbuf map filled here, drained by a BPF program.
struct UserFixture {
  corebpf::Object object = corebpf::Object::open(USER_DRAIN_BENCH_OBJECT);
  std::unique_ptr<corebpf::UserRingBuffer> ours;
  user_ring_buffer* theirs = nullptr;

  UserFixture() {
    object.load();
    ours = std::make_unique<corebpf::UserRingBuffer>(object.map("requests"));
    theirs = user_ring_buffer__new(object.map("requests").fd(), nullptr);
    if (theirs == nullptr) throw corebpf::Error(errno, "user_ring_buffer__new failed");
  }
  ~UserFixture() { user_ring_buffer__free(theirs); }

  // Empties the ring; returns the samples the program got.
  std::int64_t drain() {
    std::array<std::byte, 64> packet{};
    corebpf::TestRunOptions options;
    options.data_in = packet;
    object.program("drain_requests").test_run(options);
    return object.bss<std::int64_t>();
  }
};

UserFixture* user_fixture(benchmark::State& state) {
  static std::unique_ptr<UserFixture> instance;
  static std::string failure;
  if (!instance && failure.empty()) {
    try {
      instance = std::make_unique<UserFixture>();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!instance) state.SkipWithError(("user ring buffer fixture: " + failure + " (needs root)").c_str());
  return instance.get();
}

Fixture* fixture(benchmark::State& state) {
  static std::unique_ptr<Fixture> instance;
  static std::string failure;
  if (!instance && failure.empty()) {
    try {
      instance = std::make_unique<Fixture>();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!instance) state.SkipWithError(("ring buffer fixture: " + failure + " (needs root)").c_str());
  return instance.get();
}

// The consuming thread's CPU time: on a machine shared with builds, wall time would count the
// time the thread spends preempted.
double thread_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

template <typename Consume>
void run(benchmark::State& state, Consume&& consume) {
  Fixture* f = fixture(state);
  if (f == nullptr) return;
  const auto size = static_cast<std::uint32_t>(state.range(0));
  std::uint64_t records = 0;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    const std::uint64_t emitted = f->produce(size);
    const double start = thread_seconds();
    const std::uint64_t consumed = consume(*f, sum);
    state.SetIterationTime(thread_seconds() - start);
    if (consumed != emitted || emitted == 0) {
      state.SkipWithError("consumed a different number of records than the program wrote");
      return;
    }
    records += consumed;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
  state.counters["records"] = static_cast<double>(records) / static_cast<double>(state.iterations());
}

void ringbuf_corebpf(benchmark::State& state) {
  run(state, [](Fixture& f, std::uint64_t& sum) -> std::uint64_t {
    return f.ours.consume_batch(0, [&](std::span<const std::byte> record) { sum += first_word(record.data()); });
  });
}

void ringbuf_corebpf_batch(benchmark::State& state) {
  run(state, [](Fixture& f, std::uint64_t& sum) -> std::uint64_t {
    corebpf::RingBuffer::Batch batch = f.ours.read_batch(0);
    for (const auto record : batch) sum += first_word(record.data());
    return batch.size();
  });
}

void ringbuf_libbpf(benchmark::State& state) {
  run(state, [](Fixture& f, std::uint64_t& sum) -> std::uint64_t {
    f.libbpf_sum = 0;
    const int consumed = ring_buffer__consume(f.theirs);
    sum += f.libbpf_sum;
    return consumed < 0 ? 0 : static_cast<std::uint64_t>(consumed);
  });
}

template <typename Produce>
void run_user(benchmark::State& state, Produce&& produce) {
  UserFixture* f = user_fixture(state);
  if (f == nullptr) return;
  const auto size = static_cast<std::uint32_t>(state.range(0));
  std::uint64_t samples = 0;
  for (auto _ : state) {
    const double start = thread_seconds();
    const std::uint64_t produced = produce(*f, size);
    state.SetIterationTime(thread_seconds() - start);
    if (produced == 0 || f->drain() != static_cast<std::int64_t>(produced)) {
      state.SkipWithError("the program drained a different number of samples than were produced");
      return;
    }
    samples += produced;
  }
  state.counters["records"] = static_cast<double>(samples) / static_cast<double>(state.iterations());
}

void user_ringbuf_corebpf(benchmark::State& state) {
  run_user(state, [](UserFixture& f, std::uint32_t size) {
    std::uint64_t seq = 0;
    for (; seq < records_per_run; ++seq) {
      const std::span<std::byte> sample = f.ours->try_reserve(size);
      if (sample.empty()) break;
      std::memcpy(sample.data(), &seq, sizeof(seq));
      f.ours->submit(sample);
    }
    return seq;
  });
}

void user_ringbuf_libbpf(benchmark::State& state) {
  run_user(state, [](UserFixture& f, std::uint32_t size) {
    std::uint64_t seq = 0;
    for (; seq < records_per_run; ++seq) {
      void* sample = user_ring_buffer__reserve(f.theirs, size);
      if (sample == nullptr) break;
      std::memcpy(sample, &seq, sizeof(seq));
      user_ring_buffer__submit(f.theirs, sample);
    }
    return seq;
  });
}

}  // namespace

// Fixed iterations: each one also runs the producer (untimed), which costs far more than the
// consumption measured.
BENCHMARK(ringbuf_corebpf)
    ->Name("ringbuf/corebpf")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK(ringbuf_corebpf_batch)
    ->Name("ringbuf/corebpf_batch")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK(ringbuf_libbpf)
    ->Name("ringbuf/libbpf")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);

BENCHMARK(user_ringbuf_corebpf)
    ->Name("user_ringbuf/corebpf")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK(user_ringbuf_libbpf)
    ->Name("user_ringbuf/libbpf")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);

BENCHMARK_MAIN();
