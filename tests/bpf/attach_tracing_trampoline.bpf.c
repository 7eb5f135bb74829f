// BPF trampolines (tests/kernel/attach_tracing_test.cpp): fentry/fexit on do_sys_openat2, fmod_ret
// on bpf_modify_return_test (called by a test run of the fmod_ret program), lsm on file_open. They load and attach only where the kernel has
// trampolines (the qemu matrix); the tests skip by feature probe elsewhere.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

// One struct, so the test's mirror of it (TrampolineState) has the same layout.
struct trampoline_state {
  int target_tgid;
  unsigned int fentry_hits;
  char fentry_path[64];
  unsigned long long fentry_cookie;
  unsigned int fexit_hits;
  long fexit_ret;
  int fake_ret;  // what bpf_modify_return_test() returns while fmod_ret is attached
  unsigned int fmod_ret_hits;
  unsigned int lsm_hits;
  int deny_open;  // -EPERM from file_open for the test process while set
};

struct trampoline_state state = {};

static __always_inline int is_target(void) { return (int)(bpf_get_current_pid_tgid() >> 32) == state.target_tgid; }

SEC("fentry/do_sys_openat2")
int BPF_PROG(on_openat2_entry, int dfd, const char *filename, struct open_how *how) {
  if (!is_target()) return 0;
  bpf_probe_read_user_str(state.fentry_path, sizeof(state.fentry_path), filename);
  state.fentry_cookie = bpf_get_attach_cookie(ctx);
  __sync_fetch_and_add(&state.fentry_hits, 1);
  return 0;
}

SEC("fexit/do_sys_openat2")
int BPF_PROG(on_openat2_exit, int dfd, const char *filename, struct open_how *how, long ret) {
  if (!is_target()) return 0;
  state.fexit_ret = ret;
  __sync_fetch_and_add(&state.fexit_hits, 1);
  return 0;
}

// A nonzero return skips the function (its side effect on *b) and becomes its result.
SEC("fmod_ret/bpf_modify_return_test")
int BPF_PROG(on_modify_return, int a, int *b, int ret) {
  __sync_fetch_and_add(&state.fmod_ret_hits, 1);
  return state.fake_ret;
}

SEC("lsm/file_open")
int BPF_PROG(on_file_open, struct file *file, int ret) {
  if (ret != 0 || !is_target()) return ret;
  __sync_fetch_and_add(&state.lsm_hits, 1);
  return state.deny_open ? -1 /* -EPERM */ : 0;
}
