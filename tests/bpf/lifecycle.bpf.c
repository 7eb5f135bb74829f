// For the lifecycle test: a little of everything a load creates (CO-RE relocations, a hash map, a
// ring buffer, .rodata/.data/.bss) behind a raw tracepoint, whose link comes and goes without the
// RCU grace period a perf-event tracepoint detach waits for.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int target_tgid = -1;
int calls_seen = 1;
unsigned long long last_id = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, int);
  __type(value, unsigned long long);
} per_tgid SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

SEC("raw_tp/sys_enter")
int count_syscalls(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  int tgid = BPF_CORE_READ(task, tgid);
  if (tgid != target_tgid) return 0;
  unsigned long long one = 1, *count = bpf_map_lookup_elem(&per_tgid, &tgid);
  if (count)
    __sync_fetch_and_add(count, 1);
  else
    bpf_map_update_elem(&per_tgid, &tgid, &one, BPF_NOEXIST);
  last_id = ctx->args[1];
  calls_seen++;
  bpf_ringbuf_output(&events, &tgid, sizeof(tgid), 0);
  return 0;
}
