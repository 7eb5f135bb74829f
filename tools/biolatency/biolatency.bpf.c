// biolatency, kernel side: block I/O latency from the request's issue to the device (or, with
// queued, its insertion in the OS queue) to its completion, as log2 histograms in microseconds
// (or milliseconds), one for all disks or per disk (the key is the disk's dev_t). BTF-typed
// tracepoints (tp_btf) where tracing programs load, raw tracepoints otherwise: both hand over the
// struct request (block_rq_issue with the request alone: Linux 5.11+).
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool per_disk = false;  // -D
const volatile bool millis = false;    // -m
const volatile bool queued = false;    // -Q
const volatile __u32 target_dev = 0;   // -d DISK: its dev_t (MKDEV as the kernel encodes it)

#define MINORBITS 20

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct request*);
  __type(value, __u64);
} started SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct tool_keyed_hist);
} hists SEC(".maps");

static __always_inline __u32 request_dev(struct request* rq) {
  struct gendisk* disk = BPF_CORE_READ(rq, q, disk);
  if (!disk) return 0;
  return ((__u32)BPF_CORE_READ(disk, major) << MINORBITS) | (__u32)BPF_CORE_READ(disk, first_minor);
}

static __always_inline int start(struct request* rq, bool insert) {
  if (insert != queued) {
    // Issue after an insert keeps the insert's time (-Q); issue alone starts the clock.
    if (!insert && bpf_map_lookup_elem(&started, &rq)) return 0;
    if (insert) return 0;
  }
  if (target_dev && request_dev(rq) != target_dev) return 0;
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&started, &rq, &now, BPF_ANY);
  return 0;
}

static __always_inline int complete(struct request* rq) {
  __u64* since = bpf_map_lookup_elem(&started, &rq);
  if (!since) return 0;
  __u64 delta = bpf_ktime_get_ns() - *since;
  bpf_map_delete_elem(&started, &rq);
  if ((__s64)delta < 0) return 0;
  delta /= millis ? 1000000 : 1000;
  __u32 key = per_disk ? request_dev(rq) : (__u32)-1;
  bool created;
  struct tool_keyed_hist* hist = tool_keyed_hist_get(&hists, key, &created);
  if (!hist) return 0;
  tool_hist_add(&hist->hist, delta);
  return 0;
}

SEC("tp_btf/block_rq_insert")
int insert_btf(__u64* ctx) { return start((struct request*)ctx[0], true); }

SEC("tp_btf/block_rq_issue")
int issue_btf(__u64* ctx) { return start((struct request*)ctx[0], false); }

SEC("tp_btf/block_rq_complete")
int complete_btf(__u64* ctx) { return complete((struct request*)ctx[0]); }

SEC("raw_tp/block_rq_insert")
int insert_raw(struct bpf_raw_tracepoint_args* ctx) { return start((struct request*)ctx->args[0], true); }

SEC("raw_tp/block_rq_issue")
int issue_raw(struct bpf_raw_tracepoint_args* ctx) { return start((struct request*)ctx->args[0], false); }

SEC("raw_tp/block_rq_complete")
int complete_raw(struct bpf_raw_tracepoint_args* ctx) { return complete((struct request*)ctx->args[0]); }
