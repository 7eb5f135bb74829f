// [pure] The C++ skeleton generator behind `corebpf gen skeleton`: a header that embeds a BPF object
// and gives typed access to it (corebpf/skeleton.hpp is its runtime base). Pure: no system calls.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corebpf/btf_dump.hpp"

namespace corebpf {

struct SkeletonOptions {
  // The C++ namespace; empty: skeleton_name(file_name).
  std::string name;
  // More types to generate, by name (a ring buffer's record has no map type to reach it).
  std::vector<std::string> types;
  // Kernels' BTF by release (vmlinux BTF, not split): the skeleton embeds, for each, only what the
  // object's CO-RE relocations need (core::min_core_btf), and open() hands that archive to the
  // loader for kernels without BTF of their own (ObjectOptions::embedded_btf_archive).
  std::vector<std::pair<std::string, btf::Btf>> btf_archive;
};

// "minimal" for "path/minimal.bpf.o": the file name up to its first '.', made a C++ identifier.
std::string skeleton_name(std::string_view file_name);

// Writes the header for the object `elf` read from `file_name`. Throws corebpf::Error naming
// the object and the map, variable or type that cannot be expressed.
void generate_skeleton(std::span<const std::byte> elf, std::string_view file_name, const SkeletonOptions& options,
                       const btf::Sink& sink);

}  // namespace corebpf
