// corebpf::Map: the move-only owner of one kernel BPF map, and the byte-level operations on it.
// Typed access is MapView<K, V> (map_view.hpp) on top of this handle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/fd.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf {

// Everything BPF_MAP_CREATE takes. Fds are borrowed: the caller keeps them open for the call.
struct MapCreateOptions {
  std::string name;  // the kernel keeps 15 characters; longer names are cut
  MapType type = MapType::hash;
  std::uint32_t key_size = 0;
  std::uint32_t value_size = 0;
  std::uint32_t max_entries = 0;
  std::uint32_t flags = 0;  // BPF_F_*
  std::optional<std::uint32_t> numa_node;
  int btf_fd = -1;  // with the type ids below; -1 for a map without BTF
  std::uint32_t btf_key_type_id = 0;
  std::uint32_t btf_value_type_id = 0;
  std::uint32_t btf_vmlinux_value_type_id = 0;  // struct_ops maps
  int inner_map_fd = -1;                        // template of array_of_maps / hash_of_maps
  std::uint64_t map_extra = 0;                  // bloom filter hashes, arena address
};

// What the kernel reports about a map (BPF_OBJ_GET_INFO_BY_FD).
struct MapInfo {
  std::string name;
  MapType type = MapType::unspec;
  std::uint32_t key_size = 0;
  std::uint32_t value_size = 0;
  std::uint32_t max_entries = 0;
  std::uint32_t flags = 0;
  std::uint32_t id = 0;
  std::uint32_t btf_id = 0;
  std::uint32_t btf_key_type_id = 0;
  std::uint32_t btf_value_type_id = 0;
  std::uint32_t btf_vmlinux_value_type_id = 0;
  std::uint64_t map_extra = 0;
};

// bpf_map_update_elem flags.
enum class UpdateFlags : std::uint64_t {
  any = 0,       // BPF_ANY: create or replace
  no_exist = 1,  // BPF_NOEXIST: create only
  exist = 2,     // BPF_EXIST: replace only
  lock = 4,      // BPF_F_LOCK: update under the value's bpf_spin_lock (combine with the above)
};
constexpr UpdateFlags operator|(UpdateFlags a, UpdateFlags b) noexcept {
  return static_cast<UpdateFlags>(static_cast<std::uint64_t>(a) | static_cast<std::uint64_t>(b));
}

// How many CPUs the kernel may ever bring up (/sys/devices/system/cpu/possible): per-CPU maps hold
// one value slot for each. Read once per process; throws corebpf::Error if unreadable.
std::uint32_t possible_cpus();

class Map {
 public:
  // BPF_MAP_CREATE. Throws corebpf::Error carrying the kernel's errno and naming the map.
  static Map create(const MapCreateOptions& options);
  // Takes ownership of a map fd and reads the map's info. Throws if `fd` is not a map.
  static Map adopt(UniqueFd fd);
  // BPF_OBJ_GET on a bpffs path; throws naming the path (ENOENT, or EINVAL if it is not a map).
  static Map open_pinned(const std::string& path);
  // BPF_MAP_GET_FD_BY_ID.
  static Map open_by_id(std::uint32_t id);

  Map() = default;  // empty: no map
  Map(Map&&) noexcept = default;
  Map& operator=(Map&&) noexcept = default;
  Map(const Map&) = delete;
  Map& operator=(const Map&) = delete;
  ~Map() = default;

  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }
  int fd() const noexcept { return fd_.get(); }
  const MapInfo& info() const noexcept { return info_; }
  const std::string& name() const noexcept { return info_.name; }
  MapType type() const noexcept { return info_.type; }
  std::uint32_t key_size() const noexcept { return info_.key_size; }
  std::uint32_t value_size() const noexcept { return info_.value_size; }
  std::uint32_t max_entries() const noexcept { return info_.max_entries; }
  // Whether each element holds one value per possible CPU (percpu_hash, percpu_array,
  // lru_percpu_hash, percpu_cgroup_storage).
  bool is_per_cpu() const noexcept;
  // Bytes one element's value takes in user-space buffers: value_size, or for a per-CPU map
  // value_size rounded up to 8 times possible_cpus().
  std::size_t value_stride() const;

  // BPF_OBJ_PIN at `path` on a bpffs (the path must not exist yet).
  void pin(const std::string& path) const;
  // Removes the pin at `path` (the map lives on while fds or programs hold it).
  static void unpin(const std::string& path);
  // BPF_MAP_FREEZE: user space can no longer write the map (programs still can).
  void freeze() const;
  // Re-reads the info from the kernel (ids and flags do not change; this is for callers that
  // adopted a map before its BTF was attached, for instance).
  void refresh_info();

 private:
  Map(UniqueFd fd, MapInfo info) noexcept : fd_(std::move(fd)), info_(std::move(info)) {}
  [[noreturn]] void fail(int error, std::string_view operation) const;

  UniqueFd fd_;
  MapInfo info_;
};

}  // namespace corebpf
