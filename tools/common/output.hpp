// Output helpers: JSON lines, times, errno names, kernel strings.
#pragma once

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace corebpf::tools {

// One JSON object per line on stdout, flushed (a reader sees each event as it happens).
struct JsonLines {
  static void emit(const nlohmann::json& object);
};

// The local wall clock as "HH:MM:SS".
std::string time_hms();

// The tool's start on CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock.
class MonotonicStart {
 public:
  MonotonicStart();
  // Seconds from the start to `ktime_ns` (a bpf_ktime_get_ns() value).
  double seconds(std::uint64_t ktime_ns) const noexcept;
  // Seconds from the start to now.
  double elapsed() const noexcept;

 private:
  std::uint64_t start_ns_;
};

std::uint64_t monotonic_ns() noexcept;

// "ENOENT" for 2; "E<n>" for a number glibc does not name.
std::string errno_name(int error);

// The name of system call `id` on this architecture ("openat"), or "syscall_<id>".
std::string syscall_name(std::uint64_t id);

// A fixed-size kernel string (comm, path) up to its first NUL.
template <std::size_t N>
std::string text(const char (&chars)[N]) {
  return std::string(chars, strnlen(chars, N));
}

}  // namespace corebpf::tools
