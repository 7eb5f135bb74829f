// "Can this kernel run the tool at all?", decided by corebpf's feature probes before anything is
// loaded, so a tool without a way to run says why in one line (run_tool's "cannot run: ...").
#pragma once

#include "corebpf/object_spec.hpp"

namespace corebpf::tools {

// Throws CannotRun with the probes' reason ("this kernel (6.18.44) refuses lsm_mac trampolines")
// when the running kernel cannot load one of the object's autoloaded programs: its program type,
// iterator target or trampoline kind (kernel::missing_program_support).
void require_programs(const ObjectSpec& spec);

}  // namespace corebpf::tools
