// syscount, kernel side: raw_syscalls/sys_enter (the start time, for -L) and sys_exit count each
// system call by its number, or by process with per_process; failed_only keeps calls that
// returned an error, target_errno those that returned that error.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "syscount.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_process = false;  // -P
const volatile bool latency = false;      // -L
const volatile bool failed_only = false;  // -x
const volatile __s32 target_errno = 0;    // -e ERRNO

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} started SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct syscount_value);
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct trace_event_raw_sys_enter* ctx) {
  if (!latency || !tool_current_allowed()) return 0;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&started, &tid, &now, BPF_ANY);
  return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit* ctx) {
  if (!tool_current_allowed()) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)pid_tgid;
  __u64 elapsed = 0;
  if (latency) {
    __u64* since = bpf_map_lookup_elem(&started, &tid);
    if (!since) return 0;  // entered before the tool started
    elapsed = bpf_ktime_get_ns() - *since;
    bpf_map_delete_elem(&started, &tid);
  }
  if (ctx->id < 0) return 0;
  long ret = ctx->ret;
  if (failed_only && ret >= 0) return 0;
  if (target_errno && ret != -target_errno) return 0;

  __u32 key = per_process ? (__u32)(pid_tgid >> 32) : (__u32)ctx->id;
  struct syscount_value* value = bpf_map_lookup_elem(&counts, &key);
  if (!value) {
    struct syscount_value zero = {};
    if (per_process) bpf_get_current_comm(zero.comm, sizeof(zero.comm));
    bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
    value = bpf_map_lookup_elem(&counts, &key);
    if (!value) return 0;
  }
  __sync_fetch_and_add(&value->count, 1);
  if (latency) __sync_fetch_and_add(&value->total_ns, elapsed);
  return 0;
}
