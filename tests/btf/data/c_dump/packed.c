// Packed layouts: whole-record packed, packed with a restored alignment, a single packed member,
// packed records inside natural ones, packed bit-fields crossing their units.
struct packed_all {
  char c;
  int i;
  long l;
  short s;
} __attribute__((packed));

struct packed_aligned {
  char c;
  int i;
  short s;
} __attribute__((packed, aligned(4)));

struct member_packed {
  char c;
  long l __attribute__((packed));
  int i;
};

struct holds_packed {
  char c;
  struct packed_all p;
  int tail;
};

struct holds_packed_aligned {
  char c;
  struct packed_aligned p;
  char d;
};

struct packed_odd_size {
  int a;
  char b;
} __attribute__((packed));

struct array_of_packed {
  struct packed_odd_size items[3];
  char after;
  struct packed_odd_size last;
};

union packed_union {
  int i;
  char c[5];
} __attribute__((packed));

struct holds_packed_union {
  char c;
  union packed_union u;
  long l;
};

struct packed_bits {
  unsigned a : 3;
  unsigned b : 30;
  unsigned char c;
  unsigned long d : 40;
} __attribute__((packed));

struct packed_all g_packed_all;
struct packed_aligned g_packed_aligned;
struct member_packed g_member_packed;
struct holds_packed g_holds_packed;
struct holds_packed_aligned g_holds_packed_aligned;
struct array_of_packed g_array_of_packed;
struct holds_packed_union g_holds_packed_union;
struct packed_bits g_packed_bits;
