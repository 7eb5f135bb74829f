// [kernel] The running kernel as the loader and extern resolution see it: version (with the distribution
// quirks), kconfig, kallsyms, vmlinux and module BTF. Read once per process and shared.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/object_spec.hpp"

namespace corebpf::kernel {

// KERNEL_VERSION(major, minor, patch) with the patch level clamped to 255, as the kernel's own
// LINUX_VERSION_CODE does.
std::uint32_t version_code(std::uint32_t major, std::uint32_t minor, std::uint32_t patch) noexcept;

// The running kernel's LINUX_VERSION_CODE from the texts the kernel gives: `release` (uname -r),
// `proc_version` (/proc/version) and `version_signature` (Ubuntu's /proc/version_signature,
// empty elsewhere). Ubuntu's signature ends with the upstream version ("Ubuntu 5.4.0-104.118-generic
// 5.4.166"); Debian's release always reads "x.y.0" and the real patch level is in /proc/version
// ("... Debian 6.1.192-2 ..."). Throws corebpf::Error when no version can be read.
std::uint32_t parse_version_code(std::string_view release, std::string_view proc_version,
                                 std::string_view version_signature);

// The running kernel's release as uname -r prints it (cached).
const std::string& running_kernel_release();

// The running kernel's LINUX_VERSION_CODE (cached).
std::uint32_t running_kernel_version();

// A kernel config file's CONFIG_* settings: "CONFIG_X=value" lines as written (y, m, a number, a
// quoted string) and "# CONFIG_X is not set" lines as "n". Anything else is ignored. With
// `wanted` (sorted), only those names are kept.
std::map<std::string, std::string, std::less<>> parse_kconfig(std::string_view text,
                                                              std::span<const std::string_view> wanted = {});

// The running kernel's config: /proc/config.gz, else /boot/config-<release>. Empty when neither
// exists (weak kconfig externs then stay zero; strong ones fail to resolve by name).
const std::map<std::string, std::string, std::less<>>& running_kconfig();
// Only the settings named in `wanted` (sorted): what a load asks for, without a map of the
// thousands of others.
std::map<std::string, std::string, std::less<>> running_kconfig(std::span<const std::string_view> wanted);

// An address from /proc/kallsyms, streamed for this name only (no table of all symbols; found
// addresses are remembered); empty when unknown or when the kernel hides addresses (they read as
// zero without CAP_SYSLOG).
std::optional<std::uint64_t> kallsyms_address(std::string_view symbol);
// Several names in one pass, parallel to `symbols`.
std::vector<std::optional<std::uint64_t>> kallsyms_addresses(std::span<const std::string_view> symbols);

// Every symbol of /proc/kallsyms by address, for naming the addresses a program's code holds (its
// calls, its functions). Loaded whole (~200k symbols): for inspection commands, not the loader.
// Empty when the kernel hides addresses (without CAP_SYSLOG, or kptr_restrict=2).
class KernelSymbols {
 public:
  struct Symbol {
    std::uint64_t address = 0;
    std::string name;
  };
  static KernelSymbols load();
  bool empty() const noexcept { return symbols_.empty(); }
  // The symbol at exactly `address` (the first listed when several share it); nullptr when none.
  const Symbol* at(std::uint64_t address) const;
  // The last symbol at or below `address` (a function containing it); nullptr below the first.
  const Symbol* containing(std::uint64_t address) const;
  // A symbol's address by name (a linear search).
  std::optional<std::uint64_t> address(std::string_view name) const;

 private:
  std::vector<Symbol> symbols_;
};

// The running kernel's vmlinux BTF (/sys/kernel/btf/vmlinux), read once (again only if another file
// takes its path); empty while the file is absent.
const std::optional<btf::Btf>& running_vmlinux_btf();

// Whether syscalls enter through pt_regs wrappers (__x64_sys_bpf...), from vmlinux BTF, else kallsyms.
bool kernel_has_syscall_wrapper();

// The running kernel for ObjectSpec::resolve_externs and the loader: read once per process
// (thread-safe) and shared. `with_modules` also loads every module's BTF from /sys/kernel/btf
// (only needed for typed ksyms and kfuncs that vmlinux lacks).
const KernelDescription& running_kernel_description(bool with_modules = false);
// The same without the kernel config (empty `kconfig`), for objects whose externs name no
// CONFIG_* value: /proc/config.gz is then not read at all.
const KernelDescription& running_kernel_description_without_kconfig();

}  // namespace corebpf::kernel
