// execsnoop, kernel side: execve() entry records the file name and arguments of the caller (by
// thread), execve() return completes the record with the result and the new command name and
// sends it. Tracepoints only: syscalls/sys_enter_execve and sys_exit_execve.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "execsnoop.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

// Arguments kept per event (--max-args), at most EXECSNOOP_MAX_ARGS; uid to trace or -1; only
// failed execs (-x).
const volatile __u32 max_args = 20;
const volatile __s64 target_uid = -1;
const volatile bool failed_only = false;

TOOL_DEFINE_EVENTS;

// Records in flight between entry and return, by thread id.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct execsnoop_event);
} pending SEC(".maps");

// A zeroed record to start from (too large for the stack).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct execsnoop_event);
} empty SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int execve_enter(struct trace_event_raw_sys_enter* ctx) {
  if (!tool_pid_allowed(bpf_get_current_pid_tgid() >> 32)) return 0;
  __u64 uid_gid = bpf_get_current_uid_gid();
  if (target_uid >= 0 && (__u32)uid_gid != (__u32)target_uid) return 0;

  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)pid_tgid;
  __u32 zero = 0;
  struct execsnoop_event* blank = bpf_map_lookup_elem(&empty, &zero);
  if (!blank) return 0;
  if (bpf_map_update_elem(&pending, &tid, blank, BPF_ANY)) return 0;
  struct execsnoop_event* event = bpf_map_lookup_elem(&pending, &tid);
  if (!event) return 0;

  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  event->pid = pid_tgid >> 32;
  event->ppid = BPF_CORE_READ(task, real_parent, tgid);
  event->uid = (__u32)uid_gid;

  const char* filename = (const char*)ctx->args[0];
  const char* const* argv = (const char* const*)ctx->args[1];
  // The file name stands for argv[0]; when its page is not in memory yet, argv[0] does.
  __u32 first = 0;
  long length = bpf_probe_read_user_str(event->args, EXECSNOOP_ARG_SIZE, filename);
  if (length > 0) {
    event->args_size = length;
    event->args_count = 1;
    first = 1;
  }

  for (__u32 i = first; i < EXECSNOOP_MAX_ARGS; i++) {
    if (i >= max_args) {
      const char* more = 0;
      bpf_probe_read_user(&more, sizeof(more), &argv[i]);
      if (more) event->args_truncated = 1;
      break;
    }
    const char* arg = 0;
    if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg) break;
    __u32 used = event->args_size;
    if (used > EXECSNOOP_ARGS_SIZE - EXECSNOOP_ARG_SIZE) {
      event->args_truncated = 1;
      break;
    }
    length = bpf_probe_read_user_str(&event->args[used], EXECSNOOP_ARG_SIZE, arg);
    if (length <= 0) break;
    event->args_size = used + length;
    event->args_count++;
  }
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int execve_exit(struct trace_event_raw_sys_exit* ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct execsnoop_event* event = bpf_map_lookup_elem(&pending, &tid);
  if (!event) return 0;
  event->retval = ctx->ret;
  if (failed_only && event->retval >= 0) {
    bpf_map_delete_elem(&pending, &tid);
    return 0;
  }
  event->time_ns = bpf_ktime_get_ns();
  // -c: the command name the exec gave (the caller's name before it is another command).
  bpf_get_current_comm(event->comm, sizeof(event->comm));
  if (!tool_comm_allowed(event->comm)) {
    bpf_map_delete_elem(&pending, &tid);
    return 0;
  }
  __u32 size = offsetof(struct execsnoop_event, args) + event->args_size;
  if (size > sizeof(*event)) size = sizeof(*event);
  tool_submit(ctx, event, size);
  bpf_map_delete_elem(&pending, &tid);
  return 0;
}
