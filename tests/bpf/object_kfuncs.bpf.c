// Kfuncs as networking tools call them: conntrack lookups from XDP and TC (the kernel's
// nf_conntrack, built into some kernels and a module with its own split BTF in Debian's). In a
// module, the call names the module's BTF through the load's fd_array, as libbpf loads it.
// Types are declared here, not taken from a vmlinux.h: whether the build machine's kernel has
// nf_conntrack built in must not decide whether this compiles.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// As the kernel declares them (net/netfilter/nf_conntrack_bpf.c); the first 12 bytes are what
// every release since 5.18 reads.
struct bpf_ct_opts {
  __s32 netns_id;
  __s32 error;
  __u8 l4proto;
  __u8 dir;
  __u8 reserved[2];
};
// Opaque here; a definition rather than a declaration, since libbpf matches a kfunc's
// parameters by kind and a forward declaration is not a struct to it.
struct nf_conn {
  int opaque;
};

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *ctx, struct bpf_sock_tuple *tuple, __u32 tuple_size,
                                         struct bpf_ct_opts *opts, __u32 opts_size) __ksym;
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *ctx, struct bpf_sock_tuple *tuple, __u32 tuple_size,
                                         struct bpf_ct_opts *opts, __u32 opts_size) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

__u64 lookups = 0;
__u64 found = 0;
__s32 last_error = 0;

static __always_inline void count(struct nf_conn *ct, struct bpf_ct_opts *opts) {
  __sync_fetch_and_add(&lookups, 1);
  last_error = opts->error;
  if (ct) {
    __sync_fetch_and_add(&found, 1);
    bpf_ct_release(ct);
  }
}

SEC("xdp")
int xdp_ct(struct xdp_md *ctx) {
  struct bpf_sock_tuple tuple = {};
  struct bpf_ct_opts opts = {.netns_id = -1, .l4proto = 6};
  tuple.ipv4.saddr = 0x0100007f;
  tuple.ipv4.daddr = 0x0100007f;
  tuple.ipv4.sport = 1;
  tuple.ipv4.dport = 2;
  count(bpf_xdp_ct_lookup(ctx, &tuple, sizeof(tuple.ipv4), &opts, sizeof(opts)), &opts);
  return XDP_PASS;
}

SEC("tc")
int tc_ct(struct __sk_buff *skb) {
  struct bpf_sock_tuple tuple = {};
  struct bpf_ct_opts opts = {.netns_id = -1, .l4proto = 17};
  tuple.ipv4.saddr = 0x0100007f;
  tuple.ipv4.daddr = 0x0100007f;
  tuple.ipv4.sport = 3;
  tuple.ipv4.dport = 4;
  count(bpf_skb_ct_lookup(skb, &tuple, sizeof(tuple.ipv4), &opts, sizeof(opts)), &opts);
  return 0;  // TC_ACT_OK
}
