// kprobe (libbpf-bootstrap): a kprobe and a kretprobe on do_unlinkat(int dfd, struct filename
// *name), the kernel function behind unlink(2) and unlinkat(2). Entry sends the caller and the
// path (name->name, read with CO-RE), return sends the result; both through the tools' event stream.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
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

static void fill(struct unlink_event* e, int is_return) {
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->is_return = is_return;
  e->ret = 0;
  e->filename[0] = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat_entry, int dfd, struct filename* name) {
  struct unlink_event e = {};
  fill(&e, 0);
  bpf_probe_read_kernel_str(e.filename, sizeof(e.filename), BPF_CORE_READ(name, name));
  tool_submit(ctx, &e, sizeof(e));
  return 0;
}

// do_unlinkat returns int: read as an int, since the upper half of the return register is not
// part of the value.
SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, int ret) {
  struct unlink_event e = {};
  fill(&e, 1);
  e.ret = ret;
  tool_submit(ctx, &e, sizeof(e));
  return 0;
}
