// hello (Learning eBPF, chapters 2 and 3): every successful execve on the system counts one for the
// caller's uid in a hash map (the book's counter_table) and sends the new program's pid, its
// parent's pid, its uid and its comm to user space through the tools' event stream. At the
// syscall's exit the task already carries the new program's comm. The parent is read with CO-RE
// (task->real_parent->tgid), so this object, compiled once, runs on any kernel with BTF.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct exec_event {
  int pid;
  int ppid;
  unsigned int uid;
  char comm[16];
};

// BTF has the types of globals, not of locals: this puts struct exec_event in it, so the
// skeleton (`type exec_event`) can give user space the same struct.
const struct exec_event* unused_exec_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

// execve calls per uid.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, u32);
  __type(value, u64);
} counter_table SEC(".maps");

SEC("tracepoint/syscalls/sys_exit_execve")
int handle_execve(struct trace_event_raw_sys_exit* ctx) {
  if (ctx->ret != 0) return 0;
  const u32 uid = (u32)bpf_get_current_uid_gid();
  u64* count = bpf_map_lookup_elem(&counter_table, &uid);
  if (count) {
    __sync_fetch_and_add(count, 1);
  } else {
    const u64 one = 1;
    // Two first execs of a uid at once: the loser's insert fails and it adds to the winner's.
    if (bpf_map_update_elem(&counter_table, &uid, &one, BPF_NOEXIST) != 0) {
      count = bpf_map_lookup_elem(&counter_table, &uid);
      if (count) __sync_fetch_and_add(count, 1);
    }
  }

  struct exec_event event = {};
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  event.pid = bpf_get_current_pid_tgid() >> 32;
  event.ppid = BPF_CORE_READ(task, real_parent, tgid);
  event.uid = uid;
  bpf_get_current_comm(event.comm, sizeof(event.comm));
  tool_submit(ctx, &event, sizeof(event));
  return 0;
}
