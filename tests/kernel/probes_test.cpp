// Feature probes, the running kernel's description and sanitized BTF against the running kernel.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <sys/resource.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object_spec.hpp"
#include "corebpf/program.hpp"
#include "kernel/btf_sanitize.hpp"
#include "kernel/kernel_test_support.hpp"
#include "kernel/prog_load.hpp"
#include "support/test_support.hpp"

namespace corebpf {
namespace {

using kernel::BtfFeature;
using kernel::detail::BtfSupport;

std::string bpf_object(const std::string& name) { return std::string(COREBPF_BPF_OBJECT_DIR) + "/" + name + ".bpf.o"; }

TEST(KernelDescription, RunningKernel) {
  const auto& kernel = kernel::running_kernel_description();
  EXPECT_GE(kernel.kernel_version, kernel::version_code(4, 18, 0));
  EXPECT_EQ(&kernel, &kernel::running_kernel_description()) << "read once and shared";
  if (std::filesystem::exists("/proc/config.gz")) {
    ASSERT_TRUE(kernel.kconfig.contains("CONFIG_BPF"));
    EXPECT_EQ(kernel.kconfig.at("CONFIG_BPF"), "y");
  }
  ASSERT_TRUE(kernel.vmlinux_btf);
  EXPECT_TRUE(kernel.vmlinux_btf->find("task_struct", btf::Kind::Struct));
}

TEST(KernelDescription, Kallsyms) {
  COREBPF_REQUIRE_ROOT();  // addresses read as zero without CAP_SYSLOG
  const auto address = kernel::kallsyms_address("bpf_prog_put");
  ASSERT_TRUE(address);
  EXPECT_NE(*address, 0u);
  EXPECT_FALSE(kernel::kallsyms_address("no_such_symbol_corebpf"));
  // Several names in one streamed pass, parallel to the names asked.
  const std::string_view names[] = {"no_such_symbol_corebpf", "bpf_prog_put", "bpf_prog_put"};
  const auto found = kernel::kallsyms_addresses(names);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_FALSE(found[0]);
  EXPECT_EQ(found[1], address);
  EXPECT_EQ(found[2], address) << "a name asked twice is answered twice";
  const auto& kernel = kernel::running_kernel_description();
  EXPECT_EQ(kernel.kallsyms("bpf_prog_put"), address);
#if defined(__x86_64__)
  EXPECT_TRUE(kernel.has_syscall_wrapper());
#endif
}

TEST(FeatureProbes, ThisKernelHasEverything) {
  COREBPF_REQUIRE_ROOT();
  // The running kernel is 6.18: every BTF kind, the common program and map types.
  for (auto feature : {BtfFeature::func, BtfFeature::func_global, BtfFeature::datasec, BtfFeature::float_,
                       BtfFeature::decl_tag, BtfFeature::type_tag, BtfFeature::enum64})
    EXPECT_TRUE(kernel::has_btf_feature(feature)) << kernel::btf_feature_name(feature);
  for (auto type : {ProgramType::socket_filter, ProgramType::kprobe, ProgramType::sched_cls, ProgramType::tracepoint,
                    ProgramType::xdp, ProgramType::raw_tracepoint, ProgramType::cgroup_skb,
                    ProgramType::cgroup_sock_addr, ProgramType::sk_lookup, ProgramType::tracing, ProgramType::syscall})
    EXPECT_TRUE(kernel::has_program_type(type)) << program_type_name(type);
  for (auto type : {MapType::hash, MapType::array, MapType::prog_array, MapType::perf_event_array,
                    MapType::percpu_array, MapType::lpm_trie, MapType::array_of_maps, MapType::hash_of_maps,
                    MapType::queue, MapType::stack, MapType::ringbuf, MapType::user_ringbuf, MapType::bloom_filter,
                    MapType::sk_storage, MapType::task_storage, MapType::cgroup_storage, MapType::sockmap})
    EXPECT_TRUE(kernel::has_map_type(type)) << map_type_name(type);
  EXPECT_TRUE(kernel::has_mmapable_arrays());
  EXPECT_TRUE(kernel::has_bpf_cookie());
  EXPECT_TRUE(kernel::has_bpf_link());
  EXPECT_FALSE(kernel::charges_memlock()) << "6.18 accounts BPF memory to the memory cgroup";
  EXPECT_TRUE(kernel::running_kernel_description().has_bpf_cookie());
}

// The feature table: every feature listed once; no probe says yes on a release older than the
// one that brought the feature; in the qemu matrix's Debian guests (whose configs are known),
// every feature that needs nothing beyond its release is there exactly from that release on.
TEST(FeatureTable, ProbesAgreeWithReleases) {
  COREBPF_REQUIRE_ROOT();
  const auto table = kernel::all_features();
  const auto count = static_cast<std::size_t>(kernel::Feature::cgroup_link) + 1;
  ASSERT_EQ(table.size(), count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto feature = static_cast<kernel::Feature>(i);
    EXPECT_EQ(kernel::feature_info(feature).feature, feature) << "feature " << i << " is not in the table";
  }
  const bool known_config = std::getenv("COREBPF_VM_GUEST") != nullptr;
  const auto version = kernel::running_kernel_version();
  for (const auto& info : table) {
    const bool present = kernel::has_feature(info.feature);
    RecordProperty(std::string(info.name), present ? "yes" : "no");
    if (version < info.since) {
      EXPECT_FALSE(present) << info.name << ": the probe says yes on " << kernel::running_kernel_release();
    } else if (known_config && info.needs.empty()) {
      EXPECT_TRUE(present) << info.name << ": missing on " << kernel::running_kernel_release();
    }
    if (!present) {
      const auto reason = kernel::unsupported_reason(info.feature);
      EXPECT_NE(reason.find(info.name), std::string::npos) << reason;
      if (version < info.since) {
        EXPECT_NE(reason.find("need Linux "), std::string::npos) << reason;
      }
    }
  }
}

TEST(FeatureTable, IteratorProbes) {
  COREBPF_REQUIRE_ROOT();
  EXPECT_FALSE(kernel::has_iterator("corebpf_no_such_target"));
  EXPECT_EQ(kernel::has_iterator("task"), kernel::has_feature(kernel::Feature::task_iterator));
  EXPECT_EQ(kernel::has_iterator("task_file"), kernel::has_feature(kernel::Feature::task_file_iterator));
  EXPECT_EQ(kernel::has_iterator("bpf_map_elem"), kernel::has_feature(kernel::Feature::map_elem_iterator));
  if (std::getenv("COREBPF_VM_GUEST") != nullptr) {
    EXPECT_TRUE(kernel::has_iterator("task"));
    EXPECT_TRUE(kernel::has_iterator("bpf_map_elem"));
  }
}

TEST(FeatureProbes, UnknownTypesAndHelpersAreAbsent) {
  COREBPF_REQUIRE_ROOT();
  EXPECT_FALSE(kernel::has_program_type(static_cast<ProgramType>(999)));
  EXPECT_FALSE(kernel::has_map_type(static_cast<MapType>(999)));
  EXPECT_TRUE(kernel::has_helper(ProgramType::tracepoint, BPF_FUNC_ktime_get_ns));
  EXPECT_TRUE(kernel::has_helper(ProgramType::xdp, BPF_FUNC_redirect));
  // Socket filters have no XDP packet to adjust; no kernel has helper 100000.
  EXPECT_FALSE(kernel::has_helper(ProgramType::socket_filter, BPF_FUNC_xdp_adjust_head));
  EXPECT_FALSE(kernel::has_helper(ProgramType::tracepoint, 100000));
}

// Tracing programs load only with an attach target: their helper probe gives them tp_btf/sys_enter,
// so the answers are the verifier's for that program, not "yes" for every refused load. ext, lsm
// and struct_ops probes cannot tell: unknown, never a guess.
TEST(FeatureProbes, HelpersOfTypesThatNeedAnAttachTarget) {
  COREBPF_REQUIRE_ROOT();
  for (const ProgramType type : {ProgramType::ext, ProgramType::lsm, ProgramType::struct_ops}) {
    EXPECT_FALSE(kernel::can_probe_helpers(type));
    EXPECT_EQ(kernel::helper_support(type, BPF_FUNC_ktime_get_ns), std::nullopt);
    EXPECT_FALSE(kernel::has_helper(type, BPF_FUNC_ktime_get_ns));
  }
  if (!kernel::has_program_type(ProgramType::tracing)) GTEST_SKIP() << test::unsupported("tracing programs");
  ASSERT_TRUE(kernel::can_probe_helpers(ProgramType::tracing));
  EXPECT_EQ(kernel::helper_support(ProgramType::tracing, BPF_FUNC_ktime_get_ns), true);
  EXPECT_EQ(kernel::helper_support(ProgramType::tracing, BPF_FUNC_get_current_pid_tgid), true);
  EXPECT_EQ(kernel::helper_support(ProgramType::tracing, BPF_FUNC_get_current_task_btf), true);
  // Packet helpers are not a tracing program's (a probe without a target said yes to them).
  EXPECT_EQ(kernel::helper_support(ProgramType::tracing, BPF_FUNC_xdp_adjust_head), false);
  EXPECT_EQ(kernel::helper_support(ProgramType::tracing, BPF_FUNC_skb_store_bytes), false);
  EXPECT_EQ(kernel::helper_support(ProgramType::tracing, 100000), false);
}

// A device without offload (lo) takes no program, map or feature, as bpftool reports it.
TEST(FeatureProbes, DeviceWithoutOffload) {
  COREBPF_REQUIRE_ROOT();
  EXPECT_FALSE(kernel::device_has_program_type(ProgramType::xdp, 1));
  EXPECT_FALSE(kernel::device_has_program_type(ProgramType::sched_cls, 1));
  EXPECT_FALSE(kernel::device_has_map_type(MapType::hash, 1));
  EXPECT_FALSE(kernel::device_has_helper(ProgramType::xdp, BPF_FUNC_redirect, 1));
  EXPECT_FALSE(kernel::device_has_misc(kernel::MiscFeature::bounded_loops, 1));
  // ... while the host takes them.
  EXPECT_TRUE(kernel::has_program_type(ProgramType::xdp));
  EXPECT_TRUE(kernel::has_bounded_loops());
}

TEST(FeatureProbes, ThreadSafeAndCached) {
  COREBPF_REQUIRE_ROOT();
  std::vector<std::thread> threads;
  std::atomic<int> yes{0};
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { yes += kernel::has_map_type(MapType::devmap_hash) ? 1 : 0; });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(yes.load(), 4);
}

// The object's BTF sanitized for this kernel, and for a kernel that lacks every optional kind,
// must both load: the kernel's own validator checks each rewrite.
TEST(BtfSanitizeKernel, SanitizedObjectBtfLoads) {
  COREBPF_REQUIRE_ROOT();
  for (const char* name : {"btf_kinds", "object_globals", "object_externs", "object_maps", "object_core"}) {
    const auto object = ObjectSpec::open(bpf_object(name));
    ASSERT_TRUE(object.btf()) << name;
    BtfSupport single_gaps[] = {BtfSupport::running_kernel(), BtfSupport::none(), BtfSupport::all()};
    single_gaps[2].float_ = false;
    single_gaps[2].enum64 = false;
    for (const auto& support : single_gaps) {
      const auto raw = kernel::detail::sanitize_btf(*object.btf(), object.maps(), support);
      const auto outcome = kernel::detail::load_btf(raw);
      EXPECT_TRUE(outcome.fd) << name << ": " << std::strerror(outcome.error) << "\n" << outcome.log;
    }
  }
}

TEST(BtfSanitizeKernel, MemlockRaisedOnlyWhenCharged) {
  COREBPF_REQUIRE_ROOT();
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &before), 0);
  kernel::raise_memlock_if_needed();
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &after), 0);
  if (!kernel::charges_memlock()) {
    EXPECT_EQ(after.rlim_cur, before.rlim_cur);
  } else {
    EXPECT_EQ(after.rlim_cur, RLIM_INFINITY);
  }
}

Program load_returning(ProgramType type, std::int32_t value, const char* name) {
  const Insn insns[] = {
      Insn{Insn::kAlu64 | Insn::kMov | Insn::kK, 0, 0, value},
      Insn{Insn::kJmp | Insn::kExit, 0, 0, 0},
  };
  kernel::detail::ProgramLoadRequest request;
  request.type = type;
  request.insns = insns;
  request.name = name;
  auto outcome = kernel::detail::load_program(request);
  if (!outcome.fd) throw Error(outcome.error, "load " + std::string(name) + ": " + outcome.log);
  return Program(std::move(outcome.fd));
}

TEST(ProgramHandle, TestRunDataAndRepeat) {
  COREBPF_REQUIRE_ROOT();
  const Program xdp = load_returning(ProgramType::xdp, 2 /* XDP_PASS */, "loader_xdp");
  EXPECT_EQ(xdp.name(), "loader_xdp");
  EXPECT_EQ(xdp.type(), ProgramType::xdp);
  std::vector<std::byte> packet(64);
  for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<std::byte>(i);
  TestRunOptions options;
  options.data_in = packet;
  options.data_out_size = 256;
  options.repeat = 100;
  const auto result = xdp.test_run(options);
  EXPECT_EQ(result.retval, 2u);
  EXPECT_EQ(result.data_out, packet) << "XDP_PASS hands the packet back unchanged";

  const Program filter = load_returning(ProgramType::socket_filter, 7, "loader_filter");
  TestRunOptions small;
  small.data_in = packet;
  EXPECT_EQ(filter.test_run(small).retval, 7u);
  small.data_out_size = 8;  // too small for the packet
  EXPECT_THROW(filter.test_run(small), Error);
}

TEST(ProgramHandle, PinOpenAndInfo) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_BPFFS();
  const Program program = load_returning(ProgramType::socket_filter, 1, "loader_pin");
  const auto info = program.info();
  EXPECT_EQ(info.name, "loader_pin");
  const std::string path = test::bpffs_path("loader_pin");
  program.pin(path);
  {
    const Program pinned = Program::open_pinned(path);
    EXPECT_EQ(pinned.info().id, info.id);
    const Program by_id = Program::open_by_id(info.id);
    EXPECT_EQ(by_id.name(), "loader_pin");
  }
  Program::unpin(path);
  EXPECT_THROW(Program::open_pinned(path), Error);
  EXPECT_THROW(Program::unpin(path), Error);
}

}  // namespace
}  // namespace corebpf
