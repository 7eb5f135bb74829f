// [kernel] The running kernel's BPF objects: iterating ids, opening objects by id, reading their info, and
// fetching loaded BTF. Everything here makes bpf() system calls and so usually needs root
// (CAP_SYS_ADMIN, or CAP_BPF for most of it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/fd.hpp"
#include "corebpf/insn.hpp"
#include "corebpf/link_info.hpp"

namespace corebpf::kernel {

// The kinds of object the kernel gives ids to.
enum class ObjectType { program, map, btf, link };

// "program", "map", "BTF", "link": for messages.
std::string_view object_type_name(ObjectType type) noexcept;

// The smallest id of `type` greater than `after` (0 starts the walk); empty when there is none.
std::optional<std::uint32_t> next_id(ObjectType type, std::uint32_t after);
// Every id of `type` at the moment of the walk, ascending.
std::vector<std::uint32_t> list_ids(ObjectType type);

// A new fd for the object; throws corebpf::Error (ENOENT once the object is gone, EPERM without
// privileges) naming the command and the id.
UniqueFd open_by_id(ObjectType type, std::uint32_t id);
// As open_by_id, but an object that no longer exists (it may vanish between listing and
// opening), or a link not yet fully created by another process, gives an empty optional
// instead of an error.
std::optional<UniqueFd> try_open_by_id(ObjectType type, std::uint32_t id);

struct BtfInfo {
  std::uint32_t id = 0;
  std::uint32_t size = 0;  // bytes of the raw BTF
  bool is_kernel = false;  // vmlinux or a module's BTF, as opposed to one a program loaded
  std::string name;        // "vmlinux", a module name, or empty
};

struct ProgramInfo {
  std::uint32_t id = 0;
  std::uint32_t type = 0;  // BPF_PROG_TYPE_*
  std::string name;
  std::array<std::uint8_t, 8> tag{};
  std::uint32_t btf_id = 0;  // 0 when the program has no BTF
  // What `prog show` prints besides.
  std::uint64_t loaded_at_ns = 0;  // CLOCK_BOOTTIME at load
  std::uint32_t created_by_uid = 0;
  std::uint32_t xlated_size = 0;  // bytes of the translated instructions
  std::uint32_t jited_size = 0;   // bytes of JIT output; 0 when not JITed
  bool gpl_compatible = false;
  std::uint64_t run_time_ns = 0;  // with kernel.bpf_stats_enabled
  std::uint64_t run_count = 0;
  std::uint32_t verified_insns = 0;
  std::vector<std::uint32_t> map_ids;
  std::optional<std::uint64_t> memlock_bytes;  // /proc/self/fdinfo "memlock"; empty when absent
};

// A loaded program's code as the kernel keeps it: the translated (xlated) instructions, the JIT's
// native code split into functions, and the BTF func and line info that relate them to source.
struct ProgramCode {
  std::vector<Insn> xlated;  // map references hold map ids (imm) and value offsets
  std::vector<std::byte> jited;
  std::vector<std::uint64_t> jited_ksyms;      // address of each function (main program first)
  std::vector<std::uint32_t> jited_func_lens;  // bytes of each function, in `jited` order
  struct Func {
    std::uint32_t insn_index = 0;
    std::uint32_t type_id = 0;  // a FUNC in the program's BTF
  };
  std::vector<Func> func_info;
  struct Line {
    std::uint32_t insn_index = 0;
    std::uint32_t file_name_offset = 0;  // strings of the program's BTF
    std::uint32_t line_offset = 0;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };
  std::vector<Line> line_info;
  std::vector<std::uint64_t> jited_line_info;  // native address of each line_info record
  std::uint32_t btf_id = 0;
};

struct MapInfo {
  std::uint32_t id = 0;
  std::uint32_t type = 0;  // BPF_MAP_TYPE_*
  std::string name;
  std::uint32_t key_size = 0;
  std::uint32_t value_size = 0;
  std::uint32_t max_entries = 0;
  std::uint32_t flags = 0;
  std::uint32_t btf_id = 0;
  std::uint32_t btf_key_type_id = 0;
  std::uint32_t btf_value_type_id = 0;
  std::uint32_t btf_vmlinux_value_type_id = 0;
  std::optional<std::uint64_t> memlock_bytes;  // /proc/self/fdinfo "memlock"
  bool frozen = false;                         // /proc/self/fdinfo "frozen"
};

// "raw_tracepoint", "tracing", "perf_event"...: bpftool's names of BPF_LINK_TYPE_*; "" when unknown.
std::string_view link_type_name(std::uint32_t type) noexcept;

// BPF_OBJ_GET: a new fd for whatever is pinned at `path` (program, map or link); throws
// corebpf::Error naming the path.
UniqueFd open_pinned(const std::string& path);
// Which kind of BPF object `fd` is (from /proc/self/fdinfo); empty for a BTF or a non-BPF fd.
std::optional<ObjectType> object_type_of(int fd);

// Info of the object behind `fd` (borrowed, not closed). Throws corebpf::Error.
BtfInfo btf_info(int fd);
ProgramInfo program_info(int fd);
MapInfo map_info(int fd);
LinkInfo link_info(int fd);
// The code of the program behind `fd`. Without the privileges to see addresses (kptr_restrict),
// the kernel gives no native code and zeroed call addresses.
ProgramCode program_code(int fd);

// BPF_PROG_QUERY: the ids of the programs attached at `target` (a cgroup or netns fd, or an
// ifindex for tcx) for attach type `attach_type` (BPF_*); empty when none. Throws corebpf::Error
// naming `what`.
std::vector<std::uint32_t> query_attached(int target, std::uint32_t attach_type, std::string_view what);
// The same with the query's flags (BPF_F_QUERY_EFFECTIVE for a cgroup's programs in effect) and
// the attachment's flags (BPF_F_ALLOW_MULTI...).
struct AttachQuery {
  std::vector<std::uint32_t> prog_ids;
  std::uint32_t attach_flags = 0;
};
AttachQuery query_attached_flags(int target, std::uint32_t attach_type, std::uint32_t query_flags,
                                 std::string_view what);
// BPF_PROG_ATTACH / BPF_PROG_DETACH: attachments that stay until detached (no link). `target` as
// for query_attached; throw corebpf::Error naming `what`.
void prog_attach(int target, int program_fd, std::uint32_t attach_type, std::uint32_t flags, std::string_view what);
void prog_detach(int target, int program_fd, std::uint32_t attach_type, std::string_view what);

// BPF_TASK_FD_QUERY: what fd `fd` of process `pid` attaches a BPF program to: a perf event
// (tracepoint, kprobe, uprobe) carrying a program, or a raw tracepoint link.
struct TaskFdAttachment {
  std::uint32_t program_id = 0;
  std::uint32_t fd_type = 0;  // BPF_FD_TYPE_*
  std::string name;           // tracepoint, kprobe function or uprobe file; empty for a kprobe by address
  std::uint64_t probe_offset = 0;
  std::uint64_t probe_addr = 0;
};
// Empty for any other fd, for a process or fd gone since it was listed, and for one the kernel
// refuses to answer about (EPERM: without CAP_SYS_ADMIN every answer is empty).
std::optional<TaskFdAttachment> task_fd_query(int pid, int fd);

// The raw bytes of the loaded BTF behind `fd`.
std::vector<std::byte> btf_bytes(int fd);

// The loaded BTF object `id`. A kernel module's BTF is split BTF and comes back on top of the
// running kernel's vmlinux BTF, so its ids and strings continue from it.
btf::Btf load_kernel_btf_by_id(std::uint32_t id);

// A kernel type found by name and kind: in vmlinux BTF first, then in each loaded module's BTF;
// only in `module`'s when one is named (libbpf's "module:function" form). `module_btf` is an fd
// of the module's BTF (empty for vmlinux), what BPF_PROG_LOAD takes as attach_btf_obj_fd.
struct KernelBtfType {
  btf::TypeId id = 0;
  UniqueFd module_btf;
  std::string module;  // empty for vmlinux
};
std::optional<KernelBtfType> find_kernel_btf_type(std::string_view name, btf::Kind kind, std::string_view module = {});

// An fd of the BTF the kernel loaded for module `module` (what a kfunc call's fd_array slot and a
// module ksym's ld_imm64 take); empty when no such module BTF is loaded.
UniqueFd module_btf_fd(std::string_view module);

}  // namespace corebpf::kernel
