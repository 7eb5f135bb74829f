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

ProgramCode program_code(int fd) {
  const auto what = fmt::format("(program fd {})", fd);
  bpf_prog_info counts{};
  detail::object_info(fd, &counts, sizeof(counts), what);
  ProgramCode code;
  code.btf_id = counts.btf_id;
  code.xlated.resize(counts.xlated_prog_len / sizeof(Insn));
  code.jited.resize(counts.jited_prog_len);
  code.jited_ksyms.resize(counts.nr_jited_ksyms);
  code.jited_func_lens.resize(counts.nr_jited_func_lens);
  // The records as the kernel lays them out, at the sizes it says (newer kernels may grow them).
  const std::uint32_t func_size = std::max<std::uint32_t>(counts.func_info_rec_size, sizeof(bpf_func_info));
  const std::uint32_t line_size = std::max<std::uint32_t>(counts.line_info_rec_size, sizeof(bpf_line_info));
  const std::uint32_t jited_line_size = std::max<std::uint32_t>(counts.jited_line_info_rec_size, sizeof(std::uint64_t));
  std::vector<std::byte> funcs(std::size_t{counts.nr_func_info} * func_size);
  std::vector<std::byte> lines(std::size_t{counts.nr_line_info} * line_size);
  std::vector<std::byte> jited_lines(std::size_t{counts.nr_jited_line_info} * jited_line_size);

  bpf_prog_info request{};
  request.xlated_prog_len = counts.xlated_prog_len;
  request.xlated_prog_insns = reinterpret_cast<std::uintptr_t>(code.xlated.data());
  request.jited_prog_len = counts.jited_prog_len;
  request.jited_prog_insns = reinterpret_cast<std::uintptr_t>(code.jited.data());
  request.nr_jited_ksyms = counts.nr_jited_ksyms;
  request.jited_ksyms = reinterpret_cast<std::uintptr_t>(code.jited_ksyms.data());
  request.nr_jited_func_lens = counts.nr_jited_func_lens;
  request.jited_func_lens = reinterpret_cast<std::uintptr_t>(code.jited_func_lens.data());
  request.nr_func_info = counts.nr_func_info;
  request.func_info_rec_size = func_size;
  request.func_info = reinterpret_cast<std::uintptr_t>(funcs.data());
  request.nr_line_info = counts.nr_line_info;
  request.line_info_rec_size = line_size;
  request.line_info = reinterpret_cast<std::uintptr_t>(lines.data());
  request.nr_jited_line_info = counts.nr_jited_line_info;
  request.jited_line_info_rec_size = jited_line_size;
  request.jited_line_info = reinterpret_cast<std::uintptr_t>(jited_lines.data());
  detail::object_info(fd, &request, sizeof(request), what);
  // The program cannot change, but a kernel that hides addresses answers with fewer (or no) bytes.
  code.xlated.resize(std::min<std::size_t>(code.xlated.size(), request.xlated_prog_len / sizeof(Insn)));
  code.jited.resize(std::min<std::size_t>(code.jited.size(), request.jited_prog_len));
  code.jited_ksyms.resize(std::min(counts.nr_jited_ksyms, request.nr_jited_ksyms));
  code.jited_func_lens.resize(std::min(counts.nr_jited_func_lens, request.nr_jited_func_lens));

  for (std::uint32_t i = 0; i < std::min(counts.nr_func_info, request.nr_func_info); ++i) {
    bpf_func_info raw{};
    std::memcpy(&raw, funcs.data() + std::size_t{i} * func_size, sizeof(raw));
    code.func_info.push_back({raw.insn_off, raw.type_id});
  }
  for (std::uint32_t i = 0; i < std::min(counts.nr_line_info, request.nr_line_info); ++i) {
    bpf_line_info raw{};
    std::memcpy(&raw, lines.data() + std::size_t{i} * line_size, sizeof(raw));
    code.line_info.push_back({raw.insn_off, raw.file_name_off, raw.line_off, raw.line_col >> 10, raw.line_col & 0x3ff});
  }
  for (std::uint32_t i = 0; i < std::min(counts.nr_jited_line_info, request.nr_jited_line_info); ++i) {
    std::uint64_t address = 0;
    std::memcpy(&address, jited_lines.data() + std::size_t{i} * jited_line_size, sizeof(address));
    code.jited_line_info.push_back(address);
  }
  return code;
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

namespace {

// Iterator targets whose link info carries the map, the cgroup or the task iterated
// (kernel/bpf/map_iter.c, net/core/bpf_sk_storage.c, net/core/sock_map.c, kernel/bpf/cgroup_iter.c,
// kernel/bpf/task_iter.c).
bool is_map_iter(std::string_view target) {
  return target == "bpf_map_elem" || target == "bpf_sk_storage_map" || target == "sockmap";
}
bool is_task_iter(std::string_view target) { return target == "task" || target == "task_file" || target == "task_vma"; }

template <class T>
std::uint64_t user_pointer(T* data) {
  return reinterpret_cast<std::uintptr_t>(data);
}

}  // namespace

// The kernel fills bpf_link_info in two steps: the first call tells the type (and the counts of
// what comes back through buffers); names, addresses and offsets come only through buffers the
// caller provides in a second call, in the union member of that type.
LinkInfo link_info(int fd) {
  const auto what = fmt::format("(link fd {})", fd);
  uapi::bpf_link_info raw{};
  detail::object_info(fd, &raw, sizeof(raw), what);
  LinkInfo info{raw.id, raw.type, raw.prog_id, {}};
  const auto again = [&](auto&& set_buffers) {
    uapi::bpf_link_info request{};
    set_buffers(request);
    detail::object_info(fd, &request, sizeof(request), what);
    return request;
  };
  // PATH_MAX: the longest name the kernel gives back (uprobe paths; KSYM_NAME_LEN is less).
  std::vector<char> name(4096);
  const auto name_text = [&] { return fixed_string(name.data(), name.size()); };
  switch (raw.type) {
    case uapi::BPF_LINK_TYPE_RAW_TRACEPOINT:
      again([&](uapi::bpf_link_info& r) {
        r.raw_tracepoint.tp_name = user_pointer(name.data());
        r.raw_tracepoint.tp_name_len = static_cast<std::uint32_t>(name.size());
      });
      info.details = RawTracepointLinkInfo{name_text()};
      break;
    case uapi::BPF_LINK_TYPE_TRACING:
      info.details = TracingLinkInfo{raw.tracing.attach_type, raw.tracing.target_obj_id, raw.tracing.target_btf_id};
      break;
    case uapi::BPF_LINK_TYPE_CGROUP:
      info.details = CgroupLinkInfo{raw.cgroup.cgroup_id, raw.cgroup.attach_type};
      break;
    case uapi::BPF_LINK_TYPE_ITER: {
      const auto r = again([&](uapi::bpf_link_info& r) {
        r.iter.target_name = user_pointer(name.data());
        r.iter.target_name_len = static_cast<std::uint32_t>(name.size());
      });
      IterLinkInfo iter{name_text(), {}, {}, {}};
      if (is_map_iter(iter.target_name)) iter.map_id = r.iter.map.map_id;
      if (iter.target_name == "cgroup")
        iter.cgroup = IterLinkInfo::Cgroup{r.iter.cgroup.cgroup_id, r.iter.cgroup.order};
      if (is_task_iter(iter.target_name)) iter.task = IterLinkInfo::Task{r.iter.task.tid, r.iter.task.pid};
      info.details = std::move(iter);
      break;
    }
    case uapi::BPF_LINK_TYPE_NETNS:
      info.details = NetnsLinkInfo{raw.netns.netns_ino, raw.netns.attach_type};
      break;
    case uapi::BPF_LINK_TYPE_XDP:
      info.details = XdpLinkInfo{raw.xdp.ifindex};
      break;
    case uapi::BPF_LINK_TYPE_STRUCT_OPS:
      info.details = StructOpsLinkInfo{raw.struct_ops.map_id};
      break;
    case uapi::BPF_LINK_TYPE_NETFILTER:
      info.details =
          NetfilterLinkInfo{raw.netfilter.pf, raw.netfilter.hooknum, raw.netfilter.priority, raw.netfilter.flags};
      break;
    case uapi::BPF_LINK_TYPE_KPROBE_MULTI: {
      KprobeMultiLinkInfo multi;
      multi.flags = raw.kprobe_multi.flags;
      multi.missed = raw.kprobe_multi.missed;
      const std::uint32_t count = raw.kprobe_multi.count;
      // A link has at least one address: a zero count is a kernel (before 6.6) that reports none.
      if (count != 0) {
        multi.count = count;
        multi.addresses.resize(count);
        multi.cookies.resize(count);
        const auto r = again([&](uapi::bpf_link_info& r) {
          r.kprobe_multi.addrs = user_pointer(multi.addresses.data());
          r.kprobe_multi.cookies = user_pointer(multi.cookies.data());
          r.kprobe_multi.count = count;
        });
        multi.missed = r.kprobe_multi.missed;
      }
      info.details = std::move(multi);
      break;
    }
    case uapi::BPF_LINK_TYPE_UPROBE_MULTI: {
      UprobeMultiLinkInfo multi;
      const std::uint32_t count = raw.uprobe_multi.count;
      multi.offsets.resize(count);
      multi.ref_ctr_offsets.resize(count);
      multi.cookies.resize(count);
      const auto r = again([&](uapi::bpf_link_info& r) {
        r.uprobe_multi.path = user_pointer(name.data());
        r.uprobe_multi.path_size = static_cast<std::uint32_t>(name.size());
        if (count == 0) return;
        r.uprobe_multi.offsets = user_pointer(multi.offsets.data());
        r.uprobe_multi.ref_ctr_offsets = user_pointer(multi.ref_ctr_offsets.data());
        r.uprobe_multi.cookies = user_pointer(multi.cookies.data());
        r.uprobe_multi.count = count;
      });
      multi.path = name_text();
      multi.count = r.uprobe_multi.count;
      multi.flags = r.uprobe_multi.flags;
      multi.pid = r.uprobe_multi.pid;
      info.details = std::move(multi);
      break;
    }
    case uapi::BPF_LINK_TYPE_PERF_EVENT: {
      PerfEventLinkInfo perf;
      perf.kind = static_cast<PerfEventLinkInfo::Kind>(raw.perf_event.type);
      using Kind = PerfEventLinkInfo::Kind;
      if (perf.kind == Kind::event) {
        perf.config = raw.perf_event.event.config;
        perf.event_type = raw.perf_event.event.type;
        perf.cookie = raw.perf_event.event.cookie;
      } else if (perf.kind != Kind::unspec) {
        // uprobe.file_name, kprobe.func_name and tracepoint.tp_name share their place, as do the
        // lengths; the kind is known from the first call.
        const auto r = again([&](uapi::bpf_link_info& r) {
          r.perf_event.uprobe.file_name = user_pointer(name.data());
          r.perf_event.uprobe.name_len = static_cast<std::uint32_t>(name.size());
        });
        perf.name = name_text();
        if (perf.kind == Kind::uprobe || perf.kind == Kind::uretprobe) {
          perf.offset = r.perf_event.uprobe.offset;
          perf.cookie = r.perf_event.uprobe.cookie;
        } else if (perf.kind == Kind::kprobe || perf.kind == Kind::kretprobe) {
          perf.offset = r.perf_event.kprobe.offset;
          perf.address = r.perf_event.kprobe.addr;
          perf.missed = r.perf_event.kprobe.missed;
          perf.cookie = r.perf_event.kprobe.cookie;
        } else if (perf.kind == Kind::tracepoint) {
          perf.cookie = r.perf_event.tracepoint.cookie;
        }
      }
      info.details = std::move(perf);
      break;
    }
    case uapi::BPF_LINK_TYPE_TCX:
      info.details = TcxLinkInfo{raw.tcx.ifindex, raw.tcx.attach_type};
      break;
    case uapi::BPF_LINK_TYPE_NETKIT:
      info.details = NetkitLinkInfo{raw.netkit.ifindex, raw.netkit.attach_type};
      break;
    case uapi::BPF_LINK_TYPE_SOCKMAP:
      info.details = SockmapLinkInfo{raw.sockmap.map_id, raw.sockmap.attach_type};
      break;
    default:
      break;
  }
  return info;
}

std::vector<std::uint32_t> query_attached(int target, std::uint32_t attach_type, std::string_view what) {
  return query_attached_flags(target, attach_type, 0, what).prog_ids;
}

AttachQuery query_attached_flags(int target, std::uint32_t attach_type, std::uint32_t query_flags,
                                 std::string_view what) {
  std::vector<std::uint32_t> ids(64);
  for (;;) {
    bpf_attr attr = zeroed_attr();
    attr.query.target_fd = static_cast<std::uint32_t>(target);  // shares its place with target_ifindex
    attr.query.attach_type = attach_type;
    attr.query.query_flags = query_flags;
    attr.query.prog_ids = reinterpret_cast<std::uintptr_t>(ids.data());
    attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
    if (detail::bpf_call(BPF_PROG_QUERY, attr) == 0) {
      ids.resize(std::min<std::size_t>(attr.query.prog_cnt, ids.size()));
      return {std::move(ids), attr.query.attach_flags};
    }
    // ENOSPC: more programs than room; prog_cnt says how many.
    if (errno == ENOSPC && attr.query.prog_cnt > ids.size()) {
      ids.resize(attr.query.prog_cnt);
      continue;
    }
    util::fail_errno("BPF_PROG_QUERY of {}", what);
  }
}

void prog_attach(int target, int program_fd, std::uint32_t attach_type, std::uint32_t flags, std::string_view what) {
  bpf_attr attr = zeroed_attr();
  attr.target_fd = static_cast<std::uint32_t>(target);
  attr.attach_bpf_fd = static_cast<std::uint32_t>(program_fd);
  attr.attach_type = attach_type;
  attr.attach_flags = flags;
  if (detail::bpf_call(BPF_PROG_ATTACH, attr) < 0) util::fail_errno("attaching {}", what);
}

void prog_detach(int target, int program_fd, std::uint32_t attach_type, std::string_view what) {
  bpf_attr attr = zeroed_attr();
  attr.target_fd = static_cast<std::uint32_t>(target);
  attr.attach_bpf_fd = static_cast<std::uint32_t>(program_fd);
  attr.attach_type = attach_type;
  if (detail::bpf_call(BPF_PROG_DETACH, attr) < 0) util::fail_errno("detaching {}", what);
}

std::optional<TaskFdAttachment> task_fd_query(int pid, int fd) {
  std::vector<char> name(256);
  for (;;) {
    bpf_attr attr = zeroed_attr();
    attr.task_fd_query.pid = static_cast<std::uint32_t>(pid);
    attr.task_fd_query.fd = static_cast<std::uint32_t>(fd);
    attr.task_fd_query.buf = reinterpret_cast<std::uintptr_t>(name.data());
    attr.task_fd_query.buf_len = static_cast<std::uint32_t>(name.size());
    if (detail::bpf_call(BPF_TASK_FD_QUERY, attr) == 0) {
      TaskFdAttachment attachment;
      attachment.program_id = attr.task_fd_query.prog_id;
      attachment.fd_type = attr.task_fd_query.fd_type;
      attachment.name.assign(name.data(), strnlen(name.data(), name.size()));
      attachment.probe_offset = attr.task_fd_query.probe_offset;
      attachment.probe_addr = attr.task_fd_query.probe_addr;
      return attachment;
    }
    // ENOSPC: the name did not fit; buf_len says how long it is.
    if (errno == ENOSPC && attr.task_fd_query.buf_len >= name.size() && name.size() < (1u << 20)) {
      name.resize(std::size_t{attr.task_fd_query.buf_len} + 1);
      continue;
    }
    // Not such an fd (ENOTSUPP, EBADF, EINVAL), gone (ENOENT), or a process the kernel does not
    // let us ask about (EPERM): nothing to show for it.
    return std::nullopt;
  }
}

std::string_view link_type_name(std::uint32_t type) noexcept { return uapi::name_at(uapi::kLinkTypeNames, type); }

}  // namespace corebpf::kernel
