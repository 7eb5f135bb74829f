// Portability corpus for `core check`: the same kfuncs as portability_kfunc.bpf.c through weak
// externs, called only where a guard says the kernel has them: a CO-RE type check, or the
// kernel's version read from .kconfig (a frozen map whose values the verifier knows).
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym __weak;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym __weak;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym __weak;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

long total = 0;

static __always_inline void sum(void) {
  struct bpf_iter_num it;
  int *v;
  bpf_iter_num_new(&it, 0, 4);
  while ((v = bpf_iter_num_next(&it)))
    total += *v;
  bpf_iter_num_destroy(&it);
}

SEC("raw_tp/sys_enter")
int guarded_by_type(void *ctx) {
  if (bpf_core_type_exists(struct bpf_iter_num))
    sum();
  else
    total++;
  return 0;
}

SEC("raw_tp/sys_enter")
int guarded_by_version(void *ctx) {
  if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(6, 4, 0))
    sum();
  else
    total++;
  return 0;
}

// Fails where the kernel lacks the kfuncs: the call is reachable.
SEC("raw_tp/sys_enter")
int unguarded(void *ctx) {
  sum();
  return 0;
}
