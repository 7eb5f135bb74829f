// funclatency, kernel side: the time from a function's entry to its return, per thread, as a log2
// histogram in nanoseconds (or microseconds, milliseconds). One pair of programs per way of
// hooking: fentry/fexit or kprobe/kretprobe for kernel functions, uprobe/uretprobe for user
// functions; user space sets the target and loads one pair.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 unit_ns = 1;  // 1, 1000 (-u) or 1000000 (-m)

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} entered SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct tool_keyed_hist);
} hists SEC(".maps");

static __always_inline int on_entry(void) {
  if (!tool_current_allowed()) return 0;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&entered, &tid, &now, BPF_ANY);
  return 0;
}

static __always_inline int on_return(void) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u64* since = bpf_map_lookup_elem(&entered, &tid);
  if (!since) return 0;
  __u64 delta = bpf_ktime_get_ns() - *since;
  bpf_map_delete_elem(&entered, &tid);
  bool created;
  struct tool_keyed_hist* hist = tool_keyed_hist_get(&hists, 0, &created);
  if (!hist) return 0;
  tool_hist_add(&hist->hist, delta / unit_ns);
  return 0;
}

SEC("fentry")
int BPF_PROG(entry_fentry) { return on_entry(); }

SEC("fexit")
int BPF_PROG(return_fexit) { return on_return(); }

SEC("kprobe")
int BPF_KPROBE(entry_kprobe) { return on_entry(); }

SEC("kretprobe")
int BPF_KRETPROBE(return_kprobe) { return on_return(); }

SEC("uprobe")
int BPF_KPROBE(entry_uprobe) { return on_entry(); }

SEC("uretprobe")
int BPF_KRETPROBE(return_uprobe) { return on_return(); }
