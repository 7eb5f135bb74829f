// Internal: a C file that proves, at compile time, that a header made by dump_c reproduces a BTF.
#pragma once

#include <string_view>

#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"

namespace corebpf::btf::detail {

// After `#include "<header>"`, asserts with _Static_assert the sizeof of every uniquely named
// struct, union, enum and typedef, the offset of each named non-bit-field member of those records
// (members of anonymous members included), and the value of every enumerator, all against `btf`.
// Compiles with `clang -target bpf -fsyntax-only` exactly when the header is right.
void dump_c_layout_check(const Btf& btf, const Sink& sink, std::string_view header = "vmlinux.h");

}  // namespace corebpf::btf::detail
