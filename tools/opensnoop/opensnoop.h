// opensnoop's event, shared by its kernel side and its user side.
#pragma once

#define OPENSNOOP_PATH_SIZE 256

struct opensnoop_event {
  __u64 time_ns;  // bpf_ktime_get_ns() at the return
  __u32 pid;
  __u32 tid;
  __u32 uid;
  __s32 ret;  // the fd, or -errno
  __u64 flags;
  __u64 mode;
  char comm[16];
  char path[OPENSNOOP_PATH_SIZE];
};
