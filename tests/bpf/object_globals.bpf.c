// Global data for the object model's tests: .data, .rodata, .bss, custom .data.* and .rodata.*
// sections, static variables, and string literals.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct config {
  __u32 a;
  __u16 b;
  __u8 c[2];
};

int data_counter = 42;
const volatile __u64 rodata_limit = 1000;
const volatile struct config cfg = {.a = 1, .b = 2, .c = {3, 4}};
const volatile char rodata_name[16] = "corebpf";
__u32 bss_total;
static __u32 bss_static;
int custom_data SEC(".data.custom") = 7;
const volatile int custom_rodata SEC(".rodata.custom") = 9;

SEC("raw_tp/sys_enter") int use_globals(void* ctx) {
  bss_static++;
  bss_total += data_counter + custom_data + custom_rodata + cfg.a + cfg.c[1];
  if (bss_total > rodata_limit) bpf_printk("over %u %s", bss_total, rodata_name);
  return bss_static;
}

char LICENSE[] SEC("license") = "GPL";
