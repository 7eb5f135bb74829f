// Portability corpus for `core check` (tests/kernel/core_check_test.cpp): fields that moved
// between Linux 6.1 and 6.12, read with and without a guard, written the way people write them.
// 6.1 has task_struct.thread_group and inode.i_atime; 6.12 (and later) dropped both and have
// inode.i_atime_sec instead. Compiled against the build host's vmlinux.h; the fields a newer
// kernel lacks are declared on ___old flavors.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct___old {
  struct list_head thread_group;
} __attribute__((preserve_access_index));

struct inode___old {
  struct timespec64 i_atime;
} __attribute__((preserve_access_index));

long seen = 0;

// 6.1 only: an unguarded read of a field 6.12 removed.
SEC("raw_tp/sys_enter")
int old_field_unguarded(void *ctx) {
  struct task_struct___old *task = (void *)bpf_get_current_task();
  seen += (long)BPF_CORE_READ(task, thread_group.next);
  return 0;
}

// Everywhere: the same read behind bpf_core_field_exists.
SEC("raw_tp/sys_enter")
int old_field_guarded(void *ctx) {
  struct task_struct___old *task = (void *)bpf_get_current_task();
  if (bpf_core_field_exists(task->thread_group))
    seen += (long)BPF_CORE_READ(task, thread_group.next);
  else
    seen += 1;
  return 0;
}

// 6.12 and later only: an unguarded read of a field 6.1 lacks.
SEC("raw_tp/sys_enter")
int new_field_unguarded(struct bpf_raw_tracepoint_args *ctx) {
  struct inode *inode = (struct inode *)ctx->args[0];
  seen += BPF_CORE_READ(inode, i_atime_sec);
  return 0;
}

// Everywhere: the new field when it exists, else the old one; each read is poisoned on the
// kernel that lacks it and dead there.
SEC("raw_tp/sys_enter")
int new_or_old_field(struct bpf_raw_tracepoint_args *ctx) {
  struct inode *inode = (struct inode *)ctx->args[0];
  if (bpf_core_field_exists(inode->i_atime_sec)) {
    seen += BPF_CORE_READ(inode, i_atime_sec);
  } else {
    struct inode___old *old = (void *)inode;
    seen += BPF_CORE_READ(old, i_atime.tv_sec);
  }
  return 0;
}

// Everywhere: a type check, and an enum value that exists on all three kernels.
SEC("raw_tp/sys_enter")
int type_and_enum(void *ctx) {
  if (bpf_core_type_exists(struct bpf_iter_num))
    seen += 2;
  if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_CGRP_STORAGE))
    seen += 4;
  return 0;
}
