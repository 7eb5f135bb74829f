// Enums of every size the BTF allows, signed and unsigned, values that don't fit int, anonymous
// enums standalone, inline and behind a typedef.
enum small { SMALL_A = 1, SMALL_B = 200 } __attribute__((packed));
enum signed_small { SS_NEG = -5, SS_POS = 5 } __attribute__((packed));
enum medium : unsigned short { M_A = 1, M_B = 65535 };
enum signed_medium : short { SM_NEG = -300, SM_POS = 300 };
enum big_values { BIG_A = 0xffffffffu, BIG_B = 0 };
enum negative { NEG_A = -1, NEG_MIN = -2147483647 - 1 };
enum wide { WIDE_A = 0x100000000ULL, WIDE_B = 0xffffffffffffffffULL };
enum wide_signed { WS_MIN = -9223372036854775807LL - 1, WS_MAX = 9223372036854775807LL };
enum wide_small : unsigned long { WSV_A = 1 };

enum { ANON_CONST_A = 10, ANON_CONST_B = 20 };

typedef enum { TE_A, TE_B } __attribute__((packed)) small_typedef_t;
typedef enum { TW_A = 1 } plain_typedef_t;

struct uses_enums {
  enum small a;
  enum signed_small b;
  enum medium c;
  enum signed_medium d;
  enum big_values e;
  enum negative f;
  enum wide g;
  char after_wide;
  enum wide_signed h;
  enum wide_small i;
  small_typedef_t j;
  plain_typedef_t k;
  enum { INNER_A = 1, INNER_B } inner;
  enum { INNER_SMALL = 3 } __attribute__((packed)) inner_small;
  int tail;
};

struct uses_enums g_uses_enums;
int g_anon_const = ANON_CONST_A;
