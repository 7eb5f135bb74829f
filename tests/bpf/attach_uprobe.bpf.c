// Programs for tests/kernel/attach_uprobe_test.cpp: uprobes and uretprobes on the functions of
// tests/kernel/uprobe_target.c (attached by the test, or by SEC() on /proc/self/exe), a libc probe
// counted per process, a uprobe.multi over a glob, and USDT probes read through libbpf's
// <bpf/usdt.bpf.h>. Results go to .bss for the test to read.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

// Events are counted only for this process (set by the test), so other processes that happen to
// run the probed code (libc!) do not disturb the counts.
__u32 target_tgid = 0;

static __always_inline int mine(void) { return (bpf_get_current_pid_tgid() >> 32) == target_tgid; }

__u64 add_calls = 0;
int add_a = 0, add_b = 0;
__u64 add_cookie = 0;
__u32 add_tgid = 0;
__u64 add_ret_calls = 0;
int add_ret = 0;

SEC("uprobe")
int BPF_KPROBE(on_add, int a, int b) {
  // No tgid filter here: the pid-filter test checks which process the kernel let through.
  add_calls++;
  add_a = a;
  add_b = b;
  add_cookie = bpf_get_attach_cookie(ctx);
  add_tgid = bpf_get_current_pid_tgid() >> 32;
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_add_ret, int ret) {
  add_ret_calls++;
  add_ret = ret;
  return 0;
}

__u64 mul_calls = 0;
long mul_a = 0, mul_b = 0;
__u64 mul_ret_calls = 0;
long mul_ret = 0;

SEC("uprobe//proc/self/exe:uprobe_target_mul")
int BPF_KPROBE(on_mul, long a, long b) {
  if (!mine()) return 0;
  mul_calls++;
  mul_a = a;
  mul_b = b;
  return 0;
}

SEC("uretprobe//proc/self/exe:uprobe_target_mul")
int BPF_KRETPROBE(on_mul_ret, long ret) {
  if (!mine()) return 0;
  mul_ret_calls++;
  mul_ret = ret;
  return 0;
}

__u64 libc_calls = 0;

SEC("uprobe")
int on_libc(struct pt_regs *ctx) {
  if (mine()) libc_calls++;
  return 0;
}

__u64 multi_calls = 0;
__u64 multi_cookie_sum = 0;

SEC("uprobe.multi//proc/self/exe:uprobe_target_*")
int on_multi(struct pt_regs *ctx) {
  if (!mine()) return 0;
  multi_calls++;
  multi_cookie_sum += bpf_get_attach_cookie(ctx);
  return 0;
}

__u64 usdt_calls = 0;
int usdt_arg_count = 0;
long usdt_args[4] = {};
int usdt_errors = 0;
long usdt_cookie = 0;

SEC("usdt")
int on_usdt_args(struct pt_regs *ctx) {
  if (!mine()) return 0;
  usdt_calls++;
  usdt_arg_count = bpf_usdt_arg_cnt(ctx);
  for (int i = 0; i < 4; i++) {
    long value = 0;
    if (bpf_usdt_arg(ctx, i, &value) != 0) usdt_errors++;
    usdt_args[i] = value;
  }
  usdt_cookie = bpf_usdt_cookie(ctx);
  return 0;
}

__u64 gated_calls = 0;
long gated_arg = 0;

SEC("usdt//proc/self/exe:corebpf_test:gated")
int BPF_USDT(on_gated, int value) {
  if (!mine()) return 0;
  gated_calls++;
  gated_arg = value;
  return 0;
}
