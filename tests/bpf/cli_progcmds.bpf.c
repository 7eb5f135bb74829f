// Programs for the CLI's prog tracelog / prog run / iter pin tests (tests/cli/cli_progcmds_test.cpp).
// Built twice: as cli_progcmds (a task iterator first, so `iter pin` takes it) and with
// -DCLI_ITER_MAP as cli_iter_map (a bpf_map_elem iterator over cli_iter_values first; only the
// kernels whose probe says such iterators load run that build).
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef CLI_ITER_MAP
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __u64);
} cli_iter_values SEC(".maps");

// "key=value" per element of the map the iterator link was given.
SEC("iter/bpf_map_elem")
int cli_iter_elems(struct bpf_iter__bpf_map_elem* ctx) {
  __u32* key = ctx->key;
  __u64* value = ctx->value;
  if (!key || !value) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%u=%llu\n", *key, *value);
  return 0;
}
#else
// "tgid comm" per process (its main thread).
SEC("iter/task")
int cli_iter_tasks(struct bpf_iter__task* ctx) {
  struct task_struct* task = ctx->task;
  if (!task || task->pid != task->tgid) return 0;
  BPF_SEQ_PRINTF(ctx->meta->seq, "%d %s\n", task->tgid, task->comm);
  return 0;
}
#endif

// bpf_printk on every getpgid(): the tracelog test looks for its own pid in trace_pipe.
SEC("tracepoint/syscalls/sys_enter_getpgid")
int cli_printk(void* ctx) {
  bpf_printk("corebpf-tracelog pid %d", (int)(bpf_get_current_pid_tgid() >> 32));
  return 0;
}

// Rewrites the frame for test_run: swaps the two MAC addresses, adds 1 to byte 14, returns
// XDP_TX; a frame shorter than 15 bytes is passed untouched.
SEC("xdp")
int cli_xdp_rewrite(struct xdp_md* ctx) {
  unsigned char* data = (void*)(long)ctx->data;
  unsigned char* end = (void*)(long)ctx->data_end;
  if (data + 15 > end) return XDP_PASS;
  for (int i = 0; i < 6; i++) {
    unsigned char t = data[i];
    data[i] = data[i + 6];
    data[i + 6] = t;
  }
  data[14] += 1;
  return XDP_TX;
}

// The same through the skb context for test_run with ctx_in/ctx_out: sets skb->mark to the first
// byte of the packet plus the mark given in, and returns the packet's length.
SEC("tc")
int cli_tc_mark(struct __sk_buff* skb) {
  unsigned char* data = (void*)(long)skb->data;
  unsigned char* end = (void*)(long)skb->data_end;
  if (data + 1 > end) return 0;
  skb->mark += data[0];
  return skb->len;
}
