// corebpf::Object against the running kernel (root): load, global data live views, program runs
// through BPF_PROG_TEST_RUN, verifier rejection and clean-up.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

std::string bpf_object(const char* name) { return std::string(COREBPF_BPF_OBJECT_DIR) + "/" + name + ".bpf.o"; }

template <typename T>
std::span<const std::byte> bytes_of(const T& value) {
  return std::as_bytes(std::span<const T, 1>(&value, 1));
}

template <typename T>
T lookup(const Map& map, std::uint32_t key) {
  const auto value = map.lookup(bytes_of(key));
  EXPECT_TRUE(value) << map.name() << " has no key " << key;
  T result{};
  if (value && value->size() == sizeof(T)) std::memcpy(&result, value->data(), sizeof(T));
  return result;
}

// A global variable read through the object's live view of its section.
template <typename T>
T live_global(Object& object, const char* section, const char* name) {
  const auto* variable = object.spec().find_section_map(section)->find_variable(name);
  EXPECT_NE(variable, nullptr) << name;
  T value{};
  if (variable) std::memcpy(&value, std::as_const(object).section_bytes(section).data() + variable->offset, sizeof(T));
  return value;
}

// A socket filter sees skb->len without the Ethernet header test_run pulled.
constexpr std::uint32_t kEthernetHeader = 14;

std::uint32_t run_on_packet(const Program& program, std::size_t packet_size) {
  std::vector<std::byte> packet(packet_size);
  TestRunOptions options;
  options.data_in = packet;
  return program.test_run(options).retval;
}

TEST(Object, LoadsRunsAndSharesGlobalData) {
  COREBPF_REQUIRE_ROOT();
  auto object = Object::open(bpf_object("object_runtime"));
  object.spec().set_global("step", std::uint32_t{3});
  object.load();
  ASSERT_TRUE(object.loaded());

  const Program& program = object.program("count_packets");
  EXPECT_EQ(program.type(), ProgramType::socket_filter);
  run_on_packet(program, 64);
  run_on_packet(program, 64);

  EXPECT_EQ(live_global<std::uint64_t>(object, ".bss", "runs"), 6u) << "two runs stepping by the .rodata step";
  EXPECT_EQ(object.rodata<std::uint32_t>(), 3u) << "step is the first .rodata variable";
  EXPECT_EQ(live_global<std::uint32_t>(object, ".rodata", "key_base"), 100u);
  EXPECT_EQ(lookup<std::uint64_t>(object.map("seen"), 100 + 64 - kEthernetHeader), 6u);
  EXPECT_EQ(lookup<std::uint64_t>(object.map("totals"), 0), 2u) << "the subprogram counts calls";
  EXPECT_EQ(lookup<std::uint64_t>(object.map("totals"), 1), 14u) << "and adds the .data bonus (7)";

  // User space writes .data; the next run uses it.
  object.data<std::uint64_t>() = 10;
  run_on_packet(program, 80);
  EXPECT_EQ(lookup<std::uint64_t>(object.map("totals"), 1), 24u);
  EXPECT_EQ(live_global<std::uint64_t>(object, ".bss", "last_bonus"), 10u);
  EXPECT_EQ(lookup<std::uint64_t>(object.map("seen"), 100 + 80 - kEthernetHeader), 9u);

  // And the program's writes to .bss show in the view; a user-space write is seen by it.
  auto* bss = object.section_bytes(".bss").data();
  const auto runs_offset = object.spec().find_section_map(".bss")->find_variable("runs")->offset;
  std::uint64_t runs = 1000;
  std::memcpy(bss + runs_offset, &runs, sizeof(runs));
  run_on_packet(program, 64);
  EXPECT_EQ(live_global<std::uint64_t>(object, ".bss", "runs"), 1003u);
  EXPECT_EQ(lookup<std::uint64_t>(object.map("seen"), 100 + 64 - kEthernetHeader), 1003u);
}

// Kfunc calls resolved where the kernel has them: in vmlinux BTF, or in a module's split BTF
// (Debian's nf_conntrack.ko), which the load names through its fd_array.
TEST(Object, CallsKfuncsOfVmlinuxAndOfModules) {
  COREBPF_REQUIRE_ROOT();
  const auto lookup_kfunc = kernel::find_kernel_btf_type("bpf_xdp_ct_lookup", btf::Kind::Func);
  if (!lookup_kfunc) GTEST_SKIP() << test::unsupported("conntrack kfuncs (CONFIG_NF_CONNTRACK with BTF)");
  COREBPF_REQUIRE_PROGRAMS(bpf_object("object_kfuncs"), "xdp_ct", "tc_ct");
  // Debian's kernels build nf_conntrack as a module (the qemu guests load it): the module path.
  if (std::filesystem::exists("/sys/kernel/btf/nf_conntrack")) {
    EXPECT_EQ(lookup_kfunc->module, "nf_conntrack");
  }
  SCOPED_TRACE(lookup_kfunc->module.empty() ? "kfuncs in vmlinux" : "kfuncs in module " + lookup_kfunc->module);
  const auto fds_before = test::open_fd_count();
  {
    auto object = Object::open(bpf_object("object_kfuncs"));
    object.load();
    std::vector<std::byte> packet(64);
    TestRunOptions options;
    options.data_in = packet;
    EXPECT_EQ(object.program("xdp_ct").test_run(options).retval, 2u);  // XDP_PASS
    EXPECT_EQ(object.program("tc_ct").test_run(options).retval, 0u);
    EXPECT_EQ(live_global<std::uint64_t>(object, ".bss", "lookups"), 2u);
    // Nothing in the conntrack table matches the made-up tuples: the kfunc said so.
    EXPECT_EQ(live_global<std::uint64_t>(object, ".bss", "found"), 0u);
    EXPECT_EQ(live_global<std::int32_t>(object, ".bss", "last_error"), -ENOENT);
  }
  EXPECT_EQ(test::open_fd_count(), fds_before) << "the module BTF fds are released with the object";
}

TEST(Object, ViewsAndHandlesSayWhatIsWrong) {
  COREBPF_REQUIRE_ROOT();
  auto object = Object::open(bpf_object("object_runtime"));
  EXPECT_THROW(object.program("count_packets"), Error) << "not loaded yet";
  EXPECT_THROW(object.section_bytes(".bss"), Error) << "not loaded yet";
  object.load();
  EXPECT_THROW(object.load(), Error) << "loaded twice";
  EXPECT_THROW(object.program("missing"), Error);
  EXPECT_THROW(object.map("missing"), Error);
  EXPECT_THROW(object.section_bytes(".rodata"), Error) << "frozen: only the const view";
  EXPECT_THROW(object.section_bytes(".data.nothing"), Error);
  struct TooBig {
    std::uint8_t bytes[4096];
  };
  EXPECT_THROW(object.data<TooBig>(), Error);
  EXPECT_EQ(object.rodata<std::uint32_t>(), 1u) << "the compiled default";
}

TEST(Object, MapCreationFailureNamesTheMap) {
  COREBPF_REQUIRE_ROOT();
  const auto fds_before = test::open_fd_count();
  {
    auto object = Object::open(bpf_object("object_runtime"));
    object.spec().map("totals").set_max_entries(0);
    try {
      object.load();
      FAIL() << "a map with no entries was created";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("map 'totals'"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("creating"), std::string::npos) << e.message();
    }
  }
  EXPECT_EQ(test::open_fd_count(), fds_before);
}

TEST(Object, VerifierRejectionNamesProgramAndReleasesEverything) {
  COREBPF_REQUIRE_ROOT();
  {
    auto warm_up = Object::open(bpf_object("object_runtime"));  // caches (probes, kernel description)
    warm_up.load();
  }
  const auto fds_before = test::open_fd_count();
  {
    auto object = Object::open(bpf_object("object_rejected"));
    try {
      object.load();
      FAIL() << "the verifier accepted an out-of-bounds read";
    } catch (const Error& e) {
      const std::string& message = e.message();
      EXPECT_NE(message.find("program 'reads_too_far'"), std::string::npos) << message;
      EXPECT_NE(message.find("invalid access to map value"), std::string::npos) << message;
      EXPECT_NE(message.find("object_rejected.bpf.c:"), std::string::npos) << "the source line\n" << message;
      EXPECT_EQ(e.errno_value(), EACCES) << message;
      // The same facts as data (VerifierError), with the whole log, not its end.
      const auto* verifier = dynamic_cast<const VerifierError*>(&e);
      ASSERT_NE(verifier, nullptr) << "a verifier rejection is a VerifierError";
      EXPECT_EQ(verifier->program(), "reads_too_far");
      ASSERT_TRUE(verifier->instruction().has_value());
      EXPECT_NE(message.find("at insn #" + std::to_string(*verifier->instruction())), std::string::npos) << message;
      EXPECT_TRUE(verifier->source_line().starts_with("object_rejected.bpf.c:") ||
                  verifier->source_line().find("/object_rejected.bpf.c:") != std::string::npos)
          << verifier->source_line();
      EXPECT_NE(verifier->reason().find("invalid access to map value"), std::string::npos) << verifier->reason();
      EXPECT_NE(verifier->log().find(verifier->reason()), std::string::npos);
      // The log from its first line: the message keeps only the end.
      const auto first_line = verifier->log().substr(0, verifier->log().find('\n'));
      EXPECT_FALSE(first_line.empty());
      EXPECT_NE(verifier->log().find(first_line), std::string::npos);
      EXPECT_GE(verifier->log().size(), message.size() - message.find("verifier log (end):\n") - 20);
    }
    EXPECT_FALSE(object.loaded());
    EXPECT_THROW(object.program("accepted_first"), Error);
  }
  EXPECT_EQ(test::open_fd_count(), fds_before) << "maps, BTF and the accepted program were released";

  // Without the rejected program the same object loads.
  auto object = Object::open(bpf_object("object_rejected"));
  object.spec().program("reads_too_far").set_autoload(false);
  object.load();
  EXPECT_TRUE(object.program("accepted_first"));
  EXPECT_THROW(object.program("reads_too_far"), Error) << "not loaded";
}

TEST(Object, FillsProgArrayAndMapInMapSlots) {
  COREBPF_REQUIRE_ROOT();
  auto object = Object::open(bpf_object("object_slots"));
  object.load();
  EXPECT_EQ(run_on_packet(object.program("jump"), 64), 42u) << "tail call through the initial jumps slot";
  EXPECT_EQ(lookup<std::uint64_t>(object.map("inner_a"), 0), 1u) << "counted through outer[1]";
  EXPECT_EQ(object.map("outer").inner_id(bytes_of(std::uint32_t{1})), object.map("inner_a").info().id);
  EXPECT_FALSE(object.map("outer").inner_id(bytes_of(std::uint32_t{0})));
}

TEST(Object, PinsByNameReusesAndChecks) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_BPFFS();
  const std::string root = test::bpffs_path("object_pins");
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0) << root;
  const std::string pin = root + "/shared_counts";
  ObjectOptions options;
  options.pin_root = root;
  {
    auto first = Object::open(bpf_object("object_slots"), options);
    first.load();
    EXPECT_TRUE(std::filesystem::exists(pin));
    auto second = Object::open(bpf_object("object_slots"), options);
    second.load();
    EXPECT_EQ(first.map("shared_counts").info().id, second.map("shared_counts").info().id) << "reused";
    EXPECT_NE(first.map("inner_a").info().id, second.map("inner_a").info().id) << "not pinned: not shared";
    run_on_packet(first.program("jump"), 64);
    run_on_packet(second.program("jump"), 64);
    EXPECT_EQ(lookup<std::uint64_t>(first.map("shared_counts"), 0), 2u);

    auto mismatched = Object::open(bpf_object("object_slots"), options);
    mismatched.spec().map("shared_counts").set_max_entries(16);
    try {
      mismatched.load();
      FAIL() << "a pinned map of another size was reused";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("max entries"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(pin), std::string::npos) << e.message();
    }
  }
  EXPECT_TRUE(std::filesystem::exists(pin)) << "pins outlive the objects";
  ::unlink(pin.c_str());

  // A load that fails removes the pins it made.
  auto rejected = Object::open(bpf_object("object_rejected"), options);
  rejected.spec().map("small").set_pinning(Pinning::by_name);
  EXPECT_THROW(rejected.load(), Error);
  EXPECT_FALSE(std::filesystem::exists(root + "/small"));
  EXPECT_EQ(::rmdir(root.c_str()), 0) << "nothing left in " << root;
}

TEST(Object, VerifierLogOfASuccessfulLoad) {
  COREBPF_REQUIRE_ROOT();
  ObjectOptions options;
  options.log_level = 1;
  auto object = Object::open(bpf_object("object_runtime"), options);
  object.load();
  EXPECT_NE(object.verifier_log("count_packets").find("processed"), std::string::npos)
      << object.verifier_log("count_packets");
}

TEST(Object, RepeatedLoadsLeaveNoFds) {
  COREBPF_REQUIRE_ROOT();
  {
    auto warm_up = Object::open(bpf_object("object_runtime"));
    warm_up.load();
  }
  const auto fds_before = test::open_fd_count();
  for (int cycle = 0; cycle < 100; ++cycle) {
    auto object = Object::open(bpf_object("object_runtime"));
    object.load();
    ASSERT_EQ(run_on_packet(object.program("count_packets"), 64), 0u);
    ASSERT_EQ(live_global<std::uint64_t>(object, ".bss", "runs"), 1u) << "a fresh object each cycle";
  }
  EXPECT_EQ(test::open_fd_count(), fds_before);
}

}  // namespace
}  // namespace corebpf
