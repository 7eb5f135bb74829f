// minimal (libbpf-bootstrap's smallest program): on every write(2) entry of one process (the
// tool's own unless told otherwise: tools.bpf.h's tool_target_pid) it prints a line to the trace
// buffer with bpf_printk and counts the call in .bss, which user space reads live through the
// mmap()ed section.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// write(2) calls of that process seen so far.
unsigned long long writes = 0;

SEC("tracepoint/syscalls/sys_enter_write")
int handle_write(void* ctx) {
  const int pid = bpf_get_current_pid_tgid() >> 32;
  if (!tool_pid_allowed(pid)) return 0;  // tool_target_pid: set by user space before load
  __sync_fetch_and_add(&writes, 1);
  bpf_printk("BPF triggered from PID %d.\n", pid);
  return 0;
}
