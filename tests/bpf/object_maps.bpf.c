// BTF-defined maps of every shape for the object model's tests: key/value types and sizes,
// flags, numa node, pinning, map_extra, map-in-map and prog array with initial slots.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct pair {
  __u64 first;
  __u32 second;
};

struct inner_map {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct pair);
  __uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE);
  __uint(numa_node, 1);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} hash_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __uint(key_size, 4);
  __uint(value_size, 16);
} sized SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 64);
  __type(key, struct pair);
  __type(value, __u64);
} lru SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(int));
} perf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
  __uint(max_entries, 100);
  __type(value, __u64);
  __uint(map_extra, 3);
} bloom SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer_array SEC(".maps") = {
    .values = {[0] = &inner_a, [3] = &inner_b},
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 8);
  __type(key, __u32);
  __array(values, struct inner_map);
} outer_hash SEC(".maps") = {
    .values = {[1] = &inner_b},
};

int tail_zero(void* ctx);
int tail_two(void* ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 3);
  __uint(key_size, sizeof(__u32));
  __array(values, int(void*));
} jump_table SEC(".maps") = {
    .values = {[0] = (void*)&tail_zero, [2] = (void*)&tail_two},
};

SEC("socket") int tail_zero(void* ctx) { return 0; }
SEC("socket") int tail_two(void* ctx) { return 2; }

SEC("socket") int use_maps(struct __sk_buff* skb) {
  __u32 key = 0;
  struct pair* value = bpf_map_lookup_elem(&hash_map, &key);
  if (value) value->second++;
  bpf_ringbuf_output(&events, &key, sizeof(key), 0);
  bpf_tail_call(skb, &jump_table, 2);
  return bpf_map_lookup_elem(&outer_array, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
