// Types shared by the tools' kernel side and user side (plain C, no kernel headers needed).
#pragma once

#define TOOL_COMM_LEN 16
#define TOOL_HIST_SLOTS 32

// A log2 histogram as tool_hist_add() fills it: slot s counts values in [2^s, 2^(s+1)) (slot 0
// also 0), with the sum and number of the values (Prometheus' _sum and _count).
struct tool_hist {
  __u64 slots[TOOL_HIST_SLOTS];
  __u64 sum;
  __u64 count;
};

// A histogram of a keyed set (a process, a thread, a disk...) with the command name last seen
// for the key (tools::Log2Report reads maps of __u32 -> struct tool_keyed_hist).
struct tool_keyed_hist {
  struct tool_hist hist;
  char comm[TOOL_COMM_LEN];
};
