// Target "kernel" for the min_core_btf edge cases (min_core_local.bpf.c is the object). Each type
// here is one a careless minimizer would change so that a relocation answers differently on its
// output than on this BTF. Compiled with clang -g; only its .BTF is used.
struct mc_other {
  int hidden;
};

// type_matches fails (the local member is void *); a field path keeps `p`: its pointer must keep
// its target, or the output's `void *` would match.
struct mc_ptr {
  struct mc_other* p;
  int a;
};

// type_exists fails on this typedef (the local one is `void *`); a field path keeps it as a
// member's type: again the pointer must keep its target (a type nothing else keeps).
typedef unsigned short* mc_handle_t;
struct mc_holder {
  long pad;
  mc_handle_t h;
};

// `pad[1]` is out of bounds here (a zero-length array that is not last is not flexible); a field
// path keeps `pad`: it must not become the last member of the output's struct.
struct mc_zla {
  int a;
  char pad[0];
  int b;
};

// Two flavors: `mc_flav` has the field the object reads, `mc_flav___2` has not; an enum kept as a
// field's type loses its enumerators but not its size or signedness.
enum mc_small : signed char { MC_SMALL_A = -1, MC_SMALL_B = 2 };
struct mc_flav {
  int x;
  enum mc_small kind;
};
struct mc_flav___2 {
  int y;
};

struct mc_ptr mc_ptr_instance;
struct mc_holder mc_holder_instance;
struct mc_zla mc_zla_instance;
struct mc_flav mc_flav_instance;
struct mc_flav___2 mc_flav2_instance;
