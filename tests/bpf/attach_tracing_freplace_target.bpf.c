// The program a freplace program replaces a function of (tests/kernel/attach_tracing_test.cpp):
// an XDP program whose verdict comes from a global function.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__attribute__((noinline)) int decide(struct xdp_md *ctx) { return ctx->data_end > ctx->data ? XDP_PASS : XDP_ABORTED; }

SEC("xdp")
int xdp_target(struct xdp_md *ctx) { return decide(ctx); }
