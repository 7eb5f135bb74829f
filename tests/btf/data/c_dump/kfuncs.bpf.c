// Compiled for BPF: kfuncs (functions tagged "bpf_kfunc"), type tags, and clang's own BTF
// encoding of the other kinds.
#define __kfunc __attribute__((btf_decl_tag("bpf_kfunc")))
#define __user __attribute__((btf_type_tag("user")))
#define __rcu __attribute__((btf_type_tag("rcu")))

struct task_like {
  int pid;
  struct task_like __rcu *parent;
  char __user *buffer;
  const void __user *const *table;
};

__kfunc struct task_like *test_task_acquire(struct task_like *task, int flags) { return task; }
__kfunc void test_task_release(struct task_like *task) { (void)task; }
__kfunc int test_sum(int u32, long count) { return (int)count + u32; }
__kfunc void test_no_args(void) {}
int not_a_kfunc(int x) { return x; }

typedef unsigned int u32;
struct task_like g_task;
u32 g_u32;
