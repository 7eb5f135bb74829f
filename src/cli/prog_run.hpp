// `corebpf prog tracelog | run | attach | detach` (src/cli/prog_run.cpp), in prog_commands.cpp's table.
#pragma once

#include "cli/grammar.hpp"

namespace corebpf::cli {

void run_prog_tracelog(Context& context, Arguments& args);
void run_prog_run(Context& context, Arguments& args);
void run_prog_attach(Context& context, Arguments& args);
void run_prog_detach(Context& context, Arguments& args);

}  // namespace corebpf::cli
