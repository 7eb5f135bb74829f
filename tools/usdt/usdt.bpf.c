// usdt (libbpf-bootstrap): a USDT probe (<sys/sdt.h>), by default libc's setjmp probe, whose
// three arguments (the jmp_buf, the signal mask flag, the return address) are read with
// bpf_usdt_arg() from the argument specs the loader put in __bpf_usdt_specs when it attached the
// program; each hit goes to user space through the tools' event stream.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct usdt_event {
  int pid;
  int nargs;
  long args[3];
  char comm[16];
};

const struct usdt_event* unused_usdt_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

SEC("usdt")
int handle_usdt(struct pt_regs* ctx) {
  struct usdt_event event = {};
  struct usdt_event* e = &event;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->nargs = bpf_usdt_arg_cnt(ctx);
  for (int i = 0; i < 3; i++) {
    long value = 0;
    if (i < e->nargs) bpf_usdt_arg(ctx, i, &value);
    e->args[i] = value;
  }
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}
