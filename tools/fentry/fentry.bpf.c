// fentry (libbpf-bootstrap): BPF trampolines at the entry and exit of do_unlinkat(int dfd,
// struct filename *name), the kernel function behind unlink(2) and unlinkat(2). The arguments are
// typed (BTF), so the path is read directly; fexit sees the arguments and the result. Events go
// through a ring buffer.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct unlink_event {
  int pid;
  int is_return;
  long ret;
  char comm[16];
  char filename[128];
};

const struct unlink_event* unused_unlink_event __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

unsigned long long dropped = 0;

static int send(struct filename* name, int is_return, long ret) {
  struct unlink_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->is_return = is_return;
  e->ret = ret;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), name->name);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(do_unlinkat_entry, int dfd, struct filename* name) { return send(name, 0, 0); }

SEC("fexit/do_unlinkat")
int BPF_PROG(do_unlinkat_exit, int dfd, struct filename* name, long ret) { return send(name, 1, ret); }
