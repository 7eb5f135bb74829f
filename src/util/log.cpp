#include "corebpf/log.hpp"

#include <atomic>
#include <memory>
#include <mutex>

namespace corebpf {
namespace {

struct LogState {
  std::mutex mutex;
  std::shared_ptr<const LogHandler> handler;
  // Kept outside the mutex so the common "logging off" case costs one relaxed load.
  std::atomic<int> min_level{static_cast<int>(LogLevel::error) + 1};
};

LogState& state() {
  static LogState s;
  return s;
}

}  // namespace

void set_log_handler(LogHandler handler, LogLevel min_level) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (handler) {
    s.handler = std::make_shared<const LogHandler>(std::move(handler));
    s.min_level.store(static_cast<int>(min_level), std::memory_order_relaxed);
  } else {
    s.handler.reset();
    s.min_level.store(static_cast<int>(LogLevel::error) + 1, std::memory_order_relaxed);
  }
}

bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) >= state().min_level.load(std::memory_order_relaxed);
}

void log_message(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  std::shared_ptr<const LogHandler> handler;
  {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    handler = s.handler;
  }
  if (handler) (*handler)(level, message);
}

}  // namespace corebpf
