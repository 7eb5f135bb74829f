// profile (libbpf-bootstrap): a perf_event program user space attaches to a sampling event
// (CPU clock at a frequency) on every CPU. Each sample sends the interrupted task's pid, CPU,
// comm and its kernel and user stacks (bpf_get_stack) through the tools' event stream; user space
// symbolizes the addresses.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_STACK_DEPTH 64
#define TASK_COMM_LEN 16

struct stack_event {
  int pid;
  unsigned int cpu;
  char comm[TASK_COMM_LEN];
  int kstack_size;  // bytes, or a negative errno
  int ustack_size;
  unsigned long long kstack[MAX_STACK_DEPTH];
  unsigned long long ustack[MAX_STACK_DEPTH];
};

const struct stack_event* unused_stack_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

// The event is too large for the BPF stack: one scratch event per CPU.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct stack_event);
} scratch SEC(".maps");

SEC("perf_event")
int profile(void* ctx) {
  const int pid = bpf_get_current_pid_tgid() >> 32;
  if (!tool_pid_allowed(pid)) return 0;  // -p
  const u32 zero = 0;
  struct stack_event* e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e) return 0;
  e->pid = pid;
  e->cpu = bpf_get_smp_processor_id();
  if (bpf_get_current_comm(e->comm, sizeof(e->comm))) e->comm[0] = 0;
  e->kstack_size = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
  e->ustack_size = bpf_get_stack(ctx, e->ustack, sizeof(e->ustack), BPF_F_USER_STACK);
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}
