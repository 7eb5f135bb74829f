// Legacy map definitions (struct bpf_map_def in the `maps` section), as pre-BTF objects have them.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct legacy_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct legacy_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 128,
    .map_flags = BPF_F_NO_PREALLOC,
};

struct legacy_map_def SEC("maps") legacy_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = 32,
    .max_entries = 4,
};

SEC("socket") int use_legacy(void* ctx) {
  __u32 key = 1;
  __u64* value = bpf_map_lookup_elem(&legacy_hash, &key);
  return (value ? *value : 0) + (bpf_map_lookup_elem(&legacy_array, &key) != 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
__u32 VERSION SEC("version") = 0x060100;
