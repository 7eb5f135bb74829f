// The Object runtime test: initial prog-array and map-in-map slots filled at load, and a map
// pinned by name under the object's pin root.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct inner_counter {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
};
struct inner_counter inner_a SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, struct inner_counter);
} outer SEC(".maps") = {
    .values = {[1] = &inner_a},
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");

int tail_target(struct __sk_buff* skb);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, int(void*));
} jumps SEC(".maps") = {
    .values = {[0] = (void*)&tail_target},
};

SEC("socket")
int tail_target(struct __sk_buff* skb) {
  __u32 slot = 1, zero = 0;
  void* inner = bpf_map_lookup_elem(&outer, &slot);
  if (!inner) return 2;
  __u64* count = bpf_map_lookup_elem(inner, &zero);
  if (!count) return 3;
  __sync_fetch_and_add(count, 1);
  __u64 one = 1;
  if (bpf_map_update_elem(&shared_counts, &zero, &one, BPF_NOEXIST) != 0) {
    __u64* shared = bpf_map_lookup_elem(&shared_counts, &zero);
    if (shared) __sync_fetch_and_add(shared, 1);
  }
  return 42;
}

SEC("socket")
int jump(struct __sk_buff* skb) {
  bpf_tail_call(skb, &jumps, 0);
  return 1;  // only when the slot is empty
}

char LICENSE[] SEC("license") = "GPL";
