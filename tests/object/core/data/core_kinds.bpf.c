// Every CO-RE relocation kind, against the local types of core_local.h. The programs only have to
// compile and relocate: they are never attached, and their values are meaningless.
#include "core_local.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

static __always_inline struct task* arg_task(void* ctx) { return (struct task*)((__u64*)ctx)[0]; }

SEC("raw_tp/sys_enter")
int direct_loads(void* ctx) {
  struct task* t = arg_task(ctx);
  long r = 0;
  r += t->pid;
  r += t->tgid;
  r += (long)t->parent;
  r += t->in.b;
  r += t->arr[2].b;
  r += t->matrix[1][2];
  r += t->u_long;
  r += t->anon_y;
  r += t->grows;
  r += t->shrinks;
  r += t->sgrows;
  r += t->small;
  r += t->tail[5];
  r += t->comm[3];
  return r;
}

SEC("raw_tp/sys_enter")
int stores(void* ctx) {
  struct task* t = arg_task(ctx);
  t->tgid = 7;
  t->small = (__u16)(long)ctx;
  t->grows = (__u32)(long)ctx;
  return 0;
}

SEC("raw_tp/sys_enter")
int probe_reads(void* ctx) {
  struct task* t = arg_task(ctx);
  long r = 0;
  r += BPF_CORE_READ(t, parent, tgid);
  r += BPF_CORE_READ(t, parent, parent, in.a);
  r += BPF_CORE_READ(t, st);
  return r;
}

SEC("raw_tp/sys_enter")
int field_info(void* ctx) {
  struct task* t = arg_task(ctx);
  long r = 0;
  r += bpf_core_field_offset(t->comm);
  r += bpf_core_field_size(t->comm);
  r += bpf_core_field_size(t->arr[1]);
  r += bpf_core_field_offset(t->arr[3].a);
  r += bpf_core_field_offset(t[1].tgid);
  r += bpf_core_field_exists(t->missing_field);
  r += bpf_core_field_exists(t->tgid);
  r += bpf_core_field_offset(t->missing_field);
  r += bpf_core_field_size(t->u_int);
  r += bpf_core_field_offset(t->anon_x);
  r += bpf_core_field_offset(t->tail_len);
  r += bpf_core_field_offset(t->tail[2]);
  return r;
}

SEC("raw_tp/sys_enter")
int bitfields(void* ctx) {
  struct task* t = arg_task(ctx);
  long r = 0;
  r += BPF_CORE_READ_BITFIELD_PROBED(t, flags_lo);
  r += BPF_CORE_READ_BITFIELD_PROBED(t, flags_mid);
  r += BPF_CORE_READ_BITFIELD_PROBED(t, sbits);
  r += BPF_CORE_READ_BITFIELD_PROBED(t, wide);
  r += BPF_CORE_READ_BITFIELD(t, ubits);
  r += BPF_CORE_READ_BITFIELD(t, sbits);
  r += __builtin_preserve_field_info(t->sgrows, BPF_FIELD_SIGNED);
  r += __builtin_preserve_field_info(t->grows, BPF_FIELD_SIGNED);
  return r;
}

SEC("raw_tp/sys_enter")
int flavors(void* ctx) {
  struct task___v2* t = (struct task___v2*)((__u64*)ctx)[0];
  long r = 0;
  if (bpf_core_field_exists(t->v2_only)) r += t->v2_only;
  r += t->pid;
  return r;
}

SEC("raw_tp/sys_enter")
int missing(void* ctx) {
  struct nothere* n = (struct nothere*)((__u64*)ctx)[0];
  long r = 0;
  if (bpf_core_type_exists(struct nothere)) r += n->x;
  r += bpf_core_field_exists(n->x);
  return r;
}

SEC("raw_tp/sys_enter")
int types(void* ctx) {
  long r = 0;
  r += bpf_core_type_exists(struct task);
  r += bpf_core_type_size(struct task);
  r += bpf_core_type_id_kernel(struct task);
  r += bpf_core_type_id_local(struct task);
  r += bpf_core_type_exists(task_t);
  r += bpf_core_type_size(task_t);
  r += bpf_core_type_exists(u32_alias);
  r += bpf_core_type_size(struct nothere);
  r += bpf_core_type_id_kernel(struct nothere);
#if __clang_major__ >= 15  // TYPE_MATCHES relocations
  r += bpf_core_type_matches(struct tm_ok);
  r += bpf_core_type_matches(struct tm_bad);
  r += bpf_core_type_matches(struct tm_ptr);
  r += bpf_core_type_matches(task_t);
#endif
  r += bpf_core_type_exists(enum state);
  r += bpf_core_type_size(enum big);
  return r;
}

SEC("raw_tp/sys_enter")
int enums(void* ctx) {
  long r = 0;
  r += bpf_core_enum_value_exists(enum state, S_STOPPED);
  r += bpf_core_enum_value(enum state, S_STOPPED);
  r += bpf_core_enum_value(enum state, S_GONE);
  r += bpf_core_enum_value_exists(enum state, S_GONE);
  r += bpf_core_enum_value(enum state___new, S_NEW);
  r += bpf_core_enum_value(enum big, BIG_A);
  r += bpf_core_enum_value(enum big, BIG_B);
  r += bpf_core_enum_value(enum negative, NEG_A);
  r += bpf_core_enum_value_exists(enum negative, NEG_B);
  return r;
}

static __noinline long subprog_reads(struct task* t) { return t->tgid + BPF_CORE_READ(t, in.a); }

SEC("raw_tp/sys_enter")
int with_subprog(void* ctx) { return subprog_reads(arg_task(ctx)); }

char LICENSE[] SEC("license") = "GPL";
