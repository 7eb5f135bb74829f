// exitsnoop, kernel side: sched/sched_process_exit runs in the exiting task, after do_exit() set
// its exit_code; the task's start time gives its age. Processes only (the thread group leader's
// exit) unless per_thread; only non-zero exits with failed_only.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "exitsnoop.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_thread = false;   // -T... --per-thread
const volatile bool failed_only = false;  // -x

TOOL_DEFINE_EVENTS;

SEC("tracepoint/sched/sched_process_exit")
int process_exit(void* ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 pid = pid_tgid >> 32, tid = (__u32)pid_tgid;
  if (!per_thread && pid != tid) return 0;
  if (!tool_current_allowed()) return 0;
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  struct exitsnoop_event event = {};
  event.exit_code = BPF_CORE_READ(task, exit_code);
  if (failed_only && event.exit_code == 0) return 0;
  event.time_ns = bpf_ktime_get_ns();
  event.start_ns = BPF_CORE_READ(task, start_time);
  event.pid = pid;
  event.tid = tid;
  event.ppid = BPF_CORE_READ(task, real_parent, tgid);
  bpf_get_current_comm(event.comm, sizeof(event.comm));
  tool_submit(ctx, &event, sizeof(event));
  return 0;
}
