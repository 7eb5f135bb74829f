// MapView / PerCpuMapView over real kernel maps.
#include "corebpf/map_view.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

struct Stats {
  std::uint64_t packets;
  std::uint64_t bytes;
};

Map make_map(const std::string& name, MapType type, std::uint32_t key_size, std::uint32_t value_size) {
  MapCreateOptions options;
  options.name = name;
  options.type = type;
  options.key_size = key_size;
  options.value_size = value_size;
  options.max_entries = 64;
  return Map::create(options);
}

TEST(MapView, LookupUpdateEraseAndIterate) {
  COREBPF_REQUIRE_ROOT();
  Map map = make_map("stats", MapType::hash, 4, sizeof(Stats));
  MapView<std::uint32_t, Stats> stats(map);
  EXPECT_FALSE(stats.lookup(1).has_value());
  for (std::uint32_t key = 1; key <= 10; ++key) stats.update(key, Stats{key, key * 100ULL});
  EXPECT_EQ(stats.try_update(3, Stats{}, UpdateFlags::no_exist), EEXIST);
  const auto three = stats.lookup(3);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ(three->bytes, 300U);
  Stats value{};
  EXPECT_EQ(stats.try_lookup(4, value), 0);
  EXPECT_EQ(value.packets, 4U);
  EXPECT_TRUE(stats.erase(10));
  EXPECT_FALSE(stats.erase(10));
  const auto taken = stats.lookup_and_delete(9);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->packets, 9U);

  std::map<std::uint32_t, std::uint64_t> seen;
  for (const auto& [key, entry] : stats) {
    EXPECT_EQ(entry.bytes, key * 100ULL);
    seen[key] = entry.packets;
  }
  EXPECT_EQ(seen.size(), 8U);
  EXPECT_EQ(seen.begin()->first, 1U);
  EXPECT_EQ(seen.rbegin()->first, 8U);
}

TEST(MapView, EmptyMapIteratesNothing) {
  COREBPF_REQUIRE_ROOT();
  Map map = make_map("empty", MapType::hash, 4, 8);
  MapView<std::uint32_t, std::uint64_t> view(map);
  EXPECT_TRUE(view.begin() == view.end());
}

TEST(MapView, SizeMismatchNamesMapAndBothSizes) {
  COREBPF_REQUIRE_ROOT();
  Map map = make_map("counts", MapType::hash, 4, 8);
  try {
    MapView<std::uint64_t, std::uint64_t> wrong(map);
    FAIL() << "expected a size error";
  } catch (const Error& error) {
    EXPECT_EQ(error.errno_value(), EINVAL);
    EXPECT_STREQ(error.what(), "map 'counts': typed view: the key type is 8 bytes, the map's keys are 4 bytes");
  }
  try {
    MapView<std::uint32_t, Stats> wrong(map);
    FAIL() << "expected a size error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "map 'counts': typed view: the value type is 16 bytes, the map's values are 8 bytes");
  }
  EXPECT_THROW((PerCpuMapView<std::uint32_t, std::uint64_t>(map)), Error);
}

TEST(PerCpuMapView, OneValuePerCpu) {
  COREBPF_REQUIRE_ROOT();
  Map map = make_map("pcpu", MapType::percpu_array, 4, 4);  // 4-byte values in 8-byte slots
  EXPECT_THROW((MapView<std::uint32_t, std::uint32_t>(map)), Error);
  PerCpuMapView<std::uint32_t, std::uint32_t> view(map);
  const std::size_t cpus = possible_cpus();
  std::vector<std::uint32_t> values(cpus);
  for (std::size_t cpu = 0; cpu < cpus; ++cpu) values[cpu] = static_cast<std::uint32_t>(cpu * 10 + 1);
  view.update(5, values);
  const auto read = view.lookup(5);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, values);
  EXPECT_THROW(view.update(5, std::vector<std::uint32_t>(cpus + 1)), Error);
  std::size_t entries = 0;
  for (const auto& [key, per_cpu] : view) {
    ASSERT_EQ(per_cpu.size(), cpus);
    if (key == 5) {
      EXPECT_EQ(per_cpu, values);
    }
    ++entries;
  }
  EXPECT_EQ(entries, 64U);  // array elements always exist
}

}  // namespace
}  // namespace corebpf
