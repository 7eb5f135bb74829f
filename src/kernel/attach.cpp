// Program::attach(): the hook and its options from the SEC() name. The attach functions it
// calls live with their families (attach_tracing.cpp, attach_uprobe.cpp, attach_net.cpp).
#include <charconv>

#include "corebpf/program.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {

// "name+0x10" / "name+16" -> {"name", 16}; a target without '+' has offset 0.
std::pair<std::string_view, std::uint64_t> split_offset(std::string_view target, std::string_view what) {
  const auto plus = target.rfind('+');
  if (plus == std::string_view::npos) return {target, 0};
  std::string_view digits = target.substr(plus + 1);
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t offset = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), offset, base);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    util::fail(std::errc::invalid_argument, "{} '{}': bad offset after '+'", what, target);
  }
  return {target.substr(0, plus), offset};
}

}  // namespace

Link Program::attach() const {
  const auto& target = definition_.attach_target;
  const auto where = [&] { return fmt::format("program '{}' (section '{}')", name_, section_); };
  const bool needs_target = definition_.auto_attach != AutoAttach::tracing &&
                            definition_.auto_attach != AutoAttach::lsm && definition_.auto_attach != AutoAttach::iter;
  if (definition_.type == ProgramType::struct_ops) {
    util::fail(std::errc::operation_not_supported,
               "{} is a struct_ops program: it runs as a member of its struct_ops map, which "
               "Object::attach_struct_ops(map) registers",
               where());
  }
  // EOPNOTSUPP, as libbpf's attach() says it: "attach this one by hand", not a failure of the hook.
  if (definition_.type == ProgramType::perf_event) {
    util::fail(std::errc::operation_not_supported,
               "{} cannot be attached from its section name alone: a perf_event program needs a perf event "
               "(perf_event_open) given to attach_perf_event",
               where());
  }
  if (definition_.auto_attach == AutoAttach::none) {
    util::fail(std::errc::operation_not_supported,
               "{} cannot be attached from its section name alone: its hook needs a target (an "
               "interface, cgroup, socket or map) given to the matching attach_* call",
               where());
  }
  if (needs_target && target.empty() && section_.ends_with('/')) {
    // "raw_tp/": a hook named by an empty name, which exists nowhere (ENOENT, as with libbpf).
    util::fail(std::errc::no_such_file_or_directory, "{}: the section names an empty attach target", where());
  }
  if (needs_target && target.empty()) {
    util::fail(std::errc::operation_not_supported,
               "{} names no attach target in its section: attach it with the matching attach_* call", where());
  }
  switch (definition_.auto_attach) {
    case AutoAttach::kprobe:
    case AutoAttach::kretprobe: {
      const auto [function, offset] = split_offset(target, "kprobe target");
      KprobeOptions options;
      options.offset = offset;
      options.retprobe = definition_.auto_attach == AutoAttach::kretprobe;
      return attach_kprobe(function, options);
    }
    case AutoAttach::ksyscall:
    case AutoAttach::kretsyscall: {
      KprobeOptions options;
      options.retprobe = definition_.auto_attach == AutoAttach::kretsyscall;
      return attach_ksyscall(target, options);
    }
    case AutoAttach::kprobe_multi:
    case AutoAttach::kretprobe_multi:
    case AutoAttach::kprobe_session: {
      KprobeMultiOptions options;
      options.pattern = target;
      options.retprobe = definition_.auto_attach == AutoAttach::kretprobe_multi;
      options.session = definition_.auto_attach == AutoAttach::kprobe_session;
      return attach_kprobe_multi(options);
    }
    case AutoAttach::uprobe:
    case AutoAttach::uretprobe: {
      // "path:function[+offset]"; the path may itself hold ':' only before the last one.
      const auto colon = target.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        util::fail(std::errc::invalid_argument, "{}: uprobe target '{}' is not 'path:function[+offset]'", where(),
                   target);
      }
      const auto [function, offset] = split_offset(std::string_view(target).substr(colon + 1), "uprobe target");
      UprobeOptions options;
      options.function = std::string(function);
      options.offset = offset;
      options.retprobe = definition_.auto_attach == AutoAttach::uretprobe;
      return attach_uprobe(target.substr(0, colon), options);
    }
    case AutoAttach::usdt: {
      // "path:provider:name"
      const auto last = target.rfind(':');
      const auto middle = last == std::string::npos || last == 0 ? std::string::npos : target.rfind(':', last - 1);
      if (middle == std::string::npos || middle == 0) {
        util::fail(std::errc::invalid_argument, "{}: usdt target '{}' is not 'path:provider:name'", where(), target);
      }
      return attach_usdt(target.substr(0, middle), std::string_view(target).substr(middle + 1, last - middle - 1),
                         std::string_view(target).substr(last + 1));
    }
    case AutoAttach::tracepoint: {
      const auto slash = target.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
        util::fail(std::errc::invalid_argument, "{}: tracepoint target '{}' is not 'category/name'", where(), target);
      }
      return attach_tracepoint(std::string_view(target).substr(0, slash), std::string_view(target).substr(slash + 1));
    }
    case AutoAttach::raw_tracepoint:
      return attach_raw_tracepoint(target);
    case AutoAttach::tracing:
    case AutoAttach::lsm:
      return attach_trace();
    case AutoAttach::iter:
      return attach_iter();
    case AutoAttach::uprobe_multi:
    case AutoAttach::uretprobe_multi: {
      // "path:pattern"
      const auto colon = target.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
        util::fail(std::errc::invalid_argument, "{}: uprobe.multi target '{}' is not 'path:pattern'", where(), target);
      }
      UprobeMultiOptions options;
      options.pattern = target.substr(colon + 1);
      options.retprobe = definition_.auto_attach == AutoAttach::uretprobe_multi;
      return attach_uprobe_multi(target.substr(0, colon), options);
    }
    case AutoAttach::none:
      break;
  }
  util::fail(std::errc::invalid_argument, "{}: unknown auto-attach kind", where());
}

}  // namespace corebpf
