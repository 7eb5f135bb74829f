// Over-aligned members and records: offsets and sizes natural alignment cannot produce.
struct cacheline_member {
  int a;
  int b __attribute__((aligned(64)));
};

struct aligned_record {
  int a;
} __attribute__((aligned(16)));

struct holds_aligned {
  char c;
  struct aligned_record s;
  char d;
};

struct aligned_tail {
  long a;
  char b;
} __attribute__((aligned(32)));

struct over_aligned_member {
  char c;
  long x __attribute__((aligned(32)));
  char d;
};

// A member at 64 where natural placement gives 8.
struct odd_gap {
  int a;
  char b;
  int c __attribute__((aligned(64)));
  char tail[3];
};

// The kernel's cache line groups: zero-size aligned markers and aligned anonymous members.
struct cacheline_groups {
  long a[5];
  char group_begin[0] __attribute__((aligned(64)));
  struct {
    int x;
  } __attribute__((aligned(64)));
  long tail;
};

union aligned_union {
  int i;
  char c;
} __attribute__((aligned(8)));

struct page_aligned {
  char data[100];
} __attribute__((aligned(4096)));

struct holds_page_aligned {
  int n;
  struct page_aligned page;
};

struct zero_length {
  int n;
  long items[0];
};

struct flexible {
  int n;
  char data[];
};

struct empty {};

struct holds_empty {
  char c;
  struct empty e;
  struct empty arr[4];
  int i;
};

struct cacheline_member g_cacheline_member;
struct holds_aligned g_holds_aligned;
struct aligned_tail g_aligned_tail;
struct over_aligned_member g_over_aligned_member;
struct odd_gap g_odd_gap;
struct cacheline_groups g_cacheline_groups;
union aligned_union g_aligned_union;
struct holds_page_aligned g_holds_page_aligned;
struct zero_length g_zero_length;
struct flexible g_flexible;
struct holds_empty g_holds_empty;
