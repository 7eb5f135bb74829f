// Functions of tests/kernel/uprobe_target.c (C linkage: symbols by their plain names).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

int uprobe_target_add(int a, int b);
long uprobe_target_mul(long a, long b);
void uprobe_target_usdt(int value, long wide);
unsigned short uprobe_target_semaphore(void);

// libcorebpf_uprobe_target.so (uprobe_target_lib.c), linked into the uprobe_target programs only.
int uprobe_target_lib_sub(int a, int b);
unsigned short uprobe_target_lib_semaphore(void);

#ifdef __cplusplus
}
#endif
