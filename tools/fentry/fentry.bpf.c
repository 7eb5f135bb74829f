// fentry (libbpf-bootstrap): BPF trampolines at the entry and exit of do_unlinkat(int dfd,
// struct filename *name), the kernel function behind unlink(2) and unlinkat(2). The arguments are
// typed (BTF), so the path is read directly; fexit sees the arguments and the result. Events go
// through the tools' event stream.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct unlink_event {
  int pid;
  int is_return;
  long ret;
  char comm[16];
  char filename[128];
};

const struct unlink_event* unused_unlink_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

static int send(void* ctx, struct filename* name, int is_return, long ret) {
  struct unlink_event event = {};
  struct unlink_event* e = &event;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->is_return = is_return;
  e->ret = ret;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), name->name);
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(do_unlinkat_entry, int dfd, struct filename* name) { return send(ctx, name, 0, 0); }

// do_unlinkat returns int: read as an int, since the upper half of the return register is not
// part of the value.
SEC("fexit/do_unlinkat")
int BPF_PROG(do_unlinkat_exit, int dfd, struct filename* name, int ret) { return send(ctx, name, 1, ret); }
