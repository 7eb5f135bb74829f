// `link show` of each kind of link (tests/cli/cli_link_test.cpp): one trivial program per kind,
// attached by the test, whose link info is compared with bpftool's.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tracepoint/sys_enter")
int link_raw_tp(void* ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_getppid")
int link_tracepoint(void* ctx) { return 0; }

SEC("iter/task")
int link_iter(void* ctx) { return 0; }

SEC("xdp")
int link_xdp(struct xdp_md* ctx) { return XDP_PASS; }

SEC("tc")
int link_tc(struct __sk_buff* skb) { return 0; }

SEC("cgroup_skb/egress")
int link_cgroup(struct __sk_buff* skb) { return 1; }

// Returns NF_ACCEPT.
SEC("netfilter")
int link_netfilter(void* ctx) { return 1; }
