#include "run.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>

#include "corebpf/error.hpp"

namespace corebpf::tools {
namespace {

volatile sig_atomic_t stop_flag = 0;

void on_stop_signal(int) { stop_flag = 1; }

}  // namespace

int run_tool(std::string_view tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const CannotRun& error) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: cannot run: {}\n", tool, error.what());
  } catch (const std::exception& error) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {}\n", tool, error.what());
  }
  return 1;
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() noexcept { return stop_flag != 0; }

bool sleep_for(double seconds) {
  // In slices, so a signal that arrives between the check and the sleep costs at most one slice.
  constexpr double slice = 0.1;
  while (seconds > 0 && !stop_requested()) {
    const double step = std::min(seconds, slice);
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(step);
    ts.tv_nsec = static_cast<long>((step - std::floor(step)) * 1e9);
    ::nanosleep(&ts, nullptr);
    seconds -= step;
  }
  return !stop_requested();
}

void run_report_loop(double interval, int count, bool serve_metrics, const std::function<void()>& collect,
                     const std::function<void()>& report) {
  const auto now = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  double next_report = interval > 0 ? now() + interval : 0;
  int reports = 0;
  for (;;) {
    double wait = 1.0;
    if (interval > 0) wait = std::max(0.0, std::min(wait, next_report - now()));
    sleep_for(wait);
    const bool stopping = stop_requested();
    const bool due = interval > 0 && now() >= next_report;
    if (serve_metrics || stopping || due) collect();
    if (stopping) {
      report();
      return;
    }
    if (due) {
      report();
      if (count > 0 && ++reports >= count) return;
      next_report += interval;
    }
  }
}

void ready(std::string_view tool, std::string_view how) {
  std::fflush(stdout);
  fmt::print(stderr, "{}: ready ({})\n", tool, how);
  std::fflush(stderr);
}

}  // namespace corebpf::tools
