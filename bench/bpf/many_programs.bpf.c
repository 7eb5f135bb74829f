// The loader benchmark's object (load_bench, bench/run): 50 tracepoint programs, each with CO-RE
// reads of task_struct through pointers, a hash map, an array and a ring buffer, and global data,
// compiled against the running kernel's vmlinux.h. The PROGRAM macro stamps out the 50 programs.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u64);
} calls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} per_program SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 16);
} events SEC(".maps");

struct event {
  __u32 program;
  __u32 tgid;
  __u32 parent_tgid;
  __u64 start_time;
  __u64 total_vm;
  char comm[16];
};

const volatile __u32 wanted_tgid = 0;
__u64 hits = 0;

#define PROGRAM(n)                                                       \
  SEC("tracepoint/syscalls/sys_enter_getppid")                          \
  int program_##n(void* ctx) {                                           \
    struct task_struct* task = (struct task_struct*)bpf_get_current_task(); \
    __u32 tgid = BPF_CORE_READ(task, tgid);                              \
    if (wanted_tgid && tgid != wanted_tgid) return 0;                    \
    __u32 slot = n;                                                      \
    __u64* count = bpf_map_lookup_elem(&per_program, &slot);             \
    if (count) __sync_fetch_and_add(count, 1);                           \
    __u64 one = 1;                                                       \
    __u64* per_task = bpf_map_lookup_elem(&calls, &tgid);                \
    if (per_task)                                                        \
      __sync_fetch_and_add(per_task, 1);                                 \
    else                                                                 \
      bpf_map_update_elem(&calls, &tgid, &one, BPF_ANY);                 \
    struct event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);       \
    if (!e) return 0;                                                    \
    e->program = n;                                                      \
    e->tgid = tgid;                                                      \
    e->parent_tgid = BPF_CORE_READ(task, real_parent, tgid);             \
    e->start_time = BPF_CORE_READ(task, start_time);                     \
    e->total_vm = BPF_CORE_READ(task, mm, total_vm);                     \
    BPF_CORE_READ_STR_INTO(&e->comm, task, comm);                        \
    bpf_ringbuf_submit(e, 0);                                            \
    __sync_fetch_and_add(&hits, 1);                                      \
    return 0;                                                            \
  }

#define TEN(d) PROGRAM(d##0) PROGRAM(d##1) PROGRAM(d##2) PROGRAM(d##3) PROGRAM(d##4) \
               PROGRAM(d##5) PROGRAM(d##6) PROGRAM(d##7) PROGRAM(d##8) PROGRAM(d##9)
TEN(1)
TEN(2)
TEN(3)
TEN(4)
TEN(5)
