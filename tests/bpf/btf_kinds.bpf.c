// Exercises every BTF kind clang emits, for the dumper and reader tests. Compiled with
// `clang -g -O2 -target bpf -c`; needs clang >= 15 for ENUM64 and signed enums and clang >= 14
// for the btf_decl_tag / btf_type_tag attributes.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user_ptr __attribute__((btf_type_tag("user")))

typedef _Bool flag_t;
typedef unsigned long long u64_t;

enum small_unsigned { SMALL_A = 1, SMALL_B = 0xffffffffu };
enum small_signed { SIGNED_NEG = -5, SIGNED_POS = 7 };
enum wide_unsigned { WIDE_BIG = 0xfedcba9876543210ULL, WIDE_ONE = 1 };
enum wide_signed { WIDE_NEG = -0x100000000LL, WIDE_POS = 0x100000000LL };

struct forward_struct;
union forward_union;

struct bits {
  unsigned int low : 3;
  unsigned int mid : 13;
  int signed_part : 7;
  unsigned long long wide : 40;
  char c;
  signed char sc;
  unsigned char uc;
  flag_t f;
} __tag("bits_struct");

union either {
  int as_int;
  float as_float;
  double as_double;
  char bytes[8];
};

struct everything {
  struct bits b;
  union either e __tag("member_tag");
  volatile int vol;
  const long cst;
  int* restrict rp;
  int __user_ptr* user;
  struct forward_struct* fs;
  union forward_union* fu;
  enum small_unsigned su;
  enum small_signed ss;
  enum wide_unsigned wu;
  enum wide_signed ws;
  int matrix[3][4];
  int (*varargs_fn)(const char* fmt, ...);
  void (*no_args)(void);
  long double ld;
  unsigned __int128 big;
  struct {
    int anon_a;
    union {
      short anon_b;
      unsigned short anon_c;
    };
  } nested;
  char flexible[];
};

struct everything global_everything;
static volatile int static_counter;
int initialized_global = 42;
const volatile int rodata_knob = 3;
extern int LINUX_KERNEL_VERSION __kconfig;
extern void bpf_extern_kfunc(int value) __ksym;

static __attribute__((noinline)) int static_helper(int x __tag("param_tag")) { return x * 2 + static_counter; }

__attribute__((noinline)) int global_helper(struct everything* e) __tag("func_tag") {
  return e->b.low + e->vol + static_helper(e->ss);
}

SEC("tp/syscalls/sys_enter_getpid")
int handle(void* ctx) {
  static_counter++;
  if (LINUX_KERNEL_VERSION > 0) bpf_extern_kfunc(rodata_knob);
  return global_helper(&global_everything) + initialized_global;
}

char LICENSE[] SEC("license") = "GPL";
