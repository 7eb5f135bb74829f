// Internal: patching without an exception, for relocate(), which records the reason in the result.
#pragma once

#include <span>
#include <string>

#include "corebpf/core.hpp"

namespace corebpf::core {

// patch() without throwing: the reason the instruction cannot take the relocation, or empty once
// patched.
std::string try_patch(std::span<Insn> insns, ReloResult& result);

}  // namespace corebpf::core
