// tcplife, kernel side: sock/inet_sock_set_state follows each TCP socket: its birth (the first
// state before FIN_WAIT1), the process that opened it actively or closed it passively (SYN_SENT,
// LAST_ACK: process context) and, at TCP_CLOSE, its life span and the bytes it moved.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tcplife.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 target_family = 0;  // -4 / -6: AF_INET / AF_INET6
const volatile __u16 local_port = 0;     // -L PORT
const volatile __u16 remote_port = 0;    // -D PORT

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

TOOL_DEFINE_EVENTS;

struct ident {
  __u32 pid;
  char comm[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, const void*);
  __type(value, __u64);
} births SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, const void*);
  __type(value, struct ident);
} idents SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int set_state(struct trace_event_raw_inet_sock_set_state* ctx) {
  if (ctx->protocol != IPPROTO_TCP) return 0;
  __u16 family = ctx->family;
  if (target_family && family != target_family) return 0;
  if (local_port && ctx->sport != local_port) return 0;
  if (remote_port && ctx->dport != remote_port) return 0;
  const void* sk = ctx->skaddr;
  int state = ctx->newstate;

  if (state < TCP_FIN_WAIT1) {
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&births, &sk, &now, BPF_NOEXIST);
  }
  if (state == TCP_SYN_SENT || state == TCP_LAST_ACK) {
    struct ident who = {.pid = bpf_get_current_pid_tgid() >> 32};
    bpf_get_current_comm(who.comm, sizeof(who.comm));
    bpf_map_update_elem(&idents, &sk, &who, BPF_ANY);
  }
  if (state != TCP_CLOSE) return 0;

  __u64* birth = bpf_map_lookup_elem(&births, &sk);
  if (!birth) {  // born before the tool started
    bpf_map_delete_elem(&idents, &sk);
    return 0;
  }
  struct tcplife_event event = {};
  event.time_ns = bpf_ktime_get_ns();
  event.span_ns = event.time_ns - *birth;
  bpf_map_delete_elem(&births, &sk);

  struct ident* who = bpf_map_lookup_elem(&idents, &sk);
  if (who) {
    event.pid = who->pid;
    __builtin_memcpy(event.comm, who->comm, sizeof(event.comm));
    bpf_map_delete_elem(&idents, &sk);
  } else {
    event.pid = bpf_get_current_pid_tgid() >> 32;
    bpf_get_current_comm(event.comm, sizeof(event.comm));
  }
  if (!tool_pid_allowed(event.pid) || !tool_comm_allowed(event.comm)) return 0;

  const struct tcp_sock* tp = (const struct tcp_sock*)sk;
  event.rx_bytes = BPF_CORE_READ(tp, bytes_received);
  event.tx_bytes = BPF_CORE_READ(tp, bytes_acked);
  event.family = family;
  event.lport = ctx->sport;
  event.rport = ctx->dport;
  // The context allows only fixed-offset scalar loads: the address arrays are copied by helper.
  if (family == AF_INET) {
    bpf_probe_read_kernel(event.laddr, 4, ctx->saddr);
    bpf_probe_read_kernel(event.raddr, 4, ctx->daddr);
  } else {
    bpf_probe_read_kernel(event.laddr, 16, ctx->saddr_v6);
    bpf_probe_read_kernel(event.raddr, 16, ctx->daddr_v6);
  }
  tool_submit(ctx, &event, sizeof(event));
  return 0;
}
