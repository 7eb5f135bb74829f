// .kconfig and .ksyms as libbpf documents them: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE,
// LINUX_HAS_SYSCALL_WRAPPER, CONFIG_* (one the kernel lacks, __weak), a typed per-CPU ksym and an
// untyped ksym (an address from kallsyms). Kfuncs are in kfuncs.bpf.c.
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;  // weak: the guests have no kernel config file
extern int CONFIG_HZ __kconfig __weak;
extern bool CONFIG_NO_SUCH_OPTION_COREBPF __kconfig __weak;

extern const int bpf_prog_active __ksym;
extern const void bpf_prog_put __ksym;  // a function: kallsyms may list no data symbols

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
