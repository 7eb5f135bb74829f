#include "kernel/tracefs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "corebpf/fd.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::kernel::detail {
namespace {

constexpr const char* kTracing = "/sys/kernel/tracing";
constexpr const char* kDebugTracing = "/sys/kernel/debug/tracing";
constexpr long kTracefsMagic = 0x74726163;  // TRACEFS_MAGIC

bool is_tracefs(const char* path) {
  struct statfs fs {};
  return ::statfs(path, &fs) == 0 && static_cast<long>(fs.f_type) == kTracefsMagic;
}

std::optional<std::string> mounted_tracefs() {
  if (is_tracefs(kTracing)) return std::string(kTracing);
  if (is_tracefs(kDebugTracing)) return std::string(kDebugTracing);
  return std::nullopt;
}

// The whole of a small sysfs/tracefs file; empty optional when it cannot be opened.
std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string tracefs_root() {
  if (auto root = mounted_tracefs()) return *root;
  // Two threads must not both mount: the second mount would stack on the first.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto root = mounted_tracefs()) return *root;
  if (::mount("tracefs", kTracing, "tracefs", 0, nullptr) != 0) {
    util::fail_errno("no tracefs: neither {} nor {} is mounted, and mounting tracefs at {} failed", kTracing,
                     kDebugTracing, kTracing);
  }
  util::log(LogLevel::info, "mounted tracefs at {}", kTracing);
  return kTracing;
}

std::uint64_t tracepoint_id(std::string_view category, std::string_view name) {
  const std::string root = tracefs_root();
  const std::string path = fmt::format("{}/events/{}/{}/id", root, category, name);
  const auto text = read_text(path);
  if (!text) {
    util::fail(std::errc::no_such_file_or_directory, "unknown tracepoint {}/{}: no {}", category, name, path);
  }
  const auto digits = trimmed(*text);
  std::uint64_t id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    util::fail(std::errc::invalid_argument, "tracepoint {}/{}: {} does not hold a number", category, name, path);
  }
  return id;
}

std::optional<std::uint32_t> pmu_type(std::string_view pmu) {
  const auto text = read_text(fmt::format("/sys/bus/event_source/devices/{}/type", pmu));
  if (!text) return std::nullopt;
  const auto digits = trimmed(*text);
  std::uint32_t type = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), type);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return type;
}

std::optional<std::uint32_t> pmu_format_bit(std::string_view pmu, std::string_view field) {
  const std::string path = fmt::format("/sys/bus/event_source/devices/{}/format/{}", pmu, field);
  const auto text = read_text(path);
  if (!text) return std::nullopt;
  auto value = trimmed(*text);
  if (!value.starts_with("config:")) {
    util::fail(std::errc::invalid_argument, "{}: expected 'config:N' or 'config:N-M', read '{}'", path, value);
  }
  value.remove_prefix(7);
  // A field wider than a bit reads "config:32-63": where it starts is what the caller shifts by.
  const auto bits = value.substr(0, value.find('-'));
  std::uint32_t bit = 0;
  const auto [end, error] = std::from_chars(bits.data(), bits.data() + bits.size(), bit);
  if (bits.empty() || error != std::errc() || end != bits.data() + bits.size() || bit >= 64) {
    util::fail(std::errc::invalid_argument, "{}: expected 'config:N' or 'config:N-M', read 'config:{}'", path, value);
  }
  return bit;
}

std::uint32_t pmu_retprobe_bit(std::string_view pmu) {
  const auto bit = pmu_format_bit(pmu, "retprobe");
  if (!bit) {
    util::fail(std::errc::no_such_file_or_directory,
               "the {} PMU has no retprobe format "
               "(/sys/bus/event_source/devices/{}/format/retprobe)",
               pmu, pmu);
  }
  return *bit;
}

bool tracefs_has(std::string_view file) {
  try {
    return ::access(fmt::format("{}/{}", tracefs_root(), file).c_str(), F_OK) == 0;
  } catch (const Error&) {
    return false;
  }
}

void tracefs_append(std::string_view file, std::string_view line) {
  const std::string path = fmt::format("{}/{}", tracefs_root(), file);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd) util::fail_errno("opening {} to add '{}'", path, line);
  const auto written = ::write(fd.get(), line.data(), line.size());
  if (written < 0) util::fail_errno("writing '{}' to {}", line, path);
  if (static_cast<std::size_t>(written) != line.size()) {
    util::fail(std::errc::io_error, "writing '{}' to {}: short write ({} of {} bytes)", line, path, written,
               line.size());
  }
}

std::vector<std::string> traceable_functions() {
  const std::string path = tracefs_root() + "/available_filter_functions";
  std::ifstream in(path);
  if (!in) util::fail_errno("opening {}", path);
  std::vector<std::string> names;
  std::set<std::string, std::less<>> seen;
  std::string line;
  while (std::getline(in, line)) {
    // "name", "name [module]"; a few kernels list "__ftrace_invalid_address___N" placeholders.
    std::string_view name(line);
    if (const auto space = name.find_first_of(" \t"); space != std::string_view::npos) name = name.substr(0, space);
    if (name.empty() || name.find('.') != std::string_view::npos || name.starts_with("__ftrace_invalid_address__")) {
      continue;
    }
    if (seen.insert(std::string(name)).second) names.emplace_back(name);
  }
  return names;
}

}  // namespace corebpf::kernel::detail
