// `core check` against reality: for every BPF object the tests build (tests/bpf, including the
// portability corpus portability_*.bpf.c), the prediction for the running kernel's BTF must equal
// what happens when each program is loaded alone (the others' autoload off), program by program.
// Runs on the host and in every guest of the qemu matrix, so it checks the predictions for three
// kernels whose layouts, helpers, kfuncs and map types differ (6.1, 6.12, the host's).
//
// Left out, each for a stated reason: objects the model cannot open or load here by design
// (foreign byte order, a section nobody knows, objects written for the parser's tests that break
// the verifier's own rules, which `core check` does not predict); freplace programs (they need
// another loaded program) and struct_ops programs (loaded through their map); trampoline programs
// where the running kernel refuses trampolines (decided by probe); iterators (this host refuses
// some by policy, which no BTF says).
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "corebpf/core_check.hpp"
#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> out_of_scope_objects = {
    "object_bad_section.bpf.o",  // unknown section: the open fails for both
    "object_rejected.bpf.o",     // rejected by the verifier's rules, not by what the kernel lacks
    // Objects for the parser's tests, not meant to load: every SEC() name with programs that
    // return what no hook accepts; made-up map flags; a call into another program type's code.
    "object_sections.bpf.o",
    "object_maps.bpf.o",
    "object_link.bpf.o",
    "object_link_clang14.bpf.o",
};

std::string release() {
  utsname names{};
  ::uname(&names);
  return names.release;
}

// Why a program is left out of the comparison on this kernel, or empty.
std::string left_out(const ProgramSpec& program) {
  if (program.type() == ProgramType::ext) return "freplace needs its target program";
  if (program.type() == ProgramType::struct_ops) return "struct_ops programs load with their map";
  const auto attach = program.expected_attach_type();
  if (attach == AttachType::trace_iter) return "iterators: refused by policy on some kernels";
  if (attach == AttachType::trace_fentry || attach == AttachType::trace_fexit || attach == AttachType::modify_return ||
      attach == AttachType::lsm_mac) {
    if (!kernel::has_trampoline_attach(*attach))
      return "unsupported on " + release() + ": BPF trampolines for " + std::string(attach_type_name(*attach));
  }
  return {};
}

TEST(CoreCheck, PredictionsMatchLoadsOnThisKernel) {
  COREBPF_REQUIRE_ROOT();
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(COREBPF_BPF_OBJECT_DIR))
    if (entry.path().string().ends_with(".bpf.o")) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  ASSERT_GT(paths.size(), 10u);

  core::CheckKernel kernel;
  kernel.name = release();
  kernel.description = kernel::running_kernel_description();
  kernel.kallsyms_known = true;
  const core::Target target = core::Target::running_kernel();

  std::size_t compared = 0, portability_compared = 0, predicted_failures = 0, predicted_guarded = 0;
  for (const auto& path : paths) {
    const std::string file = path.filename().string();
    if (out_of_scope_objects.contains(file)) continue;
    std::optional<ObjectSpec> spec;
    try {
      spec = ObjectSpec::open(path.string());
    } catch (const Error&) {
      continue;  // not an object the model opens (covered by the object tests)
    }
    if (!spec->is_native_endian()) continue;
    const core::ObjectCheck prediction = core::check(*spec, kernel, target);
    ASSERT_EQ(prediction.programs.size(), spec->programs().size()) << file;
    for (std::size_t p = 0; p < spec->programs().size(); ++p) {
      const ProgramSpec& program = spec->programs()[p];
      if (!left_out(program).empty()) continue;
      Object object = Object::open(path.string());
      for (auto& other : object.spec().programs()) other.set_autoload(other.name() == program.name());
      std::string error;
      try {
        object.load();
      } catch (const Error& e) {
        error = e.message();
      }
      const auto& predicted = prediction.programs[p];
      std::string reasons;
      for (const auto& f : predicted.findings) reasons += "\n    " + f.text;
      EXPECT_EQ(predicted.verdict == core::Verdict::fails, !error.empty())
          << file << " program " << program.name() << " on " << kernel.name << ": predicted "
          << core::verdict_name(predicted.verdict) << reasons << "\n  but the load "
          << (error.empty() ? std::string("succeeded") : "failed: " + error);
      ++compared;
      if (file.starts_with("portability_")) ++portability_compared;
      predicted_failures += predicted.verdict == core::Verdict::fails;
      predicted_guarded += predicted.verdict == core::Verdict::guarded;
    }
  }
  // The corpus is compared whole, and on every kernel of the matrix some of it fails or falls back.
  EXPECT_GE(portability_compared, 11u);
  EXPECT_GT(compared, 40u);
  EXPECT_GT(predicted_failures + predicted_guarded, 0u);
  std::printf("core check on %s: %zu programs compared (%zu predicted to fail, %zu guarded)\n", kernel.name.c_str(),
              compared, predicted_failures, predicted_guarded);
}

}  // namespace
}  // namespace corebpf
