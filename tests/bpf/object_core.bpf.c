// CO-RE relocations in programs and in a shared subprogram, for the object model's .BTF.ext tests.
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

struct kernel_thing {
  int id;
  long flags;
  struct kernel_thing* parent;
} __attribute__((preserve_access_index));

enum thing_state { THING_IDLE = 0, THING_BUSY = 1 };

static __noinline long thing_flags(struct kernel_thing* thing) { return BPF_CORE_READ(thing, parent, flags); }

SEC("raw_tp/first") int first(struct kernel_thing* thing) {
  return thing->id + thing_flags(thing) + bpf_core_field_exists(thing->parent);
}

SEC("raw_tp/second") int second(struct kernel_thing* thing) {
  return thing_flags(thing) + bpf_core_type_exists(struct kernel_thing) +
         bpf_core_enum_value(enum thing_state, THING_BUSY);
}

char LICENSE[] SEC("license") = "GPL";
