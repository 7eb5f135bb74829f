// [kernel] corebpf::Map: the move-only owner of one kernel BPF map, and the byte-level operations on it.
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

// The whole contents of a map read in one go: `count` keys of key_size bytes back to back, and
// their values of value_stride bytes (all CPUs' values for a per-CPU map) in the same order.
struct MapEntries {
  std::size_t count = 0;
  std::uint32_t key_size = 0;
  std::uint32_t value_stride = 0;
  std::vector<std::byte> keys;
  std::vector<std::byte> values;

  std::span<const std::byte> key(std::size_t index) const noexcept {
    return std::span(keys).subspan(index * key_size, key_size);
  }
  std::span<const std::byte> value(std::size_t index) const noexcept {
    return std::span(values).subspan(index * value_stride, value_stride);
  }
};

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

  // ---- Element operations. The non-throwing try_* forms return 0 or an errno value (ENOENT for
  // a missing key); the others throw corebpf::Error ("map 'counts': update: File exists (EEXIST)").
  // Keys are key_size bytes, values value_stride() bytes; a wrong size throws EINVAL (try_*
  // return EINVAL).

  [[nodiscard]] int try_lookup(std::span<const std::byte> key, std::span<std::byte> value,
                               std::uint64_t flags = 0) const noexcept;
  [[nodiscard]] int try_update(std::span<const std::byte> key, std::span<const std::byte> value,
                               UpdateFlags flags = UpdateFlags::any) const noexcept;
  [[nodiscard]] int try_erase(std::span<const std::byte> key) const noexcept;

  // False when the key is not in the map.
  bool lookup(std::span<const std::byte> key, std::span<std::byte> value, std::uint64_t flags = 0) const;
  std::optional<std::vector<std::byte>> lookup(std::span<const std::byte> key) const;
  void update(std::span<const std::byte> key, std::span<const std::byte> value,
              UpdateFlags flags = UpdateFlags::any) const;
  // False when the key was not in the map.
  bool erase(std::span<const std::byte> key) const;
  // BPF_MAP_LOOKUP_AND_DELETE_ELEM with a key (hash maps, 5.14+); false when missing.
  bool lookup_and_delete(std::span<const std::byte> key, std::span<std::byte> value) const;

  // The key after `key` (the first key with an empty span) into `next`; false after the last.
  bool next_key(std::span<const std::byte> key, std::span<std::byte> next) const;
  // Every key at the time of the walk (a concurrently changing hash map may restart the walk
  // from its start when the key it stood on was deleted; keys are never reported twice).
  std::vector<std::vector<std::byte>> keys() const;

  // ---- Queue and stack maps (no key).
  void push(std::span<const std::byte> value, UpdateFlags flags = UpdateFlags::any) const;
  // False when empty.
  bool pop(std::span<std::byte> value) const;
  bool peek(std::span<std::byte> value) const;

  // ---- Maps of maps: slots hold inner maps; lookups give the inner map's id.
  void set_inner(std::span<const std::byte> key, const Map& inner, UpdateFlags flags = UpdateFlags::any) const;
  std::optional<std::uint32_t> inner_id(std::span<const std::byte> key) const;

  // ---- Batches. `keys` holds `count` keys back to back, `values` their values (value_stride()
  // each). Kernels without the batch commands for this map type (EINVAL/ENOTSUPP) are served
  // element by element, with the same results.
  void update_batch(std::span<const std::byte> keys, std::span<const std::byte> values,
                    UpdateFlags flags = UpdateFlags::any) const;
  // Deletes the keys; returns how many were deleted (missing keys are skipped, not errors).
  std::size_t erase_batch(std::span<const std::byte> keys) const;
  // The whole map; with `and_delete` the entries read are removed too (hash maps).
  MapEntries lookup_batch(bool and_delete = false) const;

 private:
  Map(UniqueFd fd, MapInfo info) noexcept : fd_(std::move(fd)), info_(std::move(info)) {}
  [[noreturn]] void fail(int error, std::string_view operation) const;
  int check_sizes(std::size_t key_bytes, std::size_t value_bytes) const noexcept;
  void require_sizes(std::size_t key_bytes, std::size_t value_bytes, std::string_view operation) const;
  MapEntries lookup_one_by_one(bool and_delete) const;

  UniqueFd fd_;
  MapInfo info_;
};

}  // namespace corebpf
