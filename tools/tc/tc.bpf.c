// tc (libbpf-bootstrap): a classifier on a device's ingress (lo by default) that lets every packet
// through and, for IPv4 packets, counts packets and bytes per IP protocol and sends each packet's
// length, TTL, protocol and addresses to user space through the tools' event stream.
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TC_ACT_OK 0
#define ETH_P_IP 0x0800

struct tc_event {
  unsigned int saddr;  // network byte order
  unsigned int daddr;
  unsigned short tot_len;
  unsigned char ttl;
  unsigned char protocol;
  unsigned int ifindex;
};

struct proto_count {
  unsigned long long packets;
  unsigned long long bytes;
};

const struct tc_event* unused_tc_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

// Per IP protocol number.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 256);
  __type(key, u32);
  __type(value, struct proto_count);
} counts SEC(".maps");

SEC("tc")
int tc_ingress(struct __sk_buff* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;
  if (ctx->protocol != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) return TC_ACT_OK;
  struct iphdr* ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > data_end) return TC_ACT_OK;

  const u32 protocol = ip->protocol;
  struct proto_count* count = bpf_map_lookup_elem(&counts, &protocol);
  if (count) {
    count->packets += 1;
    count->bytes += bpf_ntohs(ip->tot_len);
  }

  struct tc_event event = {};
  struct tc_event* e = &event;
  e->saddr = ip->saddr;
  e->daddr = ip->daddr;
  e->tot_len = bpf_ntohs(ip->tot_len);
  e->ttl = ip->ttl;
  e->protocol = ip->protocol;
  e->ifindex = ctx->ifindex;
  tool_submit(ctx, e, sizeof(*e));
  return TC_ACT_OK;
}
