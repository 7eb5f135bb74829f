// Probe targets for the uprobe and USDT tests (tests/kernel/attach_uprobe_test.cpp): plain
// functions whose arguments and results the BPF side checks, and <sys/sdt.h> probes whose
// arguments come as a constant, in registers and in memory, one with a semaphore. Linked into the
// test (probed through /proc/self/exe) and built alone as uprobe_target, which the tests run as a
// child: it waits for one byte on stdin, calls everything `rounds` times, prints its semaphore
// and exits.
#define _SDT_HAS_SEMAPHORES 1
#include "kernel/uprobe_target.h"

#include <sys/sdt.h>

// The is-enabled counters <sys/sdt.h> names "<provider>_<probe>_semaphore" (with semaphores on,
// every probe of the file has one); the kernel raises a counter while a uprobe with
// ref_ctr_offset is on its probe. Only "gated" is tested before firing.
unsigned short corebpf_test_args_semaphore __attribute__((section(".probes"))) = 0;
unsigned short corebpf_test_gated_semaphore __attribute__((section(".probes"))) = 0;

__attribute__((noinline)) int uprobe_target_add(int a, int b) {
  __asm__ volatile("" ::: "memory");
  return a + b;
}

__attribute__((noinline)) long uprobe_target_mul(long a, long b) {
  __asm__ volatile("" ::: "memory");
  return a * b;
}

__attribute__((noinline)) void uprobe_target_usdt(int value, long wide) {
  // A volatile local is read from memory by the probe (an rbp/rsp-relative operand).
  volatile long in_memory = wide * 2;
  short narrow = (short)-value;
  STAP_PROBE4(corebpf_test, args, value, 42, in_memory, narrow);
  if (corebpf_test_gated_semaphore) STAP_PROBE1(corebpf_test, gated, value + 1);
}

unsigned short uprobe_target_semaphore(void) { return corebpf_test_gated_semaphore; }
