// Test-only oracle for tests/compat: loads every program of a BPF object the way a libbpf user
// does, one program at a time (open, autoload only that program, load, bpf_program__attach(),
// close), and prints what happened. Built twice: against Debian's libbpf 1.1 and, when
// ../shared/peers is there, against libbpf 1.7's static library. Never linked into libcorebpf.
//
// Usage: libbpf_compat_oracle OBJECT [PIN_ROOT]
//        libbpf_compat_oracle --sections NAME...
// Output: "version <major>.<minor>", then either "open <errno>" when the object does not open, or
// one line per program: "prog <name> <load errno> <attach errno>" (0 = success, -1 = not tried).
// With --sections, one line per name: "section <name> <errno> <program type> <attach type>" from
// libbpf_prog_type_by_name().
// Exit status: 0 once the lines are printed, 2 on bad usage.
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int quiet(enum libbpf_print_level level, const char* format, va_list args) {
  if (getenv("COREBPF_ORACLE_DEBUG") == NULL || level == LIBBPF_DEBUG) return 0;
  return vfprintf(stderr, format, args);
}

static struct bpf_object* open_object(const char* path, const char* pin_root) {
  LIBBPF_OPTS(bpf_object_open_opts, options, .pin_root_path = pin_root);
  return bpf_object__open_file(path, &options);  // NULL with errno set
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "--sections") == 0) {
    libbpf_set_print(quiet);
    printf("version %u.%u\n", libbpf_major_version(), libbpf_minor_version());
    for (int i = 2; i < argc; ++i) {
      enum bpf_prog_type type = BPF_PROG_TYPE_UNSPEC;
      enum bpf_attach_type attach = 0;
      const int error = libbpf_prog_type_by_name(argv[i], &type, &attach);
      printf("section %s %d %d %d\n", argv[i], error < 0 ? -error : 0, (int)type, (int)attach);
    }
    return 0;
  }
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: %s OBJECT [PIN_ROOT]\n", argv[0]);
    return 2;
  }
  const char* pin_root = argc == 3 ? argv[2] : NULL;
  libbpf_set_print(quiet);
  printf("version %u.%u\n", libbpf_major_version(), libbpf_minor_version());
  struct bpf_object* names = open_object(argv[1], pin_root);
  if (names == NULL) {
    printf("open %d\n", errno);
    return 0;
  }
  struct bpf_program* listed;
  bpf_object__for_each_program(listed, names) {
    const char* name = bpf_program__name(listed);
    struct bpf_object* object = open_object(argv[1], pin_root);
    if (object == NULL) {
      printf("prog %s %d -1\n", name, errno);
      continue;
    }
    struct bpf_program* program;
    struct bpf_program* wanted = NULL;
    bpf_object__for_each_program(program, object) {
      const int is_wanted = strcmp(bpf_program__name(program), name) == 0;
      bpf_program__set_autoload(program, is_wanted);
      if (is_wanted) wanted = program;
    }
    const int loaded = bpf_object__load(object);  // a negative errno on failure
    const int load_error = loaded < 0 ? -loaded : 0;
    int attach_error = -1;
    if (load_error == 0 && wanted != NULL) {
      struct bpf_link* link = bpf_program__attach(wanted);
      attach_error = link ? 0 : errno;
      bpf_link__destroy(link);
    }
    printf("prog %s %d %d\n", name, load_error, attach_error);
    bpf_object__close(object);
  }
  bpf_object__close(names);
  return 0;
}
