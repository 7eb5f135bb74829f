// Subprograms for the object model's linker tests: static and global functions in .text, a
// static function in a program section, BPF-to-BPF calls, callbacks (bpf_loop,
// bpf_for_each_map_elem) and a call into another program's section.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} values SEC(".maps");

struct bpf_map;

int counter = 1;

static __noinline int leaf(int x) { return x * 3 + counter; }

__noinline int shared_global(int x) { return leaf(x) + 1; }

static __noinline int twice(int x) { return leaf(x) + leaf(x + 1); }

static long loop_cb(__u32 index, void* ctx) {
  counter += index;
  return 0;
}

static long each_cb(struct bpf_map* map, __u32* key, __u64* value, void* ctx) {
  *value += leaf(*key);
  return 0;
}

// Static, so a subprogram of the xdp section rather than a program of its own.
SEC("xdp") static __noinline int in_xdp_static(int x) { return x ^ 0x5a; }

SEC("xdp") int xdp_main(struct xdp_md* ctx) { return in_xdp_static(twice(ctx->ingress_ifindex)) & 3; }

// Not inlined into its caller in another section, so the call survives.
SEC("xdp") __noinline int xdp_second(struct xdp_md* ctx) {
  return shared_global(ctx->rx_queue_index) > 0 ? XDP_PASS : XDP_DROP;
}

SEC("tp/sched/sched_switch") int with_callbacks(void* ctx) {
  bpf_loop(4, loop_cb, 0, 0);
  bpf_for_each_map_elem(&values, each_cb, 0, 0);
  return shared_global(2);
}

// Calls the entry function of another section, which then travels along as a subprogram.
SEC("tc") int calls_other_section(struct __sk_buff* skb) { return xdp_second((struct xdp_md*)skb) + 1; }

SEC("?raw_tp/sys_enter") int not_autoloaded(void* ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
