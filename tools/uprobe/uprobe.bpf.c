// uprobe (libbpf-bootstrap): probes on two functions of the tool's own binary, uprobed_add(int,
// int) and uprobed_sub(int, int), at entry (their arguments) and at return (their result), in
// every process that runs the binary. User space attaches them by symbol; each hit goes to user
// space through the tools' event stream.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include <bpf/bpf_tracing.h>
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum uprobe_function { FUNCTION_ADD = 0, FUNCTION_SUB = 1 };

struct uprobe_event {
  int pid;
  int function;   // enum uprobe_function
  int is_return;  // 0: entry (a, b), 1: return (ret)
  int a;
  int b;
  int ret;
  char comm[16];
};

const struct uprobe_event* unused_uprobe_event __attribute__((unused));

TOOL_DEFINE_EVENTS;

static int send(void* ctx, int function, int is_return, int a, int b, int ret) {
  struct uprobe_event event = {};
  struct uprobe_event* e = &event;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->function = function;
  e->is_return = is_return;
  e->a = a;
  e->b = b;
  e->ret = ret;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  tool_submit(ctx, e, sizeof(*e));
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(uprobe_add, int a, int b) { return send(ctx, FUNCTION_ADD, 0, a, b, 0); }

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_add, int ret) { return send(ctx, FUNCTION_ADD, 1, 0, 0, ret); }

SEC("uprobe")
int BPF_KPROBE(uprobe_sub, int a, int b) { return send(ctx, FUNCTION_SUB, 0, a, b, 0); }

SEC("uretprobe")
int BPF_KRETPROBE(uretprobe_sub, int ret) { return send(ctx, FUNCTION_SUB, 1, 0, 0, ret); }
