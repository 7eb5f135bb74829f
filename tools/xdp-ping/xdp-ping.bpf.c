// xdp-ping (Learning eBPF, chapter 8): an XDP program on one interface that counts the ICMP and
// ICMPv6 echo requests it receives, reports each (addresses, identifier, sequence) through the
// tools' event stream, and drops them when user space asked so before load (.rodata), so the pings go
// unanswered. Everything else passes.
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define PROTO_ICMP 1
#define PROTO_ICMPV6 58
#define ICMP_ECHO_REQUEST 8
#define ICMPV6_ECHO_REQUEST 128

struct ping_event {
  unsigned char saddr[16];  // IPv4 in the first 4 bytes
  unsigned char daddr[16];
  unsigned short id;  // host byte order
  unsigned short sequence;
  unsigned char ipv6;
  unsigned char dropped;
};

const struct ping_event* unused_ping_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

// Set before load: drop echo requests instead of passing them.
const volatile bool drop_requests = false;

// Echo requests seen (live in .bss for user space).
unsigned long long requests = 0;

struct echo_header {
  u8 type;
  u8 code;
  u16 checksum;
  u16 id;
  u16 sequence;
};

SEC("xdp")
int xdp_ping(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return XDP_PASS;

  struct echo_header* echo;
  struct ping_event event = {};
  if (eth->h_proto == bpf_htons(ETH_P_IP)) {
    struct iphdr* ip = (void*)(eth + 1);
    if ((void*)(ip + 1) > data_end || ip->protocol != PROTO_ICMP) return XDP_PASS;
    echo = (void*)ip + ip->ihl * 4;
    if ((void*)(echo + 1) > data_end || echo->type != ICMP_ECHO_REQUEST) return XDP_PASS;
    __builtin_memcpy(event.saddr, &ip->saddr, 4);
    __builtin_memcpy(event.daddr, &ip->daddr, 4);
  } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr* ip6 = (void*)(eth + 1);
    if ((void*)(ip6 + 1) > data_end || ip6->nexthdr != PROTO_ICMPV6) return XDP_PASS;
    echo = (void*)(ip6 + 1);
    if ((void*)(echo + 1) > data_end || echo->type != ICMPV6_ECHO_REQUEST) return XDP_PASS;
    __builtin_memcpy(event.saddr, &ip6->saddr, 16);
    __builtin_memcpy(event.daddr, &ip6->daddr, 16);
    event.ipv6 = 1;
  } else {
    return XDP_PASS;
  }

  __sync_fetch_and_add(&requests, 1);
  event.id = bpf_ntohs(echo->id);
  event.sequence = bpf_ntohs(echo->sequence);
  event.dropped = drop_requests;
  tool_submit(ctx, &event, sizeof(event));
  return drop_requests ? XDP_DROP : XDP_PASS;
}
