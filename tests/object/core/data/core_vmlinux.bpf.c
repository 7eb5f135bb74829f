// Reads real kernel structures through the running kernel's vmlinux.h (generated at build time by
// `corebpf btf dump file /sys/kernel/btf/vmlinux format c`), so it relocates against any kernel.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

// Before 5.14 the task state was `long state`; today's kernels call it __state.
struct task_struct___pre514 {
  long state;
} __attribute__((preserve_access_index));

static __always_inline struct task_struct* arg_task(void* ctx) { return (struct task_struct*)((__u64*)ctx)[0]; }

SEC("raw_tp/sched_switch")
int task_fields(void* ctx) {
  struct task_struct* t = arg_task(ctx);
  long r = 0;
  r += t->pid;
  r += t->tgid;
  r += (long)t->real_parent;
  r += (long)t->mm;
  r += t->comm[0];
  r += BPF_CORE_READ(t, real_parent, tgid);
  r += BPF_CORE_READ(t, mm, mm_count.counter);
  r += BPF_CORE_READ(t, mm, start_stack);
  r += BPF_CORE_READ(t, mm, arg_start);
  r += BPF_CORE_READ(t, se.vruntime);
  r += BPF_CORE_READ(t, cred, uid.val);
  r += BPF_CORE_READ(t, nsproxy, pid_ns_for_children, level);
  r += bpf_core_field_offset(t->comm);
  r += bpf_core_field_size(t->comm);
  r += bpf_core_field_offset(t->__state);
  r += bpf_core_field_exists(t->__state);
  return r;
}

SEC("raw_tp/sched_switch")
int task_state_compat(void* ctx) {
  struct task_struct___pre514* old = (void*)arg_task(ctx);
  if (bpf_core_field_exists(old->state)) return BPF_CORE_READ(old, state);
  return 0;
}

SEC("raw_tp/sched_switch")
int kernel_types(void* ctx) {
  long r = 0;
  r += bpf_core_type_size(struct task_struct);
  r += bpf_core_type_size(struct mm_struct);
  r += bpf_core_type_exists(struct bpf_ringbuf_map);
  r += bpf_core_type_id_kernel(struct task_struct);
  r += bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
  r += bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ringbuf_output);
  r += bpf_core_enum_value(enum bpf_prog_type, BPF_PROG_TYPE_SYSCALL);
  r += BPF_CORE_READ_BITFIELD_PROBED(arg_task(ctx), sched_reset_on_fork);
  r += BPF_CORE_READ_BITFIELD_PROBED(arg_task(ctx), in_execve);
#if __clang_major__ >= 15
  r += bpf_core_type_matches(struct list_head);
  r += bpf_core_type_matches(struct task_struct);
#endif
  return r;
}

char LICENSE[] SEC("license") = "GPL";
