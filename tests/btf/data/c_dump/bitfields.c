// Bit-fields: packing, crossing storage units, unnamed and zero-width padding, enum and bool
// bit-fields, signed ones, bit-fields in unions and in packed records.
enum small_e { S1, S2, S3 };

struct bits_basic {
  unsigned a : 1, b : 2, c : 5;
  unsigned char d;
  unsigned e : 20;
};

struct bits_cross {
  unsigned long a : 60;
  unsigned long b : 10;
};

struct bits_mixed {
  char c;
  int x : 4;
  short s : 9;
  long l : 33;
  char after;
};

struct bits_zero_width {
  unsigned a : 3;
  unsigned : 0;
  unsigned b : 3;
  unsigned long : 0;
  char c;
};

struct bits_unnamed {
  unsigned a : 3;
  unsigned : 5;
  unsigned b : 3;
  int : 14;
  char c;
  unsigned char : 2;
  unsigned char d : 3;
};

struct bits_enum {
  enum small_e e : 2;
  _Bool flag : 1;
  enum small_e e2 : 4;
};

struct bits_signed {
  int neg : 5;
  long long big : 40;
  unsigned long long u : 64;
};

union bits_union {
  unsigned a : 3;
  unsigned long b : 40;
  char c;
};

struct bits_packed_cross {
  unsigned a : 30;
  unsigned b : 4;
} __attribute__((packed));

struct bits_in_anonymous {
  int x;
  struct {
    unsigned p : 4;
    unsigned q : 12;
  };
  union {
    unsigned r : 7;
    unsigned short s;
  };
};

struct bits_basic g_bits_basic;
struct bits_cross g_bits_cross;
struct bits_mixed g_bits_mixed;
struct bits_zero_width g_bits_zero_width;
struct bits_unnamed g_bits_unnamed;
struct bits_enum g_bits_enum;
struct bits_signed g_bits_signed;
union bits_union g_bits_union;
struct bits_packed_cross g_bits_packed_cross;
struct bits_in_anonymous g_bits_in_anonymous;
