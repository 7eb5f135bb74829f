// Producers for the ring and perf buffer tests: each run of a socket filter (BPF_PROG_TEST_RUN
// with repeat) emits one record whose bytes follow from its sequence number, so the reader can
// check every byte; every discard_every-th ring buffer record is reserved and discarded instead.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define MAX_RECORD 256

struct config {
  __u32 size;           // bytes per record, 8..MAX_RECORD
  __u32 discard_every;  // 0: never
  __u32 second_ring;    // 1: emit into ring_b
  __u32 size_spread;  // perf: record seq is size + seq % size_spread bytes (0: always size)
  __u64 seq;  // the next record's sequence number
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct config);
} config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} ring_a SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} ring_b SEC(".maps");

SEC("socket")
int emit_ringbuf(struct __sk_buff* skb) {
  __u32 zero = 0;
  struct config* cfg = bpf_map_lookup_elem(&config, &zero);
  if (!cfg) return 0;
  __u64 seq = __sync_fetch_and_add(&cfg->seq, 1);
  void* ring = cfg->second_ring ? (void*)&ring_b : (void*)&ring_a;
  if (cfg->discard_every && seq % cfg->discard_every == 0) {
    __u64* record = bpf_ringbuf_reserve(&ring_a, 64, 0);
    if (record) {
      record[0] = seq;
      bpf_ringbuf_discard(record, 0);
    }
    return 0;
  }
  __u8 buffer[MAX_RECORD];
  *(__u64*)buffer = seq;
  for (int i = 8; i < MAX_RECORD; i++) buffer[i] = (__u8)(seq + i);
  __u32 size = cfg->size;
  if (size < 8 || size > MAX_RECORD) return 0;
  bpf_ringbuf_output(ring, buffer, size, 0);
  return 0;
}

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
  __uint(max_entries, 256);  // at least the possible CPUs of any test machine
} perf_events SEC(".maps");

SEC("socket")
int emit_perf(struct __sk_buff* skb) {
  __u32 zero = 0;
  struct config* cfg = bpf_map_lookup_elem(&config, &zero);
  if (!cfg) return 0;
  __u64 seq = __sync_fetch_and_add(&cfg->seq, 1);
  __u8 buffer[MAX_RECORD];
  *(__u64*)buffer = seq;
  for (int i = 8; i < MAX_RECORD; i++) buffer[i] = (__u8)(seq + i);
  __u64 size = cfg->size;  // 64 bits: the verifier must see the bounds on the register passed
  if (cfg->size_spread) size += seq % cfg->size_spread;
  if (size < 8 || size > MAX_RECORD) return 0;
  // The helper's result (0, -ENOSPC for a full ring, -ENOENT with no ring for this CPU) is the
  // program's return value, which test_run reports.
  return (int)bpf_perf_event_output(skb, &perf_events, BPF_F_CURRENT_CPU, buffer, size);
}

char LICENSE[] SEC("license") = "GPL";
