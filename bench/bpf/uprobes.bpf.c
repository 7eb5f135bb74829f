// Programs for attach_bench: one uprobe program attached at 1,000 functions of the benchmark
// binary (one link each, and one uprobe.multi link over all of them).
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("uprobe")
int on_call(void* ctx) {
  __sync_fetch_and_add(&hits, 1);
  return 0;
}

SEC("uprobe.multi")
int on_call_multi(void* ctx) {
  __sync_fetch_and_add(&hits, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
