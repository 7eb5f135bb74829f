// kprobe (libbpf-bootstrap): a kprobe and a kretprobe on do_unlinkat(int dfd, struct filename
// *name), the kernel function behind unlink(2) and unlinkat(2). Entry sends the caller and the
// path (name->name, read with CO-RE), return sends the result; both through a ring buffer.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
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

static struct unlink_event* reserve(int is_return) {
  struct unlink_event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&dropped, 1);
    return 0;
  }
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->is_return = is_return;
  e->ret = 0;
  e->filename[0] = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  return e;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat_entry, int dfd, struct filename* name) {
  struct unlink_event* e = reserve(0);
  if (!e) return 0;
  bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(name, name));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, long ret) {
  struct unlink_event* e = reserve(1);
  if (!e) return 0;
  e->ret = ret;
  bpf_ringbuf_submit(e, 0);
  return 0;
}
