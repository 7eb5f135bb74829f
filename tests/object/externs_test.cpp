// Externs: collection at open, and resolution against a made-up kernel (kconfig values, kallsyms,
// a vmlinux BTF and one module's split BTF built here).
#include <array>
#include <set>

#include "object/fake_kernel.hpp"
#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::error_of;
using test::fake_kernel;
using test::kProgActiveAddress;
using test::open_bpf_object;

template <typename T>
T kconfig_value(const ObjectSpec& spec, std::string_view name) {
  const MapSpec* kconfig = nullptr;
  for (const auto& map : spec.maps())
    if (map.origin() == MapOrigin::kconfig) kconfig = &map;
  const auto* variable = kconfig->find_variable(name);
  EXPECT_NE(variable, nullptr) << name;
  T value{};
  std::memcpy(&value, kconfig->initial_data().data() + variable->offset, sizeof value);
  return value;
}

const ExternSpec& extern_named(const ObjectSpec& spec, std::string_view name) {
  for (const auto& ext : spec.externs())
    if (ext.name == name) return ext;
  throw std::runtime_error("no extern " + std::string(name));
}

TEST(Externs, CollectedWithTheirKinds) {
  const auto spec = open_bpf_object("object_externs");
  EXPECT_EQ(spec.externs().size(), 23u);
  EXPECT_EQ(extern_named(spec, "CONFIG_TRI_YES").kconfig_type, KconfigType::tristate);
  EXPECT_EQ(extern_named(spec, "CONFIG_BOOL_NO").kconfig_type, KconfigType::boolean);
  EXPECT_EQ(extern_named(spec, "CONFIG_CHAR_MODULE").kconfig_type, KconfigType::character);
  EXPECT_EQ(extern_named(spec, "CONFIG_U8").kconfig_type, KconfigType::character);
  EXPECT_EQ(extern_named(spec, "CONFIG_S16").kconfig_type, KconfigType::integer);
  EXPECT_TRUE(extern_named(spec, "CONFIG_S16").is_signed);
  EXPECT_FALSE(extern_named(spec, "CONFIG_HEX").is_signed);
  EXPECT_EQ(extern_named(spec, "CONFIG_HEX").size, 8u);
  EXPECT_EQ(extern_named(spec, "CONFIG_STRING").kconfig_type, KconfigType::string);
  EXPECT_EQ(extern_named(spec, "CONFIG_STRING").size, 8u);
  EXPECT_TRUE(extern_named(spec, "CONFIG_MISSING").weak);
  EXPECT_FALSE(extern_named(spec, "CONFIG_HZ").weak);
  EXPECT_EQ(extern_named(spec, "bpf_prog_active").kind, ExternKind::ksym_untyped);
  EXPECT_EQ(extern_named(spec, "typed_counter").kind, ExternKind::ksym_typed);
  EXPECT_EQ(extern_named(spec, "bpf_task_acquire").kind, ExternKind::kfunc);
  EXPECT_EQ(spec.btf()->type(extern_named(spec, "bpf_task_acquire").type_id).kind(), btf::Kind::FuncProto);
  EXPECT_TRUE(extern_named(spec, "bpf_missing_kfunc").weak);
  EXPECT_EQ(spec.btf()->type(extern_named(spec, "typed_counter").btf_id).name(), "typed_counter");
  EXPECT_EQ(spec.program("use_externs").extern_uses().size(), 8u);
  for (const auto& ext : spec.externs()) EXPECT_FALSE(ext.resolved) << ext.name;
}

TEST(Externs, KconfigValuesOfEveryKind) {
  auto spec = open_bpf_object("object_externs");
  spec.resolve_externs(fake_kernel().description);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "CONFIG_TRI_YES"), 1u);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "CONFIG_TRI_MODULE"), 2u);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "CONFIG_TRI_NO"), 0u);
  EXPECT_EQ(kconfig_value<std::uint8_t>(spec, "CONFIG_BOOL_YES"), 1u);
  EXPECT_EQ(kconfig_value<std::uint8_t>(spec, "CONFIG_BOOL_NO"), 0u);
  EXPECT_EQ(kconfig_value<char>(spec, "CONFIG_CHAR_MODULE"), 'm');
  EXPECT_EQ(kconfig_value<std::uint8_t>(spec, "CONFIG_U8"), 200u);
  EXPECT_EQ(kconfig_value<std::int16_t>(spec, "CONFIG_S16"), -300);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "CONFIG_HZ"), 250u);
  EXPECT_EQ(kconfig_value<std::int64_t>(spec, "CONFIG_NEGATIVE"), -5);
  EXPECT_EQ(kconfig_value<std::uint64_t>(spec, "CONFIG_HEX"), 0xdeadbeefcafeull);
  const auto text = kconfig_value<std::array<char, 8>>(spec, "CONFIG_STRING");
  EXPECT_STREQ(text.data(), "hello w");  // truncated to fit with its NUL
  EXPECT_EQ(kconfig_value<std::int32_t>(spec, "CONFIG_MISSING"), 0);
  EXPECT_FALSE(extern_named(spec, "CONFIG_MISSING").resolved);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "LINUX_KERNEL_VERSION"), 0x06012au);
  EXPECT_EQ(kconfig_value<std::uint8_t>(spec, "LINUX_HAS_SYSCALL_WRAPPER"), 1u);
  EXPECT_EQ(kconfig_value<std::uint8_t>(spec, "LINUX_HAS_BPF_COOKIE"), 0u);
  EXPECT_TRUE(extern_named(spec, "CONFIG_HZ").resolved);
}

TEST(Externs, KsymsAndKfuncsRewriteTheirInstructions) {
  auto spec = open_bpf_object("object_externs");
  const auto kernel = fake_kernel();
  spec.resolve_externs(kernel.description);
  const auto& program = spec.program("use_externs");
  int calls = 0, loads = 0;
  for (const auto& use : program.extern_uses()) {
    const auto& ext = spec.externs()[use.extern_index];
    const Insn* insn = &program.insns()[use.insn_index];
    SCOPED_TRACE(ext.name);
    if (insn->is_call()) {
      ++calls;
      EXPECT_EQ(insn->src(), Insn::kPseudoKfuncCall);
      EXPECT_EQ(insn->off, 0);
      if (ext.name == "bpf_task_acquire") {
        EXPECT_EQ(insn->imm, static_cast<std::int32_t>(kernel.task_acquire));
        EXPECT_EQ(ext.target_module, -1);
      } else if (ext.name == "module_kfunc") {
        EXPECT_EQ(insn->imm, static_cast<std::int32_t>(kernel.module_kfunc));
        EXPECT_EQ(ext.target_module, 0);
      } else {
        EXPECT_EQ(ext.name, "bpf_missing_kfunc");
        EXPECT_EQ(insn->imm, 0);
        EXPECT_FALSE(ext.resolved);
      }
      continue;
    }
    ASSERT_TRUE(insn->is_ld_imm64());
    ++loads;
    const std::uint64_t value =
        static_cast<std::uint32_t>(insn[0].imm) | (std::uint64_t{static_cast<std::uint32_t>(insn[1].imm)} << 32);
    if (ext.name == "bpf_prog_active") {
      EXPECT_EQ(insn->src(), 0);
      EXPECT_EQ(value, kProgActiveAddress);
    } else if (ext.name == "typed_counter") {
      EXPECT_EQ(insn->src(), Insn::kPseudoBtfId);
      EXPECT_EQ(insn->imm, static_cast<std::int32_t>(kernel.typed_counter));
    } else {
      // missing_untyped, missing_typed, and `if (bpf_missing_kfunc)`: NULL.
      EXPECT_EQ(insn->src(), 0);
      EXPECT_EQ(value, 0u);
    }
  }
  EXPECT_EQ(calls, 3);  // bpf_task_acquire, bpf_missing_kfunc, module_kfunc
  EXPECT_EQ(loads, 5);  // four ksyms and the address of bpf_missing_kfunc
  EXPECT_EQ(extern_named(spec, "bpf_prog_active").address, kProgActiveAddress);
  EXPECT_TRUE(extern_named(spec, "typed_counter").resolved);
  EXPECT_EQ(extern_named(spec, "typed_counter").target_btf_id, kernel.typed_counter);
  EXPECT_FALSE(extern_named(spec, "missing_typed").resolved);
}

TEST(Externs, KconfigReferencesAreMapValueLoads) {
  const auto spec = open_bpf_object("object_externs");
  std::int32_t kconfig_index = -1;
  for (std::size_t i = 0; i < spec.maps().size(); ++i)
    if (spec.maps()[i].origin() == MapOrigin::kconfig) kconfig_index = static_cast<std::int32_t>(i);
  ASSERT_GE(kconfig_index, 0);
  std::set<std::int32_t> offsets;
  const auto insns = spec.program("use_externs").insns();
  for (std::size_t i = 0; i < insns.size(); ++i)
    if (insns[i].is_ld_imm64()) {
      if (insns[i].src() == Insn::kPseudoMapIdxValue && insns[i].imm == kconfig_index) offsets.insert(insns[i + 1].imm);
      ++i;
    }
  std::set<std::int32_t> expected;
  for (const auto& ext : spec.externs())
    if (ext.kind == ExternKind::kconfig) expected.insert(static_cast<std::int32_t>(ext.offset));
  EXPECT_EQ(offsets, expected);
}

TEST(Externs, MissingOrMisfitValuesAreErrorsNamingTheExtern) {
  auto kernel = fake_kernel();
  auto expect_error = [&](const KernelDescription& description, std::string_view name, std::string_view detail) {
    auto spec = open_bpf_object("object_externs");
    const auto message = error_of([&] { spec.resolve_externs(description); });
    EXPECT_NE(message.find("'" + std::string(name) + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(detail), std::string::npos) << message;
    EXPECT_NE(message.find("object_externs.bpf.o"), std::string::npos) << message;
  };
  auto without = [&](std::string_view name) {
    auto d = kernel.description;
    d.kconfig.erase(d.kconfig.find(name));
    return d;
  };
  auto with = [&](std::string name, std::string value) {
    auto d = kernel.description;
    d.kconfig[name] = value;
    return d;
  };
  expect_error(without("CONFIG_HZ"), "CONFIG_HZ", "__weak");
  expect_error(with("CONFIG_BOOL_YES", "m"), "CONFIG_BOOL_YES", "tristate or char");
  expect_error(with("CONFIG_TRI_YES", "1"), "CONFIG_TRI_YES", "y, n or m");
  expect_error(with("CONFIG_U8", "300"), "CONFIG_U8", "does not fit");
  expect_error(with("CONFIG_S16", "-40000"), "CONFIG_S16", "does not fit");
  expect_error(with("CONFIG_HZ", "-1"), "CONFIG_HZ", "negative");
  expect_error(with("CONFIG_HZ", "12abc"), "CONFIG_HZ", "not a number");
  expect_error(with("CONFIG_HZ", "y"), "CONFIG_HZ", "not a number");
  expect_error(with("CONFIG_STRING", "bare"), "CONFIG_STRING", "quoted string");
  {
    auto d = kernel.description;
    d.kernel_version = 0;
    expect_error(d, "LINUX_KERNEL_VERSION", "no value");
  }
  {
    auto d = kernel.description;
    d.kallsyms = nullptr;
    expect_error(d, "bpf_prog_active", "kallsyms");
  }
  {
    auto d = kernel.description;
    d.vmlinux_btf.reset();
    expect_error(d, "typed_counter", "kernel's BTF");
  }
  {
    auto d = kernel.description;
    d.module_btfs.clear();
    expect_error(d, "module_kfunc", "no function 'module_kfunc'");
  }
  expect_error(fake_kernel(2).description, "bpf_task_acquire", "does not match");
}

TEST(Externs, ResolvingAgainIsIdempotent) {
  auto spec = open_bpf_object("object_externs");
  spec.resolve_externs(fake_kernel().description);
  const std::vector<Insn> first(spec.program("use_externs").insns().begin(), spec.program("use_externs").insns().end());
  auto other = fake_kernel().description;
  other.kconfig["CONFIG_HZ"] = "1000";
  spec.resolve_externs(other);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "CONFIG_HZ"), 1000u);
  spec.resolve_externs(fake_kernel().description);
  EXPECT_EQ(kconfig_value<std::uint32_t>(spec, "CONFIG_HZ"), 250u);
  const auto insns = spec.program("use_externs").insns();
  ASSERT_EQ(insns.size(), first.size());
  EXPECT_EQ(std::memcmp(insns.data(), first.data(), insns.size_bytes()), 0);
}

}  // namespace
}  // namespace corebpf
