// Producer for perfbuf_bench: one run (BPF_PROG_TEST_RUN, on the CPU of the calling thread) writes
// `records` samples of `record_size` bytes to the current CPU's perf ring with
// bpf_perf_event_output. A full ring drops the sample (the kernel counts it and reports it in a
// lost record later); the program counts both, so the benchmark checks produced = consumed + lost.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} samples SEC(".maps");

struct burst {
  __u32 record_size;  // 16, 64, 256 or 1024
  __u32 records;      // per run
  __u64 written;      // by the last run
  __u64 dropped;      // by the last run (the ring was full)
} burst;

static char payload[1024];

// bpf_loop's context must be on the stack: the program's context pointer goes through it.
struct loop_context {
  struct __sk_buff* skb;
};

#define EMIT(size)                                                                                                \
  static long emit_##size(__u32 index, void* ctx) {                                                               \
    *(__u32*)payload = index;                                                                                     \
    if (bpf_perf_event_output(((struct loop_context*)ctx)->skb, &samples, BPF_F_CURRENT_CPU, payload, size) == 0) \
      burst.written++;                                                                                            \
    else                                                                                                          \
      burst.dropped++;                                                                                            \
    return 0;                                                                                                     \
  }
EMIT(16)
EMIT(64)
EMIT(256)
EMIT(1024)

SEC("socket")
int emit_samples(struct __sk_buff* skb) {
  burst.written = 0;
  burst.dropped = 0;
  struct loop_context context = {skb};
  switch (burst.record_size) {
    case 16:
      bpf_loop(burst.records, emit_16, &context, 0);
      break;
    case 64:
      bpf_loop(burst.records, emit_64, &context, 0);
      break;
    case 256:
      bpf_loop(burst.records, emit_256, &context, 0);
      break;
    case 1024:
      bpf_loop(burst.records, emit_1024, &context, 0);
      break;
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
