// Kprobe family as libbpf-tools write it: BPF_KPROBE/BPF_KRETPROBE on a kernel function,
// ksyscall/kretsyscall with BPF_KSYSCALL (the syscall wrapper's name found by the loader), and
// bare kprobe/uprobe/usdt sections, which load but name nothing to attach to (attach() says
// EOPNOTSUPP: "attach it by hand").
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, u32);
  __type(value, u64);
} counts SEC(".maps");

static __always_inline void count(u32 key) {
  u64 one = 1, *value = bpf_map_lookup_elem(&counts, &key);
  if (value)
    __sync_fetch_and_add(value, 1);
  else
    bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat_entry, int dfd, struct filename* name) {
  const char* path = BPF_CORE_READ(name, name);
  count(path ? 1 : 0);
  return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, long ret) {
  count(ret == 0 ? 2 : 3);
  return 0;
}

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig) {
  count(sig);
  return 0;
}

SEC("kretsyscall/kill")
int BPF_KRETPROBE(kill_exit, long ret) {
  count(100);
  return 0;
}

SEC("kprobe")
int BPF_KPROBE(bare_kprobe) {
  count(200);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(bare_uprobe) {
  count(201);
  return 0;
}

SEC("usdt")
int bare_usdt(struct pt_regs* ctx) {
  count(202);
  return 0;
}
