// [pure] The logging hook. Off by default: the library prints nothing unless a handler is installed.
#pragma once

#include <functional>
#include <string_view>

namespace corebpf {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

using LogHandler = std::function<void(LogLevel, std::string_view)>;

// Installs `handler` for messages at `min_level` or above; an empty handler turns logging off.
// Thread-safe; the handler itself may be called from any thread that uses the library.
void set_log_handler(LogHandler handler, LogLevel min_level = LogLevel::info);

// True when a message at `level` would reach a handler (lets callers skip formatting).
bool log_enabled(LogLevel level) noexcept;

// Sends one message to the handler, if any.
void log_message(LogLevel level, std::string_view message);

}  // namespace corebpf
