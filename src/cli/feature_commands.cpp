// `corebpf feature probe [kernel] [full] [unprivileged] [macros [prefix PREFIX]]`: what the running
// kernel offers BPF, by the library's probes (corebpf/features.hpp), in bpftool's text, C macro
// and JSON forms (its JSON keys, so scripts written for bpftool keep working).
#include <linux/bpf.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object_spec.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

struct ProbeRequest {
  std::string device;  // dev NAME: offload to that network device
  std::uint32_t ifindex = 0;
  bool full = false;
  bool unprivileged = false;
  bool macros = false;
  std::string prefix;
};

// The kernel config options bpftool reports, in its order; CONFIG_HZ is also a macro.
constexpr std::string_view kConfigOptions[] = {
    "CONFIG_BPF",
    "CONFIG_BPF_SYSCALL",
    "CONFIG_HAVE_EBPF_JIT",
    "CONFIG_BPF_JIT",
    "CONFIG_BPF_JIT_ALWAYS_ON",
    "CONFIG_DEBUG_INFO_BTF",
    "CONFIG_DEBUG_INFO_BTF_MODULES",
    "CONFIG_CGROUPS",
    "CONFIG_CGROUP_BPF",
    "CONFIG_CGROUP_NET_CLASSID",
    "CONFIG_SOCK_CGROUP_DATA",
    "CONFIG_BPF_EVENTS",
    "CONFIG_KPROBE_EVENTS",
    "CONFIG_UPROBE_EVENTS",
    "CONFIG_TRACING",
    "CONFIG_FTRACE_SYSCALLS",
    "CONFIG_FUNCTION_ERROR_INJECTION",
    "CONFIG_BPF_KPROBE_OVERRIDE",
    "CONFIG_NET",
    "CONFIG_XDP_SOCKETS",
    "CONFIG_LWTUNNEL_BPF",
    "CONFIG_NET_ACT_BPF",
    "CONFIG_NET_CLS_BPF",
    "CONFIG_NET_CLS_ACT",
    "CONFIG_NET_SCH_INGRESS",
    "CONFIG_XFRM",
    "CONFIG_IP_ROUTE_CLASSID",
    "CONFIG_IPV6_SEG6_BPF",
    "CONFIG_BPF_LIRC_MODE2",
    "CONFIG_BPF_STREAM_PARSER",
    "CONFIG_NETFILTER_XT_MATCH_BPF",
    "CONFIG_BPFILTER",
    "CONFIG_BPFILTER_UMH",
    "CONFIG_TEST_BPF",
    "CONFIG_HZ",
};

// A sysctl under /proc/sys as a number; -1 when it cannot be read.
long long sysctl_number(const std::string& path) {
  std::ifstream in(path);
  long long value = -1;
  if (!(in >> value)) return -1;
  return value;
}

struct Sysctl {
  std::string_view key;
  std::string_view path;
  // The sentence for values 0, 1, 2; for -1 (unreadable); and a format for other values.
  std::string_view states[3];
  std::string_view unreadable;
  std::string_view unknown;
};

constexpr Sysctl kSysctls[] = {
    {"unprivileged_bpf_disabled",
     "/proc/sys/kernel/unprivileged_bpf_disabled",
     {"bpf() syscall for unprivileged users is enabled",
      "bpf() syscall restricted to privileged users (without recovery)",
      "bpf() syscall restricted to privileged users (admin can change)"},
     "Unable to retrieve required privileges for bpf() syscall",
     "bpf() syscall restriction has unknown value {}"},
    {"bpf_jit_enable",
     "/proc/sys/net/core/bpf_jit_enable",
     {"JIT compiler is disabled", "JIT compiler is enabled",
      "JIT compiler is enabled with debugging traces in kernel logs"},
     "Unable to retrieve JIT-compiler status",
     "JIT-compiler status has unknown value {}"},
    {"bpf_jit_harden",
     "/proc/sys/net/core/bpf_jit_harden",
     {"JIT compiler hardening is disabled", "JIT compiler hardening is enabled for unprivileged users",
      "JIT compiler hardening is enabled for all users"},
     "Unable to retrieve JIT hardening status",
     "JIT hardening status has unknown value {}"},
    {"bpf_jit_kallsyms",
     "/proc/sys/net/core/bpf_jit_kallsyms",
     {"JIT compiler kallsyms exports are disabled", "JIT compiler kallsyms exports are enabled for root",
      "JIT compiler kallsyms exports are enabled for all users"},
     "Unable to retrieve JIT kallsyms export status",
     "JIT kallsyms exports status has unknown value {}"},
};

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

// Drops the capabilities that make bpf() privileged from the effective set, so the probes answer
// for an unprivileged user (the permitted set keeps them; nothing else in the process needs them).
void drop_bpf_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) util::fail_errno("feature probe unprivileged: capget");
  for (const int cap : {CAP_SYS_ADMIN, CAP_NET_ADMIN, 38 /* CAP_PERFMON */, 39 /* CAP_BPF */})
    data[cap / 32].effective &= ~(1u << (cap % 32));
  if (::syscall(SYS_capset, &header, data) != 0) util::fail_errno("feature probe unprivileged: capset");
}

// Every program and map type this build knows, by the names bpftool prints.
std::vector<ProgramType> program_types() {
  std::vector<ProgramType> types;
  for (std::uint32_t value = 1; !program_type_name(static_cast<ProgramType>(value)).empty(); ++value)
    types.push_back(static_cast<ProgramType>(value));
  return types;
}

std::vector<MapType> map_types() {
  std::vector<MapType> types;
  for (std::uint32_t value = 1; !map_type_name(static_cast<MapType>(value)).empty(); ++value)
    types.push_back(static_cast<MapType>(value));
  return types;
}

// The helpers programs of `type` may call; empty when it cannot be told.
std::vector<std::string_view> available_helpers(ProgramType type, bool full) {
  std::vector<std::string_view> helpers;
  if (!kernel::can_probe_helpers(type)) return helpers;
  for (std::uint32_t id = 1; !helper_name(id).empty(); ++id) {
    // Helpers whose probe writes to the kernel log, unless `full` asks for them.
    if (!full && (id == BPF_FUNC_trace_printk || id == BPF_FUNC_trace_vprintk || id == BPF_FUNC_probe_write_user))
      continue;
    if (kernel::has_helper(type, id)) helpers.push_back(helper_name(id));
  }
  return helpers;
}

struct Misc {
  std::string_view key;
  std::string_view text;
  std::string_view macro;
  bool (*probe)();
  kernel::MiscFeature feature;
};

constexpr Misc kMisc[] = {
    {"have_large_insn_limit", "Large program size limit", "LARGE_INSN_LIMIT", &kernel::has_large_insn_limit,
     kernel::MiscFeature::large_insn_limit},
    {"have_bounded_loops", "Bounded loop support", "BOUNDED_LOOPS", &kernel::has_bounded_loops,
     kernel::MiscFeature::bounded_loops},
    {"have_v2_isa_extension", "ISA extension v2", "V2_ISA_EXTENSION", &kernel::has_isa_v2, kernel::MiscFeature::isa_v2},
    {"have_v3_isa_extension", "ISA extension v3", "V3_ISA_EXTENSION", &kernel::has_isa_v3, kernel::MiscFeature::isa_v3},
    {"have_v4_isa_extension", "ISA extension v4", "V4_ISA_EXTENSION", &kernel::has_isa_v4, kernel::MiscFeature::isa_v4},
};

// `feature probe dev NAME`: what a device can offload, as bpftool asks it (the program and map
// types a device JIT may take; the helpers of each type it takes; the misc features).
constexpr ProgramType kOffloadProgramTypes[] = {ProgramType::sched_cls, ProgramType::xdp};
constexpr MapType kOffloadMapTypes[] = {MapType::hash, MapType::array};

std::vector<std::string_view> device_helpers(ProgramType type, const ProbeRequest& request) {
  std::vector<std::string_view> helpers;
  if (!kernel::device_has_program_type(type, request.ifindex)) return helpers;
  for (std::uint32_t id = 1; !helper_name(id).empty(); ++id) {
    if (!request.full &&
        (id == BPF_FUNC_trace_printk || id == BPF_FUNC_trace_vprintk || id == BPF_FUNC_probe_write_user))
      continue;
    if (kernel::device_has_helper(type, id, request.ifindex)) helpers.push_back(helper_name(id));
  }
  return helpers;
}

void probe_device(Context& context, const ProbeRequest& request) {
  const std::uint32_t ifindex = request.ifindex;
  if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) {
      json.begin_object();
      json.key("syscall_config");
      json.begin_object();
      json.member("have_bpf_syscall", kernel::has_bpf_syscall());
      json.end_object();
      json.key("program_types");
      json.begin_object();
      for (const ProgramType type : kOffloadProgramTypes)
        json.member(fmt::format("have_{}_prog_type", program_type_name(type)),
                    kernel::device_has_program_type(type, ifindex));
      json.end_object();
      json.key("map_types");
      json.begin_object();
      for (const MapType type : kOffloadMapTypes)
        json.member(fmt::format("have_{}_map_type", map_type_name(type)), kernel::device_has_map_type(type, ifindex));
      json.end_object();
      json.key("helpers");
      json.begin_object();
      for (const ProgramType type : kOffloadProgramTypes) {
        json.key(fmt::format("{}_available_helpers", program_type_name(type)));
        json.begin_array();
        for (const std::string_view helper : device_helpers(type, request)) json.value(helper);
        json.end_array();
      }
      json.end_object();
      json.key("misc");
      json.begin_object();
      for (const Misc& misc : kMisc) json.member(misc.key, kernel::device_has_misc(misc.feature, ifindex));
      json.end_object();
      json.end_object();
    });
    return;
  }
  Output& out = context.out;
  const auto available = [](bool yes) { return yes ? "is available" : "is NOT available"; };
  out.print("Scanning system call availability...\nbpf() syscall {}\n", available(kernel::has_bpf_syscall()));
  out.write("\nScanning eBPF program types...\n");
  for (const ProgramType type : kOffloadProgramTypes)
    out.print("eBPF program_type {} {}\n", program_type_name(type),
              available(kernel::device_has_program_type(type, ifindex)));
  out.write("\nScanning eBPF map types...\n");
  for (const MapType type : kOffloadMapTypes)
    out.print("eBPF map_type {} {}\n", map_type_name(type), available(kernel::device_has_map_type(type, ifindex)));
  out.write("\nScanning eBPF helper functions...\n");
  for (const ProgramType type : kOffloadProgramTypes) {
    out.print("eBPF helpers supported for program type {}:", program_type_name(type));
    if (!kernel::device_has_program_type(type, ifindex)) {
      out.write("\n\tProgram type not supported\n");
      continue;
    }
    for (const std::string_view helper : device_helpers(type, request)) out.print("\n\t- {}", helper);
    out.write("\n");
  }
  out.write("\nScanning miscellaneous eBPF features...\n");
  for (const Misc& misc : kMisc)
    out.print("{} {}\n", misc.text, available(kernel::device_has_misc(misc.feature, ifindex)));
  out.write("\n");
}

void probe_json(Context& context, const ProbeRequest& request) {
  const auto& config = kernel::running_kconfig();
  write_json(context, [&](util::JsonWriter& json) {
    json.begin_object();
    json.key("system_config");
    json.begin_object();
    for (const Sysctl& sysctl : kSysctls) json.member(sysctl.key, sysctl_number(std::string(sysctl.path)));
    json.member("bpf_jit_limit", sysctl_number("/proc/sys/net/core/bpf_jit_limit"));
    for (const std::string_view option : kConfigOptions) {
      json.key(option);
      const auto it = config.find(option);
      if (it == config.end() || it->second == "n") {
        json.null();
      } else {
        json.value(it->second);
      }
    }
    json.end_object();
    json.key("syscall_config");
    json.begin_object();
    json.member("have_bpf_syscall", kernel::has_bpf_syscall());
    json.end_object();
    if (!kernel::has_bpf_syscall()) {
      json.end_object();
      return;
    }
    json.key("program_types");
    json.begin_object();
    for (const ProgramType type : program_types())
      json.member(fmt::format("have_{}_prog_type", program_type_name(type)), kernel::has_program_type(type));
    json.end_object();
    json.key("map_types");
    json.begin_object();
    for (const MapType type : map_types())
      json.member(fmt::format("have_{}_map_type", map_type_name(type)), kernel::has_map_type(type));
    json.end_object();
    json.key("helpers");
    json.begin_object();
    for (const ProgramType type : program_types()) {
      json.key(fmt::format("{}_available_helpers", program_type_name(type)));
      json.begin_array();
      for (const std::string_view helper : available_helpers(type, request.full)) json.value(helper);
      json.end_array();
    }
    json.end_object();
    json.key("misc");
    json.begin_object();
    for (const Misc& misc : kMisc) json.member(misc.key, misc.probe());
    json.end_object();
    json.end_object();
  });
}

void probe_text(Output& out, const ProbeRequest& request) {
  const auto& config = kernel::running_kconfig();
  const std::string& p = request.prefix;
  const auto available = [](bool yes) { return yes ? "is available" : "is NOT available"; };
  const auto define = [&](bool yes, const std::string& name) {
    out.print("#define {}{}{}\n", yes ? "" : "NO_", p, name);
  };
  if (request.macros) {
    out.write("/*** Misc kernel config items ***/\n");
    if (const auto it = config.find("CONFIG_HZ"); it != config.end())
      out.print("#define {}CONFIG_HZ {}\n", p, it->second);
    out.write("\n/*** System call availability ***/\n");
    define(kernel::has_bpf_syscall(), "HAVE_BPF_SYSCALL");
  } else {
    out.write("Scanning system configuration...\n");
    for (const Sysctl& sysctl : kSysctls) {
      const long long value = sysctl_number(std::string(sysctl.path));
      if (value >= 0 && value <= 2) {
        out.print("{}\n", sysctl.states[value]);
      } else if (value == -1) {
        out.print("{}\n", sysctl.unreadable);
      } else {
        out.print("{}\n", fmt::format(fmt::runtime(sysctl.unknown), value));
      }
    }
    const long long limit = sysctl_number("/proc/sys/net/core/bpf_jit_limit");
    if (limit == -1) {
      out.write("Unable to retrieve global memory limit for JIT compiler for unprivileged users\n");
    } else {
      out.print("Global memory limit for JIT compiler for unprivileged users is {} bytes\n", limit);
    }
    for (const std::string_view option : kConfigOptions) {
      const auto it = config.find(option);
      if (it == config.end() || it->second == "n") {
        out.print("{} is not set\n", option);
      } else {
        out.print("{} is set to {}\n", option, it->second);
      }
    }
    out.print("\nScanning system call availability...\nbpf() syscall {}\n", available(kernel::has_bpf_syscall()));
  }
  if (!kernel::has_bpf_syscall()) return;

  out.write(request.macros ? "\n/*** eBPF program types ***/\n" : "\nScanning eBPF program types...\n");
  for (const ProgramType type : program_types()) {
    const bool yes = kernel::has_program_type(type);
    if (request.macros) {
      define(yes, fmt::format("HAVE_{}_PROG_TYPE", upper(program_type_name(type))));
    } else {
      out.print("eBPF program_type {} {}\n", program_type_name(type), available(yes));
    }
  }
  out.write(request.macros ? "\n/*** eBPF map types ***/\n" : "\nScanning eBPF map types...\n");
  for (const MapType type : map_types()) {
    const bool yes = kernel::has_map_type(type);
    if (request.macros) {
      define(yes, fmt::format("HAVE_{}_MAP_TYPE", upper(map_type_name(type))));
    } else {
      out.print("eBPF map_type {} {}\n", map_type_name(type), available(yes));
    }
  }
  if (request.macros) {
    out.print(
        "\n/*** eBPF helper functions ***/\n"
        "/*\n"
        " * Use {0}HAVE_PROG_TYPE_HELPER(prog_type_name, helper_name)\n"
        " * to determine if <helper_name> is available for <prog_type_name>,\n"
        " * e.g.\n"
        " *\t#if {0}HAVE_PROG_TYPE_HELPER(xdp, bpf_redirect)\n"
        " *\t\t// do stuff with this helper\n"
        " *\t#elif\n"
        " *\t\t// use a workaround\n"
        " *\t#endif\n"
        " */\n"
        "#define {0}HAVE_PROG_TYPE_HELPER(prog_type, helper)\t\\\n"
        "\t{0}BPF__PROG_TYPE_ ## prog_type ## __HELPER_ ## helper\n",
        p);
  } else {
    out.write("\nScanning eBPF helper functions...\n");
  }
  for (const ProgramType type : program_types()) {
    const std::string_view name = program_type_name(type);
    const auto helpers = available_helpers(type, request.full);
    if (request.macros) {
      for (std::uint32_t id = 1; !helper_name(id).empty(); ++id) {
        const bool yes = std::find(helpers.begin(), helpers.end(), helper_name(id)) != helpers.end();
        out.print("#define {}BPF__PROG_TYPE_{}__HELPER_{} {}\n", p, name, helper_name(id), yes ? 1 : 0);
      }
      continue;
    }
    out.print("eBPF helpers supported for program type {}:", name);
    if (!kernel::has_program_type(type)) {
      out.write("\n\tProgram type not supported\n");
    } else if (!kernel::can_probe_helpers(type)) {
      out.write("\n\tCould not determine which helpers are available\n");
    } else {
      for (const std::string_view helper : helpers) out.print("\n\t- {}", helper);
      out.write("\n");
    }
  }
  out.write(request.macros ? "\n/*** eBPF misc features ***/\n" : "\nScanning miscellaneous eBPF features...\n");
  for (const Misc& misc : kMisc) {
    if (request.macros) {
      define(misc.probe(), fmt::format("HAVE_{}", misc.macro));
    } else {
      out.print("{} {}\n", misc.text, available(misc.probe()));
    }
  }
  if (!request.macros) out.write("\n");
}

void run_probe(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"kernel", "dev", "full", "unprivileged", "macros", "prefix"};
  ProbeRequest request;
  while (!args.empty()) {
    const std::string_view keyword = args.take_keyword(keywords, "probe keyword");
    if (keyword == "dev") {
      request.device = std::string(args.take("device name"));
      request.ifindex = ::if_nametoindex(request.device.c_str());
      if (request.ifindex == 0)
        util::fail(std::errc::no_such_device,
                   "feature probe: there is no network device '{}' in this network namespace", request.device);
    } else if (keyword == "full") {
      request.full = true;
    } else if (keyword == "unprivileged") {
      request.unprivileged = true;
    } else if (keyword == "macros") {
      request.macros = true;
    } else if (keyword == "prefix") {
      if (!request.macros) throw UsageError("'prefix' applies to 'macros'");
      request.prefix = std::string(args.take("macro prefix"));
    }
  }
  if (request.macros && context.options.json) throw UsageError("'macros' prints C: it takes no -j");
  if (request.macros && !request.device.empty()) throw UsageError("'macros' describes the kernel: it takes no 'dev'");
  if (request.unprivileged) drop_bpf_capabilities();
  if (!request.unprivileged && !kernel::has_bpf_privileges())
    util::fail(std::errc::operation_not_permitted,
               "feature probe: the probes load programs and need CAP_BPF or CAP_SYS_ADMIN (run as root, or "
               "probe what users may do with 'unprivileged')");
  if (!request.device.empty()) {
    probe_device(context, request);
  } else if (context.options.json) {
    probe_json(context, request);
  } else {
    probe_text(context.out, request);
  }
}

constexpr Verb kFeatureVerbs[] = {
    {"probe", run_probe, "probe [kernel | dev NAME] [full] [unprivileged] [macros [prefix PREFIX]]"},
};

constexpr Object kFeatureObject = {
    "feature",
    kFeatureVerbs,
    "       kernel: the running kernel (the default).\n"
    "       dev NAME: what network device NAME can offload (its driver runs programs itself, as nfp\n"
    "       does): sched_cls and xdp programs, hash and array maps, their helpers, the misc features;\n"
    "       a device without offload has none of them.\n"
    "       full: also the helpers whose probe writes to the kernel log (trace_printk, probe_write_user).\n"
    "       unprivileged: what a user without CAP_BPF/CAP_SYS_ADMIN may load.\n"
    "       Helpers of tracing programs are probed as tp_btf/sys_enter; those of ext, lsm and struct_ops\n"
    "       programs cannot be told (they need an attach target no kernel is sure to have).\n"
    "       macros: C #defines (HAVE_*_PROG_TYPE, BPF__PROG_TYPE_*__HELPER_*), each name after PREFIX.\n",
};

}  // namespace

const Object& feature_object() { return kFeatureObject; }

}  // namespace corebpf::cli
