// A shared library for the uprobe tests (libcorebpf_uprobe_target.so, linked into uprobe_target):
// a function probed by library name and a <sys/sdt.h> probe with a semaphore, both in a
// position-independent object whose data segment lies at another offset than its address.
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#include "kernel/uprobe_target.h"

unsigned short corebpf_lib_sub_semaphore __attribute__((section(".probes"))) = 0;

__attribute__((noinline)) int uprobe_target_lib_sub(int a, int b) {
  __asm__ volatile("" ::: "memory");
  if (corebpf_lib_sub_semaphore) STAP_PROBE1(corebpf_lib, sub, a - b);
  return a - b;
}

unsigned short uprobe_target_lib_semaphore(void) { return corebpf_lib_sub_semaphore; }
