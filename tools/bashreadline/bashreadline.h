// bashreadline's event, shared by its kernel side and its user side.
#pragma once

#define BASHREADLINE_LINE_SIZE 80

struct bashreadline_event {
  __u64 time_ns;
  __u32 pid;
  __u32 pad;
  char comm[16];
  char line[BASHREADLINE_LINE_SIZE];
};
