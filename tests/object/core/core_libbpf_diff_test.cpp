// Differential test: every CO-RE relocation corebpf computes for an object and a target BTF must
// agree with libbpf's (Debian's libbpf 1.1, through tests/support/libbpf_core_oracle.c, which
// loads the object with btf_custom_path and prints libbpf's debug log). libbpf relocates while
// loading, so this needs root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "corebpf/core.hpp"
#include "corebpf/object_spec.hpp"
#include "object/core/core_test_support.hpp"
#include "support/test_support.hpp"

namespace corebpf::test {
namespace {

// What libbpf logged for one relocation.
struct LibbpfRelo {
  std::string kind;
  std::optional<std::uint32_t> insn;
  std::optional<std::uint64_t> value;     // "patched insn #M (...) imm|off|imm64 A -> B": B
  std::optional<std::uint32_t> mem_size;  // "mem_sz A -> B": B
  bool poisoned = false;                  // "substituting insn #M w/ invalid insn"
  std::vector<std::string> other;         // anything else (errors, warnings)
};

struct LibbpfLog {
  // (program or subprogram, relocation number within its ELF section) -> what was logged.
  std::map<std::pair<std::string, int>, LibbpfRelo> relocations;
  std::string text;
};

LibbpfLog run_libbpf(const std::string& object, const std::string& btf) {
  LibbpfLog log;
  const int status = run_command(std::string(COREBPF_LIBBPF_ORACLE) + " " + object + " " + btf + " 2>&1", &log.text);
  EXPECT_EQ(status, 0) << log.text;
  static const std::regex line_re(R"(prog '([^']+)': relo #(\d+): (.*))");
  static const std::regex kind_re(R"(^<([a-z0-9_]+)> )");
  static const std::regex patched_re(R"(^patched insn #(\d+) \([^)]*\) (imm|off|imm64) (\d+) -> (\d+))");
  static const std::regex mem_re(R"(^patched insn #(\d+) \([^)]*\) mem_sz (\d+) -> (\d+))");
  static const std::regex poison_re(R"(^substituting insn #(\d+) w/ invalid insn)");
  std::istringstream in(log.text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, m, line_re)) continue;
    auto& relo = log.relocations[{m[1].str(), std::stoi(m[2].str())}];
    const std::string rest = m[3].str();
    std::smatch k;
    if (std::regex_search(rest, k, kind_re)) {
      relo.kind = k[1].str();
    } else if (std::regex_search(rest, k, patched_re)) {
      relo.insn = std::stoul(k[1].str());
      relo.value = std::stoull(k[4].str());
    } else if (std::regex_search(rest, k, mem_re)) {
      relo.mem_size = std::stoul(k[3].str());
    } else if (std::regex_search(rest, k, poison_re)) {
      relo.insn = std::stoul(k[1].str());
      relo.poisoned = true;
    } else if (rest.find("matching candidate") == std::string::npos &&
               rest.find("no matching targets found") == std::string::npos) {
      relo.other.push_back(rest);
    }
  }
  return log;
}

// Compares corebpf with libbpf on `object` against `btf`; returns how many relocations agreed.
std::size_t compare(const std::string& object_name, const std::string& btf) {
  // Objects of this directory, or "bpf/NAME" for one of tests/bpf.
  const std::string object_path =
      object_name.starts_with("bpf/")
          ? (std::filesystem::path(COREBPF_BPF_OBJECT_DIR) / (object_name.substr(4) + ".bpf.o")).string()
          : core_object_path(object_name).string();
  if (!std::filesystem::exists(object_path)) {
    ADD_FAILURE() << object_path << " was not built";
    return 0;
  }
  const LibbpfLog log = run_libbpf(object_path, btf);
  auto object = ObjectSpec::open(object_path);
  const auto target = core::Target::from_file(btf);
  const auto results = core::relocate(object, target);

  // corebpf's results by the function (entry program or subprogram) and its own instruction,
  // which is how libbpf numbers them.
  struct Ours {
    const core::ReloResult* result;
    const Insn* insn;  // as patched
  };
  std::map<std::pair<std::string, std::uint32_t>, std::vector<Ours>> ours;
  for (std::size_t p = 0; p < results.size(); ++p) {
    const auto& program = object.programs()[p];
    for (const auto& r : results[p].relocations) {
      for (const auto& f : program.functions()) {
        if (r.insn_index < f.insn_index || r.insn_index >= f.insn_index + f.insn_count) continue;
        ours[{f.name, static_cast<std::uint32_t>(r.insn_index - f.insn_index)}].push_back(
            {&r, &program.insns()[r.insn_index]});
      }
    }
  }

  std::size_t agreed = 0;
  bool libbpf_failed = false;
  for (const auto& [key, relo] : log.relocations) {
    std::ostringstream trace;
    trace << object_name << " on " << btf << ": prog '" << key.first << "' relo #" << key.second << " <" << relo.kind
          << ">";
    SCOPED_TRACE(trace.str());
    if (!relo.insn) {
      // libbpf gave up on this relocation: corebpf must report an error for it too. Its
      // instruction is not in the log, so look for an error of this kind in the function.
      libbpf_failed = true;
      bool found = false;
      for (const auto& [where, list] : ours)
        for (const auto& [r, insn] : list)
          if (where.first == key.first && r->status == core::Status::error && core::kind_name(r->kind) == relo.kind)
            found = true;
      EXPECT_TRUE(found) << "libbpf: " << (relo.other.empty() ? "" : relo.other.front());
      continue;
    }
    auto it = ours.find({key.first, *relo.insn});
    if (it == ours.end()) {
      ADD_FAILURE() << "corebpf has no relocation at insn #" << *relo.insn;
      continue;
    }
    for (const auto& [r, insn] : it->second) {
      EXPECT_EQ(core::kind_name(r->kind), relo.kind);
      if (relo.poisoned) {
        EXPECT_EQ(r->status, core::Status::poisoned) << r->spec << ": " << r->message;
      } else {
        EXPECT_EQ(r->status, core::Status::ok) << r->spec << ": " << r->message;
        EXPECT_EQ(r->target_value, *relo.value) << r->spec;
        if (relo.mem_size) {
          EXPECT_EQ(r->target_size, *relo.mem_size) << r->spec;
        } else {
          const auto cls = insn->insn_class();
          if (cls == Insn::kLdx || cls == Insn::kSt || cls == Insn::kStx) {
            EXPECT_EQ(r->local_size, r->target_size) << r->spec << ": libbpf did not resize the access";
          }
        }
      }
    }
    ++agreed;
  }
  if (!libbpf_failed) {
    // Nothing libbpf relocated is missing from corebpf's results, and nothing extra either.
    EXPECT_EQ(agreed, ours.size()) << log.text;
  }
  return agreed;
}

class CoreLibbpfDiff : public ::testing::Test {
 protected:
  void SetUp() override { COREBPF_REQUIRE_ROOT(); }
};

TEST_F(CoreLibbpfDiff, HandWrittenTargets) {
  EXPECT_GE(compare("core_kinds", core_object_path("core_kernel_a").string()), 100u);
  EXPECT_GE(compare("core_kinds", core_object_path("core_kernel_b").string()), 100u);
  if (std::filesystem::exists(core_object_path("core_kinds_clang14"))) {
    EXPECT_GE(compare("core_kinds_clang14", core_object_path("core_kernel_a").string()), 90u);
    EXPECT_GE(compare("core_kinds_clang14", core_object_path("core_kernel_b").string()), 90u);
  }
}

TEST_F(CoreLibbpfDiff, SharedSubprogram) {
  // object_core's subprogram is linked into both programs; libbpf relocates it once.
  EXPECT_GE(compare("bpf/object_core", core_object_path("core_kernel_a").string()), 5u);
}

TEST_F(CoreLibbpfDiff, AmbiguousCandidates) {
  EXPECT_GE(compare("core_ambiguous", core_object_path("core_kernel_ambiguous").string()), 1u);
}

void compare_kernel(const std::string& btf) {
  EXPECT_GE(compare("core_vmlinux", btf), 40u);
  // Objects whose types the kernel does not have: everything poisoned or zero, alike.
  EXPECT_GE(compare("core_kinds", btf), 100u);
  EXPECT_GE(compare("bpf/object_core", btf), 5u);
}

TEST_F(CoreLibbpfDiff, RunningKernel) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  compare_kernel("/sys/kernel/btf/vmlinux");
}

TEST_F(CoreLibbpfDiff, Debian61) {
  const auto dir = kernel_dir("6.1");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("no 6.1 kernel BTF: run scripts/fetch-kernels");
  compare_kernel((dir / "vmlinux.btf").string());
}

TEST_F(CoreLibbpfDiff, Debian612) {
  const auto dir = kernel_dir("6.12");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("no 6.12 kernel BTF: run scripts/fetch-kernels");
  compare_kernel((dir / "vmlinux.btf").string());
}

}  // namespace
}  // namespace corebpf::test
