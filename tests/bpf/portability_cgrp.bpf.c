// Portability corpus for `core check`: a map type and a helper newer than Linux 6.1 (cgroup local
// storage and bpf_cgrp_storage_get, 6.2), from a BTF tracepoint.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, long);
} cgroup_counts SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(count_by_cgroup, struct pt_regs *regs, long id) {
  struct task_struct *task = bpf_get_current_task_btf();
  long *count = bpf_cgrp_storage_get(&cgroup_counts, task->cgroups->dfl_cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (count)
    __sync_fetch_and_add(count, 1);
  return 0;
}
