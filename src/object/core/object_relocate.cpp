// CO-RE relocation of a whole ObjectSpec: every linked program, one Relocator per object.
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"
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
      try {
        patch(insns, result, program.name());
      } catch (const Error& e) {
        result.status = Status::error;
        result.message = e.message();
      }
    }
  }
  return results;
}

void check_relocations(const ObjectSpec& object, std::span<const ProgramRelocations> results) {
  for (const auto& program : results) {
    for (const auto& r : program.relocations) {
      if (r.status != Status::error) continue;
      util::fail(std::errc::invalid_argument,
                 "{}: program '{}': CO-RE relocation at insn #{} ({} of {}, access {}): {}", object.source(),
                 program.name, r.insn_index, kind_name(r.kind), r.local_type_name, r.access, r.message);
    }
  }
}

}  // namespace corebpf::core
