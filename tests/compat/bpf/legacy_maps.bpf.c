// Pre-BTF conventions: a map in the legacy "maps" section (libbpf 1.0 dropped it; corebpf still
// reads it), a BTF-defined map pinned by name, and an inner-map array of maps.
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

struct legacy_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct legacy_map_def legacy_counts SEC("maps") = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(u32),
    .value_size = sizeof(u64),
    .max_entries = 1,
};

SEC("tp/syscalls/sys_enter_getppid")
int legacy_user(void* ctx) {
  u32 key = 0;
  u64* value = bpf_map_lookup_elem(&legacy_counts, &key);
  if (value) __sync_fetch_and_add(value, 1);
  return 0;
}
