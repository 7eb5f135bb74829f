// The user side of the log2 histogram tools (runqlat, cpudist, biolatency...): histograms read
// and cleared from the kernel's map, printed in bcc's layout or as JSON lines per report, and
// kept cumulatively for the Prometheus endpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "corebpf/map.hpp"
#include "histogram.hpp"
#include "metrics.hpp"

namespace corebpf::tools {

struct Log2ReportConfig {
  std::string unit;        // "usecs": the header and JSON "unit"
  std::string key_name;    // "" for one histogram; "pid", "tid", "disk"...: one per key
  std::string name_field;  // "comm": keys are numbers with a name ("pid = 12 bash"); "": the name is
                           // the key ("disk = sda")
  bool json = false;
  bool timestamp = false;  // text: the time before each report
  std::string metric;      // "runqlat_run_queue_latency_seconds"
  std::string help;
  double unit_seconds = 1e-6;
};

class Log2Report {
 public:
  // `metrics` may be null (no --prometheus).
  Log2Report(Log2ReportConfig config, MetricsEndpoint* metrics);

  // Moves the histograms out of `map` (__u32 -> struct tool_keyed_hist) into this interval's and
  // the totals; `name(key, comm)` names a key (default: the comm the kernel side kept). Publishes
  // the totals when metrics are served.
  void collect(const Map& map, const std::function<std::string(std::uint32_t, const std::string&)>& name = {});
  // Prints this interval's histograms and starts the next interval.
  void print();

 private:
  struct Entry {
    Log2Hist hist;
    std::string name;
  };
  MetricLabels labels(std::uint32_t key, const Entry& entry) const;

  Log2ReportConfig config_;
  MetricsEndpoint* metrics_;
  std::map<std::uint32_t, Entry> interval_;
  std::map<std::uint32_t, Entry> total_;
};

}  // namespace corebpf::tools
