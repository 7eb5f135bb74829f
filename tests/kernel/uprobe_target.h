// Functions of tests/kernel/uprobe_target.c (C linkage: symbols by their plain names).
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

int uprobe_target_add(int a, int b);
long uprobe_target_mul(long a, long b);
void uprobe_target_usdt(int value, long wide);
unsigned short uprobe_target_semaphore(void);

#ifdef __cplusplus
}
#endif
