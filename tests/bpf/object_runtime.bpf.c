// The Object runtime test (tests/kernel/object_test.cpp): global data in .bss/.data/.rodata, a
// hash map, an array map and a subprogram, driven through BPF_PROG_TEST_RUN by a socket filter.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} seen SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} totals SEC(".maps");

// .rodata: set by the loader before load (ObjectSpec::set_global).
const volatile __u32 step = 1;
const volatile __u32 key_base = 100;

// .bss: the program counts its runs; user space reads them live.
__u64 runs = 0;
__u64 last_bonus = 0;

// .data: user space writes it live; the program adds it to its totals.
__u64 bonus = 7;

static __attribute__((noinline)) __u64 add_total(__u32 slot, __u64 amount) {
  __u64* total = bpf_map_lookup_elem(&totals, &slot);
  if (!total) return 0;
  __sync_fetch_and_add(total, amount);
  return *total;
}

SEC("socket")
int count_packets(struct __sk_buff* skb) {
  __u64 count = __sync_fetch_and_add(&runs, step) + step;
  __u32 key = key_base + skb->len;
  bpf_map_update_elem(&seen, &key, &count, BPF_ANY);
  last_bonus = bonus;
  add_total(0, 1);
  add_total(1, bonus);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
