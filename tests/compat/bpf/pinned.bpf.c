// A map pinned by name (LIBBPF_PIN_BY_NAME) next to a map of maps with its inner map declared
// inline, and a perf event array without max_entries that is pinned too: a second load reuses the
// pins, which must match the maps as created (the CPU-sized perf event array included).
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, u32);
  __type(value, u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(u32));
  __uint(value_size, sizeof(u32));
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_events SEC(".maps");

struct inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, u64);
} inner_a SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, u32);
  __array(values, struct inner);
} outer SEC(".maps") = {.values = {&inner_a}};

SEC("tp/syscalls/sys_enter_getppid")
int pinned_user(void* ctx) {
  u32 key = 0;
  u64 one = 1;
  bpf_map_update_elem(&pinned_counts, &key, &one, BPF_ANY);
  void* inner = bpf_map_lookup_elem(&outer, &key);
  if (inner) {
    u64* value = bpf_map_lookup_elem(inner, &key);
    if (value) __sync_fetch_and_add(value, 1);
  }
  bpf_perf_event_output(ctx, &pinned_events, BPF_F_CURRENT_CPU, &one, sizeof(one));
  return 0;
}
