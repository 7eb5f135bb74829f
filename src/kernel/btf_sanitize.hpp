// Internal: rewriting an object's BTF so a given kernel accepts it. Every type keeps its id (one
// output type per input type, extra types only appended), so map and func_info ids stay valid.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::kernel::detail {

// The BTF features a kernel accepts; `all()` for a new kernel, `running_kernel()` from the probes.
struct BtfSupport {
  bool func = true;
  bool func_global = true;
  bool datasec = true;
  bool float_ = true;
  bool decl_tag = true;
  bool type_tag = true;
  bool enum64 = true;
  static BtfSupport all() { return {}; }
  static BtfSupport none() { return {false, false, false, false, false, false, false}; }
  static BtfSupport running_kernel();
};

// The object's BTF made loadable:
// - DATASEC sizes and VAR offsets from the ELF layout (clang writes zeros): the global data maps'
//   value sizes and MapSpec::variables(); DATASECs without a map (.maps, .ksyms) get their
//   variables laid out one after another;
// - extern VARs become global and typeless ones (`const void`) int; FUNC entries of .ksyms are
//   dropped; extern FUNCs become static (the kernel knows only static and global);
// - kinds the kernel lacks rewritten: VAR -> INT, DATASEC -> STRUCT, FUNC -> TYPEDEF,
//   FUNC_PROTO -> ENUM, global FUNC -> static, FLOAT -> empty STRUCT of its size, DECL_TAG ->
//   INT, TYPE_TAG -> CONST, ENUM64 -> empty UNION of its size.
// - global FUNCs named in `hidden_functions` (hidden visibility) become static, so the verifier
//   checks them with their callers' argument types, as the compiler treated them.
std::vector<std::byte> sanitize_btf(const btf::Btf& local, std::span<const MapSpec> maps, const BtfSupport& support,
                                    std::span<const std::string> hidden_functions = {});

}  // namespace corebpf::kernel::detail
