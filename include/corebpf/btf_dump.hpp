// [pure] BTF dumpers: C header (vmlinux.h), bpftool-compatible raw text, and JSON.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"

namespace corebpf::btf {

// Receives the output in large chunks (tens of KiB), so writing through it costs little.
using Sink = std::function<void(std::string_view)>;

struct CDumpOptions {
  // Emit only these types (looked up by name; struct/union/enum/typedef) and what they need.
  // Empty: every type.
  std::vector<std::string> roots;
  // And these types by id (a map's key and value), with what they need; with `roots`, both.
  std::vector<TypeId> root_ids;
  // Emit `extern ... __ksym;` prototypes for functions tagged "bpf_kfunc".
  bool kfunc_prototypes = true;
  std::string header_guard = "__VMLINUX_H__";
};

// vmlinux.h-style C: compiles with `clang -target bpf`, reproduces every size, offset and enum
// value of the BTF. Throws corebpf::Error on types C cannot express (e.g. a struct containing itself).
void dump_c(const Btf& btf, const Sink& sink, const CDumpOptions& options = {});

// `bpftool btf dump ... format raw`, byte for byte. `only`: just these types, in this order (as
// bpftool dumps a map's key and value types); empty: every type. Throws corebpf::Error for an id
// the BTF does not have.
void dump_raw(const Btf& btf, const Sink& sink, std::span<const TypeId> only = {});

// One JSON object per type: {"types":[{"id":..,"kind":"STRUCT","name":..,...}]}, as bpftool -j;
// `only` as for dump_raw.
void dump_json(const Btf& btf, const Sink& sink, bool pretty, std::span<const TypeId> only = {});

// Convenience: collect a dump into a string.
std::string to_string(const std::function<void(const Sink&)>& dump);

}  // namespace corebpf::btf
