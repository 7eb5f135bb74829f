// Generated skeletons in the kernel (tests/bpf/skeleton.bpf.c through corebpf_add_bpf): open from
// the embedded object, .rodata set before load, attach, then typed maps and live sections read
// what the program wrote; detach, moves, spec changes before load, an object with no maps.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <utility>

#include "archived_core_task.skel.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel_description.hpp"
#include "skeleton.skel.hpp"
#include "skeleton_empty.skel.hpp"
#include "struct_ops.skel.hpp"
#include "support/test_support.hpp"

namespace corebpf {
namespace {

void call_getpid(int times) {
  for (int i = 0; i < times; ++i) ::syscall(SYS_getpid);
}

TEST(Skeleton, LoadsAttachesAndReadsTypedMapsAndSections) {
  COREBPF_REQUIRE_ROOT();
  auto skel = skeleton::Skeleton::open();
  EXPECT_FALSE(skel.loaded());
  EXPECT_EQ(skel.rodata().settings.max_events, 100u);  // the object's initial value
  EXPECT_EQ(skel.data().threshold, 3u);
  EXPECT_EQ(skel.rodata_limits().limits[1], 2);
  // getpid() once, before the program counts calls.
  const auto pid = static_cast<std::uint32_t>(::getpid());
  skel.rodata().filter_pid = static_cast<int>(pid);
  skel.rodata().settings.max_events = 77;
  skel.data().threshold = 9;
  // Handles exist before load but are empty; attach needs a load.
  EXPECT_FALSE(skel.maps.events);
  EXPECT_THROW(skel.attach(), Error);

  skel.load();
  skel.attach();
  ASSERT_TRUE(skel.links.count_getpid.has_value());
  EXPECT_TRUE(skel.maps.events);
  EXPECT_TRUE(skel.progs.count_getpid);
  call_getpid(5);

  EXPECT_EQ(skel.bss().hits, 5u);
  const auto stats = skel.maps.counts.lookup(pid);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->count, 5u);
  EXPECT_EQ(stats->last_pid, pid);
  const auto per_cpu = skel.maps.per_cpu.lookup(0);
  ASSERT_TRUE(per_cpu.has_value());
  EXPECT_EQ(std::accumulate(per_cpu->begin(), per_cpu->end(), std::uint64_t{0}), 5u);
  const auto& event = skel.bss().last_event;
  EXPECT_EQ(event.pid, pid);
  EXPECT_EQ(event.flags.ready, 1u);
  EXPECT_EQ(event.flags.mode, 5u);
  EXPECT_EQ(event.flags.kind, skeleton::types::KIND_EXEC);
  EXPECT_EQ(event.level, skeleton::types::LEVEL_HIGH);
  EXPECT_EQ(event.hi, 9u);     // .data as set before load, through the anonymous union
  EXPECT_EQ(event.new_, 77u);  // .rodata as set before load
  // CONFIG_BPF_SYSCALL, a weak .kconfig extern: y where the kernel's configuration is readable.
  const auto& kconfig = kernel::running_kernel_description().kconfig;
  const auto bpf_syscall = kconfig.find("CONFIG_BPF_SYSCALL");
  const bool configured = bpf_syscall != kconfig.end() && bpf_syscall->second == "y";
  EXPECT_EQ(skel.kconfig().CONFIG_BPF_SYSCALL, configured);
  EXPECT_EQ(event.class_, configured ? 7 : 0);
  EXPECT_TRUE(skel.bss().seen_high);
  EXPECT_EQ(skel.data_custom().custom_total, 5u + 5 * 2);
  EXPECT_NE(skel.kconfig().LINUX_KERNEL_VERSION, 0u);
  EXPECT_EQ(event.flags.weight, static_cast<std::uint16_t>(skel.kconfig().LINUX_KERNEL_VERSION));
  // .rodata reads through the const skeleton; a write after load is refused, not a fault.
  EXPECT_EQ(std::as_const(skel).rodata().filter_pid, static_cast<int>(pid));
  EXPECT_THROW(skel.rodata().filter_pid = 0, Error);
  // A write to a live section is what the program sees next.
  skel.bss().hits = 100;
  call_getpid(1);
  EXPECT_EQ(skel.bss().hits, 101u);

  // Moved, the skeleton keeps its maps, sections and links.
  auto moved = std::move(skel);
  call_getpid(2);
  EXPECT_EQ(moved.bss().hits, 103u);
  EXPECT_EQ(moved.maps.counts.lookup(pid)->count, 8u);
  // Detached, the program no longer runs.
  moved.detach();
  EXPECT_FALSE(moved.links.count_getpid.has_value());
  call_getpid(3);
  EXPECT_EQ(moved.bss().hits, 103u);
}

TEST(Skeleton, SpecChangesBeforeLoadAndDestructionDetaches) {
  COREBPF_REQUIRE_ROOT();
  std::uint32_t id = 0;
  {
    auto skel = skeleton::Skeleton::open();
    skel.object().spec().program("operator").set_autoload(false);
    skel.object().spec().map("counts").set_max_entries(7);
    skel.rodata().filter_pid = ::getpid();
    skel.load();
    skel.attach();
    EXPECT_FALSE(skel.progs.operator_);
    EXPECT_FALSE(skel.links.operator_.has_value());
    EXPECT_EQ(skel.maps.counts.map().max_entries(), 7u);
    ASSERT_TRUE(skel.links.count_getpid.has_value());
    id = skel.progs.count_getpid.info().id;
  }
  // Destroyed: the program (attached only through its link) is gone.
  EXPECT_THROW(Program::open_by_id(id), Error);
}

TEST(Skeleton, ObjectWithoutMapsOrGlobals) {
  COREBPF_REQUIRE_ROOT();
  auto skel = skeleton_empty::Skeleton::open();
  skel.load();
  ASSERT_TRUE(skel.progs.drop_all);
  skel.attach();  // a socket filter names no target: nothing to attach
  EXPECT_FALSE(skel.links.drop_all.has_value());
  EXPECT_FALSE(skeleton_empty::Skeleton::elf_bytes().empty());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(skeleton_empty::Skeleton::elf_bytes().data()) % 8, 0u);
}

// A kernel without BTF, as far as the loader can tell: /sys/kernel/btf hidden under an empty
// tmpfs in a private mount namespace (the kernel's BTF objects stay, but nothing reads them for
// CO-RE). The skeleton's own archive has this kernel's release, so it loads and reads the task as
// the test expects; without the archive the same load fails. It runs in a fresh process (this
// binary again, the test below only), so that nothing this process read before the BTF was hidden
// serves it.
TEST(Skeleton, LoadsWithItsEmbeddedBtfWhereTheKernelHasNone) {
  COREBPF_REQUIRE_ROOT();
  const auto archive = archived_core_task::Skeleton::btf_archive();
  const auto& release = kernel::running_kernel_release();
  if (!archive.kernels.contains(release)) {
    std::string have;
    for (const auto& [name, bytes] : archive.kernels) have += " " + name;
    FAIL() << "the skeleton was built without BTF for " << release << " (it has" << have << ")";
  }
  for (const auto& [name, bytes] : archive.kernels)
    EXPECT_LT(bytes.size(), 64u * 1024) << name << ": the embedded BTF is the object's part, not the kernel's";
  // The child's gtest output goes to a file, shown when it failed: interleaved with this test's
  // own, it would read as a second test to whoever parses the output (the qemu matrix).
  std::FILE* output = std::tmpfile();
  ASSERT_NE(output, nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(::fileno(output), STDOUT_FILENO);
    ::dup2(::fileno(output), STDERR_FILENO);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", "/sys/kernel/btf", "tmpfs", 0, "size=64k") != 0) {
      std::perror("hiding /sys/kernel/btf");
      std::_Exit(2);
    }
    ::execl("/proc/self/exe", "skeleton_test", "--gtest_filter=SkeletonWithoutKernelBtf.*",
            "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    std::perror("exec /proc/self/exe");
    std::_Exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  std::string text;
  std::rewind(output);
  for (int c; (c = std::fgetc(output)) != EOF;) text.push_back(static_cast<char>(c));
  std::fclose(output);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_NE(text.find("[  PASSED  ] 1 test"), std::string::npos) << text;
}

// Only in the child of the test above (disabled in a normal run): /sys/kernel/btf is hidden.
TEST(SkeletonWithoutKernelBtf, DISABLED_LoadsFromTheEmbeddedArchive) {
  ASSERT_FALSE(std::filesystem::exists("/sys/kernel/btf/vmlinux")) << "run by Skeleton.LoadsWithItsEmbeddedBtf...";
  // No archive: nothing to relocate against.
  auto bare = Object::from_spec(ObjectSpec::from_memory(archived_core_task::Skeleton::elf_bytes(), "bare"));
  EXPECT_THROW(bare.load(), Error);
  auto skel = archived_core_task::Skeleton::open();
  skel.rodata().target_tgid = ::getpid();
  skel.load();
  skel.attach();
  ::syscall(SYS_getppid);
  const auto& facts = skel.bss().facts;
  EXPECT_GT(facts.hits, 0u);
  EXPECT_EQ(facts.tgid, ::getpid());
  EXPECT_EQ(facts.pid, ::getpid());
  EXPECT_EQ(facts.parent_tgid, ::getppid());
  EXPECT_NE(facts.mm_start_stack, 0u);
}

std::string available_congestion_controls() {
  std::ifstream file("/proc/sys/net/ipv4/tcp_available_congestion_control");
  std::string text;
  std::getline(file, text);
  return " " + text + " ";
}

// A struct_ops map's struct changed through the skeleton before load (its name: unique, so
// concurrent tests do not collide), registered by attach() and unregistered by detach().
TEST(Skeleton, StructOpsDataMembersAndRegistration) {
  COREBPF_REQUIRE_ROOT();
  const auto& kernel = kernel::running_kernel_description();
  if (!kernel.vmlinux_btf || !kernel.vmlinux_btf->find("bpf_struct_ops_tcp_congestion_ops", btf::Kind::Struct)) {
    utsname name{};
    ::uname(&name);
    GTEST_SKIP() << "unsupported on " << name.release << ": struct_ops for tcp_congestion_ops";
  }
  auto skel = struct_ops::Skeleton::open();
  EXPECT_STREQ(skel.struct_ops.corebpf_cc.name, "corebpf_cc");
  const std::string name = "cbsk" + std::to_string(::getpid() % 1000000000);
  std::memset(skel.struct_ops.corebpf_cc.name, 0, sizeof skel.struct_ops.corebpf_cc.name);
  std::memcpy(skel.struct_ops.corebpf_cc.name, name.data(), name.size());
  skel.load();
  skel.attach();
  EXPECT_NE(available_congestion_controls().find(" " + name + " "), std::string::npos)
      << available_congestion_controls();
  skel.detach();
  EXPECT_EQ(available_congestion_controls().find(" " + name + " "), std::string::npos)
      << available_congestion_controls();
}

}  // namespace
}  // namespace corebpf
