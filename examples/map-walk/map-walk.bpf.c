// map-walk: counts system calls per (process, syscall number) in a hash map whose key and value
// are structs, and per CPU in a per-CPU array; user space walks both through typed views.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct call_key {
  u32 pid;
  u32 syscall;
};

struct call_stats {
  u64 count;
  u64 last_ns;
  char comm[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct call_key);
  __type(value, struct call_stats);
} calls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, u64);
} total SEC(".maps");

const volatile int only_pid = 0;  // 0: every process

SEC("raw_tp/sys_enter")
int count_syscall(struct bpf_raw_tracepoint_args *ctx) {
  const u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (only_pid != 0 && pid != only_pid) return 0;
  struct call_key key = {.pid = pid, .syscall = (u32)ctx->args[1]};
  struct call_stats *stats = bpf_map_lookup_elem(&calls, &key);
  if (!stats) {
    struct call_stats fresh = {};
    bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
    bpf_map_update_elem(&calls, &key, &fresh, BPF_NOEXIST);
    stats = bpf_map_lookup_elem(&calls, &key);
    if (!stats) return 0;
  }
  __sync_fetch_and_add(&stats->count, 1);
  stats->last_ns = bpf_ktime_get_ns();
  u32 zero = 0;
  u64 *sum = bpf_map_lookup_elem(&total, &zero);
  if (sum) *sum += 1;
  return 0;
}
