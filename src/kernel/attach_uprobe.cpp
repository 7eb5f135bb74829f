// User-space probes: uprobes on a symbol (or offset) of a binary or library, uprobe.multi links
// over many functions of one binary, and USDT probes (one uprobe per <sys/sdt.h> location, with
// the argument specs written where <bpf/usdt.bpf.h> reads them).
#include <elf.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "elf/elf_symbols.hpp"
#include "elf/library_search.hpp"
#include "elf/usdt_notes.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/perf_event_link.hpp"
#include "kernel/prog_load.hpp"
#include "kernel/tracefs.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"
#include "util/log_format.hpp"

namespace corebpf {
namespace {

using corebpf::kernel::detail::zeroed_attr;

// ---- Where the probed file is.

// A path as given (it must exist), or a library name looked up as the dynamic loader would.
std::string resolve_binary(const std::string& binary, std::string_view what) {
  if (binary.empty()) util::fail(std::errc::invalid_argument, "{}: no binary given", what);
  if (binary.find('/') == std::string::npos) {
    if (auto path = elf::find_library(binary)) return *path;
    // A name without a slash may still be a file in the current directory.
    std::error_code error;
    if (!std::filesystem::is_regular_file(binary, error))
      util::fail(std::errc::no_such_file_or_directory,
                 "{}: library '{}' not found in the loader's search path (LD_LIBRARY_PATH, /etc/ld.so.cache, "
                 "the default directories)",
                 what, binary);
  }
  std::error_code error;
  if (!std::filesystem::exists(binary, error))
    util::fail(std::errc::no_such_file_or_directory, "{}: binary '{}' does not exist", what, binary);
  return binary;
}

// Read, not mapped: the kernel puts a uprobe's breakpoint into every executable-capable mapping
// of the file, ours included, and counts the probe's semaphore once more for it, never to take
// it back when we unmap. A private copy of the bytes is outside all of that.
//
// The last binary read is kept (by device, inode, size and modification time): attaching many
// probes to one binary one by one (a thousand functions of a large executable) reads it once,
// not once per probe. It is one entry, so what stays in memory is at most one binary's copy.
std::shared_ptr<const elf::ElfFile> open_binary(const std::string& path, std::string_view what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) util::fail_errno("{}: cannot open {}", what, path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) util::fail_errno("{}: cannot stat {}", what, path);
  struct Identity {
    dev_t device;
    ino_t inode;
    off_t size;
    std::int64_t mtime_ns;
    bool operator==(const Identity&) const = default;
  };
  const Identity identity{st.st_dev, st.st_ino, st.st_size,
                          std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
  static std::mutex cache_mutex;
  static std::optional<Identity> cached_identity;
  static std::shared_ptr<const elf::ElfFile> cached_file;
  {
    const std::lock_guard lock(cache_mutex);
    if (cached_identity == identity) return cached_file;
  }
  std::vector<std::byte> bytes(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)));
  std::size_t used = 0;
  while (used < bytes.size()) {
    const ssize_t n = ::pread(fd.get(), bytes.data() + used, bytes.size() - used, static_cast<off_t>(used));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) util::fail_errno("{}: cannot read {}", what, path);
    if (n == 0) break;  // shrank while read: parsed as it is, the ELF checks say if it is whole
    used += static_cast<std::size_t>(n);
  }
  bytes.resize(used);
  std::shared_ptr<const elf::ElfFile> file;
  try {
    file = std::make_shared<const elf::ElfFile>(
        elf::ElfFile::from_file_bytes(util::FileBytes::from_vector(std::move(bytes)), path));
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("{}: {}", what, e.message()));
  }
  const std::lock_guard lock(cache_mutex);
  cached_identity = identity;
  cached_file = file;
  return file;
}

// ---- The uprobe PMU (/sys/bus/event_source/devices/uprobe, 4.17+); tracefs (kernel/tracefs.hpp).

// Where ref_ctr_offset goes in a uprobe event's `config` (format "config:32-63"); nullopt when the
// PMU has no semaphore support (before 4.20).
std::optional<std::uint32_t> ref_ctr_shift() { return kernel::detail::pmu_format_bit("uprobe", "ref_ctr_offset"); }

struct ProbeRequest {
  std::string path;
  std::uint64_t offset = 0;
  std::uint64_t ref_ctr_offset = 0;
  bool retprobe = false;
  pid_t pid = -1;
  std::uint64_t cookie = 0;
  bool force_tracefs = false;
};

perf_event_attr base_attr() {
  perf_event_attr attr{};
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  return attr;
}

UniqueFd open_probe_event(perf_event_attr& attr, pid_t pid, const std::string& description) {
  // Without a pid the probe is system-wide: the event needs a CPU then, and the program runs for
  // every process whichever CPU that is.
  const int fd = kernel::detail::perf_event_open(&attr, pid < 0 ? -1 : pid, pid < 0 ? 0 : -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) util::fail_errno("creating {} (perf_event_open)", description);
  return UniqueFd(fd);
}

std::unique_ptr<detail::Attachment> attach_probe(const Program& program, const ProbeRequest& request,
                                                 std::string description) {
  const auto pmu = request.force_tracefs ? std::nullopt : kernel::detail::pmu_type("uprobe");
  if (pmu) {
    perf_event_attr attr = base_attr();
    attr.type = *pmu;
    if (request.retprobe) attr.config |= std::uint64_t{1} << kernel::detail::pmu_retprobe_bit("uprobe");
    if (request.ref_ctr_offset != 0) {
      const auto shift = ref_ctr_shift();
      if (!shift)
        util::fail(std::errc::operation_not_supported,
                   "{}: this kernel's uprobe PMU has no ref_ctr_offset (semaphores need 4.20+)", description);
      attr.config |= request.ref_ctr_offset << *shift;
    }
    attr.config1 = reinterpret_cast<std::uintptr_t>(request.path.c_str());  // uprobe_path
    attr.config2 = request.offset;                                          // probe_offset
    UniqueFd event = open_probe_event(attr, request.pid, description);
    return kernel::detail::attach_to_perf_event(program.fd(), std::move(event), request.cookie, std::move(description));
  }

  // tracefs (found, or mounted where missing): a named probe event, removed again when the
  // attachment goes.
  if (request.path.find_first_of(" \t\n") != std::string::npos)
    util::fail(std::errc::invalid_argument, "{}: tracefs uprobe_events cannot name a path with spaces", description);
  static std::atomic<unsigned> counter{0};
  const std::string event_name = fmt::format("corebpf_{}_{}", ::getpid(), counter++);
  std::string line =
      fmt::format("{}:uprobes/{} {}:{:#x}", request.retprobe ? 'r' : 'p', event_name, request.path, request.offset);
  if (request.ref_ctr_offset != 0) line += fmt::format("({:#x})", request.ref_ctr_offset);
  try {
    kernel::detail::tracefs_append("uprobe_events", line + "\n");
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("{}: {}", description, e.message()));
  }
  auto remove = [event_name] {
    kernel::detail::tracefs_append("uprobe_events", fmt::format("-:uprobes/{}\n", event_name));
  };
  try {
    perf_event_attr attr = base_attr();
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = kernel::detail::tracepoint_id("uprobes", event_name);
    UniqueFd event = open_probe_event(attr, request.pid, description);
    return kernel::detail::attach_to_perf_event(program.fd(), std::move(event), request.cookie, std::move(description),
                                                remove);
  } catch (...) {
    try {
      remove();
    } catch (const std::exception& e) {
      util::log(LogLevel::warning, "{}", e.what());
    }
    throw;
  }
}

// ---- uprobe.multi (6.6+): link_create.uprobe_multi, newer than the system header: the pinned layout.
long create_uprobe_multi(int program_fd, const char* path, std::span<const std::uint64_t> offsets,
                         std::span<const std::uint64_t> ref_ctr_offsets, std::span<const std::uint64_t> cookies,
                         bool retprobe, pid_t pid) {
  uapi::bpf_attr attr = kernel::detail::zeroed_pinned_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program_fd);
  attr.link_create.attach_type = static_cast<std::uint32_t>(AttachType::trace_uprobe_multi);
  auto& multi = attr.link_create.uprobe_multi;
  multi.path = reinterpret_cast<std::uintptr_t>(path);
  multi.offsets = reinterpret_cast<std::uintptr_t>(offsets.data());
  multi.ref_ctr_offsets = ref_ctr_offsets.empty() ? 0 : reinterpret_cast<std::uintptr_t>(ref_ctr_offsets.data());
  multi.cookies = cookies.empty() ? 0 : reinterpret_cast<std::uintptr_t>(cookies.data());
  multi.cnt = static_cast<std::uint32_t>(offsets.size());
  multi.flags = retprobe ? uapi::kUprobeMultiReturn : 0;
  multi.pid = pid > 0 ? static_cast<std::uint32_t>(pid) : 0;
  return kernel::detail::bpf_call(BPF_LINK_CREATE, attr);
}

// ---- USDT: the maps <bpf/usdt.bpf.h> reads, and which spec ids are in use in them.

// struct __bpf_usdt_arg_spec / __bpf_usdt_spec of usdt.bpf.h: 16-byte argument records, then the
// user cookie and the argument count.
constexpr std::size_t usdt_arg_record_size = 16;
constexpr std::size_t usdt_cookie_offset = elf::usdt_max_arguments * usdt_arg_record_size;  // 192
constexpr std::size_t usdt_arg_cnt_offset = usdt_cookie_offset + 8;                         // 200
constexpr std::size_t usdt_spec_size = 208;
// The kernel keeps 15 characters of a map's name.
constexpr std::string_view usdt_specs_map = "__bpf_usdt_spec";
constexpr std::string_view usdt_ip_map = "__bpf_usdt_ip_t";

std::array<std::byte, usdt_spec_size> encode_usdt_spec(const std::vector<elf::UsdtArgument>& arguments,
                                                       std::uint64_t cookie) {
  std::array<std::byte, usdt_spec_size> spec{};
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const auto& argument = arguments[i];
    std::byte* record = spec.data() + i * usdt_arg_record_size;
    const auto value = static_cast<std::uint64_t>(argument.value);
    std::uint32_t kind = 0;  // BPF_USDT_ARG_CONST, _REG, _REG_DEREF
    switch (argument.kind) {
      case elf::UsdtArgKind::constant:
        kind = 0;
        break;
      case elf::UsdtArgKind::reg:
        kind = 1;
        break;
      case elf::UsdtArgKind::reg_deref:
        kind = 2;
        break;
    }
    const auto reg_offset = static_cast<std::int16_t>(argument.reg_offset);
    const auto is_signed = static_cast<std::uint8_t>(argument.is_signed ? 1 : 0);
    // Bits above the argument's size are cleared (or sign-filled) by shifting up and back down.
    const auto bitshift = static_cast<std::uint8_t>(64 - argument.size * 8);
    std::memcpy(record, &value, 8);
    std::memcpy(record + 8, &kind, 4);
    std::memcpy(record + 12, &reg_offset, 2);
    std::memcpy(record + 14, &is_signed, 1);
    std::memcpy(record + 15, &bitshift, 1);
  }
  std::memcpy(spec.data() + usdt_cookie_offset, &cookie, 8);
  const auto count = static_cast<std::int16_t>(arguments.size());
  std::memcpy(spec.data() + usdt_arg_cnt_offset, &count, 2);
  return spec;
}

// Spec ids are slots of one program object's spec array, shared by every USDT attachment of its
// programs in this process: handed out here, given back when a Link goes. Keyed by map id,
// which the kernel never reuses while the map lives.
class SpecIdRegistry {
 public:
  std::vector<std::uint32_t> allocate(std::uint32_t map_id, std::uint32_t capacity, std::size_t count) {
    std::lock_guard lock(mutex_);
    auto& used = used_[map_id];
    std::vector<std::uint32_t> ids;
    for (std::uint32_t id = 0; id < capacity && ids.size() < count; ++id)
      if (!used.contains(id)) ids.push_back(id);
    if (ids.size() < count) return {};
    used.insert(ids.begin(), ids.end());
    return ids;
  }
  void release(std::uint32_t map_id, const std::vector<std::uint32_t>& ids) {
    std::lock_guard lock(mutex_);
    auto found = used_.find(map_id);
    if (found == used_.end()) return;
    for (const auto id : ids) found->second.erase(id);
    if (found->second.empty()) used_.erase(found);
  }

 private:
  std::mutex mutex_;
  std::map<std::uint32_t, std::set<std::uint32_t>> used_;
};

SpecIdRegistry& spec_ids() {
  static SpecIdRegistry registry;
  return registry;
}

struct UsdtMaps {
  std::shared_ptr<Map> specs;
  std::shared_ptr<Map> ip_to_spec;
};

// The program's own maps (BPF_OBJ_GET_INFO_BY_FD map_ids), so a Program needs no Object to find
// the maps <bpf/usdt.bpf.h> put in its object.
UsdtMaps find_usdt_maps(const Program& program) {
  UsdtMaps maps;
  const auto what = fmt::format("program '{}'", program.name());
  bpf_prog_info counts{};
  kernel::detail::object_info(program.fd(), &counts, sizeof(counts), what);
  std::vector<std::uint32_t> ids(counts.nr_map_ids);
  if (!ids.empty()) {
    bpf_prog_info info{};
    info.nr_map_ids = static_cast<std::uint32_t>(ids.size());
    info.map_ids = reinterpret_cast<std::uintptr_t>(ids.data());
    kernel::detail::object_info(program.fd(), &info, sizeof(info), what);
    ids.resize(std::min<std::size_t>(info.nr_map_ids, ids.size()));
  }
  for (const auto id : ids) {
    auto map = Map::open_by_id(id);
    if (map.name() == usdt_specs_map && map.key_size() == 4 && map.value_size() == usdt_spec_size) {
      maps.specs = std::make_shared<Map>(std::move(map));
    } else if (map.name() == usdt_ip_map && map.key_size() == 8 && map.value_size() == 4) {
      maps.ip_to_spec = std::make_shared<Map>(std::move(map));
    }
  }
  return maps;
}

// Where file offset `file_offset` of `path` is mapped in process `pid` (/proc/PID/maps).
std::optional<std::uint64_t> runtime_address(pid_t pid, const std::string& path, std::uint64_t file_offset) {
  std::error_code error;
  const auto wanted = std::filesystem::canonical(path, error);
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset_text, device, inode, mapped;
    fields >> range >> perms >> offset_text >> device >> inode >> mapped;
    if (mapped.empty() || perms.size() < 3 || perms[2] != 'x' || mapped != wanted.string()) continue;
    const auto dash = range.find('-');
    const std::uint64_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uint64_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    const std::uint64_t offset = std::stoull(offset_text, nullptr, 16);
    if (file_offset >= offset && file_offset - offset < end - start) return start + (file_offset - offset);
  }
  return std::nullopt;
}

}  // namespace

Link Program::attach_uprobe(const std::string& binary, const UprobeOptions& options) const {
  const std::string kind = options.retprobe ? "uretprobe" : "uprobe";
  const auto what = fmt::format("{} of program '{}'", kind, name_);
  const std::string path = resolve_binary(binary, what);
  std::uint64_t offset = options.offset;
  std::string target = fmt::format("{:#x}", options.offset);
  if (!options.function.empty()) {
    const auto file = open_binary(path, what);
    const auto function = elf::find_function(*file, options.function);
    if (!function)
      util::fail(std::errc::no_such_file_or_directory, "{}: symbol '{}' not found in {} (.symtab, .dynsym)", what,
                 options.function, path);
    if (function->ifunc)
      util::log(LogLevel::warning,
                "{}: '{}' in {} is an IFUNC: the probe is on its resolver, which runs once at relocation", what,
                options.function, path);
    offset += function->file_offset;
    target = options.offset != 0 ? fmt::format("{}+{:#x}", options.function, options.offset) : options.function;
  }
  ProbeRequest request;
  request.path = path;
  request.offset = offset;
  request.ref_ctr_offset = options.ref_ctr_offset;
  request.retprobe = options.retprobe;
  request.pid = options.pid;
  request.cookie = options.cookie;
  request.force_tracefs = options.force_tracefs;
  auto description = fmt::format("{} {}:{} (program '{}'{})", kind, path, target, name_,
                                 options.pid >= 0 ? fmt::format(", pid {}", options.pid) : "");
  return Link(attach_probe(*this, request, std::move(description)));
}

Link Program::attach_uprobe_multi(const std::string& binary, const UprobeMultiOptions& options) const {
  const std::string kind = options.retprobe ? "uretprobe.multi" : "uprobe.multi";
  const auto what = fmt::format("{} of program '{}'", kind, name_);
  const std::string path = resolve_binary(binary, what);
  std::vector<std::uint64_t> offsets = options.offsets;
  std::string target;
  if (!options.symbols.empty() || !options.pattern.empty()) {
    if (!options.offsets.empty())
      util::fail(std::errc::invalid_argument, "{}: give symbols, a pattern or offsets, not several", what);
    const auto file = open_binary(path, what);
    if (!options.pattern.empty()) {
      if (!options.symbols.empty())
        util::fail(std::errc::invalid_argument, "{}: give symbols or a pattern, not both", what);
      for (const auto& function : elf::match_functions(*file, options.pattern)) offsets.push_back(function.file_offset);
      if (offsets.empty())
        util::fail(std::errc::no_such_file_or_directory, "{}: no function of {} matches '{}' (.symtab, .dynsym)", what,
                   path, options.pattern);
      target = options.pattern;
    } else {
      for (const auto& symbol : options.symbols) {
        const auto function = elf::find_function(*file, symbol);
        if (!function)
          util::fail(std::errc::no_such_file_or_directory, "{}: symbol '{}' not found in {} (.symtab, .dynsym)", what,
                     symbol, path);
        offsets.push_back(function->file_offset);
      }
      target = options.symbols.size() == 1
                   ? options.symbols.front()
                   : fmt::format("{} and {} more", options.symbols.front(), options.symbols.size() - 1);
    }
  } else {
    target = fmt::format("{} offsets", offsets.size());
  }
  if (offsets.empty()) util::fail(std::errc::invalid_argument, "{}: nothing to attach to in {}", what, path);
  if (!options.cookies.empty() && options.cookies.size() != offsets.size())
    util::fail(std::errc::invalid_argument, "{}: {} cookies for {} probe locations", what, options.cookies.size(),
               offsets.size());
  if (!options.ref_ctr_offsets.empty() && options.ref_ctr_offsets.size() != offsets.size())
    util::fail(std::errc::invalid_argument, "{}: {} ref_ctr offsets for {} probe locations", what,
               options.ref_ctr_offsets.size(), offsets.size());
  const long fd = create_uprobe_multi(fd_.get(), path.c_str(), offsets, options.ref_ctr_offsets, options.cookies,
                                      options.retprobe, options.pid);
  if (fd < 0) {
    if (errno == EINVAL && !kernel::has_uprobe_multi())
      kernel::fail_unsupported(kernel::Feature::uprobe_multi,
                               fmt::format("{}: this kernel has no uprobe.multi links (6.6+)", what));
    util::fail_errno("{}: attaching to {} locations of {} (BPF_LINK_CREATE)", what, offsets.size(), path);
  }
  auto description = fmt::format("{} {}:{} (program '{}', {} locations)", kind, path, target, name_, offsets.size());
  return Link(std::make_unique<detail::BpfLinkAttachment>(UniqueFd(static_cast<int>(fd)), std::move(description)));
}

Link Program::attach_usdt(const std::string& binary, std::string_view provider, std::string_view probe,
                          const UsdtOptions& options) const {
  const auto what = fmt::format("usdt {}:{} of program '{}'", provider, probe, name_);
  const std::string path = resolve_binary(binary, what);
  const auto file = open_binary(path, what);
  std::vector<elf::UsdtNote> notes;
  std::size_t total = 0;
  try {
    for (auto& note : elf::read_usdt_notes(*file)) {
      ++total;
      if (note.provider == provider && note.name == probe) notes.push_back(std::move(note));
    }
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("{}: {}", what, e.message()));
  }
  if (notes.empty())
    util::fail(std::errc::no_such_file_or_directory, "{}: no such probe in {} ({} USDT probes in .note.stapsdt)", what,
               path, total);
  // The specs name registers of the probed code's architecture; pt_regs offsets are x86-64's.
  if (file->machine() != EM_X86_64)
    util::fail(std::errc::operation_not_supported,
               "{}: {} is not x86-64 code (ELF machine {}); only x86-64 USDT argument specs are supported", what, path,
               file->machine());

  // Each location: its file offset, its semaphore's, and its spec (arguments + the user cookie).
  struct Location {
    std::uint64_t address = 0;
    std::uint64_t offset = 0;
    std::uint64_t semaphore_offset = 0;
    std::size_t spec = 0;  // index into `specs`
  };
  std::vector<Location> locations;
  std::vector<std::array<std::byte, usdt_spec_size>> specs;
  for (const auto& note : notes) {
    Location location;
    location.address = note.address;
    const auto offset = elf::address_to_file_offset(*file, note.address);
    if (!offset)
      util::fail(std::errc::invalid_argument, "{}: probe address {:#x} lies in no loadable segment of {}", what,
                 note.address, path);
    location.offset = *offset;
    if (note.semaphore != 0) {
      const auto semaphore = elf::address_to_file_offset(*file, note.semaphore);
      if (!semaphore)
        util::fail(std::errc::invalid_argument, "{}: semaphore address {:#x} lies in no loadable segment of {}", what,
                   note.semaphore, path);
      location.semaphore_offset = *semaphore;
    }
    std::vector<elf::UsdtArgument> arguments;
    try {
      arguments = elf::parse_usdt_arguments(note.arguments);
    } catch (const Error& e) {
      throw Error(e.errno_value(), fmt::format("{} (at {:#x} in {}): {}", what, note.address, path, e.message()));
    }
    const auto spec = encode_usdt_spec(arguments, options.cookie);
    // Locations with the same arguments share one spec slot.
    const auto same = std::find(specs.begin(), specs.end(), spec);
    location.spec = static_cast<std::size_t>(same - specs.begin());
    if (same == specs.end()) specs.push_back(spec);
    locations.push_back(location);
  }

  const UsdtMaps maps = find_usdt_maps(*this);
  std::vector<std::uint32_t> ids;
  if (maps.specs) {
    ids = spec_ids().allocate(maps.specs->info().id, maps.specs->max_entries(), specs.size());
    if (ids.empty())
      util::fail(std::errc::no_space_on_device,
                 "{}: map {} has no room for {} more specs ({} slots; raise BPF_USDT_MAX_SPEC_CNT)", what,
                 usdt_specs_map, specs.size(), maps.specs->max_entries());
  } else {
    // A program that never calls bpf_usdt_arg()/bpf_usdt_cookie() has no spec map to fill.
    util::log(LogLevel::debug, "{}: the program has no {} map: no arguments for it", what, usdt_specs_map);
    for (std::size_t i = 0; i < specs.size(); ++i) ids.push_back(static_cast<std::uint32_t>(i));
  }
  const bool cookies = kernel::has_bpf_cookie();
  auto ip_keys = std::make_shared<std::vector<std::uint64_t>>();
  const std::uint32_t specs_map_id = maps.specs ? maps.specs->info().id : 0;
  // Undone when the Link goes, or here if attaching fails part-way.
  auto release = [specs_map_id, ids, maps, ip_keys] {
    if (maps.ip_to_spec)
      for (const auto key : *ip_keys) (void)maps.ip_to_spec->try_erase(std::as_bytes(std::span(&key, 1)));
    if (specs_map_id != 0) spec_ids().release(specs_map_id, ids);
  };
  std::vector<std::unique_ptr<detail::Attachment>> parts;
  try {
    if (maps.specs) {
      for (std::size_t i = 0; i < specs.size(); ++i) {
        const std::uint32_t key = ids[i];
        maps.specs->update(std::as_bytes(std::span(&key, 1)), specs[i]);
      }
    }
    for (const auto& location : locations) {
      const std::uint32_t spec_id = ids[location.spec];
      if (!cookies && maps.ip_to_spec) {
        // Without bpf cookies the program finds its spec by the probed instruction's address in
        // the process: fixed for a non-PIE executable, per process otherwise.
        std::optional<std::uint64_t> ip;
        if (file->type() == ET_EXEC)
          ip = location.address;
        else if (options.pid > 0)
          ip = runtime_address(options.pid, path, location.offset);
        if (!ip)
          util::fail(std::errc::operation_not_supported,
                     "{}: this kernel has no bpf cookies, and {} is position-independent: give a pid mapping it", what,
                     path);
        const auto key = static_cast<std::uint64_t>(*ip);
        maps.ip_to_spec->update(std::as_bytes(std::span(&key, 1)), std::as_bytes(std::span(&spec_id, 1)));
        ip_keys->push_back(key);
      }
      ProbeRequest request;
      request.path = path;
      request.offset = location.offset;
      request.ref_ctr_offset = location.semaphore_offset;
      request.pid = options.pid;
      request.cookie = cookies ? spec_id : 0;
      parts.push_back(attach_probe(
          *this, request,
          fmt::format("usdt {}:{}:{} at {:#x} (program '{}')", path, provider, probe, location.address, name_)));
    }
  } catch (...) {
    parts.clear();
    release();
    throw;
  }
  auto description =
      fmt::format("usdt {}:{}:{} (program '{}', {} locations)", path, provider, probe, name_, locations.size());
  return Link(std::make_unique<detail::MultiAttachment>(std::move(parts), std::move(description), release));
}

namespace kernel {

// A uprobe.multi link on a directory: a kernel with such links resolves the path and refuses it
// (EBADF, not a regular file); one without rejects the attach type (EINVAL).
bool has_uprobe_multi() {
  static const bool answer = [] {
    constexpr std::array<Insn, 2> return_zero = {
        Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, 0},
        Insn{Insn::kJmp | Insn::kExit, 0, 0, 0},
    };
    detail::ProgramLoadRequest request;
    request.type = ProgramType::kprobe;
    request.insns = return_zero;
    request.name = "probe";
    request.expected_attach_type = AttachType::trace_uprobe_multi;
    request.kernel_version = running_kernel_version();
    const auto program = detail::load_program(request);
    if (!program.fd) return false;
    const std::uint64_t offset = 0;
    const long fd = create_uprobe_multi(program.fd.get(), "/", std::span(&offset, 1), {}, {}, false, -1);
    if (fd >= 0) {
      UniqueFd unexpected(static_cast<int>(fd));
      return true;
    }
    return errno == EBADF;
  }();
  return answer;
}

}  // namespace kernel
}  // namespace corebpf
