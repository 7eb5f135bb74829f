// The kernel layer's fallbacks and error messages, through a fake kernel behind the syscall seam:
// no root, no BPF in the machine's kernel. Each test makes the fake answer as a kernel without the
// newer interface does (EINVAL for an unknown command or attach type) and asserts on the calls the
// library made and on what it reports.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/link.hpp"
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/fake_kernel.hpp"

namespace corebpf {
namespace {

using test::FakeKernel;

Map hash_map(const char* name = "counts") {
  MapCreateOptions options;
  options.name = name;
  options.type = MapType::hash;
  options.key_size = 4;
  options.value_size = 8;
  options.max_entries = 16;
  return Map::create(options);
}

std::vector<std::byte> u32s(std::initializer_list<std::uint32_t> values) {
  std::vector<std::byte> bytes(values.size() * 4);
  std::size_t i = 0;
  for (const auto v : values) std::memcpy(bytes.data() + 4 * i++, &v, 4);
  return bytes;
}

std::vector<std::byte> u64s(std::initializer_list<std::uint64_t> values) {
  std::vector<std::byte> bytes(values.size() * 8);
  std::size_t i = 0;
  for (const auto v : values) std::memcpy(bytes.data() + 8 * i++, &v, 8);
  return bytes;
}

TEST(SyscallSeam, ReplacementIsRemovedWithItsScope) {
  kernel::detail::Syscalls* real = &kernel::detail::syscalls();
  {
    FakeKernel fake;
    EXPECT_EQ(&kernel::detail::syscalls(), &fake);
  }
  EXPECT_EQ(&kernel::detail::syscalls(), real);
}

// ---- Batch map operations -> one element at a time (kernels before 5.6, or map kinds without them).

TEST(SyscallSeam, UpdateBatchFallsBackToElementsWhenTheKernelLacksTheCommand) {
  FakeKernel fake;
  const Map map = hash_map();
  fake.commands.clear();
  map.update_batch(u32s({1, 2, 3}), u64s({10, 20, 30}));
  EXPECT_EQ(fake.commands,
            (std::vector<int>{BPF_MAP_UPDATE_BATCH, BPF_MAP_UPDATE_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_UPDATE_ELEM}));
  ASSERT_EQ(fake.maps.begin()->second.entries.size(), 3U);
  std::uint64_t value = 0;
  std::uint32_t key = 2;
  ASSERT_TRUE(map.lookup(std::as_bytes(std::span(&key, 1)), std::as_writable_bytes(std::span(&value, 1))));
  EXPECT_EQ(value, 20U);
}

TEST(SyscallSeam, UpdateBatchRefusedForAnotherReasonIsReportedNotRetried) {
  FakeKernel fake;
  fake.refuse[BPF_MAP_UPDATE_BATCH] = E2BIG;
  const Map map = hash_map();
  fake.commands.clear();
  try {
    map.update_batch(u32s({1, 2}), u64s({10, 20}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), E2BIG);
    EXPECT_STREQ(e.what(), "map 'counts': update batch (entry 0 of 2): Argument list too long (E2BIG)");
  }
  EXPECT_EQ(fake.count(BPF_MAP_UPDATE_ELEM), 0U);
}

TEST(SyscallSeam, LookupBatchFallsBackToTheKeyWalk) {
  FakeKernel fake;
  const Map map = hash_map();
  map.update_batch(u32s({7, 8}), u64s({70, 80}));
  fake.commands.clear();
  const auto entries = map.lookup_batch();
  ASSERT_EQ(entries.count, 2U);
  EXPECT_EQ(fake.commands.front(), BPF_MAP_LOOKUP_BATCH);
  EXPECT_EQ(fake.count(BPF_MAP_LOOKUP_BATCH), 1U);
  EXPECT_EQ(fake.count(BPF_MAP_GET_NEXT_KEY), 3U);  // 7, 8, end
  EXPECT_EQ(fake.count(BPF_MAP_LOOKUP_ELEM), 2U);
  std::uint64_t second = 0;
  std::memcpy(&second, entries.values.data() + 8, 8);
  EXPECT_EQ(second, 80U);
}

TEST(SyscallSeam, EraseBatchFallsBackToElementsAndCountsWhatWasThere) {
  FakeKernel fake;
  const Map map = hash_map();
  map.update_batch(u32s({1, 2, 3}), u64s({1, 2, 3}));
  fake.commands.clear();
  EXPECT_EQ(map.erase_batch(u32s({1, 3, 9})), 2U);
  EXPECT_EQ(fake.commands,
            (std::vector<int>{BPF_MAP_DELETE_BATCH, BPF_MAP_DELETE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_DELETE_ELEM}));
  EXPECT_EQ(fake.maps.begin()->second.entries.size(), 1U);
}

TEST(SyscallSeam, MapCreateErrorNamesTheMapAndItsShape) {
  FakeKernel fake;
  fake.refuse[BPF_MAP_CREATE] = EPERM;
  try {
    (void)hash_map("events");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EPERM);
    EXPECT_STREQ(e.what(),
                 "map 'events': create (hash map, key 4 B, value 8 B, 16 entries, flags 0x0): Operation not permitted "
                 "(EPERM)");
  }
}

// ---- Trampolines (fentry/fexit/tp_btf/lsm) -> BPF_RAW_TRACEPOINT_OPEN on kernels without their links.

Program fentry_program(FakeKernel& fake) {
  ProgramDefinition definition;
  definition.type = ProgramType::tracing;
  definition.expected_attach_type = AttachType::trace_fentry;
  definition.attach_target = "do_unlinkat";
  return Program(UniqueFd(fake.add_program(BPF_PROG_TYPE_TRACING, "on_unlink")), "on_unlink", definition,
                 "fentry/do_unlinkat");
}

TEST(SyscallSeam, TrampolineFallsBackToRawTracepointOpen) {
  FakeKernel fake;
  fake.refuse[BPF_LINK_CREATE] = EINVAL;  // before trampoline links (5.10)
  const Program program = fentry_program(fake);
  fake.commands.clear();
  {
    Link link = program.attach_trace();
    EXPECT_TRUE(static_cast<bool>(link));
  }
  EXPECT_EQ(fake.commands, (std::vector<int>{BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN}));
}

TEST(SyscallSeam, TrampolineWithCookieHasNoFallbackAndReportsTheLinkError) {
  FakeKernel fake;
  fake.refuse[BPF_LINK_CREATE] = EINVAL;
  const Program program = fentry_program(fake);
  fake.commands.clear();
  try {
    (void)program.attach_trace(42);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EINVAL);
    EXPECT_STREQ(e.what(), "attaching fentry/do_unlinkat (program 'on_unlink'): Invalid argument");
  }
  EXPECT_EQ(fake.commands, (std::vector<int>{BPF_LINK_CREATE}));
}

TEST(SyscallSeam, FailedFallbackReportsTheFirstError) {
  FakeKernel fake;
  fake.refuse[BPF_LINK_CREATE] = EINVAL;
  fake.refuse[BPF_RAW_TRACEPOINT_OPEN] = ENOMEM;
  const Program program = fentry_program(fake);
  try {
    (void)program.attach_trace();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EINVAL);
  }
}

TEST(SyscallSeam, RawTracepointUnknownNameIsENOENTByName) {
  FakeKernel fake;
  fake.refuse[BPF_RAW_TRACEPOINT_OPEN] = ENOENT;
  const Program program(UniqueFd(fake.add_program(BPF_PROG_TYPE_RAW_TRACEPOINT, "on_raw")), "on_raw");
  try {
    (void)program.attach_raw_tracepoint("no_such_tp");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), ENOENT);
    EXPECT_STREQ(e.what(), "program 'on_raw': unknown raw tracepoint 'no_such_tp'");
  }
}

// ---- Perf events: BPF link (5.15+) -> PERF_EVENT_IOC_SET_BPF.

Program perf_event_program(FakeKernel& fake) {
  return Program(UniqueFd(fake.add_program(BPF_PROG_TYPE_PERF_EVENT, "on_cycles")), "on_cycles");
}

UniqueFd fake_perf_event(FakeKernel& fake) {
  perf_event_attr attr{};
  return UniqueFd(fake.perf_event_open(&attr, -1, 0, -1, 0));
}

TEST(SyscallSeam, PerfEventFallsBackToTheSetBpfIoctl) {
  FakeKernel fake;
  fake.refuse[BPF_LINK_CREATE] = EINVAL;  // no BPF_PERF_EVENT links
  const Program program = perf_event_program(fake);
  UniqueFd event = fake_perf_event(fake);
  fake.commands.clear();
  {
    Link link = program.attach_perf_event(std::move(event));
    EXPECT_EQ(link.fd(), -1);  // not a BPF link: nothing to pin
  }
  EXPECT_EQ(fake.commands, (std::vector<int>{BPF_LINK_CREATE}));
  // Attach, enable; the Link's end disables the event.
  EXPECT_EQ(fake.perf_ioctls,
            (std::vector<unsigned long>{PERF_EVENT_IOC_SET_BPF, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_DISABLE}));
}

TEST(SyscallSeam, PerfEventCookieWithoutPerfLinksIsUnsupported) {
  FakeKernel fake;
  fake.refuse[BPF_LINK_CREATE] = EINVAL;
  const Program program = perf_event_program(fake);
  UniqueFd event = fake_perf_event(fake);
  try {
    (void)program.attach_perf_event(std::move(event), 7);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EOPNOTSUPP);
    EXPECT_NE(std::string(e.what()).find("this kernel has no BPF links on perf events (5.15+), so no bpf cookie"),
              std::string::npos)
        << e.what();
    // Callers branch on the type, not the text.
    const auto* unsupported = dynamic_cast<const UnsupportedError*>(&e);
    ASSERT_NE(unsupported, nullptr);
    EXPECT_EQ(unsupported->feature(), "perf event links");
    EXPECT_EQ(unsupported->minimum_release(), "5.15");
    EXPECT_EQ(unsupported->running_release(), kernel::running_kernel_release());
  }
  EXPECT_TRUE(fake.perf_ioctls.empty());
}

TEST(SyscallSeam, PerfLinkRefusedForAnotherReasonIsNotRetriedTheOldWay) {
  FakeKernel fake;
  fake.refuse[BPF_LINK_CREATE] = EPERM;
  const Program program = perf_event_program(fake);
  UniqueFd event = fake_perf_event(fake);
  try {
    (void)program.attach_perf_event(std::move(event));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EPERM);
    EXPECT_NE(std::string(e.what()).find("(BPF_LINK_CREATE of a perf event)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fake.perf_ioctls.empty());
}

// ---- Messages of the generic wrappers.

TEST(SyscallSeam, FdCallErrorNamesTheCommand) {
  FakeKernel fake;
  fake.refuse[BPF_OBJ_GET] = EACCES;
  try {
    (void)Program::open_pinned("/sys/fs/bpf/nothing");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.errno_value(), EACCES);
    EXPECT_NE(std::string(e.what()).find("BPF_OBJ_GET of pinned program /sys/fs/bpf/nothing"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace corebpf
