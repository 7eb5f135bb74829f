// Reading verifier logs: the failing instruction and its source line.
#include <gtest/gtest.h>

#include "kernel/verifier_log.hpp"

namespace corebpf {
namespace {

using kernel::detail::failing_instruction;
using kernel::detail::line_for_instruction;
using kernel::detail::source_location;

TEST(VerifierLog, LastInstructionLineIsTheFailingOne) {
  const char* log =
      "func#0 @0\n"
      "0: R1=ctx() R10=fp0\n"
      "; int x = *(int *)ctx; @ prog.bpf.c:12\n"
      "0: (61) r2 = *(u32 *)(r1 +0)         ; R1=ctx() R2_w=scalar()\n"
      "1: (85) call unknown#195896080\n"
      "invalid func unknown#195896080\n"
      "processed 2 insns (limit 1000000) max_states_per_insn 0\n";
  EXPECT_EQ(failing_instruction(log), 1u);
  EXPECT_FALSE(failing_instruction("libbpf: nothing here\n0: R1=ctx()\n"));
  EXPECT_FALSE(failing_instruction(""));
  EXPECT_EQ(failing_instruction("17: (b7) r0 = 0"), 17u) << "no trailing newline";
}

TEST(VerifierLog, LineInfoCoveringAnInstruction) {
  const LineInfo lines[] = {
      {.insn_index = 0, .line = 10, .column = 3, .file_name = "prog.bpf.c", .line_text = "  int x = 0;"},
      {.insn_index = 4, .line = 12, .column = 5, .file_name = "prog.bpf.c", .line_text = "\treturn x;"},
  };
  EXPECT_EQ(line_for_instruction(lines, 3), &lines[0]);
  EXPECT_EQ(line_for_instruction(lines, 4), &lines[1]);
  EXPECT_EQ(line_for_instruction(lines, 99), &lines[1]);
  EXPECT_EQ(line_for_instruction({}, 0), nullptr);
  EXPECT_EQ(source_location(&lines[1]), "prog.bpf.c:12:5: return x;");
  EXPECT_EQ(source_location(nullptr), "");
}

}  // namespace
}  // namespace corebpf
