// .kconfig and .ksyms as libbpf documents them: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE,
// LINUX_HAS_SYSCALL_WRAPPER, CONFIG_* (one the kernel lacks, __weak), a typed per-CPU ksym, an
// untyped ksym (an address from kallsyms), and kfuncs guarded with bpf_ksym_exists() (declared
// __weak __ksym by vmlinux.h, as bcc's sigsnoop relies on), one of them missing everywhere.
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern bool CONFIG_NO_SUCH_OPTION_COREBPF __kconfig __weak;

extern const int bpf_prog_active __ksym;
extern const void bpf_prog_put __ksym;  // a function: kallsyms may list no data symbols
extern void bpf_no_such_kfunc_corebpf(void) __weak __ksym;

u64 seen[8];

SEC("raw_tp/sys_enter")
int kconfig_values(void* ctx) {
  seen[0] = LINUX_KERNEL_VERSION;
  seen[1] = LINUX_HAS_BPF_COOKIE;
  seen[2] = LINUX_HAS_SYSCALL_WRAPPER;
  seen[3] = CONFIG_BPF_SYSCALL;
  seen[4] = CONFIG_HZ;
  seen[5] = CONFIG_NO_SUCH_OPTION_COREBPF;
  return 0;
}

SEC("raw_tp/sys_exit")
int ksyms(void* ctx) {
  const int* active = bpf_this_cpu_ptr(&bpf_prog_active);
  seen[6] = *active;
  seen[7] = (u64)&bpf_prog_put;
  return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(kfuncs, struct task_struct* task, u64 clone_flags) {
  if (bpf_ksym_exists(bpf_task_acquire)) {
    struct task_struct* acquired = bpf_task_acquire(task);
    if (acquired) bpf_task_release(acquired);
  }
  if (bpf_ksym_exists(bpf_no_such_kfunc_corebpf)) bpf_no_such_kfunc_corebpf();
  return 0;
}
