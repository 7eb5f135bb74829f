// Target "kernel" A for the CO-RE tests: the types of core_local.h laid out differently (fields
// moved, resized, added), some flavors and enumerators changed. Compiled with clang -g; only its
// .BTF is used.
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;

enum state { S_NEW = 100, S_RUNNING = 0, S_SLEEPING = 1, S_STOPPED = 40, S_GONE = 90 };
enum big { BIG_B = 3, BIG_A = 0x200000000ULL };
enum negative { NEG_B = 6, NEG_A = -30 };

struct inner {
  long pad;
  int b;
  int a;
};

struct task {
  long first_pad[3];
  struct task* parent;
  int tgid;
  int pid;
  char comm[32];
  int v2_only;
  union {
    struct {
      short anon_y;
      short anon_x;
    };
    long u_long;
    int u_int;
  };
  struct inner arr[8];
  struct inner in;
  int matrix[5][6];
  unsigned int pad_bits : 5;
  unsigned int flags_mid : 13;
  unsigned int flags_lo : 3;
  int sbits : 9;
  unsigned long long wide : 44;
  unsigned char ubits : 6;
  __u64 grows;
  __u32 shrinks;
  long sgrows;
  __u16 small;
  enum state st;
  int tail_len;
  int tail[];
};

struct tm_ok {
  long b;
  int a;
  int extra;
};
struct tm_bad {
  long a;
};
struct opaque {
  int hidden;
};
struct tm_ptr {
  struct tm_ok* k;
  struct opaque* o;
};
typedef struct task task_t;
typedef unsigned int u32_alias;

struct task task_instance;
struct tm_ok tm_ok_instance;
struct tm_bad tm_bad_instance;
struct tm_ptr tm_ptr_instance;
task_t* task_t_instance;
u32_alias alias_instance;
enum state state_instance;
enum big big_instance;
enum negative negative_instance;
