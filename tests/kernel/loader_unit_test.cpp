// The loader's pure parts: kernel version and kconfig parsing, BTF sanitization.
#include <gtest/gtest.h>

#include <optional>

#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object_spec.hpp"
#include "kernel/btf_sanitize.hpp"

namespace corebpf {
namespace {

using btf::Kind;
using kernel::detail::BtfSupport;
using kernel::detail::sanitize_btf;

std::string bpf_object(const std::string& name) { return std::string(COREBPF_BPF_OBJECT_DIR) + "/" + name + ".bpf.o"; }

TEST(KernelVersion, ReleaseOfAPlainKernel) {
  EXPECT_EQ(kernel::parse_version_code("6.18.44-fc-v769", "Linux version 6.18.44-fc-v769 (builder@x) #1 SMP", ""),
            kernel::version_code(6, 18, 44));
  EXPECT_EQ(kernel::parse_version_code("5.4\n", "", ""), kernel::version_code(5, 4, 0));
}

TEST(KernelVersion, UbuntuSignatureGivesTheUpstreamVersion) {
  EXPECT_EQ(kernel::parse_version_code("5.4.0-104-generic", "Linux version 5.4.0-104-generic",
                                       "Ubuntu 5.4.0-104.118-generic 5.4.166\n"),
            kernel::version_code(5, 4, 166));
}

TEST(KernelVersion, DebianPatchLevelFromProcVersionClampedTo255) {
  const char* proc_version =
      "Linux version 6.1.0-27-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC "
      "Debian 6.1.192-2 (2025-01-01)";
  EXPECT_EQ(kernel::parse_version_code("6.1.0-27-cloud-amd64", proc_version, ""), kernel::version_code(6, 1, 192));
  EXPECT_EQ(kernel::parse_version_code("4.19.0-26-amd64", "... Debian 4.19.304-1 (2024-01-09)", ""),
            (4u << 16) | (19u << 8) | 255u);
  EXPECT_EQ(kernel::parse_version_code("6.1.0-18-amd64", "... Debian 6.1.76-1 (2024-02-01)", ""),
            kernel::version_code(6, 1, 76));
  // Debian's real text names the compiler's Debian version first.
  const char* with_compiler =
      "Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) "
      "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2025-01-01)";
  EXPECT_EQ(kernel::parse_version_code("6.1.0-56-cloud-amd64", with_compiler, ""), kernel::version_code(6, 1, 192));
}

TEST(KernelVersion, UnreadableReleaseIsAnError) {
  EXPECT_THROW(kernel::parse_version_code("not-a-version", "", ""), Error);
}

TEST(Kconfig, ValuesAsWrittenAndUnsetAsN) {
  const auto config = kernel::parse_kconfig(
      "#\n# Automatically generated\nCONFIG_BPF=y\nCONFIG_HZ=250\nCONFIG_MOD=m\n# CONFIG_KPROBES is not set\n"
      "CONFIG_LOCALVERSION=\"-fc\"\nCONFIG_HEX=0x10\r\nnot a line\nCONFIG_=x\n");
  EXPECT_EQ(config.at("CONFIG_BPF"), "y");
  EXPECT_EQ(config.at("CONFIG_HZ"), "250");
  EXPECT_EQ(config.at("CONFIG_MOD"), "m");
  EXPECT_EQ(config.at("CONFIG_KPROBES"), "n");
  EXPECT_EQ(config.at("CONFIG_LOCALVERSION"), "\"-fc\"");
  EXPECT_EQ(config.at("CONFIG_HEX"), "0x10");
  EXPECT_EQ(config.size(), 6u);
}

// One type of every kind the sanitizer may rewrite.
struct EveryKind {
  std::optional<btf::Btf> btf;
  btf::TypeId int_type, var, datasec, proto, func, global_func, extern_func, float_type, decl_tag, type_tag, enum64,
      void_var;
};

EveryKind every_kind() {
  btf::BtfWriter w;
  EveryKind k;
  k.int_type = w.add_int("int", 4, btf::kIntSigned);
  k.var = w.add_var("counter", k.int_type, btf::Linkage::global);
  k.void_var = w.add_var("some_ksym", 0, btf::Linkage::extern_);
  k.datasec = w.add_datasec(".data.custom", 0);
  w.add_datasec_var(k.var, 0, 4);
  k.proto = w.add_func_proto(k.int_type);
  w.add_param("x", k.int_type);
  w.add_param("", k.int_type);
  k.func = w.add_func("static_func", k.proto, btf::Linkage::static_);
  k.global_func = w.add_func("global_func", k.proto, btf::Linkage::global);
  k.extern_func = w.add_func("extern_func", k.proto, btf::Linkage::extern_);
  k.float_type = w.add_float("double", 8);
  k.decl_tag = w.add_decl_tag("some tag: not an identifier", k.var);
  k.type_tag = w.add_type_tag("user", k.int_type);
  w.add_ptr(k.type_tag);
  k.enum64 = w.add_enum64("wide", 8);
  w.add_enumerator("WIDE", 0x100000000LL);
  k.btf = btf::Btf::from_vector(w.serialize(), {}, "every kind");
  return k;
}

TEST(BtfSanitize, EveryMissingKindIsRewrittenKeepingIds) {
  const EveryKind k = every_kind();
  const auto out = btf::Btf::from_vector(sanitize_btf(*k.btf, {}, BtfSupport::none()), {}, "sanitized");
  ASSERT_GE(out.type_count(), k.btf->type_count());
  EXPECT_EQ(out.type(k.int_type).kind(), Kind::Int);
  EXPECT_EQ(out.type(k.var).kind(), Kind::Int);
  EXPECT_EQ(out.type(k.var).name(), "counter");
  const auto section = out.type(k.datasec);
  EXPECT_EQ(section.kind(), Kind::Struct);
  EXPECT_EQ(section.name(), "_data_custom");
  ASSERT_EQ(section.members().size(), 1u);
  EXPECT_EQ(section.members()[0].name(), "counter");
  EXPECT_EQ(section.members()[0].type(), k.int_type);
  EXPECT_EQ(out.type(k.proto).kind(), Kind::Enum);
  EXPECT_EQ(out.type(k.proto).enumerators().size(), 2u);
  EXPECT_EQ(out.type(k.func).kind(), Kind::Typedef);
  EXPECT_EQ(out.type(k.func).name(), "static_func");
  EXPECT_EQ(out.type(k.float_type).kind(), Kind::Struct);
  EXPECT_EQ(out.type(k.float_type).size(), 8u);
  EXPECT_EQ(out.type(k.decl_tag).kind(), Kind::Int);
  EXPECT_EQ(out.type(k.type_tag).kind(), Kind::Const);
  EXPECT_EQ(out.type(k.type_tag).type(), k.int_type);
  EXPECT_EQ(out.type(k.enum64).kind(), Kind::Union);
  EXPECT_EQ(out.type(k.enum64).size(), 8u);
}

TEST(BtfSanitize, SupportedKindsStayAndLinkageIsFixed) {
  const EveryKind k = every_kind();
  const auto out = btf::Btf::from_vector(sanitize_btf(*k.btf, {}, BtfSupport::all()), {}, "sanitized");
  EXPECT_EQ(out.type(k.float_type).kind(), Kind::Float);
  EXPECT_EQ(out.type(k.decl_tag).kind(), Kind::DeclTag);
  EXPECT_EQ(out.type(k.type_tag).kind(), Kind::TypeTag);
  EXPECT_EQ(out.type(k.enum64).kind(), Kind::Enum64);
  EXPECT_EQ(out.type(k.global_func).linkage(), btf::Linkage::global);
  EXPECT_EQ(out.type(k.extern_func).linkage(), btf::Linkage::static_);
  // The extern `const void` ksym: a global int the kernel can size.
  EXPECT_EQ(out.type(k.void_var).linkage(), btf::Linkage::global);
  EXPECT_EQ(out.resolve(out.type(k.void_var).type()).kind(), Kind::Int);
  // The unmapped DATASEC gets its variables laid out and a size.
  const auto section = out.type(k.datasec);
  ASSERT_EQ(section.kind(), Kind::Datasec);
  EXPECT_EQ(section.size(), 8u);

  BtfSupport no_global = BtfSupport::all();
  no_global.func_global = false;
  const auto statics = btf::Btf::from_vector(sanitize_btf(*k.btf, {}, no_global), {}, "sanitized");
  EXPECT_EQ(statics.type(k.global_func).linkage(), btf::Linkage::static_);
}

TEST(BtfSanitize, DatasecLayoutComesFromTheMaps) {
  const auto object = ObjectSpec::open(bpf_object("object_globals"));
  ASSERT_TRUE(object.btf());
  const auto out =
      btf::Btf::from_vector(sanitize_btf(*object.btf(), object.maps(), BtfSupport::all()), {}, "sanitized");
  int checked = 0;
  for (const MapSpec& map : object.maps()) {
    if (!map.is_internal() || map.btf_var_or_datasec_id() == 0) continue;
    EXPECT_EQ(object.btf()->type(map.btf_var_or_datasec_id()).size(), 0u) << "clang wrote a size for " << map.name();
    const auto section = out.type(map.btf_var_or_datasec_id());
    ASSERT_EQ(section.kind(), Kind::Datasec);
    EXPECT_EQ(section.size(), map.value_size()) << map.name();
    for (auto entry : section.datasec_vars()) {
      const auto name = out.type(entry.type()).name();
      const DatasecVariable* variable = map.find_variable(name);
      ASSERT_NE(variable, nullptr) << name;
      EXPECT_EQ(entry.offset(), variable->offset) << name;
      EXPECT_EQ(entry.size(), variable->size) << name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 6);
}

}  // namespace
}  // namespace corebpf
