// An object whose CO-RE relocations touch a module's types (nf_conntrack, a module with split BTF
// in Debian's kernels) as well as vmlinux's: min_core_btf on a module's BTF with its base keeps both
// in one standalone BTF. struct nf_conn itself is in vmlinux's BTF; nf_conn_acct, nf_conn_tstamp,
// nf_conntrack_helper, bpf_ct_opts and enum ip_conntrack_events are the module's. bpf_ct_opts
// gained ct_zone_id in 6.8 (absent on 6.1, guarded here). Types are declared here, not taken from
// a vmlinux.h.
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define __core __attribute__((preserve_access_index))

char LICENSE[] SEC("license") = "GPL";

struct nf_conntrack_tuple {
  struct {
    struct {
      __u8 protonum;
    } dst;
  };
} __core;
struct nf_conntrack_tuple_hash {
  struct nf_conntrack_tuple tuple;
} __core;
struct nf_conn {
  unsigned long status;
  __u32 timeout;
  struct nf_conntrack_tuple_hash tuplehash[2];
} __core;

typedef struct {
  __s64 counter;
} atomic64_t;
struct nf_conn_counter {
  atomic64_t packets;
  atomic64_t bytes;
} __core;
struct nf_conn_acct {
  struct nf_conn_counter counter[2];
} __core;
struct nf_conn_tstamp {
  __u64 start;
  __u64 stop;
} __core;
struct module {
  char name[56];
} __core;
struct nf_conntrack_helper {
  char name[16];
  struct module* me;
} __core;
struct bpf_ct_opts {
  __s32 error;
  __u16 ct_zone_id;
} __core;
enum ip_conntrack_events { IPCT_NEW, IPCT_DESTROY = 2, IPCT_LABEL = 10 };

struct task_struct {
  int pid;
} __core;

__u64 sink = 0;

static __always_inline void* arg(void* ctx) { return (void*)((__u64*)ctx)[0]; }

SEC("raw_tp/sys_enter")
int conntrack_fields(void* ctx) {
  struct nf_conn* ct = arg(ctx);
  struct nf_conn_acct* acct = arg(ctx);
  struct nf_conn_tstamp* ts = arg(ctx);
  __u64 v = BPF_CORE_READ(ct, status) + BPF_CORE_READ(ct, timeout);
  v += BPF_CORE_READ(ct, tuplehash[1].tuple.dst.protonum);
  v += BPF_CORE_READ(acct, counter[1].bytes.counter);
  v += BPF_CORE_READ(ts, stop);
  sink = v;
  return 0;
}

SEC("raw_tp/sys_exit")
int conntrack_helper(void* ctx) {
  struct nf_conntrack_helper* helper = arg(ctx);
  struct bpf_ct_opts* opts = arg(ctx);
  struct task_struct* task = arg(ctx);
  __u64 v = (__u64)BPF_CORE_READ(helper, me, name[0]) + BPF_CORE_READ(task, pid);
  v += BPF_CORE_READ(opts, error);
  if (bpf_core_field_exists(opts->ct_zone_id)) v += BPF_CORE_READ(opts, ct_zone_id);
  v += bpf_core_enum_value(enum ip_conntrack_events, IPCT_LABEL);
  v += bpf_core_enum_value_exists(enum ip_conntrack_events, IPCT_DESTROY);
  v += bpf_core_type_exists(struct nf_conntrack_helper);
  v += bpf_core_type_size(struct nf_conn_tstamp);
  sink = v;
  return 0;
}
