// A relocation libbpf and corebpf must refuse: kernel_ambiguous.c has two flavors of `struct dup`
// that put `y` at different offsets. In an object of its own, because libbpf stops at the error.
#include <linux/types.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct dup {
  int x;
  int y;
} __attribute__((preserve_access_index));

// Same layout in both flavors: not ambiguous.
struct same {
  int a;
  int b;
} __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int same_layout(void* ctx) {
  struct same* s = (struct same*)((__u64*)ctx)[0];
  return s->b;
}

SEC("raw_tp/sys_enter")
int ambiguous(void* ctx) {
  struct dup* d = (struct dup*)((__u64*)ctx)[0];
  return d->y;
}

char LICENSE[] SEC("license") = "GPL";
