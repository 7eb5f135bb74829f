// corebpf::Map: creating, opening, pinning maps and their element operations.
#include "corebpf/map.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

#include "corebpf/kernel.hpp"
#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {

// The kernel's internal "operation not supported" (ENOTSUPP, not ENOTSUP): some map types give it
// for batch commands they lack.
constexpr int kernel_enotsupp = 524;

bpf_attr zeroed_attr() {
  bpf_attr attr{};
  std::memset(&attr, 0, sizeof(attr));  // all of the union, not only its first member
  return attr;
}

std::uint64_t address_of(const void* pointer) noexcept { return reinterpret_cast<std::uintptr_t>(pointer); }

std::string errno_text(int error) {
  if (error == kernel_enotsupp) return "operation not supported by this map (ENOTSUPP)";
  const char* name = ::strerrorname_np(error);
  return fmt::format("{} ({})", std::generic_category().message(error), name != nullptr ? name : "?");
}

MapInfo info_from_fd(int fd) {
  bpf_map_info raw{};
  kernel::detail::object_info(fd, &raw, sizeof(raw), fmt::format("(map fd {})", fd));
  MapInfo info;
  info.name = std::string(raw.name, strnlen(raw.name, sizeof(raw.name)));
  info.type = static_cast<MapType>(raw.type);
  info.key_size = raw.key_size;
  info.value_size = raw.value_size;
  info.max_entries = raw.max_entries;
  info.flags = raw.map_flags;
  info.id = raw.id;
  info.btf_id = raw.btf_id;
  info.btf_key_type_id = raw.btf_key_type_id;
  info.btf_value_type_id = raw.btf_value_type_id;
  info.btf_vmlinux_value_type_id = raw.btf_vmlinux_value_type_id;
  info.map_extra = raw.map_extra;
  return info;
}

// "0-3,8-11" -> 12: the highest CPU number plus one, since per-CPU maps size by the highest id.
std::uint32_t parse_cpu_list(const std::string& text) {
  std::uint32_t count = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    const std::size_t end = std::min(text.find(',', position), text.size());
    const std::string range = text.substr(position, end - position);
    const std::size_t dash = range.find('-');
    const std::string last = dash == std::string::npos ? range : range.substr(dash + 1);
    if (last.empty() || last.find_first_not_of("0123456789\n") != std::string::npos) return 0;
    count = std::max(count, static_cast<std::uint32_t>(std::stoul(last)) + 1);
    position = end + 1;
  }
  return count;
}

}  // namespace

std::uint32_t possible_cpus() {
  static const std::uint32_t count = [] {
    const char* path = "/sys/devices/system/cpu/possible";
    std::ifstream file(path);
    std::string text;
    std::getline(file, text);
    const std::uint32_t parsed = file ? parse_cpu_list(text) : 0;
    if (parsed == 0) util::fail(std::errc::io_error, "cannot read the possible CPUs from {}: '{}'", path, text);
    return parsed;
  }();
  return count;
}

Map Map::create(const MapCreateOptions& options) {
  bpf_attr attr = zeroed_attr();
  attr.map_type = static_cast<std::uint32_t>(options.type);
  attr.key_size = options.key_size;
  attr.value_size = options.value_size;
  attr.max_entries = options.max_entries;
  attr.map_flags = options.flags;
  if (options.inner_map_fd >= 0) attr.inner_map_fd = static_cast<std::uint32_t>(options.inner_map_fd);
  if (options.numa_node) {
    attr.map_flags |= BPF_F_NUMA_NODE;
    attr.numa_node = *options.numa_node;
  }
  std::memcpy(attr.map_name, options.name.data(), std::min(options.name.size(), sizeof(attr.map_name) - 1));
  if (options.btf_fd >= 0) {
    attr.btf_fd = static_cast<std::uint32_t>(options.btf_fd);
    attr.btf_key_type_id = options.btf_key_type_id;
    attr.btf_value_type_id = options.btf_value_type_id;
    attr.btf_vmlinux_value_type_id = options.btf_vmlinux_value_type_id;
  }
  attr.map_extra = options.map_extra;
  const long fd = kernel::detail::bpf_call(BPF_MAP_CREATE, attr);
  if (fd < 0) {
    const int error = errno;
    throw Error(error, fmt::format("map '{}': create ({} map, key {} B, value {} B, {} entries, flags {:#x}): {}",
                                   options.name, map_type_name(options.type), options.key_size, options.value_size,
                                   options.max_entries, options.flags, errno_text(error)));
  }
  return adopt(UniqueFd(static_cast<int>(fd)));
}

Map Map::adopt(UniqueFd fd) {
  MapInfo info = info_from_fd(fd.get());
  return Map(std::move(fd), std::move(info));
}

Map Map::open_pinned(const std::string& path) {
  bpf_attr attr = zeroed_attr();
  attr.pathname = address_of(path.c_str());
  const long fd = kernel::detail::bpf_call(BPF_OBJ_GET, attr);
  if (fd < 0) {
    const int error = errno;
    throw Error(error, fmt::format("pinned map '{}': open: {}", path, errno_text(error)));
  }
  UniqueFd owned(static_cast<int>(fd));
  bpf_map_info raw{};
  bpf_attr info_attr = zeroed_attr();
  info_attr.info.bpf_fd = static_cast<std::uint32_t>(owned.get());
  info_attr.info.info_len = sizeof(raw);
  info_attr.info.info = address_of(&raw);
  // A pinned program or link also opens with BPF_OBJ_GET; only a map has a map info.
  if (kernel::detail::bpf_call(BPF_OBJ_GET_INFO_BY_FD, info_attr) < 0 || raw.type == 0 || raw.id == 0) {
    util::fail(std::errc::invalid_argument, "pinned object '{}' is not a map", path);
  }
  return adopt(std::move(owned));
}

Map Map::open_by_id(std::uint32_t id) { return adopt(kernel::open_by_id(kernel::ObjectType::map, id)); }

bool Map::is_per_cpu() const noexcept {
  switch (info_.type) {
    case MapType::percpu_hash:
    case MapType::percpu_array:
    case MapType::lru_percpu_hash:
    case MapType::percpu_cgroup_storage:
      return true;
    default:
      return false;
  }
}

std::size_t Map::value_stride() const {
  if (!is_per_cpu()) return info_.value_size;
  return ((std::size_t{info_.value_size} + 7) & ~std::size_t{7}) * possible_cpus();
}

void Map::pin(const std::string& path) const {
  bpf_attr attr = zeroed_attr();
  attr.pathname = address_of(path.c_str());
  attr.bpf_fd = static_cast<std::uint32_t>(fd_.get());
  if (kernel::detail::bpf_call(BPF_OBJ_PIN, attr) < 0) fail(errno, fmt::format("pin at '{}'", path));
}

void Map::unpin(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    const int error = errno;
    throw Error(error, fmt::format("unpin '{}': {}", path, errno_text(error)));
  }
}

void Map::freeze() const {
  bpf_attr attr = zeroed_attr();
  attr.map_fd = static_cast<std::uint32_t>(fd_.get());
  if (kernel::detail::bpf_call(BPF_MAP_FREEZE, attr) < 0) fail(errno, "freeze");
}

void Map::refresh_info() { info_ = info_from_fd(fd_.get()); }

void Map::fail(int error, std::string_view operation) const {
  throw Error(error, fmt::format("map '{}': {}: {}", info_.name, operation, errno_text(error)));
}

}  // namespace corebpf
