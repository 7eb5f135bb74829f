// .kconfig and .ksyms externs of every kind for the object model's extern resolution tests.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct task_struct;

extern enum libbpf_tristate CONFIG_TRI_YES __kconfig;
extern enum libbpf_tristate CONFIG_TRI_MODULE __kconfig;
extern enum libbpf_tristate CONFIG_TRI_NO __kconfig;
extern _Bool CONFIG_BOOL_YES __kconfig;
extern _Bool CONFIG_BOOL_NO __kconfig;
extern char CONFIG_CHAR_MODULE __kconfig;
extern __u8 CONFIG_U8 __kconfig;
extern __s16 CONFIG_S16 __kconfig;
extern __u32 CONFIG_HZ __kconfig;
extern __s64 CONFIG_NEGATIVE __kconfig;
extern __u64 CONFIG_HEX __kconfig;
extern char CONFIG_STRING[8] __kconfig;
extern int CONFIG_MISSING __kconfig __weak;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;

extern const void bpf_prog_active __ksym;
extern const void missing_untyped __ksym __weak;
extern const int typed_counter __ksym;
extern const int missing_typed __ksym __weak;
extern struct task_struct* bpf_task_acquire(struct task_struct* p) __ksym;
extern void bpf_missing_kfunc(void) __ksym __weak;
extern int module_kfunc(int value) __ksym;

__u64 sink;

SEC("tp_btf/sched_switch") int use_externs(void* ctx) {
  __u64 total = CONFIG_TRI_YES + CONFIG_TRI_MODULE + CONFIG_TRI_NO + CONFIG_BOOL_YES + CONFIG_BOOL_NO +
                CONFIG_CHAR_MODULE + CONFIG_U8 + CONFIG_S16 + CONFIG_HZ + CONFIG_NEGATIVE + CONFIG_HEX +
                CONFIG_STRING[1] + CONFIG_MISSING + LINUX_KERNEL_VERSION + LINUX_HAS_SYSCALL_WRAPPER +
                LINUX_HAS_BPF_COOKIE;
  total += (__u64)&bpf_prog_active + (__u64)&missing_untyped + typed_counter + (__u64)&missing_typed;
  struct task_struct* task = bpf_task_acquire((struct task_struct*)ctx);
  if (bpf_missing_kfunc) bpf_missing_kfunc();
  total += module_kfunc(3) + (__u64)task;
  sink = total;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
