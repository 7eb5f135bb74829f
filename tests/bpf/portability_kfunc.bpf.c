// Portability corpus for `core check`: a kfunc newer than Linux 6.1 (the numbers iterator of 6.4)
// called unconditionally through a strong extern: the whole object fails where the kernel lacks
// it, as the loader's extern resolution fails. vmlinux.h's own kfunc prototypes are weak (as
// bpftool's are), and a weak earlier declaration would make the strong ones below weak too.
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

long total = 0;

SEC("raw_tp/sys_enter")
int sum_numbers(void *ctx) {
  struct bpf_iter_num it;
  int *v;
  bpf_iter_num_new(&it, 0, 4);
  while ((v = bpf_iter_num_next(&it)))
    total += *v;
  bpf_iter_num_destroy(&it);
  return 0;
}

// No kfunc here, but it shares the object's fate.
SEC("raw_tp/sys_enter")
int plain(void *ctx) {
  total++;
  return 0;
}
