// ksyscall (libbpf-bootstrap): kprobes on the kill(2) and tgkill(2) system calls, attached by
// syscall name (the loader finds the architecture's kernel function and BPF_KSYSCALL reads the
// arguments whether or not the kernel wraps syscalls in a pt_regs function). Each call's sender,
// target and signal go to user space through the tools' event stream.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct kill_event {
  int pid;  // sender
  int tid;
  int target_pid;
  int target_tid;  // tgkill only, else 0
  int sig;
  int is_tgkill;
  char comm[16];
};

const struct kill_event* unused_kill_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

static int send(void* ctx, int target_pid, int target_tid, int sig, int is_tgkill) {
  struct kill_event event = {};
  struct kill_event* e = &event;
  const u64 id = bpf_get_current_pid_tgid();
  e->pid = id >> 32;
  e->tid = (u32)id;
  e->target_pid = target_pid;
  e->target_tid = target_tid;
  e->sig = sig;
  e->is_tgkill = is_tgkill;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig) { return send(ctx, pid, 0, sig, 0); }

SEC("ksyscall/tgkill")
int BPF_KSYSCALL(tgkill_entry, pid_t tgid, pid_t tid, int sig) { return send(ctx, tgid, tid, sig, 1); }
