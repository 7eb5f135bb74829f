// The object of the min_core_btf edge cases, relocated against min_core_kernel.c's BTF: each
// program pairs a relocation that keeps part of a type with one whose answer depends on what else
// of that type the output keeps.
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define __core __attribute__((preserve_access_index))

struct mc_ptr {
  void* p;
} __core;

typedef void* mc_handle_t;
struct mc_holder {
  mc_handle_t h;
} __core;

struct mc_zla {
  int a;
  char pad[];
} __core;

enum mc_small : signed char { MC_SMALL_A = -1 };
struct mc_flav {
  int x;
  enum mc_small kind;
} __core;

static __always_inline void* arg(void* ctx) { return (void*)((__u64*)ctx)[0]; }

SEC("raw_tp/sys_enter")
int pointer_targets(void* ctx) {
  struct mc_ptr* m = arg(ctx);
  struct mc_holder* h = arg(ctx);
  long r = bpf_core_field_offset(m->p);
  r += bpf_core_type_matches(struct mc_ptr);
  r += bpf_core_field_offset(h->h);
  r += bpf_core_type_exists(mc_handle_t);
  return r;
}

SEC("raw_tp/sys_enter")
int zero_length_array(void* ctx) {
  struct mc_zla* z = arg(ctx);
  long r = bpf_core_field_exists(z->pad);
  r += bpf_core_field_offset(z->pad[1]);
  return r;
}

SEC("raw_tp/sys_enter")
int flavors_and_enums(void* ctx) {
  struct mc_flav* f = arg(ctx);
  long r = bpf_core_field_offset(f->x);
  r += bpf_core_field_size(f->kind);
  r += __builtin_preserve_field_info(f->kind, BPF_FIELD_SIGNED);
  r += bpf_core_enum_value_exists(enum mc_small, MC_SMALL_A);
  return r;
}

char LICENSE[] SEC("license") = "GPL";
