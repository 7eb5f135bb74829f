// libbpf-bootstrap's bootstrap style: ring buffers (one with a size the kernel refuses as written,
// which libbpf rounds up to a power-of-two number of pages), a hash map, tp_btf and raw_tp with
// BPF_PROG, tp/ for process exec and exit.
#include "compat.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct event {
  int pid;
  u64 duration_ns;
  char comm[TASK_COMM_LEN];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 3 * 4096 + 100);  // libbpf makes it 16 KiB
} odd_rb SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, pid_t);
  __type(value, u64);
} exec_start SEC(".maps");

const volatile unsigned long long min_duration_ns = 0;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec* ctx) {
  pid_t pid = bpf_get_current_pid_tgid() >> 32;
  u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);
  struct event* e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = pid;
  e->duration_ns = 0;
  bpf_get_current_comm(&e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template* ctx) {
  u64 id = bpf_get_current_pid_tgid();
  pid_t pid = id >> 32;
  if (pid != (u32)id) return 0;
  u64* start = bpf_map_lookup_elem(&exec_start, &pid);
  u64 duration = start ? bpf_ktime_get_ns() - *start : 0;
  bpf_map_delete_elem(&exec_start, &pid);
  if (min_duration_ns && duration < min_duration_ns) return 0;
  struct event* e = bpf_ringbuf_reserve(&odd_rb, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = pid;
  e->duration_ns = duration;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct* prev, struct task_struct* next) {
  u64 ts = bpf_ktime_get_ns();
  pid_t pid = next->pid;
  bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);
  return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct* prev, struct task_struct* next) {
  pid_t pid = BPF_CORE_READ(next, pid);
  u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);
  return 0;
}
