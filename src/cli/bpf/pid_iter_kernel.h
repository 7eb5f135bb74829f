// The few kernel types pid_iter.bpf.c reads, declared here instead of a whole vmlinux.h (the CLI is
// built before any vmlinux.h can be generated). Every access is a CO-RE relocation
// (preserve_access_index), so only member names and types matter, never these layouts.
#ifndef COREBPF_PID_ITER_KERNEL_H
#define COREBPF_PID_ITER_KERNEL_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

enum bpf_map_type { BPF_MAP_TYPE_UNSPEC = 0 };

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct seq_file;

struct bpf_iter_meta {
  struct seq_file* seq;
  __u64 session_id;
  __u64 seq_num;
};

struct ns_common {
  unsigned int inum;
};

struct pid_namespace {
  struct ns_common ns;
};

struct upid {
  int nr;
  struct pid_namespace* ns;
};

struct pid {
  unsigned int level;
  struct upid numbers[1];
};

struct task_struct {
  int tgid;
  struct task_struct* group_leader;
  struct pid* thread_pid;
  char comm[16];
};

struct qstr {
  const unsigned char* name;
};

struct super_block {
  unsigned long s_magic;
};

struct inode {
  struct super_block* i_sb;
};

struct dentry {
  struct qstr d_name;
};

struct path {
  struct dentry* dentry;
};

struct file {
  struct path f_path;
  struct inode* f_inode;
  void* private_data;
};

struct bpf_prog_aux {
  __u32 id;
};

struct bpf_prog {
  struct bpf_prog_aux* aux;
};

struct bpf_map {
  __u32 id;
};

struct bpf_link {
  __u32 id;
};

struct bpf_iter__task_file {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
  __u32 fd;
  struct file* file;
};

#pragma clang attribute pop

#endif
