// opensnoop, kernel side: open(), openat() and openat2() entries keep the path pointer and flags
// of the caller (by thread); the returns send the path, the flags and the result. Tracepoints
// only (syscalls/sys_{enter,exit}_open{,at,at2}; open is optional, arm64 has none).
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "opensnoop.h"
#include "tools.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tid = 0;      // -t TID
const volatile __s64 target_uid = -1;     // -u UID
const volatile bool failed_only = false;  // -x

TOOL_DEFINE_EVENTS;

struct open_args {
  const char* path;
  __u64 flags;
  __u64 mode;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct open_args);
} pending SEC(".maps");

static __always_inline int enter(const char* path, __u64 flags, __u64 mode) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)pid_tgid;
  if (target_tid && target_tid != tid) return 0;
  if (!tool_current_allowed()) return 0;
  if (target_uid >= 0 && (__u32)bpf_get_current_uid_gid() != (__u32)target_uid) return 0;
  struct open_args args = {.path = path, .flags = flags, .mode = mode};
  bpf_map_update_elem(&pending, &tid, &args, BPF_ANY);
  return 0;
}

// The per-CPU record being built (too large for the stack).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct opensnoop_event);
} scratch SEC(".maps");

static __always_inline int leave(void* ctx, long ret) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)pid_tgid;
  struct open_args* args = bpf_map_lookup_elem(&pending, &tid);
  if (!args) return 0;
  __u32 zero = 0;
  struct opensnoop_event* event = bpf_map_lookup_elem(&scratch, &zero);
  if (!event || (failed_only && ret >= 0)) {
    bpf_map_delete_elem(&pending, &tid);
    return 0;
  }
  event->time_ns = bpf_ktime_get_ns();
  event->pid = pid_tgid >> 32;
  event->tid = tid;
  event->uid = (__u32)bpf_get_current_uid_gid();
  event->ret = ret;
  event->flags = args->flags;
  event->mode = args->mode;
  bpf_get_current_comm(event->comm, sizeof(event->comm));
  if (bpf_probe_read_user_str(event->path, sizeof(event->path), args->path) < 0) event->path[0] = 0;
  bpf_map_delete_elem(&pending, &tid);
  tool_submit(ctx, event, sizeof(*event));
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int open_enter(struct trace_event_raw_sys_enter* ctx) {
  return enter((const char*)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int open_exit(struct trace_event_raw_sys_exit* ctx) { return leave(ctx, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter* ctx) {
  return enter((const char*)ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_exit(struct trace_event_raw_sys_exit* ctx) { return leave(ctx, ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_openat2")
int openat2_enter(struct trace_event_raw_sys_enter* ctx) {
  struct open_how how = {};
  bpf_probe_read_user(&how, sizeof(how), (const void*)ctx->args[2]);
  return enter((const char*)ctx->args[1], how.flags, how.mode);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int openat2_exit(struct trace_event_raw_sys_exit* ctx) { return leave(ctx, ctx->ret); }
