// `prog dump xlated|jited`: registered in prog_commands.cpp.
#pragma once

#include "cli/grammar.hpp"

namespace corebpf::cli {

void run_prog_dump(Context& context, Arguments& args);

}  // namespace corebpf::cli
