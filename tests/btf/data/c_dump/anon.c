// Anonymous members and types: nested anonymous structs and unions, typedefs of anonymous
// records, pointers to anonymous records.
struct anon_outer {
  int a;
  union {
    int u1;
    long u2;
  };
  struct {
    char s1;
    short s2;
  } named_inner;
  struct {
    int deep;
    union {
      char d1;
      int d2;
      struct {
        short e1;
        char e2;
      };
    };
  };
  char tail;
};

typedef struct {
  int x;
  int y;
} point_t;

typedef union {
  int i;
  float f;
} num_t;

struct uses_typedefs {
  point_t p;
  num_t n;
  point_t *pp;
  const point_t cp[2];
};

struct anon_pointers {
  struct {
    int z;
  } *ptr_to_anon;
  union {
    long w;
  } inline_union;
};

struct anon_outer g_anon_outer;
struct uses_typedefs g_uses_typedefs;
struct anon_pointers g_anon_pointers;
