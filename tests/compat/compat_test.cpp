// Side by side with libbpf: every program of every object of the compat corpus (tests/compat/bpf)
// loaded the way a libbpf user loads it (open, autoload only that program, load, auto-attach,
// close) by corebpf and by each libbpf oracle (tests/support/libbpf_compat_oracle.c: Debian's 1.1,
// and 1.7 when ../shared/peers has it). What libbpf opens corebpf opens; every program libbpf
// loads corebpf loads, and attaches as libbpf does; when both fail, the errno is of the same
// class. corebpf may load more (legacy "maps" sections, which libbpf 1.0 dropped): counted,
// printed, not a failure.
#include <sys/stat.h>

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

}  // namespace
}  // namespace corebpf
