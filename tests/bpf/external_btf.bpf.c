// CO-RE reads of task_struct / mm_struct (those of core_task.bpf.c) from a raw tracepoint program,
// which BPF_PROG_TEST_RUN runs in the calling thread: the external BTF test
// (tests/kernel/external_btf_test.cpp) checks what it read without attaching anything. Compiled
// once against the running kernel's vmlinux.h, relocated against whichever BTF the loader is given.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct task_facts {
  int pid;
  int tgid;
  int parent_tgid;
  unsigned int runs;
  unsigned long mm_start_stack;
  unsigned long mm_total_vm;
  char comm[16];
};

struct task_facts facts = {};

SEC("raw_tp/sys_enter")
int read_task(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  facts.pid = BPF_CORE_READ(task, pid);
  facts.tgid = BPF_CORE_READ(task, tgid);
  facts.parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
  facts.mm_start_stack = BPF_CORE_READ(task, mm, start_stack);
  facts.mm_total_vm = BPF_CORE_READ(task, mm, total_vm);
  BPF_CORE_READ_STR_INTO(&facts.comm, task, comm);
  facts.runs++;
  return 0;
}
