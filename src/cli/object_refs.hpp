// What `prog|map|link show` prints about an object besides its info: the processes that hold it
// (`pids`, always) and the paths where it is pinned (`pinned`, with -f/--bpffs), in bpftool's text
// and JSON forms.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cli/output.hpp"
#include "corebpf/kernel.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {

struct Holder {
  std::int32_t pid = 0;  // as this process's pid namespace numbers it
  std::string comm;
  auto operator<=>(const Holder&) const = default;
};

// Which processes hold an fd of each program, map and link (this process left out).
class ObjectHolders {
 public:
  enum class Source { iterator, procfs };

  // With our task_file iterator (src/cli/bpf/pid_iter.bpf.c) when the kernel loads task_file
  // iterators (Feature::task_file_iterator), else, or when the iterator fails, from
  // /proc/*/fd and /proc/*/fdinfo.
  static ObjectHolders find();
  // One way only; throw corebpf::Error naming what failed.
  static ObjectHolders find_with_iterator();
  static ObjectHolders find_in_procfs();

  // The holders of object `id` of `type`, by pid; empty when none.
  std::span<const Holder> of(kernel::ObjectType type, std::uint32_t id) const;
  Source source() const noexcept { return source_; }

 private:
  void add(kernel::ObjectType type, std::uint32_t id, Holder holder);
  void finish();  // sorts each list by pid and drops duplicates (threads, several fds)

  Source source_ = Source::procfs;
  std::map<std::pair<kernel::ObjectType, std::uint32_t>, std::vector<Holder>> holders_;
};

// Where each object of one type is pinned: every file of every mounted bpffs (/proc/mounts),
// opened and matched by id.
class PinnedPaths {
 public:
  static PinnedPaths find(kernel::ObjectType type);
  std::span<const std::string> of(std::uint32_t id) const;
  bool empty() const noexcept { return paths_.empty(); }

 private:
  std::map<std::uint32_t, std::vector<std::string>> paths_;
};

// An object's references as `show` prints them.
struct ObjectRefs {
  bool show_pinned = false;  // -f: "pinned" is printed (in JSON even when empty)
  std::span<const std::string> pinned;
  std::span<const Holder> pids;
};

// "\tpinned PATH" lines.
void print_pinned_text(Output& out, const ObjectRefs& refs);
// "\tpids comm(pid), comm(pid)" (nothing when no process holds the object).
void print_pids_text(Output& out, const ObjectRefs& refs);
// "pinned": [...] (with -f) and "pids": [{"pid": N, "comm": "..."}] (when held) members.
void write_refs_json(util::JsonWriter& json, const ObjectRefs& refs);

}  // namespace corebpf::cli
