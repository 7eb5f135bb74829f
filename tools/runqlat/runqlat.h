// runqlat's histogram values, shared by its kernel side and its user side.
#pragma once

#include "tools_types.h"

// A histogram per key (every task: one key; -P: the process; -L: the thread) with the command
// name last seen for the key.
struct runqlat_hist {
  struct tool_hist hist;
  char comm[16];
};
