// core_task.bpf.c once more, for a skeleton that embeds a BTF archive (tests/skel): the same CO-RE
// reads, loaded where /sys/kernel/btf/vmlinux is hidden, must see the same task as with it.
#include "core_task.bpf.c"
