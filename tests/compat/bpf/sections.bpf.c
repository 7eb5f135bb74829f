// Program and section conventions: several programs in one section, a `?` section (no autoload
// unless asked), static and __hidden subprograms and a global (verified on its own) subprogram
// called from programs in other sections, sleepable sections, programs with no auto-attach
// target (socket, xdp, tc, tcx, cgroup, perf_event: attach() says EOPNOTSUPP), an iterator, a
// syscall program, and `raw_tp/` with its target left empty, which libbpf refuses.
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

u64 calls[4];

static __noinline int bump_static(int slot) {
  calls[slot & 3]++;
  return 0;
}

__hidden __noinline int bump_hidden(int slot) {
  calls[(slot + 1) & 3]++;
  return 0;
}

__noinline int bump_global(int slot) {
  if (slot < 0 || slot > 3) return 0;
  calls[slot & 3]++;  // a global function is verified alone: the mask bounds the index for it
  return 1;
}

SEC("tp/syscalls/sys_enter_getpid")
int getpid_first(void* ctx) { return bump_static(0); }

SEC("tp/syscalls/sys_enter_getpid")
int getpid_second(void* ctx) { return bump_hidden(1); }

SEC("?tp/syscalls/sys_enter_getppid")
int getppid_optional(void* ctx) { return bump_global(2); }

SEC("raw_tracepoint/sys_enter")
int raw_long_spelling(void* ctx) { return bump_global(3); }

SEC("raw_tp/")
int raw_empty_target(void* ctx) { return 0; }

SEC("socket")
int socket_filter(struct __sk_buff* skb) { return bump_global(0) ? skb->len : 0; }

SEC("xdp")
int xdp_pass(struct xdp_md* ctx) {
  bump_static(1);
  return XDP_PASS;
}

SEC("tc")
int tc_pass(struct __sk_buff* skb) { return bump_global(2) - 1; }

SEC("tcx/ingress")
int tcx_pass(struct __sk_buff* skb) { return 0; }

SEC("cgroup_skb/ingress")
int cgroup_ingress(struct __sk_buff* skb) { return 1; }

SEC("perf_event")
int BPF_PROG(perf_sample) { return bump_static(3); }

SEC("iter/task")
int dump_task(struct bpf_iter__task* ctx) {
  struct task_struct* task = ctx->task;
  if (task) bump_hidden(0);
  return 0;
}

SEC("syscall")
int syscall_prog(void* ctx) { return bump_global(1); }

SEC("fentry.s/__x64_sys_getpgid")
int BPF_PROG(sleepable_fentry) { return 0; }

SEC("lsm.s/bprm_committed_creds")
int BPF_PROG(sleepable_lsm, struct linux_binprm* bprm) { return 0; }
