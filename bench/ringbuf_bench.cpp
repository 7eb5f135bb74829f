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
//   ringbuf_multi/corebpf/N  several producers at once: a thread pinned to each online CPU runs
//   ringbuf_multi/libbpf/N   emit_concurrent (bench/bpf/ring_burst.bpf.c) until it has written
//                            65536 records of N bytes, while this thread consumes concurrently
//                            (consume_batch against ring_buffer__consume); wall time from the
//                            start to the last record consumed (the rate is of the whole system:
//                            producers and consumer share the CPUs)
//
//   perfbuf/corebpf/N        corebpf::PerfBuffer::consume against libbpf's perf_buffer__consume:
//   perfbuf/libbpf/N         a burst of samples (bench/bpf/perf_burst.bpf.c) that fits in the
//                            CPU's ring (256 data pages), written before the clock starts
//   perfbuf_lost/corebpf/N   bursts four times the ring's size: the kernel drops samples; after
//   memcpy/4194304           the physical limit: memcpy of a 4 MiB buffer (the ring's size) to
//                            another, bytes/s of this machine's memory (cache) bandwidth
//   perfbuf_lost/libbpf/N    each burst is consumed, one more sample makes the kernel write its
//                            lost record, and the iteration fails unless the samples the program
//                            wrote equal those consumed and the ones it could not write equal the
//                            lost count reported (produced = consumed + lost, exactly)
//
// Both consumers do the same work per record (add its first 8 bytes to a sum) and both windows
// hold consumption alone (manual time, in the thread's CPU time): the producer's run happens before the clock starts,
// and is the same program for both. bench/run divides by the records per iteration (the counter `records`) and reports
// events/s.
#include <benchmark/benchmark.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/object.hpp"
#include "corebpf/perf_buffer.hpp"
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

// ---- Several producers at once.

// Runs emit_concurrent on every online CPU (one pinned thread each, `per_cpu` records each) while
// `consume()` (returns records consumed) drains the ring on this thread; sets the wall time.
template <typename Consume>
void run_multi(benchmark::State& state, Consume&& consume) {
  Fixture* f = fixture(state);
  if (f == nullptr) return;
  const auto size = static_cast<std::uint32_t>(state.range(0));
  constexpr std::uint32_t per_cpu = 65536;
  constexpr std::uint32_t chunk = 2048;  // records per test run
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  Burst& burst = f->object.bss<Burst>();
  burst.record_size = size;
  burst.records = chunk;
  const corebpf::Program& program = f->object.program("emit_concurrent");
  std::uint64_t total = 0;
  for (auto _ : state) {
    consume(*f);  // empty
    std::atomic<bool> go{false};
    std::atomic<int> running{static_cast<int>(cpus)};
    std::atomic<bool> failed{false};
    std::vector<std::thread> producers;
    for (long cpu = 0; cpu < cpus; ++cpu) {
      producers.emplace_back([&, cpu] {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(static_cast<int>(cpu), &set);
        ::sched_setaffinity(0, sizeof(set), &set);
        std::array<std::byte, 64> packet{};
        corebpf::TestRunOptions options;
        options.data_in = packet;
        while (!go.load(std::memory_order_acquire)) {
        }
        try {
          for (std::uint32_t written = 0; written < per_cpu;) written += program.test_run(options).retval;
        } catch (const std::exception&) {
          failed = true;
        }
        running.fetch_sub(1, std::memory_order_release);
      });
    }
    const auto start = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    std::uint64_t consumed = 0;
    const std::uint64_t expected = static_cast<std::uint64_t>(cpus) * per_cpu;
    // Every producer stops at per_cpu or just past it (the last test run's chunk): count until
    // they are all done and the ring is empty.
    for (;;) {
      const bool done = running.load(std::memory_order_acquire) == 0;
      consumed += consume(*f);
      if (done && consume(*f) == 0) break;
    }
    const auto end = std::chrono::steady_clock::now();
    for (auto& producer : producers) producer.join();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    if (failed || consumed < expected) {
      state.SkipWithError("multi-producer run: a test run failed or records are missing");
      return;
    }
    total += consumed;
  }
  state.counters["records"] = static_cast<double>(total) / static_cast<double>(state.iterations());
  state.counters["producers"] = static_cast<double>(cpus);
}

void ringbuf_multi_corebpf(benchmark::State& state) {
  std::uint64_t sum = 0;
  run_multi(state, [&](Fixture& f) -> std::uint64_t {
    return f.ours.consume_batch(0, [&](std::span<const std::byte> record) { sum += first_word(record.data()); });
  });
  benchmark::DoNotOptimize(sum);
}

void ringbuf_multi_libbpf(benchmark::State& state) {
  run_multi(state, [](Fixture& f) -> std::uint64_t {
    const int consumed = ring_buffer__consume(f.theirs);
    return consumed < 0 ? 0 : static_cast<std::uint64_t>(consumed);
  });
}

// ---- Perf buffers.

struct PerfBurst {
  std::uint32_t record_size;
  std::uint32_t records;
  std::uint64_t written;
  std::uint64_t dropped;
};

constexpr std::size_t perf_pages = 256;

struct PerfFixture {
  corebpf::Object object = corebpf::Object::open(PERF_BENCH_OBJECT);
  PerfFixture() { object.load(); }

  // Writes `records` samples of `size` bytes on this thread's CPU; returns {written, dropped}.
  std::pair<std::uint64_t, std::uint64_t> produce(std::uint32_t size, std::uint32_t records) {
    PerfBurst& burst = object.bss<PerfBurst>();
    burst.record_size = size;
    burst.records = records;
    std::array<std::byte, 64> packet{};
    corebpf::TestRunOptions options;
    options.data_in = packet;
    object.program("emit_samples").test_run(options);
    return {burst.written, burst.dropped};
  }
};

PerfFixture* perf_fixture(benchmark::State& state) {
  static std::unique_ptr<PerfFixture> instance;
  static std::string failure;
  if (!instance && failure.empty()) {
    try {
      instance = std::make_unique<PerfFixture>();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (!instance) state.SkipWithError(("perf buffer fixture: " + failure + " (needs root)").c_str());
  return instance.get();
}

// The samples that fit in one CPU's ring with room to spare: a sample takes an 8-byte header, a
// 4-byte size and the data, padded to 8 bytes.
std::uint32_t perf_fitting(std::uint32_t size) {
  const std::size_t bytes = perf_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) * 3 / 4;
  return static_cast<std::uint32_t>(std::min<std::size_t>(16384, bytes / ((size + 12 + 7) / 8 * 8)));
}

// A consumer of either library: consume() returns samples consumed, lost() the lost count so far.
struct CorebpfPerf {
  std::uint64_t sum = 0;
  corebpf::PerfBuffer buffer;
  explicit CorebpfPerf(const corebpf::Map& map)
      : buffer(
            map, [this](std::uint32_t, std::span<const std::byte> data) { sum += first_word(data.data()); },
            [](std::uint32_t, std::uint64_t) {}, corebpf::PerfBufferOptions{.data_pages = perf_pages}) {}
  std::uint64_t consume() { return buffer.consume(); }
  std::uint64_t lost() const { return buffer.lost(); }
};

struct LibbpfPerf {
  std::uint64_t sum = 0;
  std::uint64_t samples = 0;
  std::uint64_t lost_count = 0;
  perf_buffer* buffer = nullptr;
  explicit LibbpfPerf(const corebpf::Map& map) {
    buffer = perf_buffer__new(
        map.fd(), perf_pages,
        [](void* context, int, void* data, __u32) {
          auto* self = static_cast<LibbpfPerf*>(context);
          self->sum += first_word(data);
          ++self->samples;
        },
        [](void* context, int, __u64 count) { static_cast<LibbpfPerf*>(context)->lost_count += count; }, this, nullptr);
    if (buffer == nullptr) throw corebpf::Error(errno, "perf_buffer__new failed");
  }
  ~LibbpfPerf() { perf_buffer__free(buffer); }
  LibbpfPerf(const LibbpfPerf&) = delete;
  LibbpfPerf& operator=(const LibbpfPerf&) = delete;
  std::uint64_t consume() {
    const std::uint64_t before = samples;
    if (perf_buffer__consume(buffer) < 0) return 0;
    return samples - before;
  }
  std::uint64_t lost() const { return lost_count; }
};

// overflow false: bursts that fit, consumption timed. overflow true: bursts 4x the ring, the
// consumption of what was kept timed, and the exact accounting checked.
template <typename Consumer>
void run_perf(benchmark::State& state, bool overflow) {
  PerfFixture* f = perf_fixture(state);
  if (f == nullptr) return;
  const auto size = static_cast<std::uint32_t>(state.range(0));
  const std::uint32_t records = overflow ? perf_fitting(size) * 16 / 3 : perf_fitting(size);
  std::unique_ptr<Consumer> consumer;
  try {
    consumer = std::make_unique<Consumer>(f->object.map("samples"));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  consumer->consume();
  std::uint64_t consumed_total = 0;
  std::uint64_t timed_total = 0;  // consumed inside the clock's window
  std::uint64_t written_total = 0;
  std::uint64_t dropped_total = 0;
  const std::uint64_t lost_before = consumer->lost();
  for (auto _ : state) {
    const auto [written, dropped] = f->produce(size, records);
    const double start = thread_seconds();
    const std::uint64_t consumed = consumer->consume();
    state.SetIterationTime(thread_seconds() - start);
    consumed_total += consumed;
    timed_total += consumed;
    written_total += written;
    dropped_total += dropped;
    if (overflow) {
      // One sample more: the kernel writes the pending lost record before it.
      const auto [flush_written, flush_dropped] = f->produce(size, 1);
      written_total += flush_written;
      dropped_total += flush_dropped;
      consumed_total += consumer->consume();
    }
    if (written == 0 || (!overflow && consumed != written) || (overflow && dropped == 0)) {
      state.SkipWithError("perf buffer: consumed a different number of samples than the program wrote");
      return;
    }
  }
  const std::uint64_t lost = consumer->lost() - lost_before;
  if (consumed_total != written_total || lost != dropped_total) {
    state.SkipWithError(("perf buffer accounting: written " + std::to_string(written_total) + ", consumed " +
                         std::to_string(consumed_total) + ", dropped " + std::to_string(dropped_total) +
                         ", reported lost " + std::to_string(lost))
                            .c_str());
    return;
  }
  // Per iteration: the samples timed (those kept), and in the overflow rows the ones lost.
  state.counters["records"] = static_cast<double>(timed_total) / static_cast<double>(state.iterations());
  state.counters["lost"] = static_cast<double>(lost) / static_cast<double>(state.iterations());
  state.counters["produced"] = static_cast<double>(written_total + dropped_total);
  state.counters["consumed_plus_lost"] = static_cast<double>(consumed_total + lost);
}

void perfbuf_corebpf(benchmark::State& state) { run_perf<CorebpfPerf>(state, false); }
void perfbuf_libbpf(benchmark::State& state) { run_perf<LibbpfPerf>(state, false); }
void perfbuf_lost_corebpf(benchmark::State& state) { run_perf<CorebpfPerf>(state, true); }
void perfbuf_lost_libbpf(benchmark::State& state) { run_perf<LibbpfPerf>(state, true); }

// The yardstick: memcpy bandwidth over a buffer the size of the ring (thread CPU time).
void memcpy_bandwidth(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> from(bytes, std::byte{1});
  std::vector<std::byte> to(bytes);
  for (auto _ : state) {
    const double start = thread_seconds();
    std::memcpy(to.data(), from.data(), bytes);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
    state.SetIterationTime(thread_seconds() - start);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

}  // namespace

BENCHMARK(memcpy_bandwidth)->Name("memcpy")->Arg(4 << 20)->UseManualTime()->Iterations(500);

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

BENCHMARK(ringbuf_multi_corebpf)->Name("ringbuf_multi/corebpf")->Arg(64)->Arg(256)->UseManualTime()->Iterations(20);
BENCHMARK(ringbuf_multi_libbpf)->Name("ringbuf_multi/libbpf")->Arg(64)->Arg(256)->UseManualTime()->Iterations(20);

BENCHMARK(perfbuf_corebpf)
    ->Name("perfbuf/corebpf")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK(perfbuf_libbpf)
    ->Name("perfbuf/libbpf")
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->UseManualTime()
    ->Iterations(200);
BENCHMARK(perfbuf_lost_corebpf)->Name("perfbuf_lost/corebpf")->Arg(64)->Arg(1024)->UseManualTime()->Iterations(50);
BENCHMARK(perfbuf_lost_libbpf)->Name("perfbuf_lost/libbpf")->Arg(64)->Arg(1024)->UseManualTime()->Iterations(50);

BENCHMARK_MAIN();
