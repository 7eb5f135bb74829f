// `corebpf perf { show | list }`: every BPF program attached through a perf event (tracepoint,
// kprobe, uprobe) or a raw tracepoint link on the system, found by asking the kernel
// (BPF_TASK_FD_QUERY) about each open fd of each process, in bpftool's text and JSON.
#include <fmt/format.h>
#include <linux/bpf.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

namespace fs = std::filesystem;

struct PerfAttachment {
  int pid = 0;
  int fd = 0;
  kernel::TaskFdAttachment attachment;
};

std::optional<int> parse_number(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<int> numbered_entries(const fs::path& dir) {
  std::vector<int> numbers;
  std::error_code error;  // a process that ended since /proc was listed has no fds left to show
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error))
    if (const auto number = parse_number(entry.path().filename().string())) numbers.push_back(*number);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

std::vector<PerfAttachment> find_attachments() {
  if (!kernel::has_bpf_privileges())
    util::fail(std::errc::operation_not_permitted,
               "perf list: asking the kernel about other processes' fds needs CAP_SYS_ADMIN (run as root)");
  std::error_code error;
  if (!fs::is_directory("/proc/self/fd", error))
    util::fail(std::errc::no_such_file_or_directory, "perf list: /proc is not mounted");
  std::vector<PerfAttachment> found;
  for (const int pid : numbered_entries("/proc"))
    for (const int fd : numbered_entries(fmt::format("/proc/{}/fd", pid)))
      if (auto attachment = kernel::task_fd_query(pid, fd)) found.push_back({pid, fd, std::move(*attachment)});
  return found;
}

std::string_view fd_type_name(std::uint32_t type) {
  switch (type) {
    case BPF_FD_TYPE_RAW_TRACEPOINT:
      return "raw_tracepoint";
    case BPF_FD_TYPE_TRACEPOINT:
      return "tracepoint";
    case BPF_FD_TYPE_KPROBE:
      return "kprobe";
    case BPF_FD_TYPE_KRETPROBE:
      return "kretprobe";
    case BPF_FD_TYPE_UPROBE:
      return "uprobe";
    case BPF_FD_TYPE_URETPROBE:
      return "uretprobe";
    default:
      return "unknown";
  }
}

bool is_kprobe(std::uint32_t type) { return type == BPF_FD_TYPE_KPROBE || type == BPF_FD_TYPE_KRETPROBE; }
bool is_uprobe(std::uint32_t type) { return type == BPF_FD_TYPE_UPROBE || type == BPF_FD_TYPE_URETPROBE; }

void print_text(Output& out, const PerfAttachment& entry) {
  const kernel::TaskFdAttachment& a = entry.attachment;
  out.print("pid {}  fd {}: prog_id {}  {}  ", entry.pid, entry.fd, a.program_id, fd_type_name(a.fd_type));
  if (is_kprobe(a.fd_type)) {
    if (a.name.empty()) {
      out.print("addr {:x}\n", a.probe_addr);
    } else {
      out.print("func {}  offset {}\n", a.name, a.probe_offset);
    }
  } else if (is_uprobe(a.fd_type)) {
    out.print("filename {}  offset {}\n", a.name, a.probe_offset);
  } else {
    out.print("{}\n", a.name);
  }
}

void write_json_entry(util::JsonWriter& json, const PerfAttachment& entry) {
  const kernel::TaskFdAttachment& a = entry.attachment;
  json.begin_object();
  json.member("pid", entry.pid);
  json.member("fd", entry.fd);
  json.member("prog_id", a.program_id);
  json.member("fd_type", fd_type_name(a.fd_type));
  if (is_kprobe(a.fd_type)) {
    if (a.name.empty()) {
      json.member("addr", a.probe_addr);
    } else {
      json.member("func", a.name);
      json.member("offset", a.probe_offset);
    }
  } else if (is_uprobe(a.fd_type)) {
    json.member("filename", a.name);
    json.member("offset", a.probe_offset);
  } else {
    json.member("tracepoint", a.name);
  }
  json.end_object();
}

void run_list(Context& context, Arguments& args) {
  args.expect_end();
  const std::vector<PerfAttachment> found = find_attachments();
  if (!context.options.json) {
    for (const PerfAttachment& entry : found) print_text(context.out, entry);
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    json.begin_array();
    for (const PerfAttachment& entry : found) write_json_entry(json, entry);
    json.end_array();
  });
}

constexpr Verb kPerfVerbs[] = {
    {"show", run_list, ""},
    {"list", run_list, "{ show | list }"},
};

constexpr Object kPerfObject = {
    "perf",
    kPerfVerbs,
    "       Every BPF program attached through a perf event (tracepoint, kprobe, uprobe) or a raw\n"
    "       tracepoint, by process and fd (BPF_TASK_FD_QUERY): pid, fd, prog_id, and the tracepoint,\n"
    "       kprobe function+offset or uprobe file+offset.\n",
};

}  // namespace

const Object& perf_object() { return kPerfObject; }

}  // namespace corebpf::cli
