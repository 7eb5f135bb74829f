// [pure] Minimal BTF for a set of objects (`corebpf gen min_core_btf`): the part of a kernel's BTF that
// the objects' CO-RE relocations look at, so that a kernel without BTF can be served with a small
// file (what BTFHub ships per kernel) instead of its whole BTF. Pure: no syscalls.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "corebpf/btf.hpp"

namespace corebpf {
class ObjectSpec;
}

namespace corebpf::core {

class Target;

struct MinCoreBtf {
  // Raw BTF in the input's byte order.
  std::vector<std::byte> bytes;
  // The input id of every output id (index 0 is void): target type ids in relocation results
  // differ between the input and the output, and this maps them back. An id of a module's own type
  // is that module's id (input_btfs says which BTF).
  std::vector<btf::TypeId> input_ids;
  // Where each output type comes from: 0 for vmlinux, i + 1 for the target's module i.
  std::vector<std::uint32_t> input_btfs;
  // Distinct relocations (type, access string, kind) of all objects that were looked up.
  std::size_t relocation_count = 0;
};

// Keeps, of `input` (a vmlinux BTF, or a module's split BTF on its base), only the types and members that relocating
// `objects` against it touches: for field relocations the root type and, along the access path,
// the members accessed (structs and unions keep their size and the members' offsets); for enum
// value relocations the enumerators asked for; for type relocations the type as deep as the CO-RE
// compatibility rules compare it (type_matches compares whole structures). Every candidate any
// relocation matched is kept, so relocating the objects against the result gives the same
// status and values as against `input` (type ids map back through `input_ids`). Pointers that
// only a field's shape needs point to void. The output is standalone (ids from 1, no base), what
// libbpf's btf_custom_path and ObjectOptions' external BTF take. Throws corebpf::Error when an
// object has CO-RE relocations but no BTF.
MinCoreBtf min_core_btf(const btf::Btf& input, std::span<const ObjectSpec> objects);

// The same for a kernel with its modules (Target(vmlinux, modules)): candidates are found as the
// loader finds them (vmlinux's, else the modules'), and the types kept from vmlinux and every
// module go into one standalone BTF, vmlinux's first. Since a BTF given as the kernel's replaces
// its modules too, a module type kept only as a member's type could become a candidate that the
// target did not have: every relocation is then computed against the output as well, and a
// different answer throws corebpf::Error naming the relocation. Throws when a module is not
// split BTF on the target's vmlinux.
MinCoreBtf min_core_btf(const Target& target, std::span<const ObjectSpec> objects);

}  // namespace corebpf::core
