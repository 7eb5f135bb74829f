// A program in a section no SEC() rule knows: opening fails unless a section handler claims it.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("not_a_section/some_target") int stray(void* ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
