// Programs for the networking attach tests (tests/kernel/attach_net_test.cpp): each counts what it
// saw in .bss, and the packet ones act on UDP datagrams to `udp_port` whose payload starts with 'D'
// (dropped) so a test can tell its hook ran from what arrives.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// One global, so the test's mirror of .bss has a fixed layout.
struct state {
  // Set by the test after load (host byte order).
  __u32 udp_port;
  __u32 connect_from_port;
  __u32 connect_to_port;
  __u32 connect_deny_port;
  __u32 steer_port;
  __u32 padding;
  // What the programs saw.
  __u64 xdp_seen;
  __u64 xdp_dropped;
  __u64 tc_ingress;
  __u64 tc_egress;
  __u64 cgroup_ingress;
  __u64 cgroup_egress;
  __u64 connect_rewritten;
  __u64 connect_denied;
  __u64 socket_dropped;
  __u64 sk_msg_seen;
  __u64 sk_msg_dropped;
  __u64 sk_skb_seen;
  __u64 sk_lookup_steered;
  __u64 flow_dissected;
};

struct state state;

// Sizes, not BTF types, as most sockmap users write them.
struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 2);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u64));
} sock_map SEC(".maps");

// With BTF types: the loader must create it without them (the kernel refuses BTF here).
struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lookup_sockets SEC(".maps");

// Not a sockmap: attach_sockmap must refuse it.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} plain_array SEC(".maps");

// 1: a UDP datagram to udp_port with a 'D' payload; 0: one to udp_port otherwise; -1: anything else.
static __always_inline int classify(void* data, void* data_end) {
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return -1;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return -1;
  struct udphdr* udp = (void*)(ip + 1);
  if ((void*)(udp + 1) > data_end || udp->dest != bpf_htons(state.udp_port)) return -1;
  char* payload = (void*)(udp + 1);
  if ((void*)(payload + 1) > data_end) return 0;
  return payload[0] == 'D';
}

SEC("xdp")
int xdp_drop_marked(struct xdp_md* ctx) {
  const int kind = classify((void*)(long)ctx->data, (void*)(long)ctx->data_end);
  if (kind < 0) return XDP_PASS;
  __sync_fetch_and_add(&state.xdp_seen, 1);
  if (kind == 1) {
    __sync_fetch_and_add(&state.xdp_dropped, 1);
    return XDP_DROP;
  }
  return XDP_PASS;
}

// Another XDP program, to stand for someone else's.
SEC("xdp")
int xdp_pass(struct xdp_md* ctx) { return XDP_PASS; }

SEC("tc")
int tc_count_ingress(struct __sk_buff* skb) {
  if (classify((void*)(long)skb->data, (void*)(long)skb->data_end) >= 0)
    __sync_fetch_and_add(&state.tc_ingress, 1);
  return TC_ACT_OK;
}

SEC("tc")
int tc_count_egress(struct __sk_buff* skb) {
  if (classify((void*)(long)skb->data, (void*)(long)skb->data_end) >= 0)
    __sync_fetch_and_add(&state.tc_egress, 1);
  return TC_ACT_OK;
}

// Egress by its section name alone: attach_tc() without a direction puts it there.
SEC("tc/egress")
int tc_egress_by_section(struct __sk_buff* skb) {
  if (classify((void*)(long)skb->data, (void*)(long)skb->data_end) >= 0)
    __sync_fetch_and_add(&state.tc_egress, 1);
  return TC_ACT_OK;
}

// cgroup_skb sees the IP header first.
static __always_inline int is_test_datagram(struct __sk_buff* skb) {
  struct iphdr ip;
  struct udphdr udp;
  if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0 || ip.protocol != IPPROTO_UDP) return 0;
  if (bpf_skb_load_bytes(skb, ip.ihl * 4, &udp, sizeof(udp)) < 0) return 0;
  return udp.dest == bpf_htons(state.udp_port);
}

SEC("cgroup_skb/ingress")
int cgroup_count_ingress(struct __sk_buff* skb) {
  if (is_test_datagram(skb)) __sync_fetch_and_add(&state.cgroup_ingress, 1);
  return 1;
}

SEC("cgroup_skb/egress")
int cgroup_count_egress(struct __sk_buff* skb) {
  if (is_test_datagram(skb)) __sync_fetch_and_add(&state.cgroup_egress, 1);
  return 1;
}

SEC("cgroup/connect4")
int connect_rewrite(struct bpf_sock_addr* ctx) {
  if (ctx->user_port == bpf_htons(state.connect_deny_port)) {
    __sync_fetch_and_add(&state.connect_denied, 1);
    return 0;
  }
  if (ctx->user_port == bpf_htons(state.connect_from_port)) {
    ctx->user_port = bpf_htons(state.connect_to_port);
    __sync_fetch_and_add(&state.connect_rewritten, 1);
  }
  return 1;
}

// On an AF_UNIX datagram socket the data is the payload itself.
SEC("socket")
int socket_drop_marked(struct __sk_buff* skb) {
  char first = 0;
  if (bpf_skb_load_bytes(skb, 0, &first, 1) == 0 && first == 'D') {
    __sync_fetch_and_add(&state.socket_dropped, 1);
    return 0;
  }
  return skb->len;
}

SEC("sk_msg")
int sk_msg_drop_marked(struct sk_msg_md* msg) {
  __sync_fetch_and_add(&state.sk_msg_seen, 1);
  char* data = msg->data;
  if ((void*)(data + 1) <= msg->data_end && data[0] == 'D') {
    __sync_fetch_and_add(&state.sk_msg_dropped, 1);
    return SK_DROP;
  }
  return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int sk_skb_count(struct __sk_buff* skb) {
  __sync_fetch_and_add(&state.sk_skb_seen, 1);
  return SK_PASS;
}

SEC("sk_skb")
int sk_skb_no_hook(struct __sk_buff* skb) { return SK_PASS; }

SEC("sk_lookup")
int sk_lookup_steer(struct bpf_sk_lookup* ctx) {
  if (ctx->local_port != state.steer_port) return SK_PASS;
  __u32 zero = 0;
  struct bpf_sock* sk = bpf_map_lookup_elem(&lookup_sockets, &zero);
  if (!sk) return SK_PASS;
  long err = bpf_sk_assign(ctx, sk, 0);
  bpf_sk_release(sk);
  if (err == 0) __sync_fetch_and_add(&state.sk_lookup_steered, 1);
  return SK_PASS;
}

// Direct packet access: BPF_PROG_TEST_RUN gives the dissector no skb for bpf_skb_load_bytes.
SEC("flow_dissector")
int flow_dissect_udp(struct __sk_buff* skb) {
  struct bpf_flow_keys* keys = skb->flow_keys;
  void* data = (void*)(long)skb->data;
  void* data_end = (void*)(long)skb->data_end;
  __u16 nhoff = keys->nhoff;
  // Bounds the variable offset for the verifier.
  if (nhoff > 0xffff - sizeof(struct iphdr) - sizeof(struct udphdr)) return BPF_DROP;
  struct iphdr* ip = data + nhoff;
  struct udphdr* udp = (void*)(ip + 1);
  if ((void*)(udp + 1) > data_end) return BPF_DROP;
  if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return BPF_DROP;
  keys->addr_proto = ETH_P_IP;
  keys->n_proto = bpf_htons(ETH_P_IP);
  keys->ip_proto = IPPROTO_UDP;
  keys->ipv4_src = ip->saddr;
  keys->ipv4_dst = ip->daddr;
  keys->thoff = nhoff + sizeof(*ip);
  keys->sport = udp->source;
  keys->dport = udp->dest;
  __sync_fetch_and_add(&state.flow_dissected, 1);
  return BPF_OK;
}

char LICENSE[] SEC("license") = "GPL";
