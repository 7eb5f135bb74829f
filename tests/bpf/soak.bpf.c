// Producers for the soak test's event streams (tests/kernel/soak_test.cpp): socket filters run
// with BPF_PROG_TEST_RUN (repeat) by producer threads. Each run counts its attempt, and the ring
// buffer producer counts the records the ring refused, so the test accounts for every record:
// ring buffer: attempts = consumed + refused; perf buffer: attempts = consumed + reported lost.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define RECORD_SIZE 64

enum { ring_attempts, ring_refused, perf_attempts, perf_failed, counter_count };

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, counter_count);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} soak_ring SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 256);  // at least the possible CPUs of any test machine
} soak_perf SEC(".maps");

static __always_inline __u64 count(__u32 which) {
  __u64* counter = bpf_map_lookup_elem(&counters, &which);
  return counter ? __sync_fetch_and_add(counter, 1) : 0;
}

SEC("socket")
int soak_emit_ring(struct __sk_buff* skb) {
  __u64 record[RECORD_SIZE / 8] = {};
  record[0] = count(ring_attempts);
  if (bpf_ringbuf_output(&soak_ring, record, sizeof(record), 0) != 0) count(ring_refused);
  return 0;
}

SEC("socket")
int soak_emit_perf(struct __sk_buff* skb) {
  __u64 record[RECORD_SIZE / 8] = {};
  record[0] = count(perf_attempts);
  // -ENOSPC (a full ring) is counted by the kernel and reported as lost samples; anything else
  // (no ring for this CPU) would not be, so it is counted apart.
  long result = bpf_perf_event_output(skb, &soak_perf, BPF_F_CURRENT_CPU, record, sizeof(record));
  if (result != 0 && result != -28) count(perf_failed);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
