// The command tables of each object, registered in main.cpp.
#pragma once

#include "cli/grammar.hpp"

namespace corebpf::cli {

const Object& btf_object();
const Object& core_object();
const Object& gen_object();
const Object& prog_object();
const Object& map_object();
const Object& link_object();
const Object& feature_object();
const Object& net_object();
const Object& cgroup_object();
const Object& perf_object();
const Object& struct_ops_object();
const Object& iter_object();

}  // namespace corebpf::cli
