// corebpf::Map against real kernel maps.
#include "corebpf/map.hpp"

#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace
}  // namespace corebpf
