// Walking, opening and describing the kernel's BPF objects by id.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "corebpf/kernel.hpp"
#include "corebpf/object_spec.hpp"
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

using corebpf::kernel::detail::zeroed_attr;

std::string fixed_string(const char* chars, std::size_t capacity) {
  return std::string(chars, strnlen(chars, capacity));
}

// The "name:\tvalue" lines of /proc/self/fdinfo/FD: what BPF_OBJ_GET_INFO_BY_FD does not tell
// (memlock, frozen, the object's kind). Missing or unreadable lines give an empty result.
std::optional<std::string> fdinfo_field(int fd, std::string_view field) {
  std::ifstream in(fmt::format("/proc/self/fdinfo/{}", fd));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(field) || line.size() <= field.size() || line[field.size()] != ':') continue;
    const std::size_t start = line.find_first_not_of(" \t", field.size() + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> fdinfo_number(int fd, std::string_view field) {
  const auto text = fdinfo_field(fd, field);
  if (!text) return std::nullopt;
  try {
    return std::stoull(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string attach_type_text(std::uint32_t type) {
  const std::string_view name = attach_type_name(static_cast<AttachType>(type));
  return name.empty() ? fmt::format("{}", type) : std::string(name);
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
    // ENOENT: gone since the listing; EAGAIN: a link another process is still setting up (its
    // id is listed before the link is complete).
    if (e.errno_value() == ENOENT || e.errno_value() == EAGAIN) return std::nullopt;
    throw;
  }
}

UniqueFd open_pinned(const std::string& path) {
  bpf_attr attr = zeroed_attr();
  attr.pathname = reinterpret_cast<std::uintptr_t>(path.c_str());
  return detail::bpf_fd_call(BPF_OBJ_GET, attr, fmt::format("of pin {}", path));
}

std::optional<ObjectType> object_type_of(int fd) {
  if (fdinfo_field(fd, "prog_type")) return ObjectType::program;
  if (fdinfo_field(fd, "map_type")) return ObjectType::map;
  if (fdinfo_field(fd, "link_type")) return ObjectType::link;
  return std::nullopt;
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
  info.loaded_at_ns = raw.load_time;
  info.created_by_uid = raw.created_by_uid;
  info.xlated_size = raw.xlated_prog_len;
  info.jited_size = raw.jited_prog_len;
  info.gpl_compatible = raw.gpl_compatible != 0;
  info.run_time_ns = raw.run_time_ns;
  info.run_count = raw.run_cnt;
  info.verified_insns = raw.verified_insns;
  if (raw.nr_map_ids != 0) {
    // A second call with room for the map ids only (the other arrays stay unrequested).
    info.map_ids.resize(raw.nr_map_ids);
    bpf_prog_info ids{};
    ids.nr_map_ids = raw.nr_map_ids;
    ids.map_ids = reinterpret_cast<std::uintptr_t>(info.map_ids.data());
    detail::object_info(fd, &ids, sizeof(ids), fmt::format("(program fd {})", fd));
    info.map_ids.resize(std::min(ids.nr_map_ids, raw.nr_map_ids));
  }
  info.memlock_bytes = fdinfo_number(fd, "memlock");
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
  info.btf_vmlinux_value_type_id = raw.btf_vmlinux_value_type_id;
  info.memlock_bytes = fdinfo_number(fd, "memlock");
  info.frozen = fdinfo_number(fd, "frozen").value_or(0) != 0;
  return info;
}

LinkInfo link_info(int fd) {
  bpf_link_info raw{};
  const auto what = fmt::format("(link fd {})", fd);
  detail::object_info(fd, &raw, sizeof(raw), what);
  // Names (tracepoint, iterator target) come back only through a buffer the caller provides, and
  // which union member holds it depends on the type the first call told.
  std::array<char, 256> name{};
  if (raw.type == BPF_LINK_TYPE_RAW_TRACEPOINT || raw.type == BPF_LINK_TYPE_ITER) {
    const auto type = raw.type;
    raw = bpf_link_info{};
    if (type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
      raw.raw_tracepoint.tp_name = reinterpret_cast<std::uintptr_t>(name.data());
      raw.raw_tracepoint.tp_name_len = name.size();
    } else {
      raw.iter.target_name = reinterpret_cast<std::uintptr_t>(name.data());
      raw.iter.target_name_len = name.size();
    }
    detail::object_info(fd, &raw, sizeof(raw), what);
  }
  LinkInfo info{raw.id, raw.type, raw.prog_id, {}};
  auto& d = info.details;
  switch (raw.type) {
    case BPF_LINK_TYPE_RAW_TRACEPOINT:
      d.emplace_back("tp_name", fixed_string(name.data(), name.size()));
      break;
    case BPF_LINK_TYPE_ITER:
      d.emplace_back("target_name", fixed_string(name.data(), name.size()));
      break;
    case BPF_LINK_TYPE_TRACING:
      d.emplace_back("attach_type", attach_type_text(raw.tracing.attach_type));
      d.emplace_back("target_obj_id", fmt::format("{}", raw.tracing.target_obj_id));
      d.emplace_back("target_btf_id", fmt::format("{}", raw.tracing.target_btf_id));
      break;
    case BPF_LINK_TYPE_CGROUP:
      d.emplace_back("cgroup_id", fmt::format("{}", raw.cgroup.cgroup_id));
      d.emplace_back("attach_type", attach_type_text(raw.cgroup.attach_type));
      break;
    case BPF_LINK_TYPE_NETNS:
      d.emplace_back("netns_ino", fmt::format("{}", raw.netns.netns_ino));
      d.emplace_back("attach_type", attach_type_text(raw.netns.attach_type));
      break;
    case BPF_LINK_TYPE_XDP:
      d.emplace_back("ifindex", fmt::format("{}", raw.xdp.ifindex));
      break;
    default:
      break;
  }
  return info;
}

std::string_view link_type_name(std::uint32_t type) noexcept { return uapi::name_at(uapi::kLinkTypeNames, type); }

}  // namespace corebpf::kernel
