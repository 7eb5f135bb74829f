// An object with no maps and no global data: its skeleton has only a program.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int drop_all(struct __sk_buff *skb) { return 0; }
