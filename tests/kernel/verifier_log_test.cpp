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

TEST(VerifierLog, ReasonIsTheLineAfterTheFailingInstruction) {
  using kernel::detail::verifier_reason;
  const char* log =
      "func#0 @0\n"
      "0: R1=ctx() R10=fp0\n"
      "; return value[skb->len & 0xff]; @ prog.bpf.c:12\n"
      "7: (61) r2 = *(u32 *)(r1 +0)         ; R1_w=map_value(map=small,ks=4,vs=4) R2_w=scalar()\n"
      "8: (0f) r1 += r2\n"
      "R1 unbounded memory access, make sure to bounds check any such access\n"
      "processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
  EXPECT_EQ(verifier_reason(log), "R1 unbounded memory access, make sure to bounds check any such access");
  EXPECT_EQ(verifier_reason("8: (85) call bpf_probe_read_kernel#113\nR2 min value is negative, either use "
                            "unsigned or 'var &= const'\n8: R1=fp-8\n"),
            "R2 min value is negative, either use unsigned or 'var &= const'");
  EXPECT_EQ(verifier_reason("Unrecognized arg#0 type PTR\nprocessed 0 insns\n"), "Unrecognized arg#0 type PTR")
      << "no instruction line: the last line that is not statistics";
  EXPECT_EQ(verifier_reason("R1=ctx() R10=fp0\nprocessed 0 insns\n"), "");
  EXPECT_EQ(verifier_reason(""), "");
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
