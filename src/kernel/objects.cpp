// Walking, opening and describing the kernel's BPF objects by id.
#include <cerrno>
#include <cstring>

#include "corebpf/kernel.hpp"
#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"

namespace corebpf::kernel {
namespace {

struct Commands {
  int next_id;
  int fd_by_id;
};

Commands commands_for(ObjectType type) {
  switch (type) {
    case ObjectType::program:
      return {BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID};
    case ObjectType::map:
      return {BPF_MAP_GET_NEXT_ID, BPF_MAP_GET_FD_BY_ID};
    case ObjectType::btf:
      return {BPF_BTF_GET_NEXT_ID, BPF_BTF_GET_FD_BY_ID};
    case ObjectType::link:
      return {BPF_LINK_GET_NEXT_ID, BPF_LINK_GET_FD_BY_ID};
  }
  return {BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID};
}

bpf_attr zeroed_attr() {
  bpf_attr attr{};
  std::memset(&attr, 0, sizeof(attr));  // all of the union, not only its first member
  return attr;
}

std::string fixed_string(const char* chars, std::size_t capacity) {
  return std::string(chars, strnlen(chars, capacity));
}

}  // namespace

std::string_view object_type_name(ObjectType type) noexcept {
  switch (type) {
    case ObjectType::program:
      return "program";
    case ObjectType::map:
      return "map";
    case ObjectType::btf:
      return "BTF";
    case ObjectType::link:
      return "link";
  }
  return "object";
}

std::optional<std::uint32_t> next_id(ObjectType type, std::uint32_t after) {
  bpf_attr attr = zeroed_attr();
  attr.start_id = after;
  const int command = commands_for(type).next_id;
  if (detail::bpf_call(command, attr) < 0) {
    if (errno == ENOENT) return std::nullopt;
    util::fail_errno("{} after id {}", detail::command_name(command), after);
  }
  return attr.next_id;
}

std::vector<std::uint32_t> list_ids(ObjectType type) {
  std::vector<std::uint32_t> ids;
  std::uint32_t id = 0;
  while (auto next = next_id(type, id)) {
    id = *next;
    ids.push_back(id);
  }
  return ids;
}

UniqueFd open_by_id(ObjectType type, std::uint32_t id) {
  bpf_attr attr = zeroed_attr();
  attr.start_id = id;  // shares its place with prog_id, map_id, btf_id and link_id
  return detail::bpf_fd_call(commands_for(type).fd_by_id, attr, fmt::format("id {}", id));
}

std::optional<UniqueFd> try_open_by_id(ObjectType type, std::uint32_t id) {
  try {
    return open_by_id(type, id);
  } catch (const Error& e) {
    if (e.errno_value() == ENOENT) return std::nullopt;
    throw;
  }
}

BtfInfo btf_info(int fd) {
  bpf_btf_info raw{};
  detail::object_info(fd, &raw, sizeof(raw), fmt::format("(BTF fd {})", fd));
  // A second call fetches the name now that its length is known.
  std::string name;
  if (raw.name_len != 0) {
    std::vector<char> buffer(raw.name_len + 1, '\0');
    bpf_btf_info named{};
    named.name = reinterpret_cast<std::uintptr_t>(buffer.data());
    named.name_len = static_cast<std::uint32_t>(buffer.size());
    detail::object_info(fd, &named, sizeof(named), fmt::format("(BTF fd {})", fd));
    name = fixed_string(buffer.data(), buffer.size());
  }
  return {raw.id, raw.btf_size, raw.kernel_btf != 0, std::move(name)};
}

ProgramInfo program_info(int fd) {
  bpf_prog_info raw{};
  detail::object_info(fd, &raw, sizeof(raw), fmt::format("(program fd {})", fd));
  ProgramInfo info;
  info.id = raw.id;
  info.type = raw.type;
  info.name = fixed_string(raw.name, sizeof(raw.name));
  std::memcpy(info.tag.data(), raw.tag, info.tag.size());
  info.btf_id = raw.btf_id;
  return info;
}

MapInfo map_info(int fd) {
  bpf_map_info raw{};
  detail::object_info(fd, &raw, sizeof(raw), fmt::format("(map fd {})", fd));
  MapInfo info;
  info.id = raw.id;
  info.type = raw.type;
  info.name = fixed_string(raw.name, sizeof(raw.name));
  info.key_size = raw.key_size;
  info.value_size = raw.value_size;
  info.max_entries = raw.max_entries;
  info.flags = raw.map_flags;
  info.btf_id = raw.btf_id;
  info.btf_key_type_id = raw.btf_key_type_id;
  info.btf_value_type_id = raw.btf_value_type_id;
  return info;
}

LinkInfo link_info(int fd) {
  bpf_link_info raw{};
  detail::object_info(fd, &raw, sizeof(raw), fmt::format("(link fd {})", fd));
  return {raw.id, raw.type, raw.prog_id};
}

}  // namespace corebpf::kernel
