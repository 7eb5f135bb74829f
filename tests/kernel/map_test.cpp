// corebpf::Map against real kernel maps.
#include "corebpf/map.hpp"

#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "corebpf/error.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

MapCreateOptions hash_options(const std::string& name, std::uint32_t max_entries = 16) {
  MapCreateOptions options;
  options.name = name;
  options.type = MapType::hash;
  options.key_size = 4;
  options.value_size = 8;
  options.max_entries = max_entries;
  return options;
}

TEST(MapHandle, CreateReportsInfo) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("counts"));
  ASSERT_TRUE(map);
  EXPECT_GE(map.fd(), 0);
  EXPECT_EQ(map.name(), "counts");
  EXPECT_EQ(map.type(), MapType::hash);
  EXPECT_EQ(map.key_size(), 4U);
  EXPECT_EQ(map.value_size(), 8U);
  EXPECT_EQ(map.max_entries(), 16U);
  EXPECT_NE(map.info().id, 0U);
  EXPECT_FALSE(map.is_per_cpu());
  EXPECT_EQ(map.value_stride(), 8U);
}

TEST(MapHandle, LongNameIsCut) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("a_rather_long_map_name"));
  EXPECT_EQ(map.name(), "a_rather_long_m");
}

TEST(MapHandle, CreateFailureNamesMapAndCarriesErrno) {
  COREBPF_REQUIRE_ROOT();
  MapCreateOptions options = hash_options("broken");
  options.key_size = 0;  // a hash map needs a key
  try {
    (void)Map::create(options);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.errno_value(), EINVAL);
    EXPECT_NE(std::string(error.what()).find("map 'broken'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("EINVAL"), std::string::npos) << error.what();
  }
}

TEST(MapHandle, MoveLeavesSourceEmpty) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("moved"));
  const int fd = map.fd();
  Map other = std::move(map);
  EXPECT_FALSE(map);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(other.fd(), fd);
}

TEST(MapHandle, OpenByIdAndAdopt) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("by_id"));
  Map again = Map::open_by_id(map.info().id);
  EXPECT_NE(again.fd(), map.fd());
  EXPECT_EQ(again.info().id, map.info().id);
  EXPECT_EQ(again.name(), "by_id");
  EXPECT_EQ(again.value_size(), 8U);
}

TEST(MapHandle, PinOpenPinnedUnpin) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_BPFFS();
  const std::string path = test::bpffs_path("pinned_map");
  Map map = Map::create(hash_options("pinned"));
  map.pin(path);
  Map opened = Map::open_pinned(path);
  EXPECT_EQ(opened.info().id, map.info().id);
  EXPECT_EQ(opened.name(), "pinned");
  // A second pin at the same path fails, naming the map and the path.
  try {
    map.pin(path);
    ADD_FAILURE() << "pinning twice should fail";
  } catch (const Error& error) {
    EXPECT_EQ(error.errno_value(), EEXIST);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos);
  }
  Map::unpin(path);
  try {
    (void)Map::open_pinned(path);
    ADD_FAILURE() << "the pin should be gone";
  } catch (const Error& error) {
    EXPECT_EQ(error.errno_value(), ENOENT);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos);
  }
  EXPECT_THROW(Map::unpin(path), Error);
}

TEST(MapHandle, FreezeStopsUserSpaceWrites) {
  COREBPF_REQUIRE_ROOT();
  MapCreateOptions options = hash_options("frozen");
  options.type = MapType::array;
  options.max_entries = 1;
  Map map = Map::create(options);
  bpf_attr attr{};
  std::uint32_t key = 0;
  std::uint64_t value = 7;
  auto update = [&] {
    std::memset(&attr, 0, sizeof(attr));
    attr.map_fd = static_cast<std::uint32_t>(map.fd());
    attr.key = reinterpret_cast<std::uintptr_t>(&key);
    attr.value = reinterpret_cast<std::uintptr_t>(&value);
    return ::syscall(__NR_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr));
  };
  EXPECT_EQ(update(), 0);
  map.freeze();
  EXPECT_EQ(update(), -1);
  EXPECT_EQ(errno, EPERM);
}

TEST(MapHandle, NoFdLeaks) {
  COREBPF_REQUIRE_ROOT();
  const std::size_t before = test::open_fd_count();
  for (int round = 0; round < 50; ++round) {
    Map map = Map::create(hash_options("leak"));
    Map again = Map::open_by_id(map.info().id);
    MapCreateOptions bad = hash_options("bad");
    bad.value_size = 0;
    EXPECT_THROW((void)Map::create(bad), Error);
  }
  EXPECT_EQ(test::open_fd_count(), before);
}

TEST(MapHandle, PossibleCpus) {
  EXPECT_GE(possible_cpus(), 1U);
  EXPECT_GE(possible_cpus(), static_cast<std::uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

// ---- Element operations.

template <typename T>
std::span<const std::byte> bytes(const T& value) {
  return std::as_bytes(std::span(&value, 1));
}
template <typename T>
std::span<std::byte> writable(T& value) {
  return std::as_writable_bytes(std::span(&value, 1));
}

MapCreateOptions options_for(const std::string& name, MapType type, std::uint32_t key_size, std::uint32_t value_size,
                             std::uint32_t max_entries, std::uint32_t flags = 0) {
  MapCreateOptions options;
  options.name = name;
  options.type = type;
  options.key_size = key_size;
  options.value_size = value_size;
  options.max_entries = max_entries;
  options.flags = flags;
  return options;
}

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(MapOps, HashLookupUpdateDeleteWithFlags) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("counts"));
  const std::uint32_t key = 42;
  std::uint64_t value = 0;
  EXPECT_FALSE(map.lookup(bytes(key), writable(value)));
  EXPECT_EQ(map.try_lookup(bytes(key), writable(value)), ENOENT);
  EXPECT_FALSE(map.lookup(bytes(key)).has_value());

  // EXIST on a missing key fails; NOEXIST creates.
  EXPECT_EQ(map.try_update(bytes(key), bytes(std::uint64_t{1}), UpdateFlags::exist), ENOENT);
  map.update(bytes(key), bytes(std::uint64_t{1}), UpdateFlags::no_exist);
  ASSERT_TRUE(map.lookup(bytes(key), writable(value)));
  EXPECT_EQ(value, 1U);

  // NOEXIST on a present key names the map, the operation and EEXIST.
  const std::string message =
      message_of([&] { map.update(bytes(key), bytes(std::uint64_t{2}), UpdateFlags::no_exist); });
  EXPECT_NE(message.find("map 'counts': update:"), std::string::npos) << message;
  EXPECT_NE(message.find("EEXIST"), std::string::npos) << message;

  map.update(bytes(key), bytes(std::uint64_t{3}), UpdateFlags::exist);
  auto found = map.lookup(bytes(key));
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 8U);
  std::memcpy(&value, found->data(), 8);
  EXPECT_EQ(value, 3U);

  EXPECT_TRUE(map.erase(bytes(key)));
  EXPECT_FALSE(map.erase(bytes(key)));
  EXPECT_EQ(map.try_erase(bytes(key)), ENOENT);
}

TEST(MapOps, WrongSizesAreClearErrors) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("sized"));
  const std::uint64_t wide_key = 1;
  std::uint64_t value = 0;
  std::uint32_t narrow_value = 0;
  const std::string message = message_of([&] { (void)map.lookup(bytes(wide_key), writable(value)); });
  EXPECT_NE(message.find("map 'sized': lookup: key of 8 bytes, the map's keys are 4 bytes"), std::string::npos)
      << message;
  EXPECT_THROW(map.update(bytes(std::uint32_t{1}), bytes(narrow_value)), Error);
  EXPECT_EQ(map.try_lookup(bytes(std::uint32_t{1}), writable(narrow_value)), EINVAL);
}

TEST(MapOps, FullHashGivesE2BIG) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("full", 2));
  map.update(bytes(std::uint32_t{1}), bytes(std::uint64_t{1}));
  map.update(bytes(std::uint32_t{2}), bytes(std::uint64_t{2}));
  EXPECT_EQ(map.try_update(bytes(std::uint32_t{3}), bytes(std::uint64_t{3})), E2BIG);
}

TEST(MapOps, ArrayElementsExistAndCannotBeDeleted) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(options_for("array", MapType::array, 4, 8, 4));
  std::uint64_t value = 99;
  ASSERT_TRUE(map.lookup(bytes(std::uint32_t{3}), writable(value)));
  EXPECT_EQ(value, 0U);
  EXPECT_FALSE(map.lookup(bytes(std::uint32_t{4}), writable(value)));
  map.update(bytes(std::uint32_t{2}), bytes(std::uint64_t{5}));
  ASSERT_TRUE(map.lookup(bytes(std::uint32_t{2}), writable(value)));
  EXPECT_EQ(value, 5U);
  EXPECT_EQ(map.try_update(bytes(std::uint32_t{2}), bytes(std::uint64_t{5}), UpdateFlags::no_exist), EEXIST);
  const std::string message = message_of([&] { (void)map.erase(bytes(std::uint32_t{2})); });
  EXPECT_NE(message.find("map 'array': delete:"), std::string::npos) << message;
  EXPECT_EQ(map.keys().size(), 4U);
}

TEST(MapOps, IterationVisitsEveryKeyOnce) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("iter", 64));
  std::set<std::uint32_t> expected;
  for (std::uint32_t key = 100; key < 140; ++key) {
    map.update(bytes(key), bytes(std::uint64_t{key} * 2));
    expected.insert(key);
  }
  std::set<std::uint32_t> seen;
  for (const auto& key : map.keys()) {
    ASSERT_EQ(key.size(), 4U);
    std::uint32_t value = 0;
    std::memcpy(&value, key.data(), 4);
    EXPECT_TRUE(seen.insert(value).second);
  }
  EXPECT_EQ(seen, expected);
  // next_key from nothing is the first key; from the last key there is none.
  std::uint32_t first = 0;
  ASSERT_TRUE(map.next_key({}, writable(first)));
  EXPECT_TRUE(expected.count(first));
}

TEST(MapOps, LookupAndDelete) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("take"));
  map.update(bytes(std::uint32_t{7}), bytes(std::uint64_t{70}));
  std::uint64_t value = 0;
  ASSERT_TRUE(map.lookup_and_delete(bytes(std::uint32_t{7}), writable(value)));
  EXPECT_EQ(value, 70U);
  EXPECT_FALSE(map.lookup_and_delete(bytes(std::uint32_t{7}), writable(value)));
  EXPECT_TRUE(map.keys().empty());
}

TEST(MapOps, LruEvictsInsteadOfFilling) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(options_for("lru", MapType::lru_hash, 4, 8, 64));
  for (std::uint32_t key = 0; key < 1000; ++key) map.update(bytes(key), bytes(std::uint64_t{key}));
  const auto keys = map.keys();
  EXPECT_GT(keys.size(), 0U);
  EXPECT_LE(keys.size(), 64U);
  std::uint64_t value = 0;
  EXPECT_TRUE(map.lookup(bytes(std::uint32_t{999}), writable(value)));
  EXPECT_EQ(value, 999U);
}

TEST(MapOps, PerCpuValuesOnePerPossibleCpu) {
  COREBPF_REQUIRE_ROOT();
  const std::uint32_t cpus = possible_cpus();
  for (const MapType type : {MapType::percpu_hash, MapType::percpu_array, MapType::lru_percpu_hash}) {
    // A 4-byte value takes an 8-byte slot per CPU.
    Map map = Map::create(options_for("percpu", type, 4, 4, 8));
    ASSERT_TRUE(map.is_per_cpu());
    ASSERT_EQ(map.value_stride(), 8U * cpus);
    std::vector<std::uint64_t> slots(cpus);
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) slots[cpu] = 1000 + cpu;
    map.update(bytes(std::uint32_t{1}), std::as_bytes(std::span(slots)));
    std::vector<std::uint64_t> read(cpus);
    ASSERT_TRUE(map.lookup(bytes(std::uint32_t{1}), std::as_writable_bytes(std::span(read))));
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) EXPECT_EQ(read[cpu] & 0xffffffffU, 1000U + cpu);
    // One value's worth is not enough for a per-CPU map.
    const std::string message = message_of([&] { map.update(bytes(std::uint32_t{1}), bytes(std::uint32_t{1})); });
    EXPECT_NE(message.find("possible CPUs"), std::string::npos) << message;
  }
}

TEST(MapOps, QueueIsFifoStackIsLifo) {
  COREBPF_REQUIRE_ROOT();
  Map queue = Map::create(options_for("queue", MapType::queue, 0, 4, 4));
  Map stack = Map::create(options_for("stack", MapType::stack, 0, 4, 4));
  for (std::uint32_t value = 1; value <= 4; ++value) {
    queue.push(bytes(value));
    stack.push(bytes(value));
  }
  // Full: a plain push fails, BPF_EXIST pushes out the oldest.
  EXPECT_THROW(queue.push(bytes(std::uint32_t{5})), Error);
  queue.push(bytes(std::uint32_t{5}), UpdateFlags::exist);
  std::uint32_t value = 0;
  ASSERT_TRUE(queue.peek(writable(value)));
  EXPECT_EQ(value, 2U);
  ASSERT_TRUE(stack.peek(writable(value)));
  EXPECT_EQ(value, 4U);
  std::vector<std::uint32_t> from_queue;
  std::vector<std::uint32_t> from_stack;
  while (queue.pop(writable(value))) from_queue.push_back(value);
  while (stack.pop(writable(value))) from_stack.push_back(value);
  EXPECT_EQ(from_queue, (std::vector<std::uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(from_stack, (std::vector<std::uint32_t>{4, 3, 2, 1}));
  EXPECT_FALSE(queue.peek(writable(value)));
}

TEST(MapOps, MapsOfMapsHoldInnerMaps) {
  COREBPF_REQUIRE_ROOT();
  Map inner_template = Map::create(hash_options("inner_tmpl"));
  Map inner = Map::create(hash_options("inner"));
  for (const MapType type : {MapType::array_of_maps, MapType::hash_of_maps}) {
    MapCreateOptions options = options_for("outer", type, 4, 4, 4);
    options.inner_map_fd = inner_template.fd();
    Map outer = Map::create(options);
    EXPECT_FALSE(outer.inner_id(bytes(std::uint32_t{1})).has_value());
    outer.set_inner(bytes(std::uint32_t{1}), inner);
    EXPECT_EQ(outer.inner_id(bytes(std::uint32_t{1})), inner.info().id);
    // An inner map of another shape is refused.
    Map odd = Map::create(options_for("odd", MapType::hash, 8, 8, 16));
    const std::string message = message_of([&] { outer.set_inner(bytes(std::uint32_t{2}), odd); });
    EXPECT_NE(message.find("map 'outer': set inner map 'odd'"), std::string::npos) << message;
  }
}

TEST(MapOps, RingbufMapCreates) {
  COREBPF_REQUIRE_ROOT();
  Map ring = Map::create(options_for("ring", MapType::ringbuf, 0, 0, 4096 * 4));
  EXPECT_EQ(ring.type(), MapType::ringbuf);
  EXPECT_EQ(ring.max_entries(), 4096U * 4);
}

// ---- Batches.

std::vector<std::byte> key_run(std::uint32_t first, std::uint32_t count) {
  std::vector<std::byte> keys(count * 4);
  for (std::uint32_t index = 0; index < count; ++index) {
    const std::uint32_t key = first + index;
    std::memcpy(keys.data() + index * 4, &key, 4);
  }
  return keys;
}

std::map<std::uint32_t, std::uint64_t> contents(const MapEntries& entries) {
  std::map<std::uint32_t, std::uint64_t> result;
  for (std::size_t index = 0; index < entries.count; ++index) {
    std::uint32_t key = 0;
    std::uint64_t value = 0;
    std::memcpy(&key, entries.key(index).data(), 4);
    std::memcpy(&value, entries.value(index).data(), 8);
    result[key] = value;
  }
  return result;
}

TEST(MapBatch, HashUpdateLookupDelete) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("batch", 4096));
  constexpr std::uint32_t count = 3000;
  const auto keys = key_run(0, count);
  std::vector<std::uint64_t> values(count);
  for (std::uint32_t index = 0; index < count; ++index) values[index] = index * 3ULL;
  map.update_batch(keys, std::as_bytes(std::span(values)));
  auto read = contents(map.lookup_batch());
  ASSERT_EQ(read.size(), count);
  for (const auto& [key, value] : read) EXPECT_EQ(value, key * 3ULL);

  // Deleting keys of which some are missing deletes the others.
  const auto to_delete = key_run(2900, 200);
  EXPECT_EQ(map.erase_batch(to_delete), 100U);
  EXPECT_EQ(map.lookup_batch().count, 2900U);

  auto taken = contents(map.lookup_batch(true));
  EXPECT_EQ(taken.size(), 2900U);
  EXPECT_EQ(map.lookup_batch().count, 0U);
  EXPECT_TRUE(map.keys().empty());
}

TEST(MapBatch, NoExistBatchOnPresentKeyFails) {
  COREBPF_REQUIRE_ROOT();
  Map map = Map::create(hash_options("batch_flags"));
  const auto keys = key_run(1, 2);
  const std::vector<std::uint64_t> values{10, 20};
  map.update_batch(keys, std::as_bytes(std::span(values)), UpdateFlags::no_exist);
  EXPECT_THROW(map.update_batch(keys, std::as_bytes(std::span(values)), UpdateFlags::no_exist), Error);
}

TEST(MapBatch, ArrayAndPerCpu) {
  COREBPF_REQUIRE_ROOT();
  Map array = Map::create(options_for("batch_array", MapType::array, 4, 8, 10));
  const auto keys = key_run(0, 10);
  std::vector<std::uint64_t> values(10);
  for (std::uint32_t index = 0; index < 10; ++index) values[index] = 100 + index;
  array.update_batch(keys, std::as_bytes(std::span(values)));
  auto read = contents(array.lookup_batch());
  ASSERT_EQ(read.size(), 10U);
  for (const auto& [key, value] : read) EXPECT_EQ(value, 100U + key);

  const std::uint32_t cpus = possible_cpus();
  Map percpu = Map::create(options_for("batch_pcpu", MapType::percpu_hash, 4, 8, 16));
  std::vector<std::uint64_t> slots(2 * cpus);
  for (std::uint32_t index = 0; index < slots.size(); ++index) slots[index] = index;
  percpu.update_batch(key_run(5, 2), std::as_bytes(std::span(slots)));
  const MapEntries entries = percpu.lookup_batch();
  ASSERT_EQ(entries.count, 2U);
  ASSERT_EQ(entries.value_stride, 8U * cpus);
  for (std::size_t index = 0; index < 2; ++index) {
    std::uint32_t key = 0;
    std::memcpy(&key, entries.key(index).data(), 4);
    std::vector<std::uint64_t> per_cpu(cpus);
    std::memcpy(per_cpu.data(), entries.value(index).data(), entries.value_stride);
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) EXPECT_EQ(per_cpu[cpu], (key - 5) * cpus + cpu);
  }
}

TEST(MapBatch, LpmTrieFallsBackToElementOperations) {
  COREBPF_REQUIRE_ROOT();
  // LPM tries have no batch commands: lookup_batch walks the keys instead.
  MapCreateOptions options = options_for("lpm", MapType::lpm_trie, 8, 8, 16, BPF_F_NO_PREALLOC);
  Map trie = Map::create(options);
  struct LpmKey {
    std::uint32_t prefix_length;
    std::uint8_t address[4];
  };
  const LpmKey key{24, {10, 1, 2, 0}};
  trie.update(bytes(key), bytes(std::uint64_t{77}));
  const MapEntries entries = trie.lookup_batch();
  ASSERT_EQ(entries.count, 1U);
  std::uint64_t value = 0;
  std::memcpy(&value, entries.value(0).data(), 8);
  EXPECT_EQ(value, 77U);
  EXPECT_EQ(std::memcmp(entries.key(0).data(), &key, sizeof(key)), 0);
}

TEST(MapOps, NoFdLeaksAcrossOperations) {
  COREBPF_REQUIRE_ROOT();
  const std::size_t before = test::open_fd_count();
  for (int round = 0; round < 20; ++round) {
    Map inner = Map::create(hash_options("inner"));
    MapCreateOptions options = options_for("outer", MapType::array_of_maps, 4, 4, 2);
    options.inner_map_fd = inner.fd();
    Map outer = Map::create(options);
    outer.set_inner(bytes(std::uint32_t{0}), inner);
    (void)outer.lookup_batch();
    (void)message_of([&] { (void)Map::open_pinned("/sys/fs/bpf/corebpf_no_such_pin"); });
  }
  EXPECT_EQ(test::open_fd_count(), before);
}

}  // namespace
}  // namespace corebpf
