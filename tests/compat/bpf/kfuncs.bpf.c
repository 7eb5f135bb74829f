// Kfuncs guarded with bpf_ksym_exists(), as bcc's sigsnoop writes them: vmlinux.h declares the
// kernel's kfuncs `extern ... __weak __ksym` (bpf_ksym_exists() insists on __weak), one kfunc is
// missing on every kernel, and bpf_task_acquire is missing before Linux 6.2.
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

extern void bpf_no_such_kfunc_corebpf(void) __weak __ksym;

SEC("tp_btf/task_newtask")
int BPF_PROG(kfuncs, struct task_struct* task, u64 clone_flags) {
  if (bpf_ksym_exists(bpf_task_acquire)) {
    struct task_struct* acquired = bpf_task_acquire(task);
    if (acquired) bpf_task_release(acquired);
  }
  if (bpf_ksym_exists(bpf_no_such_kfunc_corebpf)) bpf_no_such_kfunc_corebpf();
  return 0;
}
