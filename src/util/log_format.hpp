// Internal: fmt-style logging that formats only when a handler wants the message.
#pragma once

#include <fmt/format.h>

#include "corebpf/log.hpp"

namespace corebpf::util {

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!log_enabled(level)) return;
  log_message(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace corebpf::util
