#include "cli.hpp"

#include <cstdlib>

namespace corebpf::tools {

Cli::Cli(std::string tool, std::string description) : tool_(std::move(tool)), app_(std::move(description), tool_) {
  app_.name("corebpf-" + tool_);
}

Cli& Cli::add_json() {
  app_.add_flag("-j,--json", options.json, "print JSON lines (one object per event or report)");
  return *this;
}

Cli& Cli::add_pid(const std::string& help) {
  app_.add_option("-p,--pid", options.pid, help)->check(CLI::PositiveNumber);
  return *this;
}

Cli& Cli::add_comm(const std::string& help) {
  app_.add_option("-c,--comm", options.comm, help)->check([](const std::string& comm) {
    return comm.size() > 15 ? std::string("a command name has 15 characters at most") : std::string();
  });
  return *this;
}

Cli& Cli::add_interval_count() {
  app_.add_option("interval", options.interval, "seconds between reports (default: one report at Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  app_.add_option("count", options.count, "number of reports")->check(CLI::NonNegativeNumber);
  return *this;
}

Cli& Cli::add_prometheus() {
  app_.add_option("--prometheus", options.prometheus, "serve Prometheus/OpenMetrics metrics on ADDR:PORT")
      ->type_name("ADDR:PORT");
  return *this;
}

Cli& Cli::add_timestamp(const std::string& help) {
  app_.add_flag("-T,--timestamp", options.timestamp, help);
  return *this;
}

Cli& Cli::add_perf_buffer() {
  app_.add_flag("--perf-buffer", options.perf_buffer, "use a perf buffer even where ring buffers exist");
  return *this;
}

Cli& Cli::add_attach() {
  app_.add_option("--attach", options.attach, "hook the events this way (fentry, kprobe, tracepoint...)")
      ->type_name("KIND");
  return *this;
}

void Cli::parse(int argc, char** argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app_.exit(error);
    std::exit(status == 0 ? 0 : 2);
  }
}

}  // namespace corebpf::tools
