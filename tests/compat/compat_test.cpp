// Side by side with libbpf: every program of every object of the compat corpus (tests/compat/bpf)
// loaded the way a libbpf user loads it (open, autoload only that program, load, auto-attach,
// close) by corebpf and by each libbpf oracle (tests/support/libbpf_compat_oracle.c: Debian's 1.1,
// and 1.7 when ../shared/peers has it). What libbpf opens corebpf opens; every program libbpf
// loads corebpf loads, and attaches as libbpf does; when both fail, the errno is of the same
// class. corebpf may load more (legacy "maps" sections, which libbpf 1.0 dropped): counted,
// printed, not a failure.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/link.hpp"
#include "corebpf/map.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

constexpr int kNotTried = -1;
constexpr int kKernelEnotsupp = 524;  // the kernel's ENOTSUPP: no libc name

struct Outcome {
  int load = kNotTried;
  int attach = kNotTried;
};

struct ObjectOutcome {
  int open = 0;                             // errno when the object does not open
  std::vector<std::string> order;           // programs in the object's order
  std::map<std::string, Outcome> programs;  // by name
};

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const auto at = text.find(separator);
    parts.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

// Failures a caller branches on the same way count as one class.
std::string errno_class(int error) {
  switch (error) {
    case 0:
      return "ok";
    case kNotTried:
      return "not tried";
    case ENOENT:
    case ESRCH:
      return "not found (ENOENT/ESRCH)";
    case EOPNOTSUPP:
    case kKernelEnotsupp:
      return "not supported (EOPNOTSUPP/ENOTSUPP)";
    case EPERM:
      return "not permitted (EPERM)";
    case EACCES:
      return "rejected (EACCES)";
    case EINVAL:
      return "invalid (EINVAL)";
    default:
      return std::string(std::strerror(error));
  }
}

std::string describe(int error) {
  if (error == 0) return "ok";
  if (error == kNotTried) return "-";
  return std::strerror(error);
}

void remove_pins(const std::string& root) {
  std::error_code ignored;
  std::filesystem::remove_all(root, ignored);
}

ObjectOutcome run_corebpf(const std::string& path, const std::string& pin_root) {
  ObjectOutcome result;
  std::vector<std::string> names;
  try {
    const auto spec = ObjectSpec::open(path);
    for (const auto& program : spec.programs()) names.push_back(program.name());
  } catch (const Error& e) {
    result.open = e.errno_value();
    return result;
  }
  for (const auto& name : names) {
    Outcome outcome;
    ObjectOptions options;
    options.pin_root = pin_root;
    try {
      auto object = Object::open(path, options);
      for (auto& program : object.spec().programs()) program.set_autoload(program.name() == name);
      try {
        object.load();
        outcome.load = 0;
      } catch (const Error& e) {
        outcome.load = e.errno_value();
        if (std::getenv("COREBPF_COMPAT_DEBUG")) std::cerr << "corebpf load: " << e.what() << "\n";
      }
      if (outcome.load == 0) {
        try {
          const Link link = object.program(name).attach();
          outcome.attach = 0;
        } catch (const Error& e) {
          outcome.attach = e.errno_value();
          if (std::getenv("COREBPF_COMPAT_DEBUG")) std::cerr << "corebpf attach: " << e.what() << "\n";
        }
      }
    } catch (const Error& e) {
      outcome.load = e.errno_value();
    }
    result.order.push_back(name);
    result.programs[name] = outcome;
  }
  return result;
}

ObjectOutcome run_oracle(const std::string& oracle, const std::string& path, const std::string& pin_root) {
  std::string output;
  const int status = test::run_command("'" + oracle + "' '" + path + "' '" + pin_root + "'", &output);
  EXPECT_EQ(status, 0) << oracle << " " << path << ":\n" << output;
  ObjectOutcome result;
  std::istringstream lines(output);
  std::string word;
  while (lines >> word) {
    if (word == "version") {
      lines >> word;
    } else if (word == "open") {
      lines >> result.open;
    } else if (word == "prog") {
      std::string name;
      Outcome outcome;
      lines >> name >> outcome.load >> outcome.attach;
      result.order.push_back(name);
      result.programs[name] = outcome;
    } else {
      ADD_FAILURE() << oracle << ": unexpected output '" << word << "':\n" << output;
      break;
    }
  }
  return result;
}

struct Totals {
  int loaded = 0;
  int attached = 0;
  void add(const ObjectOutcome& outcome) {
    for (const auto& [name, program] : outcome.programs) {
      loaded += program.load == 0;
      attached += program.attach == 0;
    }
  }
};

TEST(CompatWithLibbpf, EveryProgramLoadsAndAttachesAsLibbpfDoes) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_BPFFS();
  const auto objects = split(COREBPF_COMPAT_OBJECTS, '|');
  const auto oracle_specs = split(COREBPF_COMPAT_ORACLES, '|');
  if (oracle_specs.empty()) COREBPF_SKIP_OR_FAIL("peer missing: no libbpf oracle was built (libbpf-dev absent)");
  std::vector<std::pair<std::string, std::string>> oracles;  // label, executable
  for (const auto& spec : oracle_specs) {
    const auto equals = spec.find('=');
    oracles.emplace_back(spec.substr(0, equals), spec.substr(equals + 1));
  }

  Totals corebpf_totals;
  std::vector<Totals> oracle_totals(oracles.size());
  std::ostringstream table;
  int extra_loads = 0;
  for (const auto& path : objects) {
    const std::string object_name = std::filesystem::path(path).stem().stem().string();
    const std::string corebpf_pins = test::bpffs_path("compat_corebpf_" + object_name);
    ASSERT_EQ(::mkdir(corebpf_pins.c_str(), 0700), 0) << corebpf_pins << ": " << std::strerror(errno);
    const ObjectOutcome ours = run_corebpf(path, corebpf_pins);
    remove_pins(corebpf_pins);
    corebpf_totals.add(ours);
    for (std::size_t i = 0; i < oracles.size(); ++i) {
      const auto& [label, oracle] = oracles[i];
      const std::string pins = test::bpffs_path("compat_libbpf_" + std::to_string(i) + "_" + object_name);
      ASSERT_EQ(::mkdir(pins.c_str(), 0700), 0) << pins;
      const ObjectOutcome theirs = run_oracle(oracle, path, pins);
      remove_pins(pins);
      oracle_totals[i].add(theirs);
      if (theirs.open != 0) {
        table << object_name << ": " << label << " does not open it (" << describe(theirs.open) << ")\n";
        continue;
      }
      ASSERT_EQ(ours.open, 0) << object_name << ": " << label
                              << " opens it, corebpf does not: " << std::strerror(ours.open);
      EXPECT_EQ(ours.order, theirs.order) << object_name << ": the same programs";
      for (const auto& name : theirs.order) {
        const Outcome& lib = theirs.programs.at(name);
        const auto found = ours.programs.find(name);
        if (found == ours.programs.end()) continue;  // reported by the order check
        const Outcome& own = found->second;
        table << object_name << "/" << name << " [" << label << "]: load " << describe(lib.load) << " / "
              << describe(own.load) << ", attach " << describe(lib.attach) << " / " << describe(own.attach) << "\n";
        if (lib.load == 0) {
          EXPECT_EQ(own.load, 0) << object_name << "/" << name << ": " << label
                                 << " loads it, corebpf fails: " << describe(own.load);
        } else if (own.load != 0) {
          EXPECT_EQ(errno_class(own.load), errno_class(lib.load))
              << object_name << "/" << name << ": both fail to load, differently (" << label << ")";
        } else {
          ++extra_loads;
        }
        if (lib.load == 0 && own.load == 0) {
          EXPECT_EQ(errno_class(own.attach), errno_class(lib.attach))
              << object_name << "/" << name << ": attach: " << label << " " << describe(lib.attach) << ", corebpf "
              << describe(own.attach);
        }
      }
    }
  }
  std::ostringstream summary;
  summary << "corebpf: " << corebpf_totals.loaded << " loaded, " << corebpf_totals.attached << " attached";
  for (std::size_t i = 0; i < oracles.size(); ++i) {
    summary << "; " << oracles[i].first << ": " << oracle_totals[i].loaded << " loaded, " << oracle_totals[i].attached
            << " attached";
  }
  std::cout << table.str() << "COMPAT " << summary.str()
            << " (programs corebpf loads where a libbpf does not: " << extra_loads << ")\n";
  RecordProperty("compat", summary.str());
}

// SEC() spellings from libbpf's "Program Types and ELF Sections" table (an exact name, or a
// "type+" prefix with extras), asked of libbpf_prog_type_by_name() and of section_definition().
constexpr const char* kSectionNames[] = {
    "cgroup/dev",
    "cgroup/skb",
    "cgroup_skb/egress",
    "cgroup_skb/ingress",
    "cgroup/getsockopt",
    "cgroup/setsockopt",
    "cgroup/bind4",
    "cgroup/connect4",
    "cgroup/getpeername4",
    "cgroup/getsockname4",
    "cgroup/bind6",
    "cgroup/connect6",
    "cgroup/getpeername6",
    "cgroup/getsockname6",
    "cgroup/recvmsg4",
    "cgroup/sendmsg4",
    "cgroup/recvmsg6",
    "cgroup/sendmsg6",
    "cgroup/connect_unix",
    "cgroup/sendmsg_unix",
    "cgroup/recvmsg_unix",
    "cgroup/getpeername_unix",
    "cgroup/getsockname_unix",
    "cgroup/post_bind4",
    "cgroup/post_bind6",
    "cgroup/sock_create",
    "cgroup/sock",
    "cgroup/sock_release",
    "cgroup/sysctl",
    "action",
    "tc",
    "classifier",
    "tc/ingress",
    "tc/egress",
    "tcx/ingress",
    "tcx/egress",
    "netkit/primary",
    "netkit/peer",
    "ext",
    "freplace/f",
    "flow_dissector",
    "kprobe",
    "kprobe/do_unlinkat",
    "kretprobe/do_unlinkat",
    "kprobe.multi/do_*",
    "kretprobe.multi/do_*",
    "kprobe.session/do_*",
    "ksyscall/kill",
    "kretsyscall/kill",
    "uprobe",
    "uprobe//bin/sh:main",
    "uretprobe//bin/sh:main",
    "uprobe.s//bin/sh:main",
    "uretprobe.s//bin/sh:main",
    "uprobe.multi//bin/sh:m*",
    "uretprobe.multi//bin/sh:m*",
    "uprobe.multi.s//bin/sh:m*",
    "usdt",
    "usdt//bin/sh:p:n",
    "usdt.s//bin/sh:p:n",
    "lirc_mode2",
    "lsm/file_open",
    "lsm.s/file_open",
    "lsm_cgroup/file_open",
    "lwt_in",
    "lwt_out",
    "lwt_seg6local",
    "lwt_xmit",
    "netfilter",
    "perf_event",
    "raw_tp.w/sys_enter",
    "raw_tracepoint.w/sys_enter",
    "raw_tp",
    "raw_tp/sys_enter",
    "raw_tracepoint",
    "raw_tracepoint/sys_enter",
    "sk_lookup",
    "sk_msg",
    "sk_reuseport/migrate",
    "sk_reuseport",
    "sk_skb",
    "sk_skb/stream_parser",
    "sk_skb/stream_verdict",
    "sk_skb/verdict",
    "sockops",
    "socket",
    "struct_ops/init",
    "struct_ops.s/init",
    "syscall",
    "tp_btf/sched_switch",
    "fentry/vfs_read",
    "fmod_ret/vfs_read",
    "fexit/vfs_read",
    "fentry.s/vfs_read",
    "fmod_ret.s/vfs_read",
    "fexit.s/vfs_read",
    "iter/task",
    "iter.s/task",
    "tp/sched/sched_switch",
    "tracepoint/sched/sched_switch",
    "xdp.frags/cpumap",
    "xdp/cpumap",
    "xdp.frags/devmap",
    "xdp/devmap",
    "xdp.frags",
    "xdp",
    "no_such_section",
    "kprobe_bad",
};

// Every documented section name means what it means to libbpf: the same program type and
// expected attach type (0 where libbpf sets none), and unknown to both when libbpf knows it not.
TEST(CompatWithLibbpf, SectionNamesMeanWhatTheyMeanToLibbpf) {
  for (const auto& spec : split(COREBPF_COMPAT_ORACLES, '|')) {
    const auto label = spec.substr(0, spec.find('='));
    std::string command = "'" + spec.substr(spec.find('=') + 1) + "' --sections";
    for (const char* name : kSectionNames) command += std::string(" '") + name + "'";
    std::string output;
    ASSERT_EQ(test::run_command(command, &output), 0) << output;
    std::istringstream lines(output);
    std::string word;
    int compared = 0;
    while (lines >> word) {
      if (word == "version") {
        lines >> word;
        continue;
      }
      ASSERT_EQ(word, "section") << output;
      std::string name;
      int error = 0, type = 0, attach = 0;
      lines >> name >> error >> type >> attach;
      const auto ours = section_definition(name);
      if (name == "no_such_section" || name == "kprobe_bad") {
        EXPECT_NE(error, 0) << label << " knows '" << name << "'";
        EXPECT_FALSE(ours) << "corebpf knows '" << name << "', which libbpf does not";
        continue;
      }
      if (error != 0) continue;  // a name this release does not know yet (1.1 predates tcx...)
      ++compared;
      ASSERT_TRUE(ours) << label << " knows section '" << name << "', corebpf does not";
      EXPECT_EQ(static_cast<int>(ours->type), type) << label << ": program type of section '" << name << "'";
      EXPECT_EQ(static_cast<int>(ours->expected_attach_type.value_or(AttachType{})), attach)
          << label << ": expected attach type of section '" << name << "'";
    }
    EXPECT_GT(compared, 80) << label;
  }
}

std::string compat_object(std::string_view name) {
  for (const auto& path : split(COREBPF_COMPAT_OBJECTS, '|'))
    if (std::filesystem::path(path).filename() == "compat_" + std::string(name) + ".bpf.o") return path;
  ADD_FAILURE() << "no compat object " << name;
  return {};
}

// libbpf's documented map adjustments, as the kernel sees the maps.
TEST(CompatWithLibbpf, MapDefinitionsAdjustedAsLibbpfDocuments) {
  COREBPF_REQUIRE_ROOT();
  auto ring = Object::open(compat_object("ringbuf"));
  ring.load();
  EXPECT_EQ(ring.map("rb").info().max_entries, 256u * 1024) << "a valid size stays";
  const auto page = static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_EQ(ring.map("odd_rb").info().max_entries, 4 * page) << "3 pages + 100 B: the next power of two pages";

  auto perf = Object::open(compat_object("perf_events"));
  perf.load();
  EXPECT_EQ(perf.map("events").info().max_entries, possible_cpus()) << "no max_entries: one slot per possible CPU";
}

// A pinned perf event array declared without max_entries is reused by the next load: the pin is
// compared with the size the load would create, not the declared 0.
TEST(CompatWithLibbpf, PinnedMapsAreReusedWithTheirEffectiveSize) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_BPFFS();
  const std::string root = test::bpffs_path("compat_reuse");
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0) << root;
  ObjectOptions options;
  options.pin_root = root;
  {
    auto first = Object::open(compat_object("pinned"), options);
    first.load();
    auto second = Object::open(compat_object("pinned"), options);
    second.load();
    EXPECT_EQ(first.map("pinned_events").info().id, second.map("pinned_events").info().id) << "reused";
    EXPECT_EQ(first.map("pinned_counts").info().id, second.map("pinned_counts").info().id) << "reused";
  }
  remove_pins(root);
}

}  // namespace
}  // namespace corebpf
