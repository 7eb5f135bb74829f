// CO-RE reads of task_struct / mm_struct, compiled once against the running kernel's vmlinux.h
// and loaded on every kernel of the matrix. The test process calls getppid(); the program records
// what the kernel's own structures say about the caller, for the test to compare with getpid()...
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile int target_tgid = 0;

struct task_facts {
  int pid;
  int tgid;
  int parent_tgid;
  unsigned int hits;
  unsigned long mm_start_stack;  // nonzero for a user process
  unsigned long mm_total_vm;
  char comm[16];
};

struct task_facts facts = {};

SEC("tracepoint/syscalls/sys_enter_getppid")
int record_task(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  int tgid = BPF_CORE_READ(task, tgid);
  if (tgid != target_tgid) return 0;
  facts.pid = BPF_CORE_READ(task, pid);
  facts.tgid = tgid;
  facts.parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
  facts.mm_start_stack = BPF_CORE_READ(task, mm, start_stack);
  facts.mm_total_vm = BPF_CORE_READ(task, mm, total_vm);
  BPF_CORE_READ_STR_INTO(&facts.comm, task, comm);
  __sync_fetch_and_add(&facts.hits, 1);
  return 0;
}
