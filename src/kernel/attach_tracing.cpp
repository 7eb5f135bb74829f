// Tracing attach: tracepoints, raw tracepoints, trampolines, iterators, kprobes, perf events.
#include <fnmatch.h>
#include <linux/perf_event.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "kernel/attachment.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/perf_event_link.hpp"
#include "kernel/tracefs.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf {
namespace {

// perf_event_open(2) of `attr` for every task (-1) on `cpu`; an invalid fd with errno set.
UniqueFd open_perf_event(perf_event_attr& attr, int cpu) {
  attr.size = sizeof(attr);
  return UniqueFd(kernel::detail::perf_event_open(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

Link attach_to_perf_event(const Program& program, UniqueFd event, std::uint64_t cookie, std::string description,
                          std::function<void()> cleanup = {}) {
  return Link(kernel::detail::attach_to_perf_event(program.fd(), std::move(event), cookie, std::move(description),
                                                   std::move(cleanup)));
}

using corebpf::kernel::detail::zeroed_attr;

Link bpf_link(long fd, std::string description) {
  return Link(std::make_unique<detail::BpfLinkAttachment>(UniqueFd(static_cast<int>(fd)), std::move(description)));
}

// An error from a lower layer (tracefs, PMUs) with the program named in front.
template <typename F>
auto for_program(const Program& program, F&& step) {
  try {
    return step();
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("program '{}': {}", program.name(), e.message()));
  }
}

// ENOENT, as libbpf says it (neither the kprobe PMU nor kprobe_events exists), so callers that
// fall back on that errno behave the same with both loaders.
[[noreturn]] void no_kprobes(const Program& program, std::string_view target) {
  util::fail(std::errc::no_such_file_or_directory,
             "program '{}': cannot attach a kprobe to '{}': kernel has no kprobe support (no kprobe PMU and no "
             "kprobe_events in tracefs)",
             program.name(), target);
}

// The syscall wrappers' prefix on this architecture ("__x64_sys_"), or "sys_" on kernels without
// wrappers (before 4.17 on x86). Found once, from vmlinux BTF when the kernel has it.
const std::string& syscall_prefix() {
  static const std::string prefix = [] {
#if defined(__x86_64__)
    const std::string arch = "__x64_sys_";
#elif defined(__aarch64__)
    const std::string arch = "__arm64_sys_";
#elif defined(__s390x__)
    const std::string arch = "__s390x_sys_";
#elif defined(__riscv)
    const std::string arch = "__riscv_sys_";
#elif defined(__powerpc64__)
    const std::string arch = "sys_";
#else
    const std::string arch = "sys_";
#endif
    if (kernel::kernel_has_syscall_wrapper()) return arch;
    if (kernel::kallsyms_address("sys_bpf")) return std::string("sys_");
    // Addresses hidden (no CAP_SYSLOG): ftrace still lists the names.
    try {
      for (const auto& name : kernel::detail::traceable_functions()) {
        if (name == arch + "bpf") return arch;
      }
    } catch (const Error&) {
    }
    return std::string("sys_");
  }();
  return prefix;
}

std::string kprobe_description(const Program& program, std::string_view function, const KprobeOptions& options) {
  return fmt::format("{} {}{} (program '{}')", options.retprobe ? "kretprobe" : "kprobe", function,
                     options.offset != 0 ? fmt::format("+{:#x}", options.offset) : std::string(), program.name());
}

// A kprobe made through tracefs kprobe_events: removed again once its perf event is closed.
Link attach_kprobe_tracefs(const Program& program, std::string_view function, const KprobeOptions& options) {
  static std::atomic<std::uint32_t> counter{0};
  const std::string event = fmt::format("corebpf_{}_{}", ::getpid(), counter++);
  const std::string line = fmt::format("{}:kprobes/{} {}{}", options.retprobe ? 'r' : 'p', event, function,
                                       options.offset != 0 ? fmt::format("+{}", options.offset) : std::string());
  const auto description = kprobe_description(program, function, options);
  try {
    kernel::detail::tracefs_append("kprobe_events", line);
  } catch (const Error& e) {
    throw Error(e.errno_value(),
                fmt::format("program '{}': creating {} through tracefs: {}", program.name(), description, e.message()));
  }
  auto remove = [event] { kernel::detail::tracefs_append("kprobe_events", fmt::format("-:kprobes/{}", event)); };
  UniqueFd perf_event;
  try {
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = kernel::detail::tracepoint_id("kprobes", event);
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    perf_event = open_perf_event(attr, 0);
    if (!perf_event) util::fail_errno("program '{}': perf_event_open of {}", program.name(), description);
  } catch (...) {
    try {
      remove();
    } catch (const Error& e) {
      util::log(LogLevel::warning, "{}: {}", description, e.message());
    }
    throw;
  }
  return attach_to_perf_event(program, std::move(perf_event), options.cookie, description, std::move(remove));
}

}  // namespace

Link Program::attach_tracepoint(std::string_view category, std::string_view name, std::uint64_t cookie) const {
  const auto id = for_program(*this, [&] { return kernel::detail::tracepoint_id(category, name); });
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = id;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  // One event (CPU 0, any task) is enough: the programs of a tracepoint run on every CPU.
  UniqueFd event = open_perf_event(attr, 0);
  if (!event) util::fail_errno("program '{}': perf_event_open of tracepoint {}/{}", name_, category, name);
  return attach_to_perf_event(*this, std::move(event), cookie,
                              fmt::format("tracepoint {}/{} (program '{}')", category, name, name_));
}

Link Program::attach_raw_tracepoint(std::string_view name, std::uint64_t cookie) const {
  const std::string tracepoint(name);
  // The pinned layout: raw_tracepoint.cookie (6.10) is newer than the system header.
  uapi::bpf_attr attr = kernel::detail::zeroed_pinned_attr();
  attr.raw_tracepoint.name = reinterpret_cast<std::uintptr_t>(tracepoint.c_str());
  attr.raw_tracepoint.prog_fd = static_cast<std::uint32_t>(fd());
  if (cookie != 0) {
    if (!kernel::has_raw_tp_cookie()) {
      kernel::fail_unsupported(
          kernel::Feature::raw_tp_cookie,
          fmt::format("program '{}': raw tracepoint {}: a bpf cookie on raw tracepoints needs Linux 6.10", name_,
                      name));
    }
    attr.raw_tracepoint.cookie = cookie;
  }
  const long fd = kernel::detail::bpf_call(BPF_RAW_TRACEPOINT_OPEN, attr);
  if (fd < 0) {
    if (errno == ENOENT) {
      util::fail(std::errc::no_such_file_or_directory, "program '{}': unknown raw tracepoint '{}'", name_, name);
    }
    util::fail_errno("program '{}': attaching to raw tracepoint '{}'", name_, name);
  }
  return bpf_link(fd, fmt::format("raw tracepoint {} (program '{}')", name, name_));
}

Link Program::attach_trace(std::uint64_t cookie) const {
  const auto description = fmt::format("{} (program '{}')", section_.empty() ? "trampoline" : section_, name_);
  std::uint32_t attach_type = 0;  // freplace (ext) programs have none
  if (definition_.expected_attach_type) {
    attach_type = static_cast<std::uint32_t>(*definition_.expected_attach_type);
  } else if (type_ == ProgramType::lsm) {
    attach_type = BPF_LSM_MAC;
  } else if (type_ != ProgramType::ext) {
    util::fail(std::errc::invalid_argument,
               "program '{}': attach_trace needs the program's attach type (fentry, fexit, fmod_ret, tp_btf, lsm), "
               "which only a program loaded from its SEC() name carries",
               name_);
  }
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(fd());
  attr.link_create.attach_type = attach_type;
  attr.link_create.tracing.cookie = cookie;
  long fd = kernel::detail::bpf_call(BPF_LINK_CREATE, attr);
  if (fd < 0 && errno == EINVAL && cookie == 0) {
    // Kernels before trampoline links (5.10) or tp_btf links (6.10) attach through
    // BPF_RAW_TRACEPOINT_OPEN with no name; the error reported stays the first one.
    const int first = errno;
    bpf_attr raw = zeroed_attr();
    raw.raw_tracepoint.prog_fd = static_cast<std::uint32_t>(this->fd());
    fd = kernel::detail::bpf_call(BPF_RAW_TRACEPOINT_OPEN, raw);
    if (fd < 0) errno = first;
  }
  if (fd < 0) util::fail_errno("attaching {}", description);
  return bpf_link(fd, description);
}

Link Program::attach_iter(const IterOptions& options) const {
  bpf_iter_link_info info;
  std::memset(&info, 0, sizeof(info));
  int parameters = 0;
  if (options.map_fd >= 0) {
    info.map.map_fd = static_cast<std::uint32_t>(options.map_fd);
    ++parameters;
  }
  if (options.task_pid > 0) {
    info.task.pid = static_cast<std::uint32_t>(options.task_pid);
    ++parameters;
  }
  if (options.cgroup_fd >= 0) {
    info.cgroup.cgroup_fd = static_cast<std::uint32_t>(options.cgroup_fd);
    ++parameters;
  }
  if (parameters > 1) {
    util::fail(std::errc::invalid_argument, "program '{}': an iterator takes one of a map, a task or a cgroup, not {}",
               name_, parameters);
  }
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(fd());
  attr.link_create.attach_type = BPF_TRACE_ITER;
  // Kernels before iterator parameters (5.9) want no iter_info at all.
  if (parameters > 0) {
    attr.link_create.iter_info = reinterpret_cast<std::uintptr_t>(&info);
    attr.link_create.iter_info_len = sizeof(info);
  }
  const auto description = fmt::format("iterator {} (program '{}')",
                                       definition_.attach_target.empty() ? section_ : definition_.attach_target, name_);
  const long fd = kernel::detail::bpf_call(BPF_LINK_CREATE, attr);
  if (fd < 0) util::fail_errno("attaching {}", description);
  return bpf_link(fd, description);
}

UniqueFd Link::open_iterator() const {
  if (fd() < 0) {
    util::fail(std::errc::invalid_argument, "cannot open an iterator on {}: it is not a BPF link", description());
  }
  bpf_attr attr = zeroed_attr();
  attr.iter_create.link_fd = static_cast<std::uint32_t>(fd());
  return kernel::detail::bpf_fd_call(BPF_ITER_CREATE, attr, fmt::format("of {}", description()));
}

std::string Link::read_iterator() const {
  const UniqueFd stream = open_iterator();
  std::string output;
  char buffer[16384];
  while (true) {
    const auto got = ::read(stream.get(), buffer, sizeof(buffer));
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      util::fail_errno("reading {} (after {} bytes)", description(), output.size());
    }
    output.append(buffer, static_cast<std::size_t>(got));
  }
  return output;
}

Link Program::attach_kprobe(std::string_view function, const KprobeOptions& options) const {
  if (function.empty())
    util::fail(std::errc::invalid_argument, "program '{}': kprobe on an empty function name", name_);
  if (options.retprobe && options.offset != 0) {
    util::fail(std::errc::invalid_argument, "program '{}': a kretprobe on '{}' cannot have an offset ({:#x})", name_,
               function, options.offset);
  }
  const auto pmu = kernel::detail::pmu_type("kprobe");
  if (!pmu || options.force_tracefs) {
    if (!kernel::detail::tracefs_has("kprobe_events")) {
      if (!pmu) no_kprobes(*this, function);
      util::fail(std::errc::operation_not_supported,
                 "program '{}': kprobe on '{}' through tracefs asked for, but tracefs has no kprobe_events", name_,
                 function);
    }
    return attach_kprobe_tracefs(*this, function, options);
  }
  const std::string symbol(function);
  const auto description = kprobe_description(*this, function, options);
  perf_event_attr attr{};
  attr.type = *pmu;
  if (options.retprobe) {
    const auto bit = for_program(*this, [] { return kernel::detail::pmu_retprobe_bit("kprobe"); });
    attr.config |= std::uint64_t{1} << bit;
  }
  attr.config1 = reinterpret_cast<std::uintptr_t>(symbol.c_str());  // kprobe_func
  attr.config2 = options.offset;                                    // probe_offset
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  UniqueFd event = open_perf_event(attr, 0);
  if (!event) {
    if (errno == ENOENT || errno == EINVAL) {
      util::fail_errno("program '{}': cannot create {}: no such traceable kernel function (or offset)", name_,
                       description);
    }
    util::fail_errno("program '{}': perf_event_open of {}", name_, description);
  }
  return attach_to_perf_event(*this, std::move(event), options.cookie, description);
}

Link Program::attach_ksyscall(std::string_view syscall, const KprobeOptions& options) const {
  if (!kernel::detail::pmu_type("kprobe") && !kernel::detail::tracefs_has("kprobe_events")) {
    no_kprobes(*this, fmt::format("syscall {}", syscall));
  }
  return attach_kprobe(syscall_prefix() + std::string(syscall), options);
}

Link Program::attach_kprobe_multi(const KprobeMultiOptions& options) const {
  const std::string target = options.pattern.empty() ? fmt::format("{} functions", options.symbols.size())
                                                     : fmt::format("'{}'", options.pattern);
  if (!options.pattern.empty() && !options.symbols.empty()) {
    util::fail(std::errc::invalid_argument, "program '{}': kprobe.multi takes symbols or a pattern, not both", name_);
  }
  if (options.session ? !kernel::has_kprobe_session() : !kernel::has_kprobe_multi()) {
    if (!kernel::detail::pmu_type("kprobe") && !kernel::detail::tracefs_has("kprobe_events")) no_kprobes(*this, target);
    kernel::fail_unsupported(options.session ? kernel::Feature::kprobe_session : kernel::Feature::kprobe_multi,
                             fmt::format("program '{}': cannot attach {} to {}: this kernel has no {}", name_,
                                         options.session ? "kprobe.session" : "kprobe.multi", target,
                                         options.session ? "kprobe.session links (Linux 6.10)"
                                                         : "kprobe.multi links (Linux 5.18, CONFIG_FPROBE)"));
  }
  std::vector<std::string> symbols = options.symbols;
  if (!options.pattern.empty()) {
    for (auto& name : for_program(*this, [] { return kernel::detail::traceable_functions(); })) {
      if (::fnmatch(options.pattern.c_str(), name.c_str(), 0) == 0) symbols.push_back(std::move(name));
    }
    if (symbols.empty()) {
      util::fail(std::errc::no_such_file_or_directory,
                 "program '{}': kprobe.multi pattern '{}' matches no function in {}/available_filter_functions", name_,
                 options.pattern, kernel::detail::tracefs_root());
    }
  }
  if (symbols.empty()) util::fail(std::errc::invalid_argument, "program '{}': kprobe.multi with no symbols", name_);
  if (!options.cookies.empty() && options.cookies.size() != symbols.size()) {
    util::fail(std::errc::invalid_argument, "program '{}': kprobe.multi with {} cookies for {} functions", name_,
               options.cookies.size(), symbols.size());
  }
  std::vector<std::uint64_t> names;
  names.reserve(symbols.size());
  for (const auto& symbol : symbols) names.push_back(reinterpret_cast<std::uintptr_t>(symbol.c_str()));
  bpf_attr attr = zeroed_attr();
  attr.link_create.prog_fd = static_cast<std::uint32_t>(fd());
  attr.link_create.attach_type =
      static_cast<std::uint32_t>(options.session ? AttachType::trace_kprobe_session : AttachType::trace_kprobe_multi);
  attr.link_create.kprobe_multi.flags = options.retprobe ? BPF_F_KPROBE_MULTI_RETURN : 0;
  attr.link_create.kprobe_multi.cnt = static_cast<std::uint32_t>(names.size());
  attr.link_create.kprobe_multi.syms = reinterpret_cast<std::uintptr_t>(names.data());
  if (!options.cookies.empty()) {
    attr.link_create.kprobe_multi.cookies = reinterpret_cast<std::uintptr_t>(options.cookies.data());
  }
  const auto description = fmt::format("{} {} (program '{}')",
                                       options.session    ? "kprobe.session"
                                       : options.retprobe ? "kretprobe.multi"
                                                          : "kprobe.multi",
                                       target, name_);
  const long fd = kernel::detail::bpf_call(BPF_LINK_CREATE, attr);
  if (fd < 0) util::fail_errno("attaching {}", description);
  return bpf_link(fd, description);
}

Link Program::attach_perf_event(UniqueFd perf_event, std::uint64_t cookie) const {
  if (!perf_event) util::fail(std::errc::bad_file_descriptor, "program '{}': attach to an invalid perf event", name_);
  auto description = fmt::format("perf event fd {} (program '{}')", perf_event.get(), name_);
  return attach_to_perf_event(*this, std::move(perf_event), cookie, std::move(description));
}

std::vector<Link> Program::attach_perf_event_per_cpu(const perf_event_attr& attr, std::uint64_t cookie) const {
  std::vector<Link> links;
  const std::uint32_t cpus = possible_cpus();
  for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) {
    perf_event_attr copy = attr;
    UniqueFd event = open_perf_event(copy, static_cast<int>(cpu));
    if (!event) {
      if (errno == ENODEV) continue;  // an offline CPU
      util::fail_errno("program '{}': perf_event_open of perf event {}:{} on CPU {}", name_, attr.type, attr.config,
                       cpu);
    }
    links.push_back(attach_to_perf_event(
        *this, std::move(event), cookie,
        fmt::format("perf event {}:{} on CPU {} (program '{}')", attr.type, attr.config, cpu, name_)));
  }
  if (links.empty()) {
    util::fail(std::errc::no_such_device, "program '{}': perf event {}:{}: no online CPU", name_, attr.type,
               attr.config);
  }
  return links;
}

}  // namespace corebpf
