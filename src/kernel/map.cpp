// corebpf::Map: creating, opening, pinning maps and their element operations.
#include "corebpf/map.hpp"
#include "corebpf/map_view.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "corebpf/kernel.hpp"
#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {

// The kernel's internal "operation not supported" (ENOTSUPP, not ENOTSUP): some map types give it
// for batch commands they lack.
constexpr int kernel_enotsupp = uapi::kEnotsupp;

using kernel::detail::zeroed_attr;

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
  UniqueFd created(static_cast<int>(fd));
  try {
    return adopt(std::move(created));
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("map '{}': create: {}", options.name, e.message()));
  }
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

// ---- Element operations.

namespace {

const void* key_pointer(std::span<const std::byte> key) noexcept { return key.empty() ? nullptr : key.data(); }

long element_call(int command, int fd, const void* key, const void* value, std::uint64_t flags) noexcept {
  bpf_attr attr = zeroed_attr();
  attr.map_fd = static_cast<std::uint32_t>(fd);
  attr.key = address_of(key);
  attr.value = address_of(value);
  attr.flags = flags;
  return kernel::detail::bpf_call(command, attr) < 0 ? errno : 0;
}

std::vector<std::byte> bytes_of(std::uint32_t value) {
  std::vector<std::byte> bytes(sizeof(value));
  std::memcpy(bytes.data(), &value, sizeof(value));
  return bytes;
}

bool is_batch_unsupported(int error) noexcept {
  return error == EINVAL || error == kernel_enotsupp || error == ENOTSUP || error == ENOSYS;
}

}  // namespace

int Map::check_sizes(std::size_t key_bytes, std::size_t value_bytes) const noexcept {
  if (key_bytes != info_.key_size) return EINVAL;
  // value_stride() only throws when the CPU list is unreadable, which a per-CPU caller already met.
  std::size_t stride = info_.value_size;
  if (is_per_cpu()) {
    try {
      stride = value_stride();
    } catch (...) {
      return EINVAL;
    }
  }
  return value_bytes == stride ? 0 : EINVAL;
}

int Map::try_lookup(std::span<const std::byte> key, std::span<std::byte> value, std::uint64_t flags) const noexcept {
  if (const int error = check_sizes(key.size(), value.size())) return error;
  return static_cast<int>(element_call(BPF_MAP_LOOKUP_ELEM, fd_.get(), key_pointer(key), value.data(), flags));
}

int Map::try_update(std::span<const std::byte> key, std::span<const std::byte> value,
                    UpdateFlags flags) const noexcept {
  if (const int error = check_sizes(key.size(), value.size())) return error;
  return static_cast<int>(
      element_call(BPF_MAP_UPDATE_ELEM, fd_.get(), key_pointer(key), value.data(), static_cast<std::uint64_t>(flags)));
}

int Map::try_erase(std::span<const std::byte> key) const noexcept {
  if (key.size() != info_.key_size) return EINVAL;
  return static_cast<int>(element_call(BPF_MAP_DELETE_ELEM, fd_.get(), key_pointer(key), nullptr, 0));
}

void Map::require_sizes(std::size_t key_bytes, std::size_t value_bytes, std::string_view operation) const {
  if (key_bytes != info_.key_size) {
    util::fail(std::errc::invalid_argument, "map '{}': {}: key of {} bytes, the map's keys are {} bytes", info_.name,
               operation, key_bytes, info_.key_size);
  }
  if (value_bytes != value_stride()) {
    util::fail(std::errc::invalid_argument, "map '{}': {}: value of {} bytes, the map's values take {} bytes{}",
               info_.name, operation, value_bytes, value_stride(),
               is_per_cpu() ? fmt::format(" ({} possible CPUs)", possible_cpus()) : std::string());
  }
}

bool Map::lookup(std::span<const std::byte> key, std::span<std::byte> value, std::uint64_t flags) const {
  require_sizes(key.size(), value.size(), "lookup");
  const int error = try_lookup(key, value, flags);
  if (error == ENOENT) return false;
  if (error != 0) fail(error, "lookup");
  return true;
}

std::optional<std::vector<std::byte>> Map::lookup(std::span<const std::byte> key) const {
  std::vector<std::byte> value(value_stride());
  if (!lookup(key, value)) return std::nullopt;
  return value;
}

void Map::update(std::span<const std::byte> key, std::span<const std::byte> value, UpdateFlags flags) const {
  require_sizes(key.size(), value.size(), "update");
  if (const int error = try_update(key, value, flags)) fail(error, "update");
}

bool Map::erase(std::span<const std::byte> key) const {
  require_sizes(key.size(), value_stride(), "delete");
  const int error = try_erase(key);
  if (error == ENOENT) return false;
  if (error != 0) fail(error, "delete");
  return true;
}

bool Map::lookup_and_delete(std::span<const std::byte> key, std::span<std::byte> value) const {
  require_sizes(key.size(), value.size(), "lookup and delete");
  const auto error = element_call(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd_.get(), key_pointer(key), value.data(), 0);
  if (error == ENOENT) return false;
  if (error != 0) fail(static_cast<int>(error), "lookup and delete");
  return true;
}

bool Map::next_key(std::span<const std::byte> key, std::span<std::byte> next) const {
  if ((!key.empty() && key.size() != info_.key_size) || next.size() != info_.key_size) {
    util::fail(std::errc::invalid_argument, "map '{}': next key: keys of {} and {} bytes, the map's keys are {} bytes",
               info_.name, key.size(), next.size(), info_.key_size);
  }
  const auto error = element_call(BPF_MAP_GET_NEXT_KEY, fd_.get(), key_pointer(key), next.data(), 0);
  if (error == ENOENT) return false;
  if (error != 0) fail(static_cast<int>(error), "next key");
  return true;
}

std::vector<std::vector<std::byte>> Map::keys() const {
  std::vector<std::vector<std::byte>> keys;
  std::set<std::vector<std::byte>> seen;
  std::vector<std::byte> next(info_.key_size);
  std::span<const std::byte> current;
  while (next_key(current, next)) {
    // After a concurrent delete of the key the walk stands on, the kernel starts over from the
    // first key: meeting a reported key again ends the walk.
    if (!seen.insert(next).second) break;
    keys.push_back(next);
    current = keys.back();
  }
  return keys;
}

void Map::push(std::span<const std::byte> value, UpdateFlags flags) const {
  require_sizes(0, value.size(), "push");
  if (const int error = try_update({}, value, flags)) fail(error, "push");
}

bool Map::pop(std::span<std::byte> value) const {
  require_sizes(0, value.size(), "pop");
  const auto error = element_call(BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd_.get(), nullptr, value.data(), 0);
  if (error == ENOENT) return false;
  if (error != 0) fail(static_cast<int>(error), "pop");
  return true;
}

bool Map::peek(std::span<std::byte> value) const {
  require_sizes(0, value.size(), "peek");
  const int error = try_lookup({}, value);
  if (error == ENOENT) return false;
  if (error != 0) fail(error, "peek");
  return true;
}

void Map::set_inner(std::span<const std::byte> key, const Map& inner, UpdateFlags flags) const {
  const auto fd_bytes = bytes_of(static_cast<std::uint32_t>(inner.fd()));
  require_sizes(key.size(), fd_bytes.size(), "set inner map");
  if (const int error = try_update(key, fd_bytes, flags)) {
    fail(error, fmt::format("set inner map '{}'", inner.name()));
  }
}

std::optional<std::uint32_t> Map::inner_id(std::span<const std::byte> key) const {
  std::uint32_t id = 0;
  if (!lookup(key, std::as_writable_bytes(std::span(&id, 1)))) return std::nullopt;
  return id;
}

// ---- Batches.

void Map::update_batch(std::span<const std::byte> keys, std::span<const std::byte> values, UpdateFlags flags) const {
  const std::size_t stride = value_stride();
  const std::size_t count = info_.key_size == 0 ? 0 : keys.size() / info_.key_size;
  if (keys.size() != count * info_.key_size || values.size() != count * stride) {
    util::fail(std::errc::invalid_argument,
               "map '{}': update batch: {} key bytes and {} value bytes do not make whole entries of {}+{} bytes",
               info_.name, keys.size(), values.size(), info_.key_size, stride);
  }
  if (count == 0) return;
  const auto one_by_one = [&](std::size_t from) {
    for (std::size_t index = from; index < count; ++index) {
      update(keys.subspan(index * info_.key_size, info_.key_size), values.subspan(index * stride, stride), flags);
    }
  };
  // The batch command takes BPF_F_LOCK as its only element flag.
  if ((static_cast<std::uint64_t>(flags) & ~static_cast<std::uint64_t>(UpdateFlags::lock)) != 0) {
    one_by_one(0);
    return;
  }
  bpf_attr attr = zeroed_attr();
  attr.batch.map_fd = static_cast<std::uint32_t>(fd_.get());
  attr.batch.keys = address_of(keys.data());
  attr.batch.values = address_of(values.data());
  attr.batch.count = static_cast<std::uint32_t>(count);
  attr.batch.elem_flags = static_cast<std::uint64_t>(flags);
  if (kernel::detail::bpf_call(BPF_MAP_UPDATE_BATCH, attr) == 0) return;
  const int error = errno;
  // A batch refused before its first entry leaves count as it was; one stopped part-way says
  // how many entries it wrote.
  const std::size_t done = attr.batch.count == count ? 0 : attr.batch.count;
  if (done != 0 || !is_batch_unsupported(error)) fail(error, fmt::format("update batch (entry {} of {})", done, count));
  // Either the kernel lacks the command for this map or an entry is bad; one at a time tells which.
  one_by_one(0);
}

std::size_t Map::erase_batch(std::span<const std::byte> keys) const {
  const std::size_t count = info_.key_size == 0 ? 0 : keys.size() / info_.key_size;
  if (keys.size() != count * info_.key_size) {
    util::fail(std::errc::invalid_argument, "map '{}': delete batch: {} key bytes do not make whole keys of {} bytes",
               info_.name, keys.size(), info_.key_size);
  }
  std::size_t deleted = 0;
  std::size_t start = 0;
  while (start < count) {
    bpf_attr attr = zeroed_attr();
    attr.batch.map_fd = static_cast<std::uint32_t>(fd_.get());
    attr.batch.keys = address_of(keys.data() + start * info_.key_size);
    attr.batch.count = static_cast<std::uint32_t>(count - start);
    if (kernel::detail::bpf_call(BPF_MAP_DELETE_BATCH, attr) == 0) return deleted + attr.batch.count;
    const int error = errno;
    // A batch refused before its first key leaves count as it was.
    const std::size_t done = attr.batch.count == count - start ? 0 : attr.batch.count;
    deleted += done;
    if (error == ENOENT) {
      start += done + 1;  // the missing key stopped the batch: skip it
      continue;
    }
    if (done != 0 || !is_batch_unsupported(error)) fail(error, "delete batch");
    for (std::size_t index = start; index < count; ++index) {
      if (erase(keys.subspan(index * info_.key_size, info_.key_size))) ++deleted;
    }
    return deleted;
  }
  return deleted;
}

MapEntries Map::lookup_batch(bool and_delete) const {
  MapEntries entries;
  entries.key_size = info_.key_size;
  entries.value_stride = static_cast<std::uint32_t>(value_stride());
  const int command = and_delete ? BPF_MAP_LOOKUP_AND_DELETE_BATCH : BPF_MAP_LOOKUP_BATCH;
  // The kernel's resume token is a bucket or index it chooses; 8 bytes covers every map's kind.
  std::vector<std::byte> token(std::max<std::size_t>(info_.key_size, 8));
  std::vector<std::byte> next_token(token.size());
  std::size_t chunk = std::clamp<std::size_t>(info_.max_entries, 1, 1024);
  bool first = true;
  for (;;) {
    entries.keys.resize((entries.count + chunk) * entries.key_size);
    entries.values.resize((entries.count + chunk) * entries.value_stride);
    bpf_attr attr = zeroed_attr();
    attr.batch.map_fd = static_cast<std::uint32_t>(fd_.get());
    attr.batch.in_batch = first ? 0 : address_of(token.data());
    attr.batch.out_batch = address_of(next_token.data());
    attr.batch.keys = address_of(entries.keys.data() + entries.count * entries.key_size);
    attr.batch.values = address_of(entries.values.data() + entries.count * entries.value_stride);
    attr.batch.count = static_cast<std::uint32_t>(chunk);
    const long result = kernel::detail::bpf_call(command, attr);
    const int error = result < 0 ? errno : 0;
    if (error == 0 || error == ENOENT) entries.count += attr.batch.count;
    if (error == ENOENT) break;  // the end of the map
    if (error == ENOSPC) {
      // One hash bucket holds more entries than the chunk; count says how many.
      chunk = std::max<std::size_t>(chunk * 2, attr.batch.count);
      continue;
    }
    if (error != 0) {
      if (first && entries.count == 0 && is_batch_unsupported(error)) return lookup_one_by_one(and_delete);
      fail(error, and_delete ? "lookup and delete batch" : "lookup batch");
    }
    token.swap(next_token);
    first = false;
  }
  entries.keys.resize(entries.count * entries.key_size);
  entries.values.resize(entries.count * entries.value_stride);
  return entries;
}

MapEntries Map::lookup_one_by_one(bool and_delete) const {
  MapEntries entries;
  entries.key_size = info_.key_size;
  entries.value_stride = static_cast<std::uint32_t>(value_stride());
  std::vector<std::byte> value(entries.value_stride);
  for (const auto& key : keys()) {
    const bool found = and_delete ? lookup_and_delete(key, value) : lookup(key, value);
    if (!found) continue;  // deleted since the walk saw it
    entries.keys.insert(entries.keys.end(), key.begin(), key.end());
    entries.values.insert(entries.values.end(), value.begin(), value.end());
    ++entries.count;
  }
  return entries;
}

// ---- Typed views.

void detail::check_view_sizes(const Map& map, std::size_t key_size, std::size_t value_size, bool per_cpu) {
  const char* kind = per_cpu ? "per-CPU view" : "typed view";
  if (map.is_per_cpu() != per_cpu) {
    util::fail(std::errc::invalid_argument, "map '{}': {}: the map is a {} map; use {}", map.name(), kind,
               map_type_name(map.type()), per_cpu ? "MapView" : "PerCpuMapView");
  }
  if (key_size != map.key_size()) {
    util::fail(std::errc::invalid_argument, "map '{}': {}: the key type is {} bytes, the map's keys are {} bytes",
               map.name(), kind, key_size, map.key_size());
  }
  if (value_size != map.value_size()) {
    util::fail(std::errc::invalid_argument, "map '{}': {}: the value type is {} bytes, the map's values are {} bytes",
               map.name(), kind, value_size, map.value_size());
  }
}

}  // namespace corebpf
