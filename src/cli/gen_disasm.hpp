// `gen disasm`: registered in gen_commands.cpp.
#pragma once

#include "cli/grammar.hpp"

namespace corebpf::cli {

void run_gen_disasm(Context& context, Arguments& args);

}  // namespace corebpf::cli
