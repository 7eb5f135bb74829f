// Producer for ringbuf_bench: one run (BPF_PROG_TEST_RUN) writes a burst of `records` records of
// `record_size` bytes with bpf_loop, stopping early when the ring is full. No wakeups: the
// benchmark consumes without waiting, so both consumers see the same ring and the same records.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} events SEC(".maps");

struct burst {
  __u32 record_size;  // 16, 64, 256 or 1024
  __u32 records;      // per run
  __u64 emitted;      // by the last run
  __u64 seq;
} burst;

// bpf_ringbuf_reserve needs a constant size: one copy of the body per size.
#define EMIT(size)                                         \
  static long emit_##size(__u32 index, void* ctx) {        \
    __u64* record = bpf_ringbuf_reserve(&events, size, 0); \
    if (!record) return 1;                                 \
    record[0] = burst.seq++;                               \
    record[1] = index;                                     \
    bpf_ringbuf_submit(record, BPF_RB_NO_WAKEUP);          \
    burst.emitted++;                                       \
    return 0;                                              \
  }
EMIT(16)
EMIT(64)
EMIT(256)
EMIT(1024)

SEC("socket")
int emit_burst(struct __sk_buff* skb) {
  burst.emitted = 0;
  switch (burst.record_size) {
    case 16:
      bpf_loop(burst.records, emit_16, 0, 0);
      break;
    case 64:
      bpf_loop(burst.records, emit_64, 0, 0);
      break;
    case 256:
      bpf_loop(burst.records, emit_256, 0, 0);
      break;
    case 1024:
      bpf_loop(burst.records, emit_1024, 0, 0);
      break;
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";

// The multi-producer row: one run per CPU at the same time (a thread pinned to each CPU calls
// BPF_PROG_TEST_RUN), each writing up to burst.records records of burst.record_size bytes while
// user space consumes. Returns how many it wrote (fewer when the ring is full); counts on the
// stack, since the runs share the globals.
#define EMIT_COUNTED(size)                                  \
  static long emit_counted_##size(__u32 index, void* ctx) { \
    __u64* record = bpf_ringbuf_reserve(&events, size, 0);  \
    if (!record) return 1;                                  \
    record[0] = bpf_get_smp_processor_id();                 \
    record[1] = index;                                      \
    bpf_ringbuf_submit(record, BPF_RB_NO_WAKEUP);           \
    ++*(__u32*)ctx;                                         \
    return 0;                                               \
  }
EMIT_COUNTED(64)
EMIT_COUNTED(256)

SEC("socket")
int emit_concurrent(struct __sk_buff* skb) {
  __u32 written = 0;
  switch (burst.record_size) {
    case 64:
      bpf_loop(burst.records, emit_counted_64, &written, 0);
      break;
    case 256:
      bpf_loop(burst.records, emit_counted_256, &written, 0);
      break;
  }
  return written;
}
