// A tool's life: main()'s error handling, stop signals and the readiness line.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corebpf::tools {

// No way to run on this kernel: the message says which feature and which kernel.
class CannotRun : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `body` and turns what it throws into one line on stderr and exit status 1:
// "<tool>: cannot run: <why>" for CannotRun, "<tool>: <message>" for any other error.
int run_tool(std::string_view tool, const std::function<int()>& body);

// SIGINT and SIGTERM set the stop flag (no SA_RESTART: a blocking poll returns at once).
void install_stop_handlers();
bool stop_requested() noexcept;
// Sleeps `seconds`, returning early (false) when a stop was requested.
bool sleep_for(double seconds);

// bcc's `[interval [count]]` loop of the histogram tools. `collect` moves what the kernel counted
// into user space: every second when metrics are served, and before each report. `report` prints
// one report: every `interval` seconds (none: only at the end), `count` times at most; a stop
// request (Ctrl-C, SIGTERM) ends the loop with one last report of what came since the previous.
void run_report_loop(double interval, int count, bool serve_metrics, const std::function<void()>& collect,
                     const std::function<void()>& report);

// "<tool>: ready (<how>)" on stderr, flushed: everything is attached and events are being traced.
void ready(std::string_view tool, std::string_view how);

}  // namespace corebpf::tools
