// uprobe_target as a program of its own, run by the tests as a child: waits for one byte on
// stdin (so the test can attach first), calls every probed function `rounds` times (argv[1]),
// libc's malloc_trim() and libcorebpf_uprobe_target.so's function as often (shared-library
// functions to probe by library name), prints the "gated" probe's semaphore and the library
// probe's ("1 0") and exits.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel/uprobe_target.h"

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 1;
  char byte;
  if (read(0, &byte, 1) != 1) return 2;
  for (int i = 0; i < rounds; ++i) {
    uprobe_target_add(i, 100);
    uprobe_target_mul(i, 3);
    uprobe_target_usdt(i, 1000 + i);
    malloc_trim(0);
    uprobe_target_lib_sub(i, 1);
  }
  printf("%u %u\n", uprobe_target_semaphore(), uprobe_target_lib_semaphore());
  return 0;
}
