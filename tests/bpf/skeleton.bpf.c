// The skeleton generator's test object (tests/skel): what a C++ header has to express from BTF
// (bit-fields, unions and anonymous members, enums of several sizes, nested and flexible arrays,
// kernel pointers, C++ keywords as names) and every kind of global data (.bss, .data, .rodata,
// .data.custom, .rodata.limits, .kconfig), with a typed hash map, a per-CPU array, a ring buffer
// and a map without BTF key/value types. Its program counts getpid() calls of one process.
#include <linux/bpf.h>
#include <stdbool.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum __attribute__((packed)) level { LEVEL_LOW = 1, LEVEL_HIGH = 200 };
enum kind { KIND_NONE = 0, KIND_EXEC = 1, KIND_EXIT = -1 };
enum wide { WIDE_BIG = 0x100000000ULL };

struct flags {
  unsigned int ready : 1;
  unsigned int mode : 3;
  unsigned int : 4;  // an unnamed bit-field
  enum kind kind : 4;
  unsigned short weight;
};

struct task_ref;  // only pointed to: a kernel pointer is a std::uint64_t in C++

struct event {
  __u32 pid;
  struct flags flags;
  union {
    __u64 raw;
    struct {
      __u32 lo;
      __u32 hi;
    };
  };
  struct task_ref *task;
  enum level level;
  __u8 class;  // a C++ keyword
  char comm[16];
  __u16 samples[2][3];
  __u32 new;  // another one
  __u8 tail[];
};

struct stats {
  __u64 count;
  __u32 last_pid;
  enum wide wide;
} __attribute__((aligned(16)));

typedef struct {
  __u16 port;
  __u8 proto;
} endpoint_t;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, struct stats);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, endpoint_t);
  __type(value, struct flags);
} delete SEC(".maps");  // a map named by a C++ keyword

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(int));
} perf SEC(".maps");

const volatile int filter_pid = 0;
const volatile struct {
  __u32 max_events;
  __u8 verbose;
} settings = {.max_events = 100};
__u64 hits;
struct event last_event;
__u32 threshold = 3;
__u64 custom_total SEC(".data.custom") = 5;
const volatile __u16 limits[4] SEC(".rodata.limits") = {1, 2, 3, 4};
bool seen_high;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;

SEC("tracepoint/syscalls/sys_enter_getpid")
int count_getpid(void *ctx) {
  const __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (pid != filter_pid) return 0;
  __sync_fetch_and_add(&hits, 1);
  custom_total += limits[1];
  struct stats zero = {};
  __u32 key = pid;
  bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
  struct stats *s = bpf_map_lookup_elem(&counts, &key);
  if (s) {
    __sync_fetch_and_add(&s->count, 1);
    s->last_pid = pid;
  }
  __u32 slot = 0;
  __u64 *c = bpf_map_lookup_elem(&per_cpu, &slot);
  if (c) *c += 1;
  last_event.pid = pid;
  last_event.flags.ready = 1;
  last_event.flags.mode = 5;
  last_event.flags.kind = KIND_EXEC;
  last_event.flags.weight = (unsigned short)LINUX_KERNEL_VERSION;
  last_event.level = LEVEL_HIGH;
  last_event.class = CONFIG_BPF_SYSCALL ? 7 : 0;
  last_event.hi = threshold;
  last_event.new = settings.max_events;
  bpf_get_current_comm(last_event.comm, sizeof(last_event.comm));
  seen_high = true;
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int operator(void *ctx) {  // a program named by a C++ keyword
  return 0;
}
