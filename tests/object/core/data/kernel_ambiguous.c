// Target for core_ambiguous.bpf.c: two flavors of `dup` disagree on y; two of `same` agree.
struct dup {
  int x;
  int y;
};
struct dup___other {
  int y;
  int x;
};
struct same {
  int a;
  int b;
  int c;
};
struct same___again {
  int a;
  int b;
};

struct dup dup_instance;
struct dup___other dup_other_instance;
struct same same_instance;
struct same___again same_again_instance;
