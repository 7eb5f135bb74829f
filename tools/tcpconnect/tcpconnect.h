// tcpconnect's event, shared by its kernel side and its user side.
#pragma once

struct tcpconnect_event {
  __u64 time_ns;
  __u32 pid;
  __u32 uid;
  __u16 family;  // AF_INET or AF_INET6
  __u16 lport;
  __u16 dport;
  __u16 pad;
  __u8 saddr[16];
  __u8 daddr[16];
  char comm[16];
};
