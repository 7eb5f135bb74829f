// Which processes hold which BPF programs, maps and links: a task_file iterator that visits every
// open file of every process the reader's pid namespace sees and writes one record per BPF object
// file (the CLI's `pids` in prog/map/link show).
//
// A BPF object's file is an anonymous inode file (anon_inodefs, ANON_INODE_FS_MAGIC) whose dentry
// the kernel names after the kind: "bpf-prog", "bpf-map", "bpf_link" (/proc/PID/fd shows
// "anon_inode:bpf-map"). Both are checked, so a regular file named "bpf-map" never matches, and
// neither needs the kernel's file_operations symbols, which /proc/kallsyms lacks on kernels built
// without CONFIG_KALLSYMS_ALL. The object's id is read from the file's private_data.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ANON_INODE_FS_MAGIC 0x09041934
#define MAX_PID_NS_LEVEL 32

enum pid_iter_kind { PID_ITER_PROG = 0, PID_ITER_MAP = 1, PID_ITER_LINK = 2 };

struct pid_iter_record {
  __u32 id;
  __u32 kind;  // enum pid_iter_kind
  __s32 pid;   // the process (thread group) as the reader's pid namespace numbers it
  char comm[16];
};

const struct pid_iter_record* unused_pid_iter_record __attribute__((unused));

// Set by the reader: its own process (left out) and its pid namespace's inode number.
const volatile __s32 self_pid = 0;
const volatile __u32 pidns_inum = 0;

// The number of the task's thread group in the reader's pid namespace; -1 when it has none there.
static __s32 tgid_in_reader_ns(struct task_struct* task) {
  struct pid* pid = BPF_CORE_READ(task, group_leader, thread_pid);
  if (!pid) return -1;
  const unsigned int level = BPF_CORE_READ(pid, level);
  for (unsigned int i = 0; i < MAX_PID_NS_LEVEL; i++) {
    if (i > level) break;
    struct pid_namespace* ns = 0;
    if (bpf_core_read(&ns, sizeof(ns), &pid->numbers[i].ns)) return -1;
    if (BPF_CORE_READ(ns, ns.inum) != pidns_inum) continue;
    int nr = -1;
    if (bpf_core_read(&nr, sizeof(nr), &pid->numbers[i].nr)) return -1;
    return nr;
  }
  return -1;
}

static int same_name(const char* name, const char* expected) {
  for (int i = 0; i < 9; i++) {
    if (name[i] != expected[i]) return 0;
    if (expected[i] == 0) return 1;
  }
  return 1;
}

SEC("iter/task_file")
int find_holders(struct bpf_iter__task_file* ctx) {
  struct task_struct* task = ctx->task;
  struct file* file = ctx->file;
  if (!task || !file) return 0;
  if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC) return 0;

  char name[9] = {};
  const unsigned char* dentry_name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
  if (bpf_probe_read_kernel_str(name, sizeof(name), dentry_name) < 0) return 0;
  struct pid_iter_record record = {};
  void* object = BPF_CORE_READ(file, private_data);
  if (same_name(name, "bpf-prog")) {
    record.kind = PID_ITER_PROG;
    record.id = BPF_CORE_READ((struct bpf_prog*)object, aux, id);
  } else if (same_name(name, "bpf-map")) {
    record.kind = PID_ITER_MAP;
    record.id = BPF_CORE_READ((struct bpf_map*)object, id);
  } else if (same_name(name, "bpf_link")) {
    record.kind = PID_ITER_LINK;
    record.id = BPF_CORE_READ((struct bpf_link*)object, id);
  } else {
    return 0;
  }
  record.pid = tgid_in_reader_ns(task);
  if (record.pid <= 0 || record.pid == self_pid) return 0;
  BPF_CORE_READ_STR_INTO(&record.comm, task, group_leader, comm);
  bpf_seq_write(ctx->meta->seq, &record, sizeof(record));
  return 0;
}
