// Consumer for the user ring buffer tests: each run of the socket filter (BPF_PROG_TEST_RUN)
// drains the user ring with bpf_user_ringbuf_drain and records every sample it gets into .bss.
// A sample starts with its sequence number and its own size (two __u32) and each later byte i is
// (seq + i) & 0xff; the program checks the last byte and that the dynptr ends exactly there.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define MAX_SEEN 1024

struct {
  __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
  __uint(max_entries, 4096);
} samples SEC(".maps");

struct state {
  __u64 drained;      // samples handed to the callback, all runs
  __u64 bytes;        // their sizes summed
  __s64 last_result;  // what bpf_user_ringbuf_drain returned in the last run
  __u32 bad;          // samples whose size word, last byte or length did not match
  __u32 stop_after;   // the callback stops a drain after this many samples of it (0: never)
  __u32 seqs[MAX_SEEN];
  __u32 sizes[MAX_SEEN];
};

struct state state;

struct drain_ctx {
  __u32 in_this_drain;
};

static long record_sample(struct bpf_dynptr* dynptr, void* context) {
  struct drain_ctx* ctx = context;
  __u32 head[2] = {0, 0};
  if (bpf_dynptr_read(head, sizeof(head), dynptr, 0, 0) != 0) {
    state.bad++;
    return 0;
  }
  __u32 seq = head[0];
  __u32 size = head[1];
  __u8 last = 0;
  __u8 beyond = 0;
  // The size word must be the dynptr's length: the last byte is readable, the next one is not.
  if (size < 8 || bpf_dynptr_read(&last, 1, dynptr, size - 1, 0) != 0 ||
      (size > 8 && last != (__u8)(seq + size - 1)) || bpf_dynptr_read(&beyond, 1, dynptr, size, 0) == 0)
    state.bad++;
  __u64 index = state.drained;
  if (index < MAX_SEEN) {
    state.seqs[index] = seq;
    state.sizes[index] = size;
  }
  state.drained++;
  state.bytes += size;
  ctx->in_this_drain++;
  if (state.stop_after && ctx->in_this_drain >= state.stop_after) return 1;
  return 0;
}

SEC("socket")
int drain(struct __sk_buff* skb) {
  struct drain_ctx ctx = {0};
  state.last_result = bpf_user_ringbuf_drain(&samples, record_sample, &ctx, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
