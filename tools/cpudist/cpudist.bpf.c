// cpudist, kernel side: how long tasks run on a CPU between two switches (on-CPU time), or with
// offcpu how long they stay off it, from sched_switch alone, as log2 histograms in microseconds
// (or milliseconds). BTF-typed tracepoint (tp_btf) where tracing programs load, raw tracepoint
// otherwise.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_process = false;  // -P
const volatile bool per_thread = false;   // -L
const volatile bool millis = false;       // -m
const volatile bool offcpu = false;       // -O

// When each thread last went on (or, offcpu, off) a CPU.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} since SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct tool_keyed_hist);
} hists SEC(".maps");

static __always_inline bool task_allowed(struct task_struct* task) {
  if (BPF_CORE_READ(task, pid) == 0) return false;  // the idle task
  if (!tool_pid_allowed(BPF_CORE_READ(task, tgid))) return false;
  if (tool_target_comm[0] == 0) return true;
  char comm[TOOL_COMM_LEN];
  BPF_CORE_READ_STR_INTO(&comm, task, comm);
  return tool_comm_allowed(comm);
}

static __always_inline void start(struct task_struct* task, __u64 now) {
  if (!task_allowed(task)) return;
  __u32 tid = BPF_CORE_READ(task, pid);
  bpf_map_update_elem(&since, &tid, &now, BPF_ANY);
}

static __always_inline void finish(struct task_struct* task, __u64 now) {
  __u32 tid = BPF_CORE_READ(task, pid);
  __u64* then = bpf_map_lookup_elem(&since, &tid);
  if (!then) return;
  __u64 delta = now - *then;
  bpf_map_delete_elem(&since, &tid);
  if ((__s64)delta < 0) return;
  delta /= millis ? 1000000 : 1000;
  __u32 key = (__u32)-1;
  if (per_process)
    key = BPF_CORE_READ(task, tgid);
  else if (per_thread)
    key = tid;
  bool created;
  struct tool_keyed_hist* hist = tool_keyed_hist_get(&hists, key, &created);
  if (!hist) return;
  if (created && (per_process || per_thread)) BPF_CORE_READ_STR_INTO(&hist->comm, task, comm);
  tool_hist_add(&hist->hist, delta);
}

static __always_inline int on_switch(struct task_struct* prev, struct task_struct* next) {
  __u64 now = bpf_ktime_get_ns();
  if (offcpu) {
    start(prev, now);
    finish(next, now);
  } else {
    finish(prev, now);
    start(next, now);
  }
  return 0;
}

SEC("tp_btf/sched_switch")
int switch_btf(__u64* ctx) { return on_switch((struct task_struct*)ctx[1], (struct task_struct*)ctx[2]); }

SEC("raw_tp/sched_switch")
int switch_raw(struct bpf_raw_tracepoint_args* ctx) {
  return on_switch((struct task_struct*)ctx->args[1], (struct task_struct*)ctx->args[2]);
}
