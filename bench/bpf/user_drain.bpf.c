// Consumer for ringbuf_bench's user ring buffer rows: each run (BPF_PROG_TEST_RUN) drains the
// user ring with bpf_user_ringbuf_drain and counts the samples.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4 << 20);
} requests SEC(".maps");

struct drained {
  __s64 last;  // what the last drain returned
} drained;

static long count_sample(struct bpf_dynptr* dynptr, void* ctx) { return 0; }

SEC("socket")
int drain_requests(struct __sk_buff* skb) {
  drained.last = bpf_user_ringbuf_drain(&requests, count_sample, 0, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
