// [kernel] Typed views on a corebpf::Map: MapView<K, V> for maps with one value per key and
// PerCpuMapView<K, V> for per-CPU maps (one V per possible CPU). A view borrows the Map, which must
// outlive it; the key and value sizes are checked against the map when the view is made.
#pragma once

#include <cstring>
#include <iterator>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/map.hpp"

namespace corebpf {

// Tag for a view made before its map exists (a skeleton binds its views at open()); whoever
// makes one checks the sizes with detail::check_view_sizes once the map is created.
struct UncheckedView {};
inline constexpr UncheckedView unchecked_view{};

namespace detail {
// Throws EINVAL "map 'counts': typed view <what>: key type is 8 bytes, the map's keys are 4 bytes".
void check_view_sizes(const Map& map, std::size_t key_size, std::size_t value_size, bool per_cpu);
}  // namespace detail

// Walks a map's keys lazily (BPF_MAP_GET_NEXT_KEY) and reads each value as it goes; keys deleted
// between the walk and the read are skipped. `Read` fetches the value for a key (false: gone).
template <typename K, typename Value, typename Read>
class MapViewIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = std::pair<K, Value>;
  using difference_type = std::ptrdiff_t;
  using pointer = const value_type*;
  using reference = const value_type&;

  MapViewIterator() = default;  // the end
  MapViewIterator(const Map* map, Read read) : map_(map), read_(std::move(read)) { advance(nullptr); }

  reference operator*() const noexcept { return entry_; }
  pointer operator->() const noexcept { return &entry_; }
  MapViewIterator& operator++() {
    const K current = entry_.first;
    advance(&current);
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const MapViewIterator& a, const MapViewIterator& b) noexcept { return a.map_ == b.map_; }

 private:
  void advance(const K* after) {
    K next{};
    K current{};
    if (after != nullptr) current = *after;
    bool have_current = after != nullptr;
    for (;;) {
      const auto from = have_current ? std::as_bytes(std::span(&current, 1)) : std::span<const std::byte>();
      if (!map_->next_key(from, std::as_writable_bytes(std::span(&next, 1)))) {
        map_ = nullptr;
        return;
      }
      if (read_(next, entry_.second)) {
        entry_.first = next;
        return;
      }
      current = next;
      have_current = true;
    }
  }

  const Map* map_ = nullptr;
  Read read_{};
  value_type entry_{};
};

template <typename K, typename V>
class MapView {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>,
                "map keys and values are copied as bytes");

 public:
  explicit MapView(const Map& map) : map_(&map) { detail::check_view_sizes(map, sizeof(K), sizeof(V), false); }
  MapView(const Map& map, UncheckedView) noexcept : map_(&map) {}

  const Map& map() const noexcept { return *map_; }

  std::optional<V> lookup(const K& key, std::uint64_t flags = 0) const {
    V value{};
    if (!map_->lookup(key_bytes(key), std::as_writable_bytes(std::span(&value, 1)), flags)) return std::nullopt;
    return value;
  }
  // Hot-path form: 0, ENOENT or another errno; never throws.
  [[nodiscard]] int try_lookup(const K& key, V& value, std::uint64_t flags = 0) const noexcept {
    return map_->try_lookup(key_bytes(key), std::as_writable_bytes(std::span(&value, 1)), flags);
  }
  void update(const K& key, const V& value, UpdateFlags flags = UpdateFlags::any) const {
    map_->update(key_bytes(key), std::as_bytes(std::span(&value, 1)), flags);
  }
  [[nodiscard]] int try_update(const K& key, const V& value, UpdateFlags flags = UpdateFlags::any) const noexcept {
    return map_->try_update(key_bytes(key), std::as_bytes(std::span(&value, 1)), flags);
  }
  bool erase(const K& key) const { return map_->erase(key_bytes(key)); }
  std::optional<V> lookup_and_delete(const K& key) const {
    V value{};
    if (!map_->lookup_and_delete(key_bytes(key), std::as_writable_bytes(std::span(&value, 1)))) return std::nullopt;
    return value;
  }

  struct Reader {
    const Map* map = nullptr;
    bool operator()(const K& key, V& value) const {
      return map->lookup(std::as_bytes(std::span(&key, 1)), std::as_writable_bytes(std::span(&value, 1)));
    }
  };
  using iterator = MapViewIterator<K, V, Reader>;
  // Range-for over (key, value) pairs.
  iterator begin() const { return iterator(map_, Reader{map_}); }
  iterator end() const noexcept { return iterator(); }

 private:
  static std::span<const std::byte> key_bytes(const K& key) noexcept { return std::as_bytes(std::span(&key, 1)); }

  const Map* map_;
};

template <typename K, typename V>
class PerCpuMapView {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>,
                "map keys and values are copied as bytes");

 public:
  explicit PerCpuMapView(const Map& map) : map_(&map) { detail::check_view_sizes(map, sizeof(K), sizeof(V), true); }
  PerCpuMapView(const Map& map, UncheckedView) noexcept : map_(&map) {}

  const Map& map() const noexcept { return *map_; }
  std::size_t cpus() const { return possible_cpus(); }

  // One value per possible CPU, CPU 0 first.
  std::optional<std::vector<V>> lookup(const K& key) const {
    std::vector<V> values;
    if (!read(*map_, key, values)) return std::nullopt;
    return values;
  }
  // `values` holds one value per possible CPU.
  void update(const K& key, std::span<const V> values, UpdateFlags flags = UpdateFlags::any) const {
    if (values.size() != possible_cpus()) {
      throw Error(EINVAL, "map '" + map_->name() + "': per-CPU update with " + std::to_string(values.size()) +
                              " values for " + std::to_string(possible_cpus()) + " possible CPUs");
    }
    std::vector<std::byte> slots(map_->value_stride());
    for (std::size_t cpu = 0; cpu < values.size(); ++cpu) std::memcpy(&slots[cpu * slot()], &values[cpu], sizeof(V));
    map_->update(std::as_bytes(std::span(&key, 1)), slots, flags);
  }
  bool erase(const K& key) const { return map_->erase(std::as_bytes(std::span(&key, 1))); }

  struct Reader {
    const Map* map = nullptr;
    bool operator()(const K& key, std::vector<V>& values) const { return read(*map, key, values); }
  };
  using iterator = MapViewIterator<K, std::vector<V>, Reader>;
  iterator begin() const { return iterator(map_, Reader{map_}); }
  iterator end() const noexcept { return iterator(); }

 private:
  static std::size_t slot() noexcept { return (sizeof(V) + 7) & ~std::size_t{7}; }
  static bool read(const Map& map, const K& key, std::vector<V>& values) {
    std::vector<std::byte> slots(map.value_stride());
    if (!map.lookup(std::as_bytes(std::span(&key, 1)), slots)) return false;
    values.resize(slots.size() / slot());
    for (std::size_t cpu = 0; cpu < values.size(); ++cpu) std::memcpy(&values[cpu], &slots[cpu * slot()], sizeof(V));
    return true;
  }

  const Map* map_;
};

}  // namespace corebpf
