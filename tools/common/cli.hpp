// Command lines of the tools (CLI11): the flags every tool spells the same way.
#pragma once

#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <string>

namespace corebpf::tools {

struct CommonOptions {
  bool json = false;         // -j: JSON lines on stdout
  pid_t pid = 0;             // -p PID: one process (0: all)
  std::string comm;          // -c COMM: one command name (exact, 15 characters at most)
  double interval = 0;       // [interval]: seconds between reports (0: one report at the end)
  int count = 0;             // [count]: reports before exiting (0: until Ctrl-C)
  std::string prometheus;    // --prometheus ADDR:PORT: serve metrics there
  bool timestamp = false;    // -T: a time column
  bool perf_buffer = false;  // --perf-buffer: the perf buffer even where ring buffers exist
  std::string attach;        // --attach KIND: one AttachPlan path ("fentry", "kprobe", "tracepoint")
};

class Cli {
 public:
  Cli(std::string tool, std::string description);

  CLI::App& app() noexcept { return app_; }
  const std::string& tool() const noexcept { return tool_; }
  CommonOptions options;

  Cli& add_json();
  Cli& add_pid(const std::string& help = "trace this process only");
  Cli& add_comm(const std::string& help = "trace this command name only");
  // bcc's positionals: `tool [interval [count]]`.
  Cli& add_interval_count();
  Cli& add_prometheus();
  Cli& add_timestamp(const std::string& help = "include a timestamp column");
  // --perf-buffer (tools that stream events): forces the perf buffer path, for tests and for
  // comparing the two.
  Cli& add_perf_buffer();
  // --attach fentry|kprobe|tracepoint|...: that path of the tool's AttachPlan, not the best one.
  Cli& add_attach();

  // Parses; prints help or the error and exits (status 0 for --help, 2 for a bad command line).
  void parse(int argc, char** argv);

 private:
  std::string tool_;
  CLI::App app_;
};

}  // namespace corebpf::tools
