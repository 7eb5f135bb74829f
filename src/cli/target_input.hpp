// A kernel's BTF named on the command line, with its modules: a vmlinux BTF, or a module's split
// BTF (.ko, /sys/kernel/btf/<module>, <release>/<module>.btf) on its base. Used by `gen
// min_core_btf` and `core explain`.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "corebpf/core.hpp"

namespace corebpf::cli {

// The vmlinux BTF beside a module's BTF: /sys/kernel/btf/vmlinux for /sys/kernel/btf/<module>,
// <dir>/<release>.btf for <dir>/<release>/<module>.btf (`btf extract ... modules`), vmlinux.btf
// in the module's directory or the one above (scripts/fetch-kernels' layout). None otherwise.
std::optional<std::string> base_beside(const std::string& module_path);

// `path` as a target, plus `modules` (split BTF on its vmlinux). When `path` is split BTF itself,
// its base is `base` (-B), else the vmlinux beside it, and it becomes the target's first module.
// Throws corebpf::Error naming the file, with a hint to give -B when split BTF has no base.
core::Target load_target(const std::string& path, const std::string& base, std::span<const std::string> modules);

}  // namespace corebpf::cli
