// The CLI's prog/map/link commands (tests/cli) and the BTF data formatter (tests/btf): a map
// whose value has every shape the formatter shows (bitfields, enum, char array, nested struct,
// union, array, pointer, bool), a per-CPU map, global data, and a tracepoint program to
// auto-attach that counts getppid() calls.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum cli_state { CLI_IDLE = 0, CLI_RUNNING = 1, CLI_STOPPED = 7 };

struct cli_inner {
  unsigned short port;
  signed char delta;
};

struct cli_value {
  int pid;
  char comm[16];
  unsigned int flags : 3;
  unsigned int level : 5;
  int offset : 4;
  enum cli_state state;
  struct cli_inner inner;
  union {
    unsigned int as_u32;
    unsigned char as_bytes[4];
  } u;
  unsigned long long counts[2];
  void *ptr;
  _Bool ok;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct cli_value);
} cli_values SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} cli_percpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} cli_counts SEC(".maps");

// Scalars bpftool formats in their own ways: a 64-bit enum, a signed enum, 128-bit ints (bpftool
// 7.1 cannot show floats: they are left to the unit tests).
enum cli_big { CLI_BIG_SMALL = 1, CLI_BIG_HUGE = 0x10000000000ULL };
enum cli_signed { CLI_NEGATIVE = -3, CLI_POSITIVE = 3 };

struct cli_extra {
  enum cli_big big;
  enum cli_signed sign;
  unsigned __int128 wide;
  unsigned __int128 narrow;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct cli_extra);
} cli_extras SEC(".maps");

__u64 cli_hits = 0;
int cli_target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int cli_on_getppid(void *ctx) {
  __u32 key = 0;
  __u32 *count;
  __u64 *per_cpu;
  struct cli_value *value;

  if ((int)(bpf_get_current_pid_tgid() >> 32) != cli_target_tgid) return 0;
  count = bpf_map_lookup_elem(&cli_counts, &key);
  if (count) __sync_fetch_and_add(count, 1);
  per_cpu = bpf_map_lookup_elem(&cli_percpu, &key);
  if (per_cpu) *per_cpu += 1;
  value = bpf_map_lookup_elem(&cli_values, &key);
  if (value) value->inner.port += 1;
  __sync_fetch_and_add(&cli_hits, 1);
  return 0;
}

SEC("socket")
int cli_socket(struct __sk_buff *skb) { return 0; }
