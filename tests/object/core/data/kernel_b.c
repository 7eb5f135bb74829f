// Target "kernel" B for the CO-RE tests: an older layout. No v2_only, no sgrows/tail, a flavor
// (`task___old`) as the only candidate for struct task, state without S_GONE, no enum big.
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;

enum state { S_RUNNING = 1, S_SLEEPING = 2, S_STOPPED = 8 };
enum negative { NEG_A = -3, NEG_B = 5 };

struct inner {
  int a;
  int b;
};

struct task___old {
  int pid;
  int tgid;
  struct task___old* parent;
  char comm[16];
  struct inner in;
  struct inner arr[2];
  int matrix[3][4];
  long u_long;
  short anon_x;
  short anon_y;
  unsigned long long flags_lo : 2, flags_mid : 20, sbits : 7, wide : 35;
  unsigned char ubits : 5;
  __u64 grows;
  __u32 shrinks;
  int sgrows;
  __u16 small;
  enum state st;
  int tail_len;
  int tail[0];
};

struct tm_ok {
  int a;
  long b;
};
struct tm_bad {
  int a;
  int b;
};
struct tm_ptr {
  struct opaque* o;
  struct tm_ok* k;
};
typedef struct task___old task_t;

struct task___old task_instance;
struct tm_ok tm_ok_instance;
struct tm_bad tm_bad_instance;
struct tm_ptr tm_ptr_instance;
task_t* task_t_instance;
enum state state_instance;
enum negative negative_instance;
