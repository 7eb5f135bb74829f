// tcpconnect, kernel side: active TCP connections, reported when tcp_v4_connect() or
// tcp_v6_connect() succeeded: fexit programs where BPF trampolines work, a kprobe/kretprobe pair
// where kprobes do, else the sock/inet_sock_set_state tracepoint's CLOSE -> SYN_SENT change
// (made inside those functions, in the connecting process).
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcpconnect.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 target_family = 0;  // -4 / -6
const volatile __u16 target_port = 0;    // -P PORT (destination)
const volatile __s64 target_uid = -1;    // -u UID

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

TOOL_DEFINE_EVENTS;

static __always_inline bool caller_allowed(void) {
  if (!tool_current_allowed()) return false;
  return target_uid < 0 || (__u32)bpf_get_current_uid_gid() == (__u32)target_uid;
}

static __always_inline void fill_caller(struct tcpconnect_event* event) {
  event->time_ns = bpf_ktime_get_ns();
  event->pid = bpf_get_current_pid_tgid() >> 32;
  event->uid = (__u32)bpf_get_current_uid_gid();
  bpf_get_current_comm(event->comm, sizeof(event->comm));
}

// From the socket, after a successful connect: addresses and ports are set.
static __always_inline int report_sock(void* ctx, struct sock* sk) {
  struct tcpconnect_event event = {};
  event.family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (target_family && event.family != target_family) return 0;
  event.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (target_port && event.dport != target_port) return 0;
  event.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  if (event.family == AF_INET) {
    BPF_CORE_READ_INTO(&event.saddr, sk, __sk_common.skc_rcv_saddr);
    BPF_CORE_READ_INTO(&event.daddr, sk, __sk_common.skc_daddr);
  } else {
    BPF_CORE_READ_INTO(&event.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
    BPF_CORE_READ_INTO(&event.daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
  }
  fill_caller(&event);
  tool_submit(ctx, &event, sizeof(event));
  return 0;
}

// ---- fentry path
SEC("fexit/tcp_v4_connect")
int BPF_PROG(v4_connect_exit, struct sock* sk, struct sockaddr* uaddr, int addr_len, int ret) {
  if (ret != 0 || !caller_allowed()) return 0;
  return report_sock(ctx, sk);
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(v6_connect_exit, struct sock* sk, struct sockaddr* uaddr, int addr_len, int ret) {
  if (ret != 0 || !caller_allowed()) return 0;
  return report_sock(ctx, sk);
}

// ---- kprobe path: the socket by thread between entry and return
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct sock*);
} connecting SEC(".maps");

static __always_inline int kprobe_entry(struct sock* sk) {
  if (!caller_allowed()) return 0;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  bpf_map_update_elem(&connecting, &tid, &sk, BPF_ANY);
  return 0;
}

static __always_inline int kprobe_return(void* ctx, int ret) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct sock** skp = bpf_map_lookup_elem(&connecting, &tid);
  if (!skp) return 0;
  struct sock* sk = *skp;
  bpf_map_delete_elem(&connecting, &tid);
  if (ret != 0) return 0;
  return report_sock(ctx, sk);
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(v4_connect_entry, struct sock* sk) { return kprobe_entry(sk); }

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(v4_connect_return, int ret) { return kprobe_return(ctx, ret); }

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(v6_connect_entry, struct sock* sk) { return kprobe_entry(sk); }

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(v6_connect_return, int ret) { return kprobe_return(ctx, ret); }

// ---- tracepoint path
SEC("tracepoint/sock/inet_sock_set_state")
int syn_sent(struct trace_event_raw_inet_sock_set_state* ctx) {
  if (ctx->protocol != IPPROTO_TCP || ctx->oldstate != TCP_CLOSE || ctx->newstate != TCP_SYN_SENT) return 0;
  if (!caller_allowed()) return 0;
  struct tcpconnect_event event = {};
  event.family = ctx->family;
  if (target_family && event.family != target_family) return 0;
  event.dport = ctx->dport;
  if (target_port && event.dport != target_port) return 0;
  event.lport = ctx->sport;
  // The context allows only fixed-offset scalar loads: the address arrays are copied by helper.
  if (event.family == AF_INET) {
    bpf_probe_read_kernel(event.saddr, 4, ctx->saddr);
    bpf_probe_read_kernel(event.daddr, 4, ctx->daddr);
  } else {
    bpf_probe_read_kernel(event.saddr, 16, ctx->saddr_v6);
    bpf_probe_read_kernel(event.daddr, 16, ctx->daddr_v6);
  }
  fill_caller(&event);
  tool_submit(ctx, &event, sizeof(event));
  return 0;
}
