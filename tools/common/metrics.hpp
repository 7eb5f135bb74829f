// Prometheus/OpenMetrics endpoint of the histogram and counter tools (prometheus-cpp's pull
// server): the tool publishes a complete set of values after each read of its maps, and scrapes
// see the last set published.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "histogram.hpp"

namespace prometheus {
class Exposer;
struct MetricFamily;
}  // namespace prometheus

namespace corebpf::tools {

using MetricLabels = std::map<std::string, std::string>;

class MetricSet {
 public:
  MetricSet();
  ~MetricSet();
  MetricSet(MetricSet&&) noexcept;
  MetricSet& operator=(MetricSet&&) noexcept;

  // A cumulative histogram from log2 slots: bucket le = (2^(s+1) - 1) * unit_seconds for each
  // slot up to the last non-zero one, then +Inf; _sum = sum * unit_seconds, _count = count.
  // `name` is the base name ("runqlat_run_queue_latency_seconds"); several calls with one name
  // (other labels) make one family.
  void add_histogram(const std::string& name, const std::string& help, const MetricLabels& labels, const Log2Hist& hist,
                     double unit_seconds);
  // A counter (name ends in _total by convention).
  void add_counter(const std::string& name, const std::string& help, const MetricLabels& labels, double value);

 private:
  friend class MetricsEndpoint;
  std::vector<prometheus::MetricFamily> families_;
};

class MetricsEndpoint {
 public:
  // Listens on "ADDR:PORT" and serves /metrics. Throws std::runtime_error naming the address
  // when it cannot listen.
  explicit MetricsEndpoint(const std::string& address);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Replaces what scrapes see (thread-safe).
  void publish(MetricSet set);

 private:
  class Collector;
  std::shared_ptr<Collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace corebpf::tools
