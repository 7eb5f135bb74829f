// Histograms as bcc prints them (log2 and linear, 40 stars wide) and as JSON.
#pragma once

#include <linux/types.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "corebpf/map.hpp"

#include "tools_types.h"

namespace corebpf::tools {

// A log2 histogram in user space: slot s counts values in [2^s, 2^(s+1)) (slot 0 also 0).
struct Log2Hist {
  std::array<std::uint64_t, TOOL_HIST_SLOTS> slots{};
  std::uint64_t sum = 0;
  std::uint64_t count = 0;

  Log2Hist() = default;
  explicit Log2Hist(const tool_hist& kernel);
  Log2Hist& operator+=(const Log2Hist& other);
  bool empty() const noexcept { return count == 0; }
  // The inclusive range of slot s as bcc prints it: 0 -> 1, 2 -> 3, 4 -> 7...
  static std::uint64_t low(std::size_t slot) noexcept { return slot == 0 ? 0 : std::uint64_t{1} << slot; }
  static std::uint64_t high(std::size_t slot) noexcept { return (std::uint64_t{2} << slot) - 1; }
};

// bcc's log2 histogram: a header "     usecs               : count     distribution", then one
// row per slot up to the last non-zero one; nothing when every slot is zero.
void print_log2_hist(std::FILE* out, std::span<const std::uint64_t> slots, std::string_view value_type);
// bcc's linear histogram: row i is the value base + i * step.
void print_linear_hist(std::FILE* out, std::span<const std::uint64_t> slots, std::uint64_t base, std::uint64_t step,
                       std::string_view value_type);

// {"unit": value_type, "count": n, "sum": s, "buckets": [{"low":0,"high":1,"count":3}, ...]}: the
// slots up to the last non-zero one.
nlohmann::json log2_hist_json(const Log2Hist& hist, std::string_view value_type);

// The entries of a hash map of Key -> Value (Value: struct tool_hist, or a struct that starts with
// one), removed from the map as they are read: a histogram tool's read-and-clear.
template <typename Key, typename Value>
std::vector<std::pair<Key, Value>> take_entries(const Map& map) {
  static_assert(std::is_trivially_copyable_v<Key> && std::is_trivially_copyable_v<Value>);
  std::vector<std::pair<Key, Value>> result;
  const auto entries = map.lookup_batch(true);
  for (std::size_t i = 0; i < entries.count; ++i) {
    std::pair<Key, Value> entry{};
    std::memcpy(&entry.first, entries.key(i).data(), std::min(sizeof(Key), entries.key(i).size()));
    std::memcpy(&entry.second, entries.value(i).data(), std::min(sizeof(Value), entries.value(i).size()));
    result.push_back(entry);
  }
  return result;
}

}  // namespace corebpf::tools
