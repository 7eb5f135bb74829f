// Histograms as bcc prints them (log2 and linear, 40 stars wide) and as JSON.
#pragma once

#include <linux/types.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "bpf/tools_types.h"

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

}  // namespace corebpf::tools
