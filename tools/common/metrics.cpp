#include "metrics.hpp"

#include <fmt/format.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace corebpf::tools {
namespace {

prometheus::MetricFamily& family(std::vector<prometheus::MetricFamily>& families, const std::string& name,
                                 const std::string& help, prometheus::MetricType type) {
  for (auto& existing : families)
    if (existing.name == name) return existing;
  families.push_back({name, help, type, {}});
  return families.back();
}

std::vector<prometheus::ClientMetric::Label> to_labels(const MetricLabels& labels) {
  std::vector<prometheus::ClientMetric::Label> result;
  for (const auto& [name, value] : labels) result.push_back({name, value});
  return result;
}

}  // namespace

class MetricsEndpoint::Collector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard lock(mutex_);
    return families_;
  }
  void replace(std::vector<prometheus::MetricFamily> families) {
    std::lock_guard lock(mutex_);
    families_ = std::move(families);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<prometheus::MetricFamily> families_;
};

MetricSet::MetricSet() = default;
MetricSet::~MetricSet() = default;
MetricSet::MetricSet(MetricSet&&) noexcept = default;
MetricSet& MetricSet::operator=(MetricSet&&) noexcept = default;

void MetricSet::add_histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                              const Log2Hist& hist, double unit_seconds) {
  auto& target = family(families_, name, help, prometheus::MetricType::Histogram);
  prometheus::ClientMetric metric;
  metric.label = to_labels(labels);
  std::size_t last = 0;
  for (std::size_t slot = 0; slot < hist.slots.size(); ++slot)
    if (hist.slots[slot] != 0) last = slot;
  std::uint64_t cumulative = 0;
  for (std::size_t slot = 0; slot <= last; ++slot) {
    cumulative += hist.slots[slot];
    metric.histogram.bucket.push_back({cumulative, static_cast<double>(Log2Hist::high(slot)) * unit_seconds});
  }
  metric.histogram.bucket.push_back({hist.count, std::numeric_limits<double>::infinity()});
  metric.histogram.sample_count = hist.count;
  metric.histogram.sample_sum = static_cast<double>(hist.sum) * unit_seconds;
  target.metric.push_back(std::move(metric));
}

void MetricSet::add_counter(const std::string& name, const std::string& help, const MetricLabels& labels,
                            double value) {
  auto& target = family(families_, name, help, prometheus::MetricType::Counter);
  prometheus::ClientMetric metric;
  metric.label = to_labels(labels);
  metric.counter.value = value;
  target.metric.push_back(std::move(metric));
}

MetricsEndpoint::MetricsEndpoint(const std::string& address) : collector_(std::make_shared<Collector>()) {
  if (address.find(':') == std::string::npos)
    throw std::runtime_error(fmt::format("--prometheus {}: expected ADDR:PORT", address));
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("cannot serve metrics on {}: {}", address, error.what()));
  }
  exposer_->RegisterCollectable(collector_);
}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::publish(MetricSet set) { collector_->replace(std::move(set.families_)); }

}  // namespace corebpf::tools
