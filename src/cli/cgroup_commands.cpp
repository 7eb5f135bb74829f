// `corebpf cgroup show|tree|attach|detach`: programs attached to cgroup (v2) directories, as
// bpftool lists them, and BPF_PROG_ATTACH attachments that stay after the command.
#include <fcntl.h>
#include <linux/bpf.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object_spec.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

UniqueFd open_cgroup(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) util::fail_errno("cgroup {}", path);
  return fd;
}

// Every attach type the kernel takes on a cgroup (the cgroup_* names, and lsm_cgroup).
std::vector<AttachType> cgroup_attach_types() {
  std::vector<AttachType> types;
  for (std::uint32_t value = 0; value < 128; ++value) {
    const std::string_view name = attach_type_name(static_cast<AttachType>(value));
    if (name.starts_with("cgroup_") || name == "lsm_cgroup") types.push_back(static_cast<AttachType>(value));
  }
  return types;
}

// bpftool's names: the full ones ("cgroup_inet_egress") and its short forms ("egress", "bind4",
// "sendmsg6", "sock_ops", "device"), derived from the full names.
AttachType parse_attach_type(std::string_view word) {
  for (const AttachType type : cgroup_attach_types()) {
    const std::string_view name = attach_type_name(type);
    if (name == word || name == fmt::format("cgroup_{}", word) || name == fmt::format("cgroup_inet_{}", word))
      return type;
    if (word.size() > 1 && (word.back() == '4' || word.back() == '6')) {
      const std::string_view op = word.substr(0, word.size() - 1);
      if (name == fmt::format("cgroup_inet{}_{}", word.back(), op) ||
          name == fmt::format("cgroup_udp{}_{}", word.back(), op))
        return type;
    }
  }
  throw UsageError(
      fmt::format("unknown cgroup attach type '{}' (egress, ingress, sock_create, bind4, connect6, "
                  "sendmsg4, sysctl, getsockopt... or the full names: cgroup_inet_egress...)",
                  word));
}

struct Attached {
  std::uint32_t id = 0;
  AttachType type{};
  std::string flags;  // multi, override, or "" (none)
  std::string name;
};

std::string flags_text(std::uint32_t flags) {
  if (flags & BPF_F_ALLOW_MULTI) return "multi";
  if (flags & BPF_F_ALLOW_OVERRIDE) return "override";
  return flags == 0 ? "" : "unknown";
}

// The programs attached to the cgroup (or in effect there), by attach type.
std::vector<Attached> attached(int cgroup_fd, bool effective) {
  std::vector<Attached> list;
  for (const AttachType type : cgroup_attach_types()) {
    kernel::AttachQuery query;
    try {
      query = kernel::query_attached_flags(cgroup_fd, static_cast<std::uint32_t>(type),
                                           effective ? BPF_F_QUERY_EFFECTIVE : 0, "cgroup");
    } catch (const Error&) {
      continue;  // a type this kernel does not know for cgroups
    }
    for (const std::uint32_t id : query.prog_ids) {
      Attached entry{id, type, effective ? "" : flags_text(query.attach_flags), {}};
      if (auto fd = kernel::try_open_by_id(ObjectType::program, id)) entry.name = kernel::program_info(fd->get()).name;
      list.push_back(std::move(entry));
    }
  }
  return list;
}

void write_entries(util::JsonWriter& json, const std::vector<Attached>& entries, bool effective) {
  json.begin_array();
  for (const Attached& e : entries) {
    json.begin_object();
    json.member("id", e.id);
    json.member("attach_type", attach_type_name(e.type));
    if (!effective) json.member("attach_flags", e.flags);
    json.member("name", e.name);
    json.member("attach_btf_name", "");
    json.member("attach_btf_obj_id", 0);
    json.member("attach_btf_id", 0);
    json.end_object();
  }
  json.end_array();
}

std::string header(bool effective) {
  return effective ? fmt::format("{:<8} {:<15} {:<15}\n", "ID", "AttachType", "Name")
                   : fmt::format("{:<8} {:<15} {:<15} {:<15}\n", "ID", "AttachType", "AttachFlags", "Name");
}

void print_entry(Output& out, const Attached& e, bool effective, std::string_view indent) {
  out.print("{}{:<8} {:<15} ", indent, e.id, attach_type_name(e.type));
  if (!effective) out.print("{:<15} ", e.flags);
  out.print("{:<15} {:<15}\n", e.name, "");
}

void run_show(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"effective"};
  const std::string path(args.take("cgroup path"));
  bool effective = false;
  if (!args.empty()) {
    args.take_keyword(keywords, "cgroup show keyword");
    effective = true;
  }
  args.expect_end();
  const UniqueFd fd = open_cgroup(path);
  const auto entries = attached(fd.get(), effective);
  if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) { write_entries(json, entries, effective); });
    return;
  }
  if (entries.empty()) return;
  context.out.write(header(effective));
  for (const Attached& e : entries) print_entry(context.out, e, effective, "");
}

std::string cgroup2_root() {
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string device, mount_point, type;
    fields >> device >> mount_point >> type;
    if (type == "cgroup2") return mount_point;
  }
  util::fail(std::errc::no_such_file_or_directory, "no cgroup2 hierarchy is mounted: name its ROOT");
}

void run_tree(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"effective"};
  std::string root;
  bool effective = false;
  while (!args.empty()) {
    if (root.empty() && args.peek() != "effective") {
      root = std::string(args.take("cgroup root"));
      continue;
    }
    args.take_keyword(keywords, "cgroup tree keyword");
    effective = true;
  }
  if (root.empty()) root = cgroup2_root();
  // Each cgroup with programs, and whether it is below the root (its rows are indented).
  struct Listed {
    std::string path;
    std::vector<Attached> entries;
    bool nested = false;
  };
  std::vector<Listed> cgroups;
  std::error_code error;
  const auto visit = [&](const std::string& path, bool nested) {
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return;
    auto entries = attached(fd.get(), effective);
    if (!entries.empty()) cgroups.push_back({path, std::move(entries), nested});
  };
  if (!std::filesystem::is_directory(root, error))
    util::fail(std::errc::not_a_directory, "cgroup root {}: not a directory", root);
  visit(root, false);
  for (auto it = std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied, error);
       it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    if (it->is_directory(error) && !it->is_symlink(error)) visit(it->path().string(), true);
  }
  if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) {
      json.begin_array();
      for (const Listed& cgroup : cgroups) {
        json.begin_object();
        json.member("cgroup", cgroup.path);
        json.key("programs");
        write_entries(json, cgroup.entries, effective);
        json.end_object();
      }
      json.end_array();
    });
    return;
  }
  context.out.write("CgroupPath\n");
  context.out.write(header(effective));
  for (const Listed& cgroup : cgroups) {
    context.out.print("{}\n", cgroup.path);
    for (const Attached& e : cgroup.entries) print_entry(context.out, e, effective, cgroup.nested ? "    " : "");
  }
}

struct AttachRequest {
  std::string path;
  AttachType type{};
  Selector selector;
  std::uint32_t flags = 0;
};

AttachRequest parse_attach(Arguments& args, bool attach) {
  static constexpr std::string_view keywords[] = {"multi", "override"};
  AttachRequest request;
  request.path = std::string(args.take("cgroup path"));
  request.type = parse_attach_type(args.take("attach type"));
  request.selector = take_selector(args, ObjectType::program);
  if (attach && !args.empty())
    request.flags = args.take_keyword(keywords, "attach flag") == "multi" ? BPF_F_ALLOW_MULTI : BPF_F_ALLOW_OVERRIDE;
  args.expect_end();
  return request;
}

void run_attach(Context&, Arguments& args) {
  const AttachRequest request = parse_attach(args, true);
  const UniqueFd cgroup = open_cgroup(request.path);
  const UniqueFd program = open_one(ObjectType::program, request.selector);
  kernel::prog_attach(
      cgroup.get(), program.get(), static_cast<std::uint32_t>(request.type), request.flags,
      fmt::format("program {} to cgroup {} as {}", describe_selector(ObjectType::program, request.selector),
                  request.path, attach_type_name(request.type)));
}

void run_detach(Context&, Arguments& args) {
  const AttachRequest request = parse_attach(args, false);
  const UniqueFd cgroup = open_cgroup(request.path);
  const UniqueFd program = open_one(ObjectType::program, request.selector);
  kernel::prog_detach(
      cgroup.get(), program.get(), static_cast<std::uint32_t>(request.type),
      fmt::format("program {} from cgroup {} ({})", describe_selector(ObjectType::program, request.selector),
                  request.path, attach_type_name(request.type)));
}

constexpr Verb kCgroupVerbs[] = {
    {"show", run_show, ""},
    {"list", run_show, "{ show | list } CGROUP [effective]"},
    {"tree", run_tree, "tree [CGROUP_ROOT] [effective]"},
    {"attach", run_attach, "attach CGROUP ATTACH_TYPE PROG [multi | override]"},
    {"detach", run_detach, "detach CGROUP ATTACH_TYPE PROG"},
};

constexpr Object kCgroupObject = {
    "cgroup",
    kCgroupVerbs,
    "       CGROUP := a cgroup (v2) directory; CGROUP_ROOT defaults to the cgroup2 mount\n"
    "       ATTACH_TYPE := { ingress | egress | sock_create | sock_ops | device | bind4 | bind6 |\n"
    "                        connect4 | connect6 | sendmsg4 | recvmsg6 | sysctl | getsockopt | ... }\n"
    "                      or the full names (cgroup_inet_egress...)\n"
    "       PROG := { id PROG_ID | pinned FILE | name PROG_NAME | tag PROG_TAG }\n"
    "       Attachments stay until detached (BPF_PROG_ATTACH, no link).\n",
};

}  // namespace

const Object& cgroup_object() { return kCgroupObject; }

}  // namespace corebpf::cli
