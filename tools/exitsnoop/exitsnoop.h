// exitsnoop's event, shared by its kernel side and its user side.
#pragma once

struct exitsnoop_event {
  __u64 time_ns;   // bpf_ktime_get_ns() at the exit
  __u64 start_ns;  // the task's start (task_struct.start_time, CLOCK_MONOTONIC)
  __u32 pid;
  __u32 tid;
  __u32 ppid;
  __u32 exit_code;  // wait status: code << 8, or the signal | 0x80 when it dumped core
  char comm[16];
};
