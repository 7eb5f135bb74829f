// The inspection commands (tests/cli/cli_inspect_test.cpp): `prog dump xlated|jited` of a program
// with subprograms, a bpf_loop callback, map and global data references and helper calls;
// `gen disasm` of its CO-RE relocations; `net attach` (xdp, tc) and `cgroup attach` targets.
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} inspect_counts SEC(".maps");

int inspect_limit = 3;

static __noinline int inspect_scale(int x) { return x * 3 + inspect_limit; }

static long inspect_step(__u32 index, void *ctx) {
  inspect_limit += index;
  return 0;
}

SEC("xdp")
int inspect_xdp(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index & 3;
  __u64 *count = bpf_map_lookup_elem(&inspect_counts, &key);
  if (count) __sync_fetch_and_add(count, 1);
  bpf_loop(2, inspect_step, 0, 0);
  return inspect_scale((int)key) > 100 ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int inspect_tc(struct __sk_buff *skb) { return skb->len > 1 ? 0 : 0; }

SEC("cgroup_skb/egress")
int inspect_egress(struct __sk_buff *skb) { return 1; }

// A CO-RE read for gen disasm's annotations (relocated against the running kernel at load).
struct task_struct {
  int tgid;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_getppid")
int inspect_tp(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  int tgid = BPF_CORE_READ(task, tgid);
  __u32 key = tgid & 3;
  __u64 *count = bpf_map_lookup_elem(&inspect_counts, &key);
  if (count) *count += 1;
  return 0;
}
