// execsnoop/opensnoop style: a perf event array declared without max_entries (libbpf sizes it to
// the possible CPUs), tracepoints under both spellings (tracepoint/ and tp/), const volatile
// filters in .rodata, CO-RE reads of task_struct.
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

struct event {
  int pid;
  int ppid;
  char comm[TASK_COMM_LEN];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(u32));
  __uint(value_size, sizeof(u32));
} events SEC(".maps");

const volatile pid_t targ_tgid = 0;
const volatile bool ignore_failed = true;

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter* ctx) {
  struct event event = {};
  u64 id = bpf_get_current_pid_tgid();
  if (targ_tgid && targ_tgid != (id >> 32)) return 0;
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  event.pid = id >> 32;
  event.ppid = BPF_CORE_READ(task, real_parent, tgid);
  bpf_get_current_comm(&event.comm, sizeof(event.comm));
  bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
  return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int tp_exit_openat(struct trace_event_raw_sys_exit* ctx) {
  struct event event = {};
  if (ignore_failed && ctx->ret < 0) return 0;
  event.pid = bpf_get_current_pid_tgid() >> 32;
  bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
  return 0;
}
