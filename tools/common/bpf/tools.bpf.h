// Kernel side shared by the corebpf tools (tools/common/bpf, on every tool's BPF include path):
// the filters user space sets in .rodata before load, log2 histogram slots, and the `events`
// stream that is a ring buffer where the kernel has one and a perf buffer otherwise.
//
//   tool_pid_allowed(tgid), tool_comm_allowed(comm)   -p PID / -c COMM (tool_target_*)
//   tool_log2(v)                                      slot of v in a log2 histogram
//   tool_hist_add(hist, value)                        slots[slot]++, sum += value, count++
//   TOOL_DEFINE_EVENTS + tool_submit(ctx, data, size) the event stream (tools::EventReader)
#pragma once

#include "tools_types.h"

// -p PID (a process: the tgid), 0 for every process.
const volatile __u32 tool_target_pid = 0;
// -c COMM (exact, as the kernel keeps it: 15 characters), empty for every command.
const volatile char tool_target_comm[TOOL_COMM_LEN] = {};

static __always_inline bool tool_pid_allowed(__u32 tgid) { return tool_target_pid == 0 || tool_target_pid == tgid; }

static __always_inline bool tool_comm_allowed(const char* comm) {
  if (tool_target_comm[0] == 0) return true;
#pragma unroll
  for (int i = 0; i < TOOL_COMM_LEN; i++) {
    if (comm[i] != tool_target_comm[i]) return false;
    if (comm[i] == 0) return true;
  }
  return true;
}

// The current task passes -p and -c.
static __always_inline bool tool_current_allowed(void) {
  if (!tool_pid_allowed(bpf_get_current_pid_tgid() >> 32)) return false;
  if (tool_target_comm[0] == 0) return true;
  char comm[TOOL_COMM_LEN];
  bpf_get_current_comm(comm, sizeof(comm));
  return tool_comm_allowed(comm);
}

// floor(log2(v)), 0 for v <= 1: slot s holds [2^s, 2^(s+1)) (slot 0: 0 and 1), as bcc's.
static __always_inline __u32 tool_log2(__u64 v) {
  __u32 r = 0, shift;
  shift = (v > 0xFFFFFFFFULL) << 5;
  v >>= shift;
  r |= shift;
  shift = (v > 0xFFFF) << 4;
  v >>= shift;
  r |= shift;
  shift = (v > 0xFF) << 3;
  v >>= shift;
  r |= shift;
  shift = (v > 0xF) << 2;
  v >>= shift;
  r |= shift;
  shift = (v > 0x3) << 1;
  v >>= shift;
  r |= shift;
  r |= (v >> 1);
  return r;
}

static __always_inline void tool_hist_add(struct tool_hist* hist, __u64 value) {
  __u32 slot = tool_log2(value);
  if (slot >= TOOL_HIST_SLOTS) slot = TOOL_HIST_SLOTS - 1;
  __sync_fetch_and_add(&hist->slots[slot], 1);
  __sync_fetch_and_add(&hist->sum, value);
  __sync_fetch_and_add(&hist->count, 1);
}

// The event stream: declared as a ring buffer; user space (tools::prepare_events) turns it into a
// perf event array and clears tool_use_ringbuf before load on kernels without ring buffers, and
// the verifier drops the branch the frozen .rodata value rules out.
const volatile bool tool_use_ringbuf = true;

#define TOOL_DEFINE_EVENTS              \
  struct {                              \
    __uint(type, BPF_MAP_TYPE_RINGBUF); \
    __uint(max_entries, 256 * 1024);    \
  } events SEC(".maps")

#define tool_submit(ctx, data, size)                                            \
  do {                                                                          \
    if (tool_use_ringbuf)                                                       \
      bpf_ringbuf_output(&events, (data), (size), 0);                           \
    else                                                                        \
      bpf_perf_event_output((ctx), &events, BPF_F_CURRENT_CPU, (data), (size)); \
  } while (0)

// The histogram of `key` in `map` (a hash of __u32 -> struct tool_keyed_hist), made zeroed on
// first use; NULL when the map is full. `*created` says it was just made (to fill in comm).
static __always_inline struct tool_keyed_hist* tool_keyed_hist_get(void* map, __u32 key, bool* created) {
  struct tool_keyed_hist* hist = bpf_map_lookup_elem(map, &key);
  *created = false;
  if (hist) return hist;
  static const struct tool_keyed_hist zero = {};
  bpf_map_update_elem(map, &key, &zero, BPF_NOEXIST);
  *created = true;
  return bpf_map_lookup_elem(map, &key);
}
