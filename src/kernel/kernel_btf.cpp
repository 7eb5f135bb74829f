// Fetching BTF the kernel holds (vmlinux, modules, BTF that programs loaded) as a btf::Btf.
#include <filesystem>

#include "corebpf/kernel.hpp"
#include "corebpf/kernel_description.hpp"
#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::kernel {
namespace {

constexpr const char* kSysfsVmlinux = "/sys/kernel/btf/vmlinux";

// Calls `visit(id, fd, info)` for each BTF object the kernel itself loaded (vmlinux, modules)
// until it returns true.
template <typename Visit>
void for_each_kernel_btf(Visit&& visit) {
  std::uint32_t id = 0;
  while (auto next = next_id(ObjectType::btf, id)) {
    id = *next;
    auto fd = try_open_by_id(ObjectType::btf, id);
    if (!fd) continue;
    const BtfInfo info = btf_info(fd->get());
    if (info.is_kernel && visit(id, *fd, info)) return;
  }
}

// The base for module BTF. sysfs is mapped without a copy; where it is not mounted (some
// containers) the kernel's own "vmlinux" BTF object serves.
btf::Btf vmlinux_base() {
  if (std::filesystem::exists(kSysfsVmlinux)) return btf::Btf::load(kSysfsVmlinux);
  std::optional<btf::Btf> found;
  for_each_kernel_btf([&](std::uint32_t id, const UniqueFd& fd, const BtfInfo& info) {
    if (info.name != "vmlinux") return false;
    found = btf::Btf::from_vector(btf_bytes(fd.get()), {}, fmt::format("kernel BTF id {} (vmlinux)", id));
    return true;
  });
  if (found) return std::move(*found);
  util::fail(std::errc::no_such_file_or_directory,
             "no vmlinux BTF to use as base for module BTF: {} is missing and no loaded BTF is named vmlinux",
             kSysfsVmlinux);
}

}  // namespace

std::vector<std::byte> btf_bytes(int fd) {
  bpf_btf_info sizes{};
  detail::object_info(fd, &sizes, sizeof(sizes), fmt::format("(BTF fd {})", fd));
  std::vector<std::byte> bytes(sizes.btf_size);
  bpf_btf_info raw{};
  raw.btf = reinterpret_cast<std::uintptr_t>(bytes.data());
  raw.btf_size = static_cast<std::uint32_t>(bytes.size());
  detail::object_info(fd, &raw, sizeof(raw), fmt::format("(BTF id {})", sizes.id));
  // A loaded BTF never changes size, but do not trust a count the kernel may have shortened.
  bytes.resize(std::min<std::size_t>(bytes.size(), raw.btf_size));
  return bytes;
}

btf::Btf load_kernel_btf_by_id(std::uint32_t id) {
  const UniqueFd fd = open_by_id(ObjectType::btf, id);
  const BtfInfo info = btf_info(fd.get());
  std::vector<std::byte> bytes = btf_bytes(fd.get());
  const std::string source =
      info.name.empty() ? fmt::format("BTF id {}", id) : fmt::format("BTF id {} ({})", id, info.name);
  if (info.is_kernel && info.name != "vmlinux") {
    util::log(LogLevel::debug, "{}: module BTF, loading it on top of the vmlinux BTF", source);
    const btf::Btf base = vmlinux_base();
    return btf::Btf::from_vector(std::move(bytes), {.base = &base}, source);
  }
  return btf::Btf::from_vector(std::move(bytes), {}, source);
}

std::optional<KernelBtfType> find_kernel_btf_type(std::string_view name, btf::Kind kind, std::string_view module) {
  const auto& vmlinux = running_vmlinux_btf();
  if (module.empty() && vmlinux) {
    if (const auto type = vmlinux->find(name, kind)) return KernelBtfType{type->id(), UniqueFd(), std::string()};
  }
  // Module BTF is split BTF on top of vmlinux's; only the modules' own ids are searched here.
  std::optional<KernelBtfType> found;
  for_each_kernel_btf([&](std::uint32_t id, UniqueFd& fd, const BtfInfo& info) {
    if (info.name == "vmlinux" || (!module.empty() && info.name != module)) return false;
    const btf::Btf base = vmlinux ? *vmlinux : vmlinux_base();
    const auto btf =
        btf::Btf::from_vector(btf_bytes(fd.get()), {.base = &base}, fmt::format("BTF id {} ({})", id, info.name));
    for (const auto candidate : btf.find_all(name, btf::name_scope(kind))) {
      if (candidate < btf.first_id() || btf.type(candidate).kind() != kind) continue;
      util::log(LogLevel::debug, "kernel BTF: {} found in module {} (BTF id {}, type {})", name, info.name, id,
                candidate);
      found = KernelBtfType{candidate, std::move(fd), info.name};
      return true;
    }
    return !module.empty();  // the named module has no such type: stop there
  });
  return found;
}

UniqueFd module_btf_fd(std::string_view module) {
  UniqueFd found;
  for_each_kernel_btf([&](std::uint32_t, UniqueFd& fd, const BtfInfo& info) {
    if (info.name != module) return false;
    found = std::move(fd);
    return true;
  });
  return found;
}

}  // namespace corebpf::kernel
