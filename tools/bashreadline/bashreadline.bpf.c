// bashreadline, kernel side: a uretprobe on bash's readline() (user space attaches it to the
// shell binary it names) sends the line readline() returned and the shell's pid.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bashreadline.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

TOOL_DEFINE_EVENTS;

SEC("uretprobe")
int BPF_KRETPROBE(readline_return, const char* line) {
  if (!line || !tool_current_allowed()) return 0;
  struct bashreadline_event event = {};
  event.time_ns = bpf_ktime_get_ns();
  event.pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(event.comm, sizeof(event.comm));
  if (bpf_probe_read_user_str(event.line, sizeof(event.line), line) <= 0) return 0;
  tool_submit(ctx, &event, sizeof(event));
  return 0;
}
