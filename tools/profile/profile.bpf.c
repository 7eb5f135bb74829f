// profile (libbpf-bootstrap): a perf_event program user space attaches to a sampling event
// (CPU clock at a frequency) on every CPU. Each sample sends the interrupted task's pid, CPU,
// comm and its kernel and user stacks (bpf_get_stack) through a ring buffer; user space
// symbolizes the addresses.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

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

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1024 * 1024);
} events SEC(".maps");

// Set before load: only this process (0: all).
const volatile int target_pid = 0;

unsigned long long dropped = 0;

SEC("perf_event")
int profile(void* ctx) {
  const int pid = bpf_get_current_pid_tgid() >> 32;
  if (target_pid && pid != target_pid) return 0;
  struct stack_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  e->pid = pid;
  e->cpu = bpf_get_smp_processor_id();
  if (bpf_get_current_comm(e->comm, sizeof(e->comm))) e->comm[0] = 0;
  e->kstack_size = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
  e->ustack_size = bpf_get_stack(ctx, e->ustack, sizeof(e->ustack), BPF_F_USER_STACK);
  bpf_ringbuf_submit(e, 0);
  return 0;
}
