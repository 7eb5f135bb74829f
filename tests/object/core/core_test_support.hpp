// Shared helpers of the CO-RE object tests: the objects and target BTFs this directory compiles,
// and lookups into relocate() results.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "corebpf/core.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::test {

inline std::filesystem::path core_object_path(const std::string& name) {
  return std::filesystem::path(COREBPF_CORE_OBJECT_DIR) / (name + ".bpf.o");
}

// The relocation of `program` whose readable spec and kind are these (the first one).
inline const core::ReloResult* find_relocation(const std::vector<core::ProgramRelocations>& results,
                                               std::string_view program, std::string_view spec, core::ReloKind kind) {
  for (const auto& p : results) {
    if (p.name != program) continue;
    for (const auto& r : p.relocations)
      if (r.spec == spec && r.kind == kind) return &r;
  }
  return nullptr;
}

}  // namespace corebpf::test
