// The types CO-RE test programs were "compiled against": the local view of the kernel. The
// targets (kernel_a.c, kernel_b.c) lay the same types out differently, drop some, add others.
#pragma once

#include <linux/types.h>

#define __core __attribute__((preserve_access_index))

enum state { S_RUNNING = 0, S_SLEEPING = 1, S_STOPPED = 4, S_GONE = 9 };
enum state___new { S_NEW = 100 };
enum big { BIG_A = 0x100000000ULL, BIG_B = 2 };
enum negative { NEG_A = -3, NEG_B = 5 };

struct inner {
  int a;
  int b;
} __core;

struct task {
  int pid;
  int tgid;
  char comm[16];
  struct task* parent;
  struct inner in;
  struct inner arr[4];
  int matrix[3][4];
  union {
    int u_int;
    long u_long;
  };
  struct {
    short anon_x;
    short anon_y;
  };
  unsigned int flags_lo : 3;
  unsigned int flags_mid : 13;
  int sbits : 7;
  unsigned long long wide : 40;
  unsigned char ubits : 5;
  long missing_field;
  __u32 grows;    // __u64 on the targets: a load widens
  __u64 shrinks;  // __u32 on the targets: a load narrows
  int sgrows;     // long on the targets: a signed load cannot be resized
  __u16 small;
  enum state st;
  int tail_len;
  int tail[];
} __core;

// Only target A has v2_only.
struct task___v2 {
  int pid;
  int v2_only;
} __core;

struct nothere {
  int x;
} __core;


// type_matches: tm_ok matches on both targets; tm_bad never (int vs long); tm_ptr through pointers.
struct tm_ok {
  int a;
  long b;
};
struct tm_bad {
  int a;
};
struct opaque;
struct tm_ptr {
  struct opaque* o;
  struct tm_ok* k;
};
typedef struct task task_t;
typedef unsigned int u32_alias;
