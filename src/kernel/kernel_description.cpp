// The running kernel's version, config, symbols and BTF, read once per process.
#include "corebpf/kernel_description.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <vector>

#include "corebpf/fd.hpp"
#include "corebpf/features.hpp"
#include "util/decompress.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"
#include "util/log_format.hpp"

namespace corebpf::kernel {
namespace {

// /proc files report size 0, so they are read as streams, not mapped.
std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

// "6.1.76-1..." -> {6, 1, 76}; missing parts are 0. Empty when `text` does not start with a digit.
std::optional<std::array<std::uint32_t, 3>> leading_version(std::string_view text) {
  std::array<std::uint32_t, 3> parts{};
  std::size_t part = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  if (p == end || *p < '0' || *p > '9') return std::nullopt;
  while (part < parts.size()) {
    auto [next, ec] = std::from_chars(p, end, parts[part]);
    if (ec != std::errc()) break;
    ++part;
    p = next;
    if (p == end || *p != '.' || part == parts.size()) break;
    ++p;
  }
  if (part < 2) return std::nullopt;
  return parts;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

std::string uname_release() {
  utsname names{};
  if (::uname(&names) != 0) util::fail_errno("uname");
  return names.release;
}

// Hands each line of /proc/kallsyms ("ffffffff81000000 T _text [module]") to `on_line` until it
// returns false. The kernel formats the file as it is read, so stopping early saves most of its
// work too. Nothing when the file cannot be opened.
void read_kallsyms(const std::function<bool(std::string_view line)>& on_line) {
  const UniqueFd file(::open("/proc/kallsyms", O_RDONLY | O_CLOEXEC));
  if (!file) return;
  std::vector<char> buffer(256 * 1024);
  std::size_t kept = 0;  // bytes of an unfinished line at the buffer's start
  for (;;) {
    const ssize_t got = ::read(file.get(), buffer.data() + kept, buffer.size() - kept);
    if (got <= 0) return;
    const std::string_view text(buffer.data(), kept + static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (auto newline = text.find('\n'); newline != std::string_view::npos; newline = text.find('\n', start)) {
      if (!on_line(text.substr(start, newline - start))) return;
      start = newline + 1;
    }
    kept = text.size() - start;
    if (kept == buffer.size()) kept = 0;  // a line longer than the buffer: not a symbol line
    std::memmove(buffer.data(), buffer.data() + start, kept);
  }
}

// One kallsyms line's address and name; empty for a malformed line or a hidden (zero) address.
std::optional<std::pair<std::uint64_t, std::string_view>> kallsyms_entry(std::string_view line) {
  const auto first_space = line.find(' ');
  if (first_space == std::string_view::npos || first_space + 3 > line.size()) return std::nullopt;
  std::string_view name = line.substr(first_space + 3);
  name = name.substr(0, name.find_first_of(" \t"));
  std::uint64_t address = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + first_space, address, 16);
  if (ec != std::errc() || address == 0) return std::nullopt;
  return std::pair{address, name};
}

// Streams /proc/kallsyms for the wanted names only, with no table of the ~120k symbols, and stops
// once each is found. `found` is parallel to `names`.
void stream_kallsyms(std::span<const std::string_view> names, std::vector<std::optional<std::uint64_t>>& found) {
  found.assign(names.size(), std::nullopt);
  std::size_t missing = names.size();
  if (missing == 0) return;
  read_kallsyms([&](std::string_view line) {
    const auto entry = kallsyms_entry(line);
    if (!entry) return true;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (found[i] || names[i] != entry->second) continue;
      found[i] = entry->first;
      --missing;
    }
    return missing > 0;
  });
}

// The syscall wrappers' names on this architecture, as vmlinux BTF and kallsyms spell them.
constexpr std::string_view kWrappedBpfSyscall[] = {"__x64_sys_bpf", "__arm64_sys_bpf", "__s390x_sys_bpf",
                                                   "__riscv_sys_bpf"};

KernelDescription describe_running_kernel(bool with_modules, bool with_kconfig = true) {
  KernelDescription description;
  if (with_kconfig) description.kconfig = running_kconfig();
  description.kernel_version = running_kernel_version();
  description.has_syscall_wrapper = [] { return kernel_has_syscall_wrapper(); };
  description.has_bpf_cookie = [] { return has_bpf_cookie(); };
  description.kallsyms = [](std::string_view symbol) { return kallsyms_address(symbol); };
  description.vmlinux_btf = running_vmlinux_btf();
  if (!with_modules) {
    // Modules without the config: extern resolution asks them for their BTF only.
    description.with_modules = []() -> const KernelDescription& {
      static std::once_flag once;
      static KernelDescription modules;
      std::call_once(once, [] { modules = describe_running_kernel(true, false); });
      return modules;
    };
  }
  if (description.vmlinux_btf && with_modules) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/kernel/btf", ec)) {
      if (entry.path().filename() == "vmlinux") continue;
      btf::LoadOptions split;
      split.base = &*description.vmlinux_btf;
      description.module_btfs.push_back(btf::Btf::load(entry.path().string(), split));
      description.module_names.push_back(entry.path().filename().string());
    }
  }
  return description;
}

}  // namespace

std::uint32_t version_code(std::uint32_t major, std::uint32_t minor, std::uint32_t patch) noexcept {
  return (major << 16) + (minor << 8) + std::min<std::uint32_t>(patch, 255);
}

std::uint32_t parse_version_code(std::string_view release, std::string_view proc_version,
                                 std::string_view version_signature) {
  // Ubuntu: "Ubuntu 5.4.0-104.118-generic 5.4.166": the last word is upstream's version.
  version_signature = trim(version_signature);
  if (!version_signature.empty()) {
    const auto last_space = version_signature.rfind(' ');
    if (last_space != std::string_view::npos) {
      if (auto parts = leading_version(version_signature.substr(last_space + 1)))
        return version_code((*parts)[0], (*parts)[1], (*parts)[2]);
    }
  }
  // Debian: "... #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2025-01-01)". The compiler's version comes
  // earlier in the same text ("(gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, ..."): the kernel's is
  // the one with the release's major.minor.
  const auto release_parts = leading_version(trim(release));
  for (auto at = proc_version.find("Debian "); at != std::string_view::npos;
       at = proc_version.find("Debian ", at + 1)) {
    const auto parts = leading_version(proc_version.substr(at + 7));
    if (parts && (!release_parts || ((*parts)[0] == (*release_parts)[0] && (*parts)[1] == (*release_parts)[1])))
      return version_code((*parts)[0], (*parts)[1], (*parts)[2]);
  }
  if (release_parts) return version_code((*release_parts)[0], (*release_parts)[1], (*release_parts)[2]);
  util::fail(std::errc::invalid_argument, "cannot read a kernel version from the release '{}'", release);
}

const std::string& running_kernel_release() {
  static const std::string release = uname_release();
  return release;
}

std::uint32_t running_kernel_version() {
  static const std::uint32_t code = parse_version_code(running_kernel_release(), read_text_file("/proc/version"),
                                                       read_text_file("/proc/version_signature"));
  return code;
}

std::map<std::string, std::string, std::less<>> parse_kconfig(std::string_view text,
                                                              std::span<const std::string_view> wanted) {
  std::map<std::string, std::string, std::less<>> config;
  const auto keep = [&](std::string_view name) {
    return wanted.empty() || std::binary_search(wanted.begin(), wanted.end(), name);
  };
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
      line.remove_prefix(2);
      line.remove_suffix(11);
      if (keep(line)) config.insert_or_assign(std::string(line), "n");
      continue;
    }
    if (!line.starts_with("CONFIG_")) continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 7 || !keep(line.substr(0, equals))) continue;
    config.insert_or_assign(std::string(line.substr(0, equals)), std::string(line.substr(equals + 1)));
  }
  return config;
}

namespace {

// The running kernel's config file as text (read once); empty when there is none.
const std::string& running_kconfig_text() {
  static const std::string text = [] {
    try {
      if (std::filesystem::exists("/proc/config.gz")) {
        const std::string compressed = read_text_file("/proc/config.gz");
        const auto bytes = util::decompress(std::as_bytes(std::span(compressed.data(), compressed.size())),
                                            util::Compression::gzip, "/proc/config.gz");
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      }
      const std::string path = "/boot/config-" + uname_release();
      if (std::filesystem::exists(path)) return read_text_file(path);
    } catch (const Error& e) {
      util::log(LogLevel::warning, "kernel config unreadable, kconfig externs resolve as unset: {}", e.message());
    }
    return std::string();
  }();
  return text;
}

}  // namespace

const std::map<std::string, std::string, std::less<>>& running_kconfig() {
  static const auto config = parse_kconfig(running_kconfig_text());
  return config;
}

std::map<std::string, std::string, std::less<>> running_kconfig(std::span<const std::string_view> wanted) {
  if (wanted.empty()) return {};
  return parse_kconfig(running_kconfig_text(), wanted);
}

KernelSymbols KernelSymbols::load() {
  KernelSymbols symbols;
  read_kallsyms([&](std::string_view line) {
    if (const auto entry = kallsyms_entry(line)) symbols.symbols_.push_back({entry->first, std::string(entry->second)});
    return true;
  });
  std::stable_sort(symbols.symbols_.begin(), symbols.symbols_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
  return symbols;
}

const KernelSymbols::Symbol* KernelSymbols::at(std::uint64_t address) const {
  const auto it = std::lower_bound(symbols_.begin(), symbols_.end(), address,
                                   [](const Symbol& s, std::uint64_t a) { return s.address < a; });
  return it != symbols_.end() && it->address == address ? &*it : nullptr;
}

const KernelSymbols::Symbol* KernelSymbols::containing(std::uint64_t address) const {
  const auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                   [](std::uint64_t a, const Symbol& s) { return a < s.address; });
  return it == symbols_.begin() ? nullptr : &*std::prev(it);
}

std::optional<std::uint64_t> KernelSymbols::address(std::string_view name) const {
  for (const Symbol& symbol : symbols_)
    if (symbol.name == name) return symbol.address;
  return std::nullopt;
}

std::vector<std::optional<std::uint64_t>> kallsyms_addresses(std::span<const std::string_view> symbols) {
  std::vector<std::optional<std::uint64_t>> found;
  stream_kallsyms(symbols, found);
  return found;
}

std::optional<std::uint64_t> kallsyms_address(std::string_view symbol) {
  // Found addresses are remembered (a handful at most); a miss is looked up again, rarely.
  static std::mutex mutex;
  static std::map<std::string, std::uint64_t, std::less<>> known;
  {
    const std::lock_guard lock(mutex);
    if (const auto it = known.find(symbol); it != known.end()) return it->second;
  }
  const std::string_view wanted[] = {symbol};
  const auto found = kallsyms_addresses(wanted);
  if (found[0]) {
    const std::lock_guard lock(mutex);
    known.emplace(std::string(symbol), *found[0]);
  }
  return found[0];
}

const std::optional<btf::Btf>& running_vmlinux_btf() {
  // Read once per file: the path is stat'ed on every call (cheap) and read again only when it is
  // another file than the one read (a test or container hiding it behind a mount), so nothing
  // stale is served. Entries live as long as the process: references to them stay valid.
  struct Entry {
    dev_t device;
    ino_t inode;
    std::optional<btf::Btf> btf;
  };
  static const std::optional<btf::Btf> none;
  static std::mutex mutex;
  static std::deque<Entry> read;
  struct stat file {};
  if (::stat("/sys/kernel/btf/vmlinux", &file) != 0) return none;
  const std::lock_guard lock(mutex);
  for (const auto& entry : read)
    if (entry.device == file.st_dev && entry.inode == file.st_ino) return entry.btf;
  read.push_back({file.st_dev, file.st_ino, btf::Btf::load_vmlinux()});
  return read.back().btf;
}

bool kernel_has_syscall_wrapper() {
  static const bool answer = [] {
    // vmlinux BTF names the wrappers (as functions): no kallsyms read at all. Its string section
    // is searched for the name itself, which is far cheaper than building the function-name index
    // for one question (only a type or function of that name puts it there).
    if (const auto& vmlinux = running_vmlinux_btf()) {
      const std::string_view strings(vmlinux->string_at(0).data(), vmlinux->string_section_size());
      for (const auto name : kWrappedBpfSyscall) {
        std::string needle(1, '\0');
        needle.append(name).push_back('\0');
        if (strings.find(needle) != std::string_view::npos) return true;
      }
      return false;
    }
    const auto found = kallsyms_addresses(kWrappedBpfSyscall);
    return std::any_of(found.begin(), found.end(), [](const auto& address) { return address.has_value(); });
  }();
  return answer;
}

const KernelDescription& running_kernel_description(bool with_modules) {
  static std::once_flag base_once, modules_once;
  static KernelDescription base, full;
  if (with_modules) {
    std::call_once(modules_once, [] { full = describe_running_kernel(true); });
    return full;
  }
  std::call_once(base_once, [] { base = describe_running_kernel(false); });
  return base;
}

const KernelDescription& running_kernel_description_without_kconfig() {
  static std::once_flag once;
  static KernelDescription lean;
  std::call_once(once, [] { lean = describe_running_kernel(false, false); });
  return lean;
}

}  // namespace corebpf::kernel
