// Map operations from user space, corebpf against libbpf's bpf_map_* functions (the peer), on the
// same maps (created with corebpf::Map::create, no BPF program involved): hash maps with 4- and
// 8-byte keys and array maps (4-byte keys), 64-byte values, 10,000 keys.
//
//   map_lookup|update|delete/LIB/K   one call per key over all 10,000 keys: Map::try_lookup,
//                                    try_update, try_erase against bpf_map_lookup_elem,
//                                    bpf_map_update_elem, bpf_map_delete_elem (K: 0 hash with
//                                    4-byte keys, 1 hash with 8-byte keys, 2 array; arrays have no
//                                    delete)
//   map_batch_lookup/LIB/K           the whole map read: Map::lookup_batch() against a
//                                    bpf_map_lookup_batch loop of the same 1024-entry chunks
//   map_batch_update/LIB/K           all 10,000 keys in one call: Map::update_batch against
//                                    bpf_map_update_batch
//   map_batch_delete/LIB/K           all 10,000 keys: Map::erase_batch against bpf_map_delete_batch
//   map_iterate/LIB                  every entry of a 100,000-entry hash map (4-byte keys): range-for
//                                    over MapView<std::uint32_t, Value> against a
//                                    bpf_map_get_next_key + bpf_map_lookup_elem loop
//
// Manual time, the thread's CPU time (user and kernel); a delete row refills the map outside the
// window. The counter `ops` is the operations per iteration (keys, or entries read), `syscalls` the
// bpf() (in fact all) system calls per operation, counted once outside the timed runs with a
// per-thread perf counter on the raw_syscalls:sys_enter tracepoint (0 when tracefs is missing).
#include <benchmark/benchmark.h>
#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/fd.hpp"
#include "corebpf/map.hpp"
#include "corebpf/map_view.hpp"

namespace {

constexpr std::uint32_t element_count = 10000;
constexpr std::uint32_t iterate_count = 100000;
constexpr std::uint32_t lookup_chunk = 1024;  // corebpf's lookup_batch chunk (src/kernel/map.cpp)

struct Value {
  std::array<std::uint64_t, 8> words;  // 64 bytes
};

double thread_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Counts this thread's system calls between start() and stop().
class SyscallCounter {
 public:
  SyscallCounter() {
    for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
      std::ifstream id_file(std::string(root) + "/events/raw_syscalls/sys_enter/id");
      std::uint64_t id = 0;
      if (!(id_file >> id)) continue;
      perf_event_attr attr{};
      attr.type = PERF_TYPE_TRACEPOINT;
      attr.size = sizeof(attr);
      attr.config = id;
      attr.disabled = 1;
      attr.exclude_hv = 1;
      const long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
      if (fd >= 0) fd_ = corebpf::UniqueFd(static_cast<int>(fd));
      return;
    }
  }
  bool valid() const { return static_cast<bool>(fd_); }
  void start() const {
    ::ioctl(fd_.get(), PERF_EVENT_IOC_RESET, 0);
    ::ioctl(fd_.get(), PERF_EVENT_IOC_ENABLE, 0);
  }
  std::uint64_t stop() const {
    ::ioctl(fd_.get(), PERF_EVENT_IOC_DISABLE, 0);
    std::uint64_t count = 0;
    if (::read(fd_.get(), &count, sizeof(count)) != sizeof(count)) return 0;
    return count;
  }

 private:
  corebpf::UniqueFd fd_;
};

// Kinds of map: 0 hash with 4-byte keys, 1 hash with 8-byte keys, 2 array.
struct MapSetup {
  corebpf::Map map;
  std::uint32_t key_size = 4;
  std::uint32_t count = element_count;
  std::vector<std::byte> keys;  // count keys back to back
  std::vector<std::byte> values;

  MapSetup(int kind, std::uint32_t entries) : count(entries) {
    corebpf::MapCreateOptions options;
    options.name = "bench_map";
    options.type = kind == 2 ? corebpf::MapType::array : corebpf::MapType::hash;
    key_size = kind == 1 ? 8 : 4;
    options.key_size = key_size;
    options.value_size = sizeof(Value);
    options.max_entries = entries;
    map = corebpf::Map::create(options);
    keys.resize(std::size_t{count} * key_size);
    values.resize(std::size_t{count} * sizeof(Value));
    for (std::uint32_t index = 0; index < count; ++index) {
      // Spread 8-byte keys over both halves; array keys are the indexes.
      const std::uint64_t key = kind == 1 ? (std::uint64_t{index} << 32 | index * 2654435761U) : index;
      std::memcpy(&keys[std::size_t{index} * key_size], &key, key_size);
      Value value{};
      value.words.fill(index);
      std::memcpy(&values[std::size_t{index} * sizeof(Value)], &value, sizeof(Value));
    }
  }
  const std::byte* key(std::uint32_t index) const { return &keys[std::size_t{index} * key_size]; }
  const std::byte* value(std::uint32_t index) const { return &values[std::size_t{index} * sizeof(Value)]; }
  void fill() const { map.update_batch(keys, values); }
  std::span<const std::byte> key_span(std::uint32_t index) const { return {key(index), key_size}; }
};

// One benchmark: `prepare()` runs before each timed pass (outside the window), `pass()` is timed and
// returns the operations it did (0 on failure).
void run(benchmark::State& state, const std::function<void()>& prepare, const std::function<std::uint64_t()>& pass) {
  std::uint64_t ops = 0;
  for (auto _ : state) {
    prepare();
    const double start = thread_seconds();
    ops = pass();
    state.SetIterationTime(thread_seconds() - start);
    if (ops == 0) {
      state.SkipWithError("a map operation failed");
      return;
    }
  }
  state.counters["ops"] = static_cast<double>(ops);
  static const SyscallCounter counter;
  if (counter.valid()) {
    prepare();
    counter.start();
    const std::uint64_t counted_ops = pass();
    const std::uint64_t calls = counter.stop() - 1;  // the ioctl that stops the count
    if (counted_ops != 0) state.counters["syscalls"] = static_cast<double>(calls) / static_cast<double>(counted_ops);
  }
}

std::unique_ptr<MapSetup> setup_for(benchmark::State& state, int kind, std::uint32_t entries = element_count) {
  try {
    auto setup = std::make_unique<MapSetup>(kind, entries);
    setup->fill();
    return setup;
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("map setup: ") + e.what() + " (needs root)").c_str());
    return nullptr;
  }
}

// ---- One element at a time.

void lookup_corebpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  Value value{};
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        for (std::uint32_t i = 0; i < s->count; ++i) {
          if (s->map.try_lookup(s->key_span(i), std::as_writable_bytes(std::span(&value, 1))) != 0) return 0;
        }
        return s->count;
      });
}

void lookup_libbpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  Value value{};
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        for (std::uint32_t i = 0; i < s->count; ++i) {
          if (bpf_map_lookup_elem(s->map.fd(), s->key(i), &value) != 0) return 0;
        }
        return s->count;
      });
}

void update_corebpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        for (std::uint32_t i = 0; i < s->count; ++i) {
          if (s->map.try_update(s->key_span(i), {s->value(i), sizeof(Value)}) != 0) return 0;
        }
        return s->count;
      });
}

void update_libbpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        for (std::uint32_t i = 0; i < s->count; ++i) {
          if (bpf_map_update_elem(s->map.fd(), s->key(i), s->value(i), BPF_ANY) != 0) return 0;
        }
        return s->count;
      });
}

void delete_corebpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [&] { s->fill(); },
      [&]() -> std::uint64_t {
        for (std::uint32_t i = 0; i < s->count; ++i) {
          if (s->map.try_erase(s->key_span(i)) != 0) return 0;
        }
        return s->count;
      });
}

void delete_libbpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [&] { s->fill(); },
      [&]() -> std::uint64_t {
        for (std::uint32_t i = 0; i < s->count; ++i) {
          if (bpf_map_delete_elem(s->map.fd(), s->key(i)) != 0) return 0;
        }
        return s->count;
      });
}

// ---- Batches.

void batch_lookup_corebpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        const corebpf::MapEntries entries = s->map.lookup_batch();
        benchmark::DoNotOptimize(entries.values.data());
        return entries.count == s->count ? entries.count : 0;
      });
}

void batch_lookup_libbpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  // Buffers for the whole map, as corebpf's MapEntries holds it.
  std::vector<std::byte> keys(s->keys.size());
  std::vector<std::byte> values(s->values.size());
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        std::uint64_t batch = 0;
        std::uint64_t total = 0;
        bool first = true;
        for (;;) {
          std::uint32_t count = std::min<std::uint32_t>(lookup_chunk, s->count - static_cast<std::uint32_t>(total));
          if (count == 0) break;
          const int error =
              bpf_map_lookup_batch(s->map.fd(), first ? nullptr : &batch, &batch, &keys[total * s->key_size],
                                   &values[total * sizeof(Value)], &count, nullptr);
          first = false;
          total += count;
          if (error != 0) {
            if (errno == ENOENT) break;
            return 0;
          }
        }
        benchmark::DoNotOptimize(values.data());
        return total == s->count ? total : 0;
      });
}

void batch_update_corebpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        s->map.update_batch(s->keys, s->values);
        return s->count;
      });
}

void batch_update_libbpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        std::uint32_t count = s->count;
        if (bpf_map_update_batch(s->map.fd(), s->keys.data(), s->values.data(), &count, nullptr) != 0) return 0;
        return count;
      });
}

void batch_delete_corebpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [&] { s->fill(); }, [&]() -> std::uint64_t { return s->map.erase_batch(s->keys); });
}

void batch_delete_libbpf(benchmark::State& state) {
  auto s = setup_for(state, static_cast<int>(state.range(0)));
  if (!s) return;
  run(
      state, [&] { s->fill(); },
      [&]() -> std::uint64_t {
        std::uint32_t count = s->count;
        if (bpf_map_delete_batch(s->map.fd(), s->keys.data(), &count, nullptr) != 0) return 0;
        return count;
      });
}

// ---- Iteration of a 100,000-entry hash map.

void iterate_corebpf(benchmark::State& state) {
  auto s = setup_for(state, 0, iterate_count);
  if (!s) return;
  const corebpf::MapView<std::uint32_t, Value> view(s->map);
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        std::uint64_t entries = 0;
        std::uint64_t sum = 0;
        for (const auto& [key, value] : view) {
          sum += key + value.words[0];
          ++entries;
        }
        benchmark::DoNotOptimize(sum);
        return entries == s->count ? entries : 0;
      });
}

void iterate_libbpf(benchmark::State& state) {
  auto s = setup_for(state, 0, iterate_count);
  if (!s) return;
  run(
      state, [] {},
      [&]() -> std::uint64_t {
        std::uint64_t entries = 0;
        std::uint64_t sum = 0;
        std::uint32_t key = 0;
        Value value{};
        const void* previous = nullptr;
        while (bpf_map_get_next_key(s->map.fd(), previous, &key) == 0) {
          if (bpf_map_lookup_elem(s->map.fd(), &key, &value) == 0) {
            sum += key + value.words[0];
            ++entries;
          }
          previous = &key;
        }
        benchmark::DoNotOptimize(sum);
        return entries == s->count ? entries : 0;
      });
}

// Hash with 4-byte keys, hash with 8-byte keys, array.
void all_kinds(benchmark::internal::Benchmark* b) { b->Arg(0)->Arg(1)->Arg(2); }
void hash_kinds(benchmark::internal::Benchmark* b) { b->Arg(0)->Arg(1); }

}  // namespace

#define MAP_BENCH(function, name, kinds) BENCHMARK(function)->Name(name)->Apply(kinds)->UseManualTime()->MinTime(0.2)
MAP_BENCH(lookup_corebpf, "map_lookup/corebpf", all_kinds);
MAP_BENCH(lookup_libbpf, "map_lookup/libbpf", all_kinds);
MAP_BENCH(update_corebpf, "map_update/corebpf", all_kinds);
MAP_BENCH(update_libbpf, "map_update/libbpf", all_kinds);
MAP_BENCH(delete_corebpf, "map_delete/corebpf", hash_kinds);
MAP_BENCH(delete_libbpf, "map_delete/libbpf", hash_kinds);
MAP_BENCH(batch_lookup_corebpf, "map_batch_lookup/corebpf", all_kinds);
MAP_BENCH(batch_lookup_libbpf, "map_batch_lookup/libbpf", all_kinds);
MAP_BENCH(batch_update_corebpf, "map_batch_update/corebpf", all_kinds);
MAP_BENCH(batch_update_libbpf, "map_batch_update/libbpf", all_kinds);
MAP_BENCH(batch_delete_corebpf, "map_batch_delete/corebpf", hash_kinds);
MAP_BENCH(batch_delete_libbpf, "map_batch_delete/libbpf", hash_kinds);
BENCHMARK(iterate_corebpf)->Name("map_iterate/corebpf")->UseManualTime()->MinTime(0.5);
BENCHMARK(iterate_libbpf)->Name("map_iterate/libbpf")->UseManualTime()->MinTime(0.5);

BENCHMARK_MAIN();
