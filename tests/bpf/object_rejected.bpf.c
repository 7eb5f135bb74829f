// A program the verifier rejects (a read past the end of a map value), next to one it accepts:
// the Object runtime test checks the error and that nothing the load made survives it.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} small SEC(".maps");

__u64 counter = 0;

SEC("socket")
int accepted_first(struct __sk_buff* skb) {
  counter++;
  return 0;
}

SEC("socket")
int reads_too_far(struct __sk_buff* skb) {
  __u32 key = 0;
  __u32* value = bpf_map_lookup_elem(&small, &key);
  if (!value) return 0;
  return value[skb->len & 0xff];
}

char LICENSE[] SEC("license") = "GPL";
