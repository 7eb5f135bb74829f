#include "output.hpp"

#include <time.h>

#include <cstdio>
#include <cstring>

namespace corebpf::tools {

void JsonLines::emit(const nlohmann::json& object) {
  const std::string line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string time_hms() {
  const time_t now = ::time(nullptr);
  struct tm local {};
  ::localtime_r(&now, &local);
  char buffer[16];
  std::strftime(buffer, sizeof(buffer), "%H:%M:%S", &local);
  return buffer;
}

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

MonotonicStart::MonotonicStart() : start_ns_(monotonic_ns()) {}

double MonotonicStart::seconds(std::uint64_t ktime_ns) const noexcept {
  return (static_cast<double>(ktime_ns) - static_cast<double>(start_ns_)) / 1e9;
}

double MonotonicStart::elapsed() const noexcept { return seconds(monotonic_ns()); }

std::string errno_name(int error) {
  if (const char* name = ::strerrorname_np(error)) return name;
  return "E" + std::to_string(error);
}

std::string syscall_name(std::uint64_t id) {
  struct Entry {
    std::uint64_t id;
    const char* name;
  };
  static constexpr Entry names[] = {
#include "syscall_names.inc"
      {~std::uint64_t{0}, ""},
  };
  for (const auto& entry : names)
    if (entry.id == id) return entry.name;
  return "syscall_" + std::to_string(id);
}

}  // namespace corebpf::tools
