// A minimal TCP congestion control as a struct_ops map (tests/kernel/struct_ops_test.cpp and the
// object model's tests/object/struct_ops_test.cpp). Built twice: as a .struct_ops map named
// "corebpf_cc" (registered by writing the map) and with -DSTRUCT_OPS_LINK as a .struct_ops.link
// map named "corebpf_ccl" (registered by a BPF link, 6.4+).
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// How often the kernel called each member, for the test to read through .bss.
unsigned long long init_calls;
unsigned long long ssthresh_calls;
unsigned long long cong_avoid_calls;
unsigned long long undo_calls;

SEC("struct_ops/corebpf_init")
void BPF_PROG(corebpf_init, struct sock* sk) { __sync_fetch_and_add(&init_calls, 1); }

SEC("struct_ops/corebpf_ssthresh")
__u32 BPF_PROG(corebpf_ssthresh, struct sock* sk) {
  const struct tcp_sock* tp = (const struct tcp_sock*)sk;
  __sync_fetch_and_add(&ssthresh_calls, 1);
  return tp->snd_cwnd > 4 ? tp->snd_cwnd >> 1 : 2;
}

SEC("struct_ops/corebpf_cong_avoid")
void BPF_PROG(corebpf_cong_avoid, struct sock* sk, __u32 ack, __u32 acked) {
  __sync_fetch_and_add(&cong_avoid_calls, 1);
}

SEC("struct_ops/corebpf_undo_cwnd")
__u32 BPF_PROG(corebpf_undo_cwnd, struct sock* sk) {
  const struct tcp_sock* tp = (const struct tcp_sock*)sk;
  __sync_fetch_and_add(&undo_calls, 1);
  return tp->snd_cwnd;
}

// Referenced by no map: the loader leaves it unloaded (no struct and member to load it for).
// Left out of the CLI's builds (CC_NAME given): bpftool refuses objects with such a program, and
// the CLI tests compare with it.
#ifndef CC_NAME
SEC("struct_ops/corebpf_unused")
__u32 BPF_PROG(corebpf_unused, struct sock* sk) { return 0; }
#endif

// The map's (and the congestion control's) name: CC_NAME when given (tests/cli builds it as
// cli_cc / cli_ccl so its tests never collide with these), else corebpf_cc / corebpf_ccl.
#ifndef CC_NAME
#ifdef STRUCT_OPS_LINK
#define CC_NAME corebpf_ccl
#else
#define CC_NAME corebpf_cc
#endif
#endif
#define CC_STR2(x) #x
#define CC_STR(x) CC_STR2(x)

#ifdef STRUCT_OPS_LINK
SEC(".struct_ops.link")
#else
SEC(".struct_ops")
#endif
struct tcp_congestion_ops CC_NAME = {
    .init = (void*)corebpf_init,
    .ssthresh = (void*)corebpf_ssthresh,
    .cong_avoid = (void*)corebpf_cong_avoid,
    .undo_cwnd = (void*)corebpf_undo_cwnd,
    .name = CC_STR(CC_NAME),
};
