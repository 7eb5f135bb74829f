// Declarators: function pointers with parameters, arrays of function pointers, functions
// returning pointers to functions, qualifiers, pointer cycles and incomplete types.
struct other;

struct ops {
  int (*open)(struct ops *self, const char *name);
  void (*close)(void);
  long (*table[4])(int, ...);
  void *(*(*nested)(int))(char);
  struct other *(*make)(struct other *from, unsigned int count);
};

typedef int (*handler_t)(void *ctx, unsigned long len);
typedef void fn_type(int);

struct uses_handler {
  handler_t h;
  handler_t arr[2];
  int (*const cfp)(void);
  fn_type *f;
  int (*(*grid)[3])(int);
};

struct linked {
  struct linked *next;
  struct other *o;
};

struct other {
  struct linked l;
  struct linked *back;
};

struct qualifiers {
  const int ci;
  volatile long vl;
  const char *const cp;
  int *restrict rp;
  const volatile unsigned cv[2];
  char *volatile *const *vp;
};

struct incomplete_user {
  struct never_defined *p;
  union never_defined_union *u;
};

struct ops g_ops;
struct uses_handler g_uses_handler;
struct other g_other;
struct qualifiers g_qualifiers;
struct incomplete_user g_incomplete_user;
