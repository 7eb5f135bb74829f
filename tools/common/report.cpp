#include "report.hpp"

#include <fmt/format.h>

#include "output.hpp"

namespace corebpf::tools {

Log2Report::Log2Report(Log2ReportConfig config, MetricsEndpoint* metrics)
    : config_(std::move(config)), metrics_(metrics) {}

MetricLabels Log2Report::labels(std::uint32_t key, const Entry& entry) const {
  if (config_.key_name.empty()) return {};
  if (config_.name_field.empty()) return {{config_.key_name, entry.name}};
  return {{config_.key_name, std::to_string(key)}, {config_.name_field, entry.name}};
}

void Log2Report::collect(const Map& map, const std::function<std::string(std::uint32_t, const std::string&)>& name) {
  for (const auto& [key, value] : take_entries<std::uint32_t, tool_keyed_hist>(map)) {
    const Log2Hist hist(value.hist);
    const std::string comm = text(value.comm);
    for (auto* into : {&interval_, &total_}) {
      auto& entry = (*into)[key];
      entry.hist += hist;
      if (!config_.key_name.empty()) entry.name = name ? name(key, comm) : comm;
    }
  }
  if (metrics_ == nullptr) return;
  MetricSet set;
  for (const auto& [key, entry] : total_)
    set.add_histogram(config_.metric, config_.help, labels(key, entry), entry.hist, config_.unit_seconds);
  metrics_->publish(std::move(set));
}

void Log2Report::print() {
  const auto now = time_hms();
  const bool keyed = !config_.key_name.empty();
  if (config_.json) {
    if (interval_.empty() && !keyed) interval_[0] = {};
    for (const auto& [key, entry] : interval_) {
      auto line = log2_hist_json(entry.hist, config_.unit);
      line["time"] = now;
      for (const auto& [label, value] : labels(key, entry)) {
        if (label == config_.key_name && !config_.name_field.empty())
          line[label] = key;
        else
          line[label] = value;
      }
      JsonLines::emit(line);
    }
  } else {
    if (config_.timestamp) fmt::print("{:<8}\n", now);
    for (const auto& [key, entry] : interval_) {
      if (keyed && config_.name_field.empty()) fmt::print("\n{} = {}\n", config_.key_name, entry.name);
      if (keyed && !config_.name_field.empty()) fmt::print("\n{} = {} {}\n", config_.key_name, key, entry.name);
      print_log2_hist(stdout, entry.hist.slots, config_.unit);
    }
    std::fflush(stdout);
  }
  interval_.clear();
}

}  // namespace corebpf::tools
