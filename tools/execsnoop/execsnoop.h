// execsnoop's event, shared by its kernel side and its user side.
#pragma once

#define EXECSNOOP_ARG_SIZE 128
#define EXECSNOOP_MAX_ARGS 60
#define EXECSNOOP_ARGS_SIZE (EXECSNOOP_ARG_SIZE * EXECSNOOP_MAX_ARGS)

struct execsnoop_event {
  __u64 time_ns;  // bpf_ktime_get_ns() at the exec's return
  __u32 pid;
  __u32 ppid;
  __u32 uid;
  __s32 retval;
  __u32 args_count;  // strings in args (the file name, then argv[1]...)
  __u32 args_size;   // bytes of args used, NULs included
  __u8 args_truncated;
  char comm[16];
  char args[EXECSNOOP_ARGS_SIZE];  // NUL-separated strings
};
