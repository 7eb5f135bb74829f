// tcplife's event, shared by its kernel side and its user side.
#pragma once

struct tcplife_event {
  __u64 time_ns;   // bpf_ktime_get_ns() at the close
  __u64 span_ns;   // from the first state before FIN_WAIT1 to the close
  __u64 rx_bytes;  // tcp_sock.bytes_received
  __u64 tx_bytes;  // tcp_sock.bytes_acked
  __u32 pid;
  __u16 family;  // AF_INET or AF_INET6
  __u16 lport;
  __u16 rport;
  __u8 laddr[16];
  __u8 raddr[16];
  char comm[16];
};
