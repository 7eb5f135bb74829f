// CO-RE relocation of a whole ObjectSpec: every linked program, one Relocator per object.
#include <fmt/format.h>

#include <iterator>

#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"
#include "object/core/patch.hpp"
#include "util/error_format.hpp"

namespace corebpf::core {

std::vector<ProgramRelocations> relocate(ObjectSpec& object, const Target& target) {
  std::vector<ProgramRelocations> results;
  results.reserve(object.programs().size());
  const auto& local = object.btf();
  std::optional<Relocator> relocator;
  if (local) relocator.emplace(*local, target);
  for (ProgramSpec& program : object.programs()) {
    ProgramRelocations& out = results.emplace_back();
    out.name = program.name();
    out.section = program.section();
    if (program.core_relos().empty()) continue;
    if (!relocator)
      util::fail(std::errc::invalid_argument, "{}: program '{}' has CO-RE relocations but the object has no BTF",
                 object.source(), program.name());
    out.relocations.reserve(program.core_relos().size());
    const auto insns = program.mutable_insns();
    for (const ReloRecord& record : program.core_relos()) {
      ReloResult& result = out.relocations.emplace_back(relocator->compute(record));
      if (result.status == Status::error) continue;
      if (std::string reason = try_patch(insns, result); !reason.empty()) {
        result.status = Status::error;
        result.message = std::move(reason);
      }
    }
  }
  return results;
}

void check_relocations(const ObjectSpec& object, std::span<const ProgramRelocations> results) {
  for (const auto& program : results) {
    // A program that will not be loaded cannot fail the load (as with libbpf).
    if (const auto* spec = object.find_program(program.name); spec != nullptr && !spec->autoload()) continue;
    for (const auto& r : program.relocations)
      if (r.status == Status::error)
        util::fail(std::errc::invalid_argument, "{}: CO-RE relocation failed: {}", object.source(),
                   describe(program.name, r));
  }
}

const ReloResult* find_poisoned(const ProgramRelocations& program, std::size_t insn_index) {
  for (const auto& r : program.relocations)
    if (r.status == Status::poisoned && r.insn_index == insn_index) return &r;
  return nullptr;
}

std::string describe(std::string_view program, const ReloResult& r) {
  std::string text =
      fmt::format("program '{}': insn #{}: {} of {} ({}, access {}): {}", program, r.insn_index, kind_name(r.kind),
                  r.spec.empty() ? r.local_type_name : r.spec, r.local_type_name, r.access, status_name(r.status));
  if (r.status == Status::ok) fmt::format_to(std::back_inserter(text), ", {} -> {}", r.local_value, r.target_value);
  if (!r.message.empty()) fmt::format_to(std::back_inserter(text), ": {}", r.message);
  return text;
}

}  // namespace corebpf::core
