#include <gtest/gtest.h>

#include "corebpf/btf.hpp"
#include "support/test_support.hpp"

namespace {

using corebpf::btf::Btf;
using corebpf::btf::Kind;

TEST(RunningKernelBtf, FindsCoreTypes) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  auto btf = Btf::load_vmlinux();
  auto task = btf.find("task_struct", Kind::Struct);
  ASSERT_TRUE(task);
  EXPECT_GT(task->size(), 1000u);
  bool has_pid = false;
  for (auto m : task->members()) has_pid |= m.name() == "pid";
  EXPECT_TRUE(has_pid);
  EXPECT_EQ(btf.size_of(btf.find("u64")->id()), 8u);
  EXPECT_EQ(btf.pointer_size(), 8u);
}

}  // namespace
