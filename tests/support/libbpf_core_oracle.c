// Test-only oracle: lets Debian's libbpf relocate a BPF object against a BTF file and prints its
// debug log, whose "prog '...': relo #N: ..." lines the differential CO-RE tests compare with
// corebpf's results. libbpf 1.1 has no way to relocate without loading, so this loads the object
// (as root): relocation is logged before the programs reach the kernel, and whether the load
// itself succeeds does not matter.
//
// Usage: libbpf_core_oracle OBJECT TARGET_BTF
// Exit status: 0 once the log is printed, 2 when the object cannot be opened.
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>

static int print_all(enum libbpf_print_level level, const char* format, va_list args) {
  (void)level;
  return vfprintf(stdout, format, args);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s OBJECT TARGET_BTF\n", argv[0]);
    return 2;
  }
  libbpf_set_print(print_all);
  LIBBPF_OPTS(bpf_object_open_opts, options, .btf_custom_path = argv[2]);
  struct bpf_object* object = bpf_object__open_file(argv[1], &options);
  if (object == NULL) {
    fprintf(stderr, "cannot open %s\n", argv[1]);
    return 2;
  }
  int err = bpf_object__load(object);
  printf("ORACLE: load returned %d\n", err);
  bpf_object__close(object);
  return 0;
}
