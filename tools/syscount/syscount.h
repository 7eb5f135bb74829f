// syscount's counters, shared by its kernel side and its user side.
#pragma once

struct syscount_value {
  __u64 count;
  __u64 total_ns;  // time inside the calls (-L)
  char comm[16];   // per process (-P): the command name
};
