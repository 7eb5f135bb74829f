// [kernel] corebpf::Link: one attachment of a program to a hook (move-only). Destroying a Link detaches the
// program, except a BPF link pinned in bpffs, which lives on until its pin is removed. The
// attachment is a BPF link where the kernel has one for the hook; otherwise (kprobes through a
// perf event, XDP and TC through netlink, socket filters, sockmaps, cgroups without links) the Link
// undoes that attachment itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/fd.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf {

class Program;
class Map;

namespace detail {
class Attachment;  // src/kernel/attachment.hpp
}

class Link {
 public:
  Link() noexcept;
  explicit Link(std::unique_ptr<detail::Attachment> attachment) noexcept;
  Link(Link&&) noexcept;
  Link& operator=(Link&&) noexcept;
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  // Detaches quietly (errors go to the log hook); a pinned BPF link stays attached.
  ~Link();

  // A BPF link pinned in bpffs, or by its kernel id. Throw corebpf::Error naming the path or id.
  static Link open_pinned(const std::string& path);
  static Link open_by_id(std::uint32_t id);

  explicit operator bool() const noexcept { return static_cast<bool>(attachment_); }
  // The BPF link fd; -1 when the attachment is not a BPF link (perf event, netlink, sockopt).
  int fd() const noexcept;
  // What is attached where, for messages: "tracepoint syscalls/sys_enter_execve (program 'handle')".
  const std::string& description() const noexcept;
  // BPF links only; throws corebpf::Error (EOPNOTSUPP) naming the link otherwise.
  kernel::LinkInfo info() const;
  void pin(const std::string& path) const;
  static void unpin(const std::string& path);
  // Replaces the program behind a BPF link (BPF_LINK_UPDATE) without a gap.
  void update_program(const Program& program);
  // Detaches now (BPF_LINK_DETACH), even a pinned BPF link of the types the kernel can force off
  // (cgroup, netns, xdp, tcx, netkit, sockmap, struct_ops, netfilter); a link of another type
  // (perf event, raw_tp, tracing, iter) ends when its last fd closes, which this does, and its
  // last pin is removed. Throws corebpf::Error on failure. Afterwards the Link is empty.
  void detach();
  // Lets go of the attachment without undoing it, so it outlives this process: a struct_ops map
  // registered by writing its element stays registered (until its element is deleted). Throws
  // corebpf::Error (EOPNOTSUPP) naming the attachment for kinds that cannot be left behind (a
  // BPF link ends with its last fd unless pinned: pin it instead). Afterwards the Link is empty.
  void disconnect();

  // iter links: a new stream of the iterator's output (BPF_ITER_CREATE); read() it to the end.
  UniqueFd open_iterator() const;
  // iter links: the whole output of one pass of the iterator.
  std::string read_iterator() const;

 private:
  std::unique_ptr<detail::Attachment> attachment_;
};

// ---- Options of the attach functions (Program::attach_*) ----

struct KprobeOptions {
  std::uint64_t offset = 0;  // bytes into the function
  bool retprobe = false;     // kretprobe
  std::uint64_t cookie = 0;  // bpf_get_attach_cookie()
  // Create the probe through tracefs kprobe_events even when the kprobe PMU exists.
  bool force_tracefs = false;
};

struct KprobeMultiOptions {
  // Either explicit symbols or a glob pattern over the traceable functions.
  std::vector<std::string> symbols;
  std::string pattern;
  std::vector<std::uint64_t> cookies;  // empty, or one per symbol
  bool retprobe = false;
  bool session = false;  // kprobe.session: entry and return, one program
};

struct UprobeOptions {
  // A symbol of the binary (.symtab or .dynsym), or empty to use `offset` as the file offset.
  std::string function;
  std::uint64_t offset = 0;  // added to the function's file offset
  pid_t pid = -1;            // -1: every process that maps the binary
  bool retprobe = false;
  std::uint64_t ref_ctr_offset = 0;  // semaphore (file offset) the kernel counts while attached
  std::uint64_t cookie = 0;
  // Create the probe through tracefs uprobe_events even when the uprobe PMU exists.
  bool force_tracefs = false;
};

// One uprobe.multi link (6.6+) over many locations of one binary: functions named in `symbols`,
// every function matching the glob `pattern`, or raw file `offsets` (exactly one of the three).
struct UprobeMultiOptions {
  std::vector<std::string> symbols;
  std::string pattern;
  std::vector<std::uint64_t> offsets;
  std::vector<std::uint64_t> ref_ctr_offsets;  // empty, or one per location
  std::vector<std::uint64_t> cookies;          // empty, or one per location
  pid_t pid = -1;
  bool retprobe = false;
};

struct UsdtOptions {
  pid_t pid = -1;
  std::uint64_t cookie = 0;  // bpf_usdt_cookie()
};

enum class XdpMode : std::uint8_t { any, generic, driver, offload };

struct XdpOptions {
  XdpMode mode = XdpMode::any;
  // Attach through netlink (IFLA_XDP) even where XDP links exist.
  bool force_netlink = false;
};

struct TcOptions {
  // Egress or ingress; unset: what SEC() says (tc/egress, tcx/egress), else ingress.
  std::optional<bool> egress = std::nullopt;
  // Attach through a clsact qdisc and a cls_bpf filter even where tcx links exist (6.6+).
  bool force_netlink = false;
  std::uint32_t priority = 1;  // netlink filters only
  std::uint32_t handle = 1;    // netlink filters only
};

struct CgroupOptions {
  // The program's expected attach type (from SEC()) when empty.
  std::optional<AttachType> type = std::nullopt;
  // Attach with BPF_PROG_ATTACH (BPF_F_ALLOW_MULTI) even where cgroup links exist (5.7+).
  bool force_prog_attach = false;
};

struct SockmapOptions {
  // The program's expected attach type (from SEC(): sk_msg_verdict, sk_skb_stream_parser,
  // sk_skb_stream_verdict, sk_skb_verdict) when empty.
  std::optional<AttachType> type = std::nullopt;
  // Attach with BPF_PROG_ATTACH even where sockmap links exist (6.10+).
  bool force_prog_attach = false;
};

struct IterOptions {
  int map_fd = -1;     // bpf_map_elem / bpf_sk_storage_map iterators
  pid_t task_pid = 0;  // task/task_file/task_vma iterators: one process only
  int cgroup_fd = -1;  // cgroup iterator
};

}  // namespace corebpf
