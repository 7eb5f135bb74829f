// A small BPF object for the reader and writer tests: its .BTF has structs with bitfields,
// enums, a FUNC with its FUNC_PROTO, DATASECs, decl and type tags. Self-contained (no headers)
// so it compiles with nothing but `clang -target bpf`.
#define SEC(name) __attribute__((section(name), used))
#define TAG(text) __attribute__((btf_decl_tag(text)))

enum sample_mode { SAMPLE_OFF = 0, SAMPLE_ON = 1, SAMPLE_ALL = 0x80000000u };

struct sample_pair {
  int first;
  long second;
  unsigned int flags : 3;
  unsigned int level : 5;
  enum sample_mode mode;
  int __attribute__((btf_type_tag("user"))) * user_ptr;
} TAG("sample_struct");

struct sample_pair sample_global = {1, 2};
static volatile const int sample_knob = 3;
unsigned long long sample_counters[4][2];

static __attribute__((noinline)) int sample_helper(struct sample_pair* pair TAG("pair_arg")) {
  return pair->first + pair->flags + sample_knob;
}

SEC("tp/syscalls/sys_enter_getpid") int sample_prog(void* ctx) {
  sample_counters[1][0]++;
  return sample_helper(&sample_global);
}

char _license[] SEC("license") = "GPL";
