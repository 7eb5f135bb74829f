// sockfilter (libbpf-bootstrap): a socket filter on a raw packet socket bound to one interface.
// For each IPv4 packet it sends the addresses, the protocol, the ports of TCP and UDP, the packet
// type (host, outgoing...) and the interface to user space through the tools' event stream, and keeps
// nothing for the socket itself (it returns 0: the socket receives no data).
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define PROTO_TCP 6
#define PROTO_UDP 17
#define IP_OFFSET 0x1FFF

struct so_event {
  unsigned int src_addr;  // network byte order
  unsigned int dst_addr;
  unsigned short src_port;  // host byte order; 0 when not TCP/UDP
  unsigned short dst_port;
  unsigned int ip_proto;
  unsigned int pkt_type;
  unsigned int ifindex;
};

const struct so_event* unused_so_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

SEC("socket")
int socket_handler(struct __sk_buff* skb) {
  u16 proto;
  if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0) return 0;
  if (bpf_ntohs(proto) != ETH_P_IP) return 0;

  struct iphdr ip;
  if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0) return 0;

  struct so_event event = {};
  struct so_event* e = &event;
  e->src_addr = ip.saddr;
  e->dst_addr = ip.daddr;
  e->ip_proto = ip.protocol;
  e->pkt_type = skb->pkt_type;
  e->ifindex = skb->ifindex;
  e->src_port = 0;
  e->dst_port = 0;
  // Ports only in the first fragment (offset 0), right after the IP header and its options.
  if ((ip.protocol == PROTO_TCP || ip.protocol == PROTO_UDP) && !(bpf_ntohs(ip.frag_off) & IP_OFFSET)) {
    u16 ports[2];
    if (bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4, ports, sizeof(ports)) == 0) {
      e->src_port = bpf_ntohs(ports[0]);
      e->dst_port = bpf_ntohs(ports[1]);
    }
  }
  tool_submit(skb, e, sizeof(*e));
  return 0;
}
