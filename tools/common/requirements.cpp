#include "requirements.hpp"

#include <fmt/format.h>

#include "corebpf/features.hpp"
#include "run.hpp"

namespace corebpf::tools {

void require_programs(const ObjectSpec& spec) {
  for (const auto& program : spec.programs()) {
    if (!program.autoload()) continue;
    if (auto reason = kernel::missing_program_support(program))
      throw CannotRun(fmt::format("{} (program '{}', SEC(\"{}\"))", *reason, program.name(), program.section()));
  }
}

}  // namespace corebpf::tools
