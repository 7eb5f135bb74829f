#include "attach_plan.hpp"

#include <fmt/format.h>

#include <set>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "run.hpp"

namespace corebpf::tools {
namespace {

std::optional<std::string> missing_btf_functions(const std::vector<std::string>& functions, btf::Kind kind) {
  if (functions.empty()) return std::nullopt;
  const auto& btf = kernel::running_vmlinux_btf();
  if (!btf) return fmt::format("this kernel ({}) has no BTF", kernel::running_kernel_release());
  for (const auto& function : functions) {
    if (!btf->find(function, kind))
      return fmt::format("this kernel ({}) has no BTF for '{}'", kernel::running_kernel_release(), function);
  }
  return std::nullopt;
}

std::optional<std::string> feature_gap(kernel::Feature feature) {
  if (kernel::has_feature(feature)) return std::nullopt;
  return kernel::unsupported_reason(feature);
}

std::optional<std::string> program_type_gap(ProgramType type) {
  if (kernel::has_program_type(type)) return std::nullopt;
  return fmt::format("this kernel ({}) refuses {} programs", kernel::running_kernel_release(), program_type_name(type));
}

}  // namespace

std::string_view hook_kind_name(HookKind kind) noexcept {
  switch (kind) {
    case HookKind::fentry:
      return "fentry";
    case HookKind::kprobe:
      return "kprobe";
    case HookKind::tracepoint:
      return "tracepoint";
    case HookKind::raw_tracepoint:
      return "raw_tracepoint";
    case HookKind::tp_btf:
      return "tp_btf";
    case HookKind::uprobe:
      return "uprobe";
  }
  return "?";
}

AttachPlan& AttachPlan::add(AttachPath path) {
  paths_.push_back(std::move(path));
  return *this;
}

std::optional<std::string> AttachPlan::unsupported(const AttachPath& path) {
  switch (path.kind) {
    case HookKind::fentry:
      if (auto gap = feature_gap(kernel::Feature::trampolines)) return gap;
      return missing_btf_functions(path.btf_functions, btf::Kind::Func);
    case HookKind::kprobe:
      return feature_gap(kernel::Feature::kprobes);
    case HookKind::uprobe:
      return program_type_gap(ProgramType::kprobe);
    case HookKind::tracepoint:
      return program_type_gap(ProgramType::tracepoint);
    case HookKind::raw_tracepoint:
      return program_type_gap(ProgramType::raw_tracepoint);
    case HookKind::tp_btf:
      if (auto gap = feature_gap(kernel::Feature::tracing_programs)) return gap;
      return missing_btf_functions(path.btf_functions, btf::Kind::Typedef);
  }
  return std::nullopt;
}

const AttachPath& AttachPlan::choose(ObjectSpec& spec, const std::string& forced) {
  std::vector<std::string> reasons;
  for (std::size_t i = 0; i < paths_.size() && !chosen_; ++i) {
    if (!forced.empty() && hook_kind_name(paths_[i].kind) != forced) continue;
    if (auto gap = unsupported(paths_[i]))
      reasons.push_back(fmt::format("{}: {}", hook_kind_name(paths_[i].kind), *gap));
    else
      chosen_ = i;
  }
  if (!chosen_) {
    if (reasons.empty()) throw CannotRun(fmt::format("no '{}' way to attach this tool", forced));
    throw CannotRun(fmt::format("{}", fmt::join(reasons, "; ")));
  }
  std::set<std::string> kept(paths_[*chosen_].programs.begin(), paths_[*chosen_].programs.end());
  kept.insert(paths_[*chosen_].optional_programs.begin(), paths_[*chosen_].optional_programs.end());
  for (const auto& path : paths_) {
    for (const auto& program : path.programs)
      if (!kept.contains(program)) spec.program(program).set_autoload(false);
    for (const auto& program : path.optional_programs)
      if (!kept.contains(program)) spec.program(program).set_autoload(false);
  }
  return paths_[*chosen_];
}

const AttachPath& AttachPlan::chosen() const {
  if (!chosen_) throw std::logic_error("AttachPlan::choose() was not called");
  return paths_[*chosen_];
}

std::vector<Link> AttachPlan::attach(Object& object) const {
  std::vector<Link> links;
  for (const auto& program : chosen().programs) links.push_back(object.program(program).attach());
  for (const auto& program : chosen().optional_programs) {
    try {
      links.push_back(object.program(program).attach());
    } catch (const Error&) {
      // This kernel has no such hook (an architecture without the system call).
    }
  }
  return links;
}

std::string AttachPlan::describe() const {
  return fmt::format("{} ({})", hook_kind_name(chosen().kind), fmt::join(chosen().programs, ", "));
}

}  // namespace corebpf::tools
