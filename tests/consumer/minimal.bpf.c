// The consumer projects' program: counts getpid() calls of one process (a .rodata setting) in
// .bss and in a hash map keyed by pid. Includes vmlinux.h when built with -DUSE_VMLINUX_H.
#ifdef USE_VMLINUX_H
#include "vmlinux.h"
#else
#include <linux/bpf.h>
#endif

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct count {
  __u64 calls;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct count);
} counts SEC(".maps");

const volatile int filter_pid = 0;
__u64 hits;

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != filter_pid) return 0;
  __sync_fetch_and_add(&hits, 1);
  struct count zero = {};
  bpf_map_update_elem(&counts, &pid, &zero, BPF_NOEXIST);
  struct count *c = bpf_map_lookup_elem(&counts, &pid);
  if (c) __sync_fetch_and_add(&c->calls, 1);
  return 0;
}
