// Replaces decide() of attach_tracing_freplace_target's XDP program: every packet dropped.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("freplace/decide")
int drop_everything(struct xdp_md *ctx) { return XDP_DROP; }
