// kprobe.multi program for attach_bench: attached over a glob of kernel functions (kernels with
// kprobes and fprobe only; a separate object, so the uprobe rows load where kprobes are missing).
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("kprobe.multi")
int on_kernel_call(void* ctx) {
  __sync_fetch_and_add(&hits, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
