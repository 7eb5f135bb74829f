// Types whose size depends on the target: compiled for x86_64, dumped, and compiled for BPF.
#include <stdarg.h>

struct with_builtins {
  int n;
  va_list ap;
  long double ld;
  long double lds[2];
  __int128 big;
  unsigned __int128 ubig;
  _Bool b;
  char tail;
};

typedef __builtin_va_list my_va_list;

struct uses_my_va {
  my_va_list list;
  int after;
};

struct with_builtins g_with_builtins;
struct uses_my_va g_uses_my_va;
