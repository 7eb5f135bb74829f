// runqlat, kernel side: a task's time on a run queue, from the moment it becomes runnable
// (sched_wakeup, sched_wakeup_new, or preempted by sched_switch while still running) to the
// sched_switch that puts it on a CPU, as log2 histograms in microseconds (or milliseconds).
// BTF-typed tracepoints (tp_btf) where tracing programs load, raw tracepoints otherwise: both
// hand over the task_structs.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_process = false;  // -P: a histogram per process
const volatile bool per_thread = false;   // -L: a histogram per thread
const volatile bool millis = false;       // -m

#define TASK_RUNNING 0

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} enqueued SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct tool_keyed_hist);
} hists SEC(".maps");

// Kernels before 5.14 call the state `state`.
struct task_struct___pre514 {
  long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct* task) {
  if (bpf_core_field_exists(task->__state)) return BPF_CORE_READ(task, __state);
  return BPF_CORE_READ((struct task_struct___pre514*)task, state);
}

static __always_inline bool task_allowed(struct task_struct* task) {
  if (!tool_pid_allowed(BPF_CORE_READ(task, tgid))) return false;
  if (tool_target_comm[0] == 0) return true;
  char comm[TOOL_COMM_LEN];
  BPF_CORE_READ_STR_INTO(&comm, task, comm);
  return tool_comm_allowed(comm);
}

static __always_inline int on_runnable(struct task_struct* task) {
  __u32 tid = BPF_CORE_READ(task, pid);
  if (tid == 0 || !task_allowed(task)) return 0;
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&enqueued, &tid, &now, BPF_ANY);
  return 0;
}

static __always_inline int on_switch(struct task_struct* prev, struct task_struct* next) {
  if (task_state(prev) == TASK_RUNNING) on_runnable(prev);

  __u32 tid = BPF_CORE_READ(next, pid);
  __u64* since = bpf_map_lookup_elem(&enqueued, &tid);
  if (!since) return 0;
  __u64 delta = bpf_ktime_get_ns() - *since;
  bpf_map_delete_elem(&enqueued, &tid);
  if ((__s64)delta < 0) return 0;
  delta /= millis ? 1000000 : 1000;

  __u32 key = (__u32)-1;
  if (per_process)
    key = BPF_CORE_READ(next, tgid);
  else if (per_thread)
    key = tid;
  bool created;
  struct tool_keyed_hist* hist = tool_keyed_hist_get(&hists, key, &created);
  if (!hist) return 0;
  if (created && (per_process || per_thread)) BPF_CORE_READ_STR_INTO(&hist->comm, next, comm);
  tool_hist_add(&hist->hist, delta);
  return 0;
}

SEC("tp_btf/sched_wakeup")
int wakeup_btf(__u64* ctx) { return on_runnable((struct task_struct*)ctx[0]); }

SEC("tp_btf/sched_wakeup_new")
int wakeup_new_btf(__u64* ctx) { return on_runnable((struct task_struct*)ctx[0]); }

SEC("tp_btf/sched_switch")
int switch_btf(__u64* ctx) { return on_switch((struct task_struct*)ctx[1], (struct task_struct*)ctx[2]); }

SEC("raw_tp/sched_wakeup")
int wakeup_raw(struct bpf_raw_tracepoint_args* ctx) { return on_runnable((struct task_struct*)ctx->args[0]); }

SEC("raw_tp/sched_wakeup_new")
int wakeup_new_raw(struct bpf_raw_tracepoint_args* ctx) { return on_runnable((struct task_struct*)ctx->args[0]); }

SEC("raw_tp/sched_switch")
int switch_raw(struct bpf_raw_tracepoint_args* ctx) {
  return on_switch((struct task_struct*)ctx->args[1], (struct task_struct*)ctx->args[2]);
}
