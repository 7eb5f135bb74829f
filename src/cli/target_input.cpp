// A kernel's BTF and its modules from command-line paths (see cli/target_input.hpp).
#include "cli/target_input.hpp"

#include <filesystem>
#include <system_error>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {

namespace fs = std::filesystem;

std::optional<std::string> base_beside(const std::string& module_path) {
  constexpr std::string_view kSysfsBtfDir = "/sys/kernel/btf/";
  if (module_path.starts_with(kSysfsBtfDir)) return std::string(kSysfsBtfDir) + "vmlinux";
  const fs::path dir = fs::path(module_path).parent_path();
  std::vector<fs::path> candidates;
  for (const char* ext : {".btf", ".btf.xz", ".btf.gz", ".btf.zst"}) candidates.emplace_back(dir.string() + ext);
  candidates.push_back(dir / "vmlinux.btf");
  if (dir.has_parent_path()) candidates.push_back(dir.parent_path() / "vmlinux.btf");
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (!dir.empty() && fs::is_regular_file(candidate, ec) && candidate != fs::path(module_path))
      return candidate.string();
  }
  return std::nullopt;
}

core::Target load_target(const std::string& path, const std::string& base, std::span<const std::string> modules) {
  std::vector<btf::Btf> module_btfs;
  std::optional<btf::Btf> vmlinux;
  if (!base.empty()) {
    vmlinux = btf::Btf::load(base);
    module_btfs.push_back(btf::Btf::load(path, {.base = &*vmlinux}));
  } else {
    try {
      vmlinux = btf::Btf::load(path);
    } catch (const Error& e) {
      // Split BTF does not parse alone: a module, whose base may be beside it.
      const auto beside = base_beside(path);
      if (!beside) throw Error(e.errno_value(), e.message() + " (split BTF: give its base with -B FILE)");
      util::log(LogLevel::debug, "{}: split BTF, using {} as its base", path, *beside);
      vmlinux = btf::Btf::load(*beside);
      module_btfs.push_back(btf::Btf::load(path, {.base = &*vmlinux}));
    }
  }
  for (const auto& module : modules) module_btfs.push_back(btf::Btf::load(module, {.base = &*vmlinux}));
  return core::Target(std::move(*vmlinux), std::move(module_btfs));
}

}  // namespace corebpf::cli
