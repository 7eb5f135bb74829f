// fentry with a kprobe fallback (the way libbpf-tools pick one at run time: both in the object, the
// user space side turns one off), fexit, lsm, a target in a module's BTF with libbpf's
// "module:function" form (veth, which the qemu guests load), and a target no kernel has (ESRCH).
#include "compat.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, u32);
  __type(value, u64);
} hits SEC(".maps");

static __always_inline int hit(u32 key) {
  u64* value = bpf_map_lookup_elem(&hits, &key);
  if (value) __sync_fetch_and_add(value, 1);
  return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(vfs_read_fentry, struct file* file) { return hit(0); }

SEC("fexit/vfs_read")
int BPF_PROG(vfs_read_fexit, struct file* file, char* buf, size_t count, loff_t* pos, ssize_t ret) {
  return hit(ret >= 0 ? 1 : 2);
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(vfs_read_kprobe, struct file* file) { return hit(0); }

SEC("lsm/file_open")
int BPF_PROG(file_open_lsm, struct file* file) {
  hit(3);
  return 0;
}

SEC("fentry/veth:veth_open")
int BPF_PROG(veth_open_fentry) { return hit(3); }

SEC("fentry/no_such_function_corebpf")
int BPF_PROG(missing_fentry) { return hit(3); }
