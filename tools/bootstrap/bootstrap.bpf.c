// bootstrap (libbpf-bootstrap's fuller example): process starts (sched_process_exec) and ends
// (sched_process_exit) go to user space through the tools' event stream. The exec time of each process is
// kept in a hash map so its exit event carries the process's lifetime; with a minimum duration set
// (before load, in .rodata) exec events are not sent and exits of shorter-lived processes are
// left out.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 127

struct event {
  int pid;
  int ppid;
  unsigned int exit_code;
  unsigned long long duration_ns;
  char comm[TASK_COMM_LEN];
  char filename[MAX_FILENAME_LEN];
  bool exit_event;
};

// Puts struct event in the object's BTF for the skeleton (`type event`).
const struct event* unused_event __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, pid_t);
  __type(value, u64);
} exec_start SEC(".maps");

TOOL_DEFINE_EVENTS;

// Set before load: report only processes that lived at least this long (0: everything).
const volatile unsigned long long min_duration_ns = 0;

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec* ctx) {
  const pid_t pid = bpf_get_current_pid_tgid() >> 32;
  const u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&exec_start, &pid, &now, BPF_ANY);
  if (min_duration_ns) return 0;

  // struct event is 176 bytes: it fits the BPF stack.
  struct event event = {};
  struct event* e = &event;
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  e->exit_event = false;
  e->pid = pid;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = 0;
  e->duration_ns = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  // The filename is a __data_loc field: the low 16 bits are its offset in the record.
  const unsigned int offset = ctx->__data_loc_filename & 0xFFFF;
  bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (const char*)ctx + offset);
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void* ctx) {
  const u64 id = bpf_get_current_pid_tgid();
  const pid_t pid = id >> 32;
  const pid_t tid = (u32)id;
  if (pid != tid) return 0;  // a thread, not the whole process

  u64 duration_ns = 0;
  const u64* start = bpf_map_lookup_elem(&exec_start, &pid);
  if (start) {
    duration_ns = bpf_ktime_get_ns() - *start;
    bpf_map_delete_elem(&exec_start, &pid);
  } else if (min_duration_ns) {
    return 0;  // started before we looked: its lifetime is unknown
  }
  if (min_duration_ns && duration_ns < min_duration_ns) return 0;

  struct event event = {};
  struct event* e = &event;
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  e->exit_event = true;
  e->duration_ns = duration_ns;
  e->pid = pid;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}
