// For the syscall fault-injection test (tests/kernel/fault_injection_test.cpp): a large object whose
// open+load+attach makes many kinds of system call. Maps of several kinds (hash, array, per-CPU,
// LRU, ring buffer, perf event array, a map of maps with its inner template, a program array, a
// map pinned by name), global data (.data, .bss, .rodata), CO-RE relocations, and programs of the
// attach families the test uses: raw tracepoint, tracepoint (perf link), uprobe and uprobe.multi,
// task iterator, perf event, XDP and TC (netlink), socket filter.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int target_tgid = -1;
int data_counter = 1;
unsigned long long bss_counter;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, int);
  __type(value, unsigned long long);
} fi_hash SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} fi_array SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} fi_percpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 32);
  __type(key, __u32);
  __type(value, __u32);
} fi_lru SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} fi_ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(int));
} fi_perf SEC(".maps");

struct fi_inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} fi_inner_a SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, struct fi_inner);
} fi_outer SEC(".maps") = {.values = {&fi_inner_a}};

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u32);
} fi_progs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} fi_pinned SEC(".maps");

static __always_inline int is_target(void) { return (bpf_get_current_pid_tgid() >> 32) == target_tgid; }

SEC("raw_tp/sys_enter")
int fi_raw_tp(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  int tgid = BPF_CORE_READ(task, tgid);
  if (tgid != target_tgid) return 0;
  unsigned long long one = 1;
  bpf_map_update_elem(&fi_hash, &tgid, &one, BPF_ANY);
  data_counter++;
  bpf_ringbuf_output(&fi_ring, &tgid, sizeof(tgid), 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int fi_tracepoint(void *ctx) {
  if (!is_target()) return 0;
  __u32 key = 0, value = 1;
  __u64 *slot = bpf_map_lookup_elem(&fi_array, &key);
  if (slot) __sync_fetch_and_add(slot, 1);
  slot = bpf_map_lookup_elem(&fi_percpu, &key);
  if (slot) *slot += 1;
  bpf_map_update_elem(&fi_lru, &key, &value, BPF_ANY);
  void *inner = bpf_map_lookup_elem(&fi_outer, &key);
  if (inner) bpf_map_lookup_elem(inner, &key);
  slot = bpf_map_lookup_elem(&fi_pinned, &key);
  if (slot) *slot += 1;
  bpf_perf_event_output(ctx, &fi_perf, BPF_F_CURRENT_CPU, &key, sizeof(key));
  bpf_tail_call(ctx, &fi_progs, 0);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(fi_uprobe, int value) {
  if (is_target()) bss_counter += value;
  return 0;
}

SEC("uprobe.multi")
int fi_uprobe_multi(struct pt_regs *ctx) {
  if (is_target()) bss_counter++;
  return 0;
}

SEC("iter/task")
int fi_iter(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", task->pid);
  return 0;
}

SEC("perf_event")
int fi_perf_event(struct bpf_perf_event_data *ctx) {
  bss_counter++;
  return 0;
}

SEC("xdp")
int fi_xdp(struct xdp_md *ctx) { return XDP_PASS; }

SEC("tc")
int fi_tc(struct __sk_buff *skb) { return 0; /* TC_ACT_OK */ }

SEC("socket")
int fi_socket(struct __sk_buff *skb) { return 0; }
