#include <cstdio>
#include <fmt/format.h>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"

int main(int argc, char** argv) {
  try {
    if (argc < 2) return 2;
    auto btf = corebpf::btf::Btf::load(argv[1]);
    fmt::print("{} types\n", btf.type_count());
    for (int i = 2; i < argc; ++i) {
      auto t = btf.find(argv[i]);
      if (t) fmt::print("{} [{}] {} size {}\n", argv[i], t->id(), corebpf::btf::kind_name(t->kind()), btf.size_of(t->id()));
    }
  } catch (const corebpf::Error& e) {
    fmt::print(stderr, "corebpf: {}\n", e.message());
    return 1;
  }
}
