// A fake kernel behind the syscall seam (src/kernel/syscalls.hpp), for unit tests of the kernel
// layer without root: hash maps held in memory (create, info, element operations, key walk),
// programs, links and perf events as fds of /dev/null, and every other command refused with the
// errno a test chooses, the way an older kernel refuses what it does not have. It records every
// call, so a test asserts on the sequence the library made (the fallback it took).
#pragma once

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "kernel/syscalls.hpp"

namespace corebpf::test {

class FakeKernel : public kernel::detail::Syscalls {
 public:
  struct FakeMap {
    bpf_map_info info{};
    std::map<std::vector<unsigned char>, std::vector<unsigned char>> entries;
  };

  FakeKernel() : installed_(*this) {}

  // Commands answered with -1 and this errno (instead of the default below).
  std::map<int, int> refuse;
  // The errno of a command the fake does not implement: EINVAL, what a kernel without it says.
  int unknown_errno = EINVAL;
  std::vector<int> commands;               // every bpf() command, in order
  std::vector<unsigned long> perf_ioctls;  // every perf event ioctl request, in order
  std::map<int, FakeMap> maps;             // by fd
  std::map<int, bpf_prog_info> programs;   // by fd

  // A program handle the library can take (Program's constructor reads its info).
  int add_program(bpf_prog_type type, const char* name) {
    const int fd = new_fd();
    bpf_prog_info info{};
    info.type = type;
    info.id = ++last_id_;
    std::strncpy(info.name, name, sizeof(info.name) - 1);
    programs[fd] = info;
    return fd;
  }

  std::size_t count(int command) const {
    std::size_t n = 0;
    for (const int c : commands) n += c == command;
    return n;
  }

  long bpf(int command, void* attr_bytes, unsigned size) noexcept override {
    commands.push_back(command);
    if (size < sizeof(bpf_attr)) return fail(EINVAL);
    auto& attr = *static_cast<bpf_attr*>(attr_bytes);
    if (auto it = refuse.find(command); it != refuse.end()) return fail(it->second);
    switch (command) {
      case BPF_MAP_CREATE: {
        const int fd = new_fd();
        FakeMap map;
        map.info.type = attr.map_type;
        map.info.id = ++last_id_;
        map.info.key_size = attr.key_size;
        map.info.value_size = attr.value_size;
        map.info.max_entries = attr.max_entries;
        map.info.map_flags = attr.map_flags;
        std::memcpy(map.info.name, attr.map_name, sizeof(map.info.name));
        maps[fd] = map;
        return fd;
      }
      case BPF_OBJ_GET_INFO_BY_FD: {
        const int fd = static_cast<int>(attr.info.bpf_fd);
        void* out = reinterpret_cast<void*>(static_cast<std::uintptr_t>(attr.info.info));
        if (auto it = maps.find(fd); it != maps.end())
          return copy_info(attr, out, &it->second.info, sizeof(bpf_map_info));
        if (auto it = programs.find(fd); it != programs.end())
          return copy_info(attr, out, &it->second, sizeof(bpf_prog_info));
        return fail(EBADF);
      }
      case BPF_MAP_UPDATE_ELEM:
      case BPF_MAP_LOOKUP_ELEM:
      case BPF_MAP_DELETE_ELEM:
      case BPF_MAP_GET_NEXT_KEY:
        return element(command, attr);
      case BPF_RAW_TRACEPOINT_OPEN:
      case BPF_LINK_CREATE:
        return new_fd();
      default:
        return fail(unknown_errno);
    }
  }

  int perf_event_open(void*, int, int, int, unsigned long) noexcept override { return new_fd(); }
  int perf_event_ioctl(int, unsigned long request, unsigned long) noexcept override {
    perf_ioctls.push_back(request);
    return 0;
  }

 private:
  static long fail(int error) noexcept {
    errno = error;
    return -1;
  }
  static int new_fd() noexcept { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
  static long copy_info(bpf_attr& attr, void* out, const void* info, std::size_t size) noexcept {
    const std::size_t n = std::min<std::size_t>(attr.info.info_len, size);
    std::memcpy(out, info, n);
    attr.info.info_len = static_cast<std::uint32_t>(n);
    return 0;
  }

  long element(int command, bpf_attr& attr) noexcept {
    auto it = maps.find(static_cast<int>(attr.map_fd));
    if (it == maps.end()) return fail(EBADF);
    auto& map = it->second;
    const auto* key_bytes = reinterpret_cast<const unsigned char*>(static_cast<std::uintptr_t>(attr.key));
    auto* value = reinterpret_cast<unsigned char*>(static_cast<std::uintptr_t>(attr.value));
    std::vector<unsigned char> key;
    if (key_bytes != nullptr) key.assign(key_bytes, key_bytes + map.info.key_size);
    switch (command) {
      case BPF_MAP_UPDATE_ELEM:
        map.entries[key].assign(value, value + map.info.value_size);
        return 0;
      case BPF_MAP_LOOKUP_ELEM: {
        auto entry = map.entries.find(key);
        if (entry == map.entries.end()) return fail(ENOENT);
        std::memcpy(value, entry->second.data(), entry->second.size());
        return 0;
      }
      case BPF_MAP_DELETE_ELEM:
        return map.entries.erase(key) == 1 ? 0 : fail(ENOENT);
      default: {  // GET_NEXT_KEY: in key order; a missing or null key starts over
        auto next = key_bytes == nullptr ? map.entries.begin() : map.entries.upper_bound(key);
        if (key_bytes != nullptr && !map.entries.contains(key)) next = map.entries.begin();
        if (next == map.entries.end()) return fail(ENOENT);
        std::memcpy(reinterpret_cast<void*>(static_cast<std::uintptr_t>(attr.next_key)), next->first.data(),
                    next->first.size());
        return 0;
      }
    }
  }

  std::uint32_t last_id_ = 1000;
  kernel::detail::ScopedSyscalls installed_;
};

}  // namespace corebpf::test
