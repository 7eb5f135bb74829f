// hello: every successful execve on the system sends the new program's pid, its parent's pid and
// its comm to user space through a ring buffer. At the syscall's exit the task already carries the
// new program's comm. The parent is read with CO-RE (task->real_parent->tgid), so
// this object, compiled once, runs on any kernel with BTF.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct exec_event {
  int pid;
  int ppid;
  char comm[16];
};

// BTF has the types of globals, not of locals: this puts struct exec_event in it, so the
// skeleton (`type exec_event`) can give user space the same struct.
const struct exec_event *unused_exec_event __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

// Events dropped because user space fell behind: the user side reports them.
unsigned long long dropped = 0;

SEC("tracepoint/syscalls/sys_exit_execve")
int handle_execve(struct trace_event_raw_sys_exit *ctx) {
  if (ctx->ret != 0) return 0;
  struct exec_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
  if (!event) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  event->pid = bpf_get_current_pid_tgid() >> 32;
  event->ppid = BPF_CORE_READ(task, real_parent, tgid);
  bpf_get_current_comm(event->comm, sizeof(event->comm));
  bpf_ringbuf_submit(event, 0);
  return 0;
}
