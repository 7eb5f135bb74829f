// lsm (libbpf-bootstrap): a BPF LSM program on the `bpf` hook (security_bpf, called before every
// bpf(2) command) that denies bpf() with EPERM to the tasks of one cgroup (v2), set by id before
// load, and reports each denial through the tools' event stream. For other tasks it returns 0: no
// objection from this LSM.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1

struct denial_event {
  int pid;
  int cmd;
  char comm[16];
};

const struct denial_event* unused_denial_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

// The cgroup whose tasks may not use bpf(2) (its cgroup v2 id: the directory's inode number).
const volatile unsigned long long denied_cgroup_id = 0;

unsigned long long denials = 0;

// The hook's arguments are (int cmd, union bpf_attr *attr, unsigned int size[, bool kernel]):
// only cmd, the first, is read, so one program fits both forms.
SEC("lsm/bpf")
int BPF_PROG(deny_bpf, int cmd) {
  if (bpf_get_current_cgroup_id() != denied_cgroup_id) return 0;
  __sync_fetch_and_add(&denials, 1);
  struct denial_event e = {};
  e.pid = bpf_get_current_pid_tgid() >> 32;
  e.cmd = cmd;
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  tool_submit(ctx, &e, sizeof(e));
  return -EPERM;
}
