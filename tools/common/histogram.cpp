#include "histogram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace corebpf::tools {
namespace {

// bcc's bar: width * value / max stars, a '+' as the last character when value > max.
std::string stars(std::uint64_t value, std::uint64_t max, int width) {
  std::string bar;
  if (max == 0) return bar;
  const double wanted = static_cast<double>(width) * static_cast<double>(value) / static_cast<double>(max);
  for (int i = 0; i < width && i <= wanted - 1; ++i) bar += '*';
  if (value > max && !bar.empty()) bar.back() = '+';
  return bar;
}

// The index of the last non-zero slot, -1 when all are zero, and the largest count.
std::pair<long, std::uint64_t> extent(std::span<const std::uint64_t> slots) {
  long last = -1;
  std::uint64_t max = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] > 0) last = static_cast<long>(i);
    max = std::max(max, slots[i]);
  }
  return {last, max};
}

}  // namespace

Log2Hist::Log2Hist(const tool_hist& kernel) : sum(kernel.sum), count(kernel.count) {
  std::copy(std::begin(kernel.slots), std::end(kernel.slots), slots.begin());
}

Log2Hist& Log2Hist::operator+=(const Log2Hist& other) {
  for (std::size_t i = 0; i < slots.size(); ++i) slots[i] += other.slots[i];
  sum += other.sum;
  count += other.count;
  return *this;
}

void print_log2_hist(std::FILE* out, std::span<const std::uint64_t> slots, std::string_view value_type) {
  const auto [last, max] = extent(slots);
  if (last < 0) return;
  const bool wide = last > 32;
  const int width = wide ? 20 : 40;
  if (wide)
    fmt::print(out, "               {:<29} : count     distribution\n", value_type);
  else
    fmt::print(out, "     {:<19} : count     distribution\n", value_type);
  for (long slot = 0; slot <= last; ++slot) {
    const auto value = slots[static_cast<std::size_t>(slot)];
    const auto low = Log2Hist::low(static_cast<std::size_t>(slot));
    const auto high = Log2Hist::high(static_cast<std::size_t>(slot));
    if (wide)
      fmt::print(out, "{:>20} -> {:<20} : {:<8} |{:<{}}|\n", low, high, value, stars(value, max, width), width);
    else
      fmt::print(out, "{:>10} -> {:<10} : {:<8} |{:<{}}|\n", low, high, value, stars(value, max, width), width);
  }
}

void print_linear_hist(std::FILE* out, std::span<const std::uint64_t> slots, std::uint64_t base, std::uint64_t step,
                       std::string_view value_type) {
  const auto [last, max] = extent(slots);
  if (last < 0) return;
  constexpr int width = 40;
  fmt::print(out, "     {:<13} : count     distribution\n", value_type);
  for (long i = 0; i <= last; ++i) {
    const auto value = slots[static_cast<std::size_t>(i)];
    fmt::print(out, "        {:<10} : {:<8} |{:<{}}|\n", base + static_cast<std::uint64_t>(i) * step, value,
               stars(value, max, width), width);
  }
}

nlohmann::json log2_hist_json(const Log2Hist& hist, std::string_view value_type) {
  const auto [last, max] = extent(hist.slots);
  (void)max;
  nlohmann::json buckets = nlohmann::json::array();
  for (long slot = 0; slot <= last; ++slot) {
    const auto s = static_cast<std::size_t>(slot);
    buckets.push_back({{"low", Log2Hist::low(s)}, {"high", Log2Hist::high(s)}, {"count", hist.slots[s]}});
  }
  return {{"unit", value_type}, {"count", hist.count}, {"sum", hist.sum}, {"buckets", buckets}};
}

}  // namespace corebpf::tools
