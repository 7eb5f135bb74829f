// task_iter (libbpf-bootstrap): a BPF iterator over every task of the system. For each it writes
// one fixed-size record to the iterator's stream: pid, thread id, parent, state, comm and the
// task's kernel stack (bpf_get_task_stack). User space reads the stream to its end and prints it.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_STACK_DEPTH 32
#define TASK_COMM_LEN 16

struct task_info {
  int pid;  // tgid
  int tid;
  int ppid;
  unsigned int state;
  char comm[TASK_COMM_LEN];
  int kstack_len;  // bytes of kstack filled, or a negative errno
  unsigned long long kstack[MAX_STACK_DEPTH];
};

const struct task_info* unused_task_info __attribute__((unused));

// Kernels before 5.14 name the state field `state` (a volatile long).
struct task_struct___pre_5_14 {
  long state;
} __attribute__((preserve_access_index));

// The record is too large for the BPF stack: one scratch record per CPU.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, struct task_info);
} scratch SEC(".maps");

SEC("iter/task")
int get_tasks(struct bpf_iter__task* ctx) {
  struct seq_file* seq = ctx->meta->seq;
  struct task_struct* task = ctx->task;
  if (!task) return 0;  // the end of the walk

  const u32 zero = 0;
  struct task_info* info = bpf_map_lookup_elem(&scratch, &zero);
  if (!info) return 0;
  info->pid = task->tgid;
  info->tid = task->pid;
  info->ppid = BPF_CORE_READ(task, real_parent, tgid);
  if (bpf_core_field_exists(task->__state))
    info->state = BPF_CORE_READ(task, __state);
  else
    info->state = BPF_CORE_READ((struct task_struct___pre_5_14*)task, state);
  BPF_CORE_READ_STR_INTO(&info->comm, task, comm);
  info->kstack_len = bpf_get_task_stack(task, info->kstack, sizeof(info->kstack), 0);
  bpf_seq_write(seq, info, sizeof(*info));
  return 0;
}
