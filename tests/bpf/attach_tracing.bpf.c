// Tracing attach (tests/kernel/attach_tracing_test.cpp): every program records what it saw for
// the test process only (target_tgid, set in .bss before attaching), so other processes on the
// machine cannot disturb the checks.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// One struct, so the test's mirror of it (TracingState) has the same layout.
struct tracing_state {
  int target_tgid;
  // sys_enter_execve: the caller (the forked child) and the path it executes.
  int exec_pid;
  int exec_parent;
  char exec_comm[16];
  char exec_path[64];
  // sys_enter_write on watch_fd.
  long watch_fd;
  long write_fd;
  long write_count;
  unsigned int write_hits;
  // sys_enter_connect: the fd, the length and the port (network order) asked for.
  unsigned short connect_port;
  long connect_fd;
  long connect_len;
  // getppid seen by a tracepoint (with its cookie), a raw tracepoint and tp_btf.
  unsigned int tp_getppid_hits;
  unsigned long long tp_cookie;
  unsigned int raw_getppid_hits;
  unsigned long long raw_cookie;
  unsigned int btf_getppid_hits;
  unsigned long long btf_cookie;
  // Samples of the perf event program.
  unsigned long long perf_samples;
  // kprobes (run in the qemu matrix): hits, cookies, the return value.
  unsigned int kprobe_hits;
  unsigned long long kprobe_cookie;
  unsigned int kretprobe_hits;
  long kretprobe_ret;
  unsigned int ksyscall_hits;
  unsigned int multi_hits;
  unsigned long long multi_cookie;
  unsigned int session_hits;  // kprobe.session: entry and return both run the program
};

struct tracing_state state = {};

static __always_inline int is_target(void) { return (int)(bpf_get_current_pid_tgid() >> 32) == state.target_tgid; }
static __always_inline int parent_is_target(void) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  return BPF_CORE_READ(task, real_parent, tgid) == state.target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int on_execve(struct trace_event_raw_sys_enter *ctx) {
  if (!parent_is_target()) return 0;
  state.exec_pid = (int)(bpf_get_current_pid_tgid() >> 32);
  state.exec_parent = state.target_tgid;
  bpf_get_current_comm(state.exec_comm, sizeof(state.exec_comm));
  bpf_probe_read_user_str(state.exec_path, sizeof(state.exec_path), (const char *)ctx->args[0]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int on_write(struct trace_event_raw_sys_enter *ctx) {
  if (!is_target() || (long)ctx->args[0] != state.watch_fd) return 0;
  state.write_fd = (long)ctx->args[0];
  state.write_count = (long)ctx->args[2];
  __sync_fetch_and_add(&state.write_hits, 1);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int on_connect(struct trace_event_raw_sys_enter *ctx) {
  if (!is_target()) return 0;
  struct sockaddr_in address = {};
  bpf_probe_read_user(&address, sizeof(address), (const void *)ctx->args[1]);
  state.connect_fd = (long)ctx->args[0];
  state.connect_len = (long)ctx->args[2];
  state.connect_port = address.sin_port;
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx) {
  if (!is_target()) return 0;
  state.tp_cookie = bpf_get_attach_cookie(ctx);
  __sync_fetch_and_add(&state.tp_getppid_hits, 1);
  return 0;
}

SEC("raw_tracepoint/sys_enter")
int on_raw_sys_enter(struct bpf_raw_tracepoint_args *ctx) {
  if (!is_target() || ctx->args[1] != 110 /* __NR_getppid on x86_64 */) return 0;
  __sync_fetch_and_add(&state.raw_getppid_hits, 1);
  return 0;
}

// The same with a cookie (bpf_get_attach_cookie on raw tracepoints: 6.10); loaded only there.
SEC("raw_tracepoint/sys_enter")
int on_raw_sys_enter_cookie(struct bpf_raw_tracepoint_args *ctx) {
  if (!is_target() || ctx->args[1] != 110) return 0;
  state.raw_cookie = bpf_get_attach_cookie(ctx);
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_btf_sys_enter, struct pt_regs *regs, long id) {
  if (!is_target() || id != 110) return 0;
  __sync_fetch_and_add(&state.btf_getppid_hits, 1);
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_btf_sys_enter_cookie, struct pt_regs *regs, long id) {
  if (!is_target() || id != 110) return 0;
  state.btf_cookie = bpf_get_attach_cookie(ctx);
  return 0;
}

// One line per task: "tgid pid comm".
SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
  return 0;
}

// The replacement program for a link update: "T pid" per task.
SEC("iter/task")
int dump_task_ids(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  BPF_SEQ_PRINTF(seq, "T %d\n", task->pid);
  return 0;
}

// Walked by a bpf_map_elem iterator given the map (IterOptions::map_fd): "key=value" lines.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __u64);
} iter_values SEC(".maps");

SEC("iter/bpf_map_elem")
int dump_values(struct bpf_iter__bpf_map_elem *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  __u32 *key = ctx->key;
  __u64 *value = ctx->value;
  if (!key || !value) return 0;
  BPF_SEQ_PRINTF(seq, "%u=%llu\n", *key, *value);
  return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx) {
  __sync_fetch_and_add(&state.perf_samples, 1);
  return 0;
}

SEC("kprobe/do_sys_openat2")
int on_openat2(struct pt_regs *ctx) {
  if (!is_target()) return 0;
  state.kprobe_cookie = bpf_get_attach_cookie(ctx);
  __sync_fetch_and_add(&state.kprobe_hits, 1);
  return 0;
}

SEC("kretprobe/do_sys_openat2")
int on_openat2_return(struct pt_regs *ctx) {
  if (!is_target()) return 0;
  state.kretprobe_ret = PT_REGS_RC(ctx);
  __sync_fetch_and_add(&state.kretprobe_hits, 1);
  return 0;
}

SEC("ksyscall/getppid")
int on_ksyscall_getppid(struct pt_regs *ctx) {
  if (!is_target()) return 0;
  __sync_fetch_and_add(&state.ksyscall_hits, 1);
  return 0;
}

SEC("kprobe.multi/do_sys_openat2")
int on_openat2_multi(struct pt_regs *ctx) {
  if (!is_target()) return 0;
  state.multi_cookie = bpf_get_attach_cookie(ctx);
  __sync_fetch_and_add(&state.multi_hits, 1);
  return 0;
}

// Returning 0 at entry asks for the return run too: two hits per call.
SEC("kprobe.session/do_sys_openat2")
int on_openat2_session(struct pt_regs *ctx) {
  if (!is_target()) return 0;
  __sync_fetch_and_add(&state.session_hits, 1);
  return 0;
}
