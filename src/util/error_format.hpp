// Internal: throwing a corebpf::Error with an fmt-formatted message.
#pragma once

#include <cerrno>
#include <fmt/format.h>

#include "corebpf/error.hpp"

namespace corebpf::util {

template <typename... Args>
[[noreturn]] void fail(std::errc code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

// For a failed system call: the current errno becomes the error code and its text ends the message.
template <typename... Args>
[[noreturn]] void fail_errno(fmt::format_string<Args...> format, Args&&... args) {
  const int saved = errno;
  throw Error(saved, fmt::format("{}: {}", fmt::format(format, std::forward<Args>(args)...),
                                 std::generic_category().message(saved)));
}

}  // namespace corebpf::util
