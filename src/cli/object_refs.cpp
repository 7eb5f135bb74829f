#include "cli/object_refs.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "pid_iter.skel.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;
namespace fs = std::filesystem;

std::optional<std::uint32_t> parse_number(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The kernel's names of BPF objects' anonymous inodes (/proc/PID/fd links), with the fdinfo line
// that holds the object's id.
struct AnonKind {
  std::string_view link;
  std::string_view id_field;
  ObjectType type;
};
constexpr AnonKind kAnonKinds[] = {
    {"anon_inode:bpf-prog", "prog_id", ObjectType::program},
    {"anon_inode:bpf-map", "map_id", ObjectType::map},
    {"anon_inode:bpf_link", "link_id", ObjectType::link},
};

std::optional<std::uint32_t> fdinfo_id(const std::string& path, std::string_view field) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(field) || line.size() <= field.size() || line[field.size()] != ':') continue;
    std::string_view value = std::string_view(line).substr(field.size() + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    return parse_number(value);
  }
  return std::nullopt;
}

std::string read_comm(const std::string& proc_dir) {
  std::ifstream in(proc_dir + "/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

}  // namespace

ObjectHolders ObjectHolders::find() {
  if (kernel::has_feature(kernel::Feature::task_file_iterator)) {
    try {
      return find_with_iterator();
    } catch (const Error& e) {
      util::log(LogLevel::warning, "pids: the task_file iterator failed, reading /proc instead: {}", e.message());
    }
  } else {
    util::log(LogLevel::debug, "pids: {}; reading /proc",
              kernel::unsupported_reason(kernel::Feature::task_file_iterator));
  }
  return find_in_procfs();
}

ObjectHolders ObjectHolders::find_with_iterator() {
  struct stat ns {};
  if (::stat("/proc/self/ns/pid", &ns) != 0) util::fail_errno("pids: reading /proc/self/ns/pid");
  auto skel = pid_iter::Skeleton::open();
  skel.rodata().self_pid = ::getpid();
  skel.rodata().pidns_inum = static_cast<std::uint32_t>(ns.st_ino);
  skel.load();
  const Link link = skel.progs.find_holders.attach_iter();
  const std::string stream = link.read_iterator();

  using Record = pid_iter::types::pid_iter_record;
  ObjectHolders holders;
  holders.source_ = Source::iterator;
  for (std::size_t offset = 0; offset + sizeof(Record) <= stream.size(); offset += sizeof(Record)) {
    Record record;
    std::memcpy(&record, stream.data() + offset, sizeof(record));
    static constexpr ObjectType kTypes[] = {ObjectType::program, ObjectType::map, ObjectType::link};
    if (record.kind >= std::size(kTypes)) continue;
    const std::size_t length = strnlen(record.comm, sizeof(record.comm));
    holders.add(kTypes[record.kind], record.id, {record.pid, std::string(record.comm, length)});
  }
  holders.finish();
  return holders;
}

ObjectHolders ObjectHolders::find_in_procfs() {
  ObjectHolders holders;
  holders.source_ = Source::procfs;
  const pid_t self = ::getpid();
  std::error_code error;
  for (const fs::directory_entry& process : fs::directory_iterator("/proc", error)) {
    const std::string name = process.path().filename().string();
    const auto pid = parse_number(name);
    if (!pid || static_cast<pid_t>(*pid) == self) continue;
    const std::string dir = "/proc/" + name;
    std::optional<std::string> comm;
    std::error_code fd_error;  // a process that ends, or one we may not look into, is skipped
    for (const fs::directory_entry& fd : fs::directory_iterator(dir + "/fd", fd_error)) {
      std::error_code link_error;
      const std::string target = fs::read_symlink(fd.path(), link_error).string();
      if (link_error) continue;
      for (const AnonKind& kind : kAnonKinds) {
        if (target != kind.link) continue;
        const auto id = fdinfo_id(dir + "/fdinfo/" + fd.path().filename().string(), kind.id_field);
        if (!id) break;
        if (!comm) comm = read_comm(dir);
        holders.add(kind.type, *id, {static_cast<std::int32_t>(*pid), *comm});
        break;
      }
    }
  }
  if (error) util::fail(static_cast<std::errc>(error.value()), "pids: listing /proc: {}", error.message());
  holders.finish();
  return holders;
}

std::span<const Holder> ObjectHolders::of(ObjectType type, std::uint32_t id) const {
  const auto it = holders_.find({type, id});
  if (it == holders_.end()) return {};
  return it->second;
}

void ObjectHolders::add(ObjectType type, std::uint32_t id, Holder holder) {
  holders_[{type, id}].push_back(std::move(holder));
}

void ObjectHolders::finish() {
  for (auto& [key, list] : holders_) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end(), [](const Holder& a, const Holder& b) { return a.pid == b.pid; }),
               list.end());
  }
}

namespace {

// "\040" and the other octal escapes of /proc/mounts fields.
std::string unescape_mount_field(std::string_view field) {
  std::string text;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(field.data() + i + 1, field.data() + i + 4, value, 8);
      if (ec == std::errc() && end == field.data() + i + 4) {
        text.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    text.push_back(field[i]);
  }
  return text;
}

std::vector<std::string> bpffs_mounts() {
  std::ifstream in("/proc/mounts");
  if (!in) util::fail_errno("pinned paths: reading /proc/mounts");
  std::vector<std::string> mounts;
  std::string device, dir, type, rest;
  while (in >> device >> dir >> type && std::getline(in, rest))
    if (type == "bpf") mounts.push_back(unescape_mount_field(dir));
  return mounts;
}

std::optional<std::uint32_t> pinned_id(ObjectType type, int fd) {
  if (kernel::object_type_of(fd) != type) return std::nullopt;
  switch (type) {
    case ObjectType::program:
      return kernel::program_info(fd).id;
    case ObjectType::map:
      return kernel::map_info(fd).id;
    case ObjectType::link:
      return kernel::link_info(fd).id;
    case ObjectType::btf:
      break;
  }
  return std::nullopt;
}

}  // namespace

PinnedPaths PinnedPaths::find(ObjectType type) {
  PinnedPaths pinned;
  for (const std::string& mount : bpffs_mounts()) {
    std::error_code error;
    fs::recursive_directory_iterator it(mount, fs::directory_options::skip_permission_denied, error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      std::error_code status_error;
      if (!it->is_regular_file(status_error) || it->is_symlink(status_error)) continue;
      const std::string path = it->path().string();
      try {
        const UniqueFd fd = kernel::open_pinned(path);
        if (const auto id = pinned_id(type, fd.get())) pinned.paths_[*id].push_back(path);
      } catch (const Error& e) {
        // Files pinned by preloaded iterators (maps.debug) and unpinned races are no objects of ours.
        util::log(LogLevel::debug, "pinned paths: {}: {}", path, e.message());
      }
    }
    if (error) util::log(LogLevel::debug, "pinned paths: walking {}: {}", mount, error.message());
  }
  return pinned;  // in the walk's order, as bpftool lists them
}

std::span<const std::string> PinnedPaths::of(std::uint32_t id) const {
  const auto it = paths_.find(id);
  if (it == paths_.end()) return {};
  return it->second;
}

void print_pinned_text(Output& out, const ObjectRefs& refs) {
  if (!refs.show_pinned) return;
  for (const std::string& path : refs.pinned) out.print("\tpinned {}\n", path);
}

void print_pids_text(Output& out, const ObjectRefs& refs) {
  if (refs.pids.empty()) return;
  out.write("\tpids ");
  for (std::size_t i = 0; i < refs.pids.size(); ++i)
    out.print("{}{}({})", i == 0 ? "" : ", ", refs.pids[i].comm, refs.pids[i].pid);
  out.write("\n");
}

void write_refs_json(util::JsonWriter& json, const ObjectRefs& refs) {
  if (refs.show_pinned) {
    json.key("pinned");
    json.begin_array();
    for (const std::string& path : refs.pinned) json.value(path);
    json.end_array();
  }
  if (!refs.pids.empty()) {
    json.key("pids");
    json.begin_array();
    for (const Holder& holder : refs.pids) {
      json.begin_object();
      json.member("pid", holder.pid);
      json.member("comm", holder.comm);
      json.end_object();
    }
    json.end_array();
  }
}

}  // namespace corebpf::cli
