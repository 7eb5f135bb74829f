// hello-buffer-config (Learning eBPF, chapter 5): on every execve, an event with the caller's pid
// and uid, its command, the file it executes and a message goes to user space through a perf
// buffer. The message is the one user space put in `my_config` for the caller's uid, or the
// default message, a .rodata setting user space chooses before load.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct user_msg_t {
  char message[12];
};

struct data_t {
  int pid;
  int uid;
  char command[16];
  char message[12];
  char path[16];
};

// BTF has the types of globals, not of locals: this puts struct data_t in it for the skeleton.
const struct data_t* unused_data_t __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(u32));
  __uint(value_size, sizeof(u32));
} output SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, u32);
  __type(value, struct user_msg_t);
} my_config SEC(".maps");

const volatile char default_message[12] = "Hello World";

SEC("tracepoint/syscalls/sys_enter_execve")
int hello(struct trace_event_raw_sys_enter* ctx) {
  struct data_t data = {};
  data.pid = bpf_get_current_pid_tgid() >> 32;
  data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
  bpf_get_current_comm(&data.command, sizeof(data.command));
  bpf_probe_read_user_str(&data.path, sizeof(data.path), (const char*)ctx->args[0]);

  u32 uid = data.uid;
  struct user_msg_t* p = bpf_map_lookup_elem(&my_config, &uid);
  if (p)
    bpf_probe_read_kernel_str(&data.message, sizeof(data.message), p->message);
  else
    bpf_probe_read_kernel_str(&data.message, sizeof(data.message), (const char*)default_message);

  bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
  return 0;
}
