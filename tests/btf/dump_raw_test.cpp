// The raw dump against bpftool's `btf dump ... format raw`, byte for byte: the running kernel,
// Debian's 6.1 and 6.12 kernels and their modules' split BTF, BPF objects clang compiled with
// every kind, and hand-built BTF for what compilers do not emit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <vector>

#include "btf/raw_btf.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/btf_writer.hpp"
#include "support/bpftool_oracle.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::btf::Btf;
using corebpf::btf::BtfWriter;
using corebpf::btf::Kind;
using corebpf::btf::Linkage;
using corebpf::btf::LoadOptions;
using corebpf::btf::Sink;
using corebpf::test::bpftool_dump;
using corebpf::test::first_difference;

std::string raw_dump(const Btf& btf) {
  return corebpf::btf::to_string([&](const Sink& sink) { corebpf::btf::dump_raw(btf, sink); });
}

// Dumps `file` (split on `base`) both ways and compares.
void expect_same_as_bpftool(const fs::path& file, const fs::path& base = {}) {
  SCOPED_TRACE(file.string());
  std::optional<Btf> base_btf;
  if (!base.empty()) base_btf = Btf::load(base.string());
  const Btf btf = Btf::load(file.string(), {.base = base_btf ? &*base_btf : nullptr});
  const auto theirs = bpftool_dump(file, base);
  ASSERT_TRUE(theirs) << "bpftool could not dump " << file;
  const std::string ours = raw_dump(btf);
  EXPECT_EQ(first_difference(ours, *theirs), "");
}

#define REQUIRE_BPFTOOL()                                                                            \
  do {                                                                                               \
    if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing"); \
  } while (0)

fs::path write_temp(const std::vector<std::byte>& bytes, const std::string& name) {
  const fs::path path = fs::path(testing::TempDir()) / (name + "." + std::to_string(::getpid()) + ".btf");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(RawDump, MatchesBpftoolOnRunningKernel) {
  REQUIRE_BPFTOOL();
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  expect_same_as_bpftool("/sys/kernel/btf/vmlinux");
}

class OtherKernel : public testing::TestWithParam<const char*> {};

TEST_P(OtherKernel, RawDumpMatchesBpftool) {
  REQUIRE_BPFTOOL();
  const fs::path dir = corebpf::test::kernel_dir(GetParam());
  if (dir.empty())
    COREBPF_SKIP_OR_FAIL(std::string("kernel ") + GetParam() + " not fetched: run scripts/fetch-kernels");
  expect_same_as_bpftool(dir / "vmlinux.btf");
}

TEST_P(OtherKernel, SplitModuleRawDumpMatchesBpftool) {
  REQUIRE_BPFTOOL();
  const fs::path dir = corebpf::test::kernel_dir(GetParam());
  if (dir.empty())
    COREBPF_SKIP_OR_FAIL(std::string("kernel ") + GetParam() + " not fetched: run scripts/fetch-kernels");
  std::vector<fs::path> modules;
  if (fs::is_directory(dir / "modules"))
    for (const auto& entry : fs::directory_iterator(dir / "modules"))
      if (entry.path().extension() == ".ko") modules.push_back(entry.path());
  if (modules.empty()) COREBPF_SKIP_OR_FAIL("no modules/*.ko in " + dir.string());
  std::sort(modules.begin(), modules.end());
  const Btf base = Btf::load((dir / "vmlinux.btf").string());
  for (const fs::path& module : modules) {
    expect_same_as_bpftool(module, dir / "vmlinux.btf");
    // Split BTF prints only its own types, numbered on from the base.
    const std::string ours = raw_dump(Btf::load(module.string(), {.base = &base}));
    EXPECT_TRUE(ours.starts_with("[" + std::to_string(base.type_count()) + "] ")) << module;
  }
}

INSTANTIATE_TEST_SUITE_P(Debian, OtherKernel, testing::Values("6.1", "6.12"), [](const auto& info) {
  return std::string(info.param == std::string("6.1") ? "v6_1" : "v6_12");
});

TEST(RawDump, MatchesBpftoolOnObjectWithEveryKind) {
  REQUIRE_BPFTOOL();
  const fs::path object = corebpf::test::bpf_object("btf_kinds");
  if (object.empty()) COREBPF_SKIP_OR_FAIL("tests/bpf/btf_kinds.bpf.o was not built");
  expect_same_as_bpftool(object);

  // The object must really hold every kind, or the comparison above proves less than it claims.
  const Btf btf = Btf::load(object.string());
  std::set<Kind> kinds;
  for (auto id = btf.first_id(); id < btf.type_count(); ++id) kinds.insert(btf.type(id).kind());
  for (int kind = 1; kind <= corebpf::btf::kMaxKind; ++kind)
    EXPECT_TRUE(kinds.count(static_cast<Kind>(kind))) << "no " << corebpf::btf::kind_name(static_cast<Kind>(kind));
  const std::string ours = raw_dump(btf);
  for (const char* expected :
       {"encoding=BOOL", "encoding=SIGNED size=4", "val=-4294967296LL", "ULL\n", "fwd_kind=union", "linkage=extern",
        "linkage=static", ", linkage=extern", "component_idx=0", "component_idx=1", "bitfield_size=40",
        "\t'(anon)' type_id=0\n", "(FUNC 'bpf_extern_kfunc')", "TYPE_TAG 'user'"})
    EXPECT_NE(ours.find(expected), std::string::npos) << expected;
}

TEST(RawDump, MatchesBpftoolOnClang14Object) {
  REQUIRE_BPFTOOL();
  const fs::path object = corebpf::test::bpf_object("btf_kinds_clang14");
  if (object.empty()) COREBPF_SKIP_OR_FAIL("tests/bpf/btf_kinds_clang14.bpf.o was not built (clang-14 missing?)");
  expect_same_as_bpftool(object);
}

// What compilers never emit: odd INT encodings and bit offsets, empty and narrow enums, unknown
// FUNC linkage, DATASEC entries that are not VARs (or are void).
BtfWriter edge_case_btf() {
  BtfWriter w;
  const auto chr = w.add_int("mychar", 1, corebpf::btf::kIntChar);  // 1
  const auto odd = w.add_int("oddint", 4, 0, 3, 5);                 // 2
  w.add_enum("empty", 4);                                           // 3
  w.add_enum64("narrow64", 4, true);                                // 4
  w.add_enumerator("MINUS_ONE", -1);
  w.add_enum("byte_enum", 1, false);  // 5
  w.add_enumerator("TOP", 255);
  const auto proto = w.add_func_proto(0);  // 6
  w.add_param("", 0);
  const auto func = w.add_func("extern_func", proto, Linkage::extern_);  // 7
  const auto var = w.add_var("ext_var", odd, Linkage::extern_);          // 8
  w.add_datasec(".ksyms", 16);                                           // 9
  w.add_datasec_var(func, 0, 0);
  w.add_datasec_var(var, 8, 4);
  w.add_datasec_var(0, 12, 4);
  const auto s = w.add_struct("mixed", 8);  // 10
  w.add_member("whole", odd, 0);
  w.add_member("", chr, 32, 3);
  w.add_member("after", chr, 40);
  w.add_decl_tag("tagged member", s, 2);  // 11
  w.add_fwd("fwd_union", true);           // 12
  w.add_type_tag("user", s);              // 13
  w.add_float("quad", 16);                // 14
  return w;
}

constexpr const char* kEdgeCaseDump =
    "[1] INT 'mychar' size=1 bits_offset=0 nr_bits=8 encoding=CHAR\n"
    "[2] INT 'oddint' size=4 bits_offset=3 nr_bits=5 encoding=(none)\n"
    "[3] ENUM 'empty' encoding=UNSIGNED size=4 vlen=0\n"
    "[4] ENUM64 'narrow64' encoding=SIGNED size=4 vlen=1\n"
    "\t'MINUS_ONE' val=-1LL\n"
    "[5] ENUM 'byte_enum' encoding=UNSIGNED size=1 vlen=1\n"
    "\t'TOP' val=255\n"
    "[6] FUNC_PROTO '(anon)' ret_type_id=0 vlen=1\n"
    "\t'(anon)' type_id=0\n"
    "[7] FUNC 'extern_func' type_id=6 linkage=extern\n"
    "[8] VAR 'ext_var' type_id=2, linkage=extern\n"
    "[9] DATASEC '.ksyms' size=16 vlen=3\n"
    "\ttype_id=7 offset=0 size=0 (FUNC 'extern_func')\n"
    "\ttype_id=8 offset=8 size=4 (VAR 'ext_var')\n"
    "\ttype_id=0 offset=12 size=4 (UNKNOWN '(anon)')\n"
    "[10] STRUCT 'mixed' size=8 vlen=3\n"
    "\t'whole' type_id=2 bits_offset=0\n"
    "\t'(anon)' type_id=1 bits_offset=32 bitfield_size=3\n"
    "\t'after' type_id=1 bits_offset=40\n"
    "[11] DECL_TAG 'tagged member' type_id=10 component_idx=2\n"
    "[12] FWD 'fwd_union' fwd_kind=union\n"
    "[13] TYPE_TAG 'user' type_id=10\n"
    "[14] FLOAT 'quad' size=16\n";

TEST(RawDump, HandBuiltEdgeCases) {
  const auto bytes = edge_case_btf().serialize();
  const Btf btf = Btf::from_bytes(bytes);
  EXPECT_EQ(first_difference(raw_dump(btf), kEdgeCaseDump), "");

  if (!corebpf::test::have_bpftool()) return;
  const fs::path file = write_temp(bytes, "edge_cases");
  expect_same_as_bpftool(file);
  fs::remove(file);
}

// A FUNC linkage the format does not define yet (our writer refuses to make one).
TEST(RawDump, UnknownFuncLinkage) {
  corebpf::test::RawBtf raw;
  using R = corebpf::test::RawBtf;
  raw.type(0, R::info(R::kFuncProto), 0);
  raw.type(raw.str("odd_linkage"), R::info(R::kFunc, 3), 1);
  const auto bytes = raw.bytes();
  EXPECT_EQ(raw_dump(Btf::from_bytes(bytes)),
            "[1] FUNC_PROTO '(anon)' ret_type_id=0 vlen=0\n"
            "[2] FUNC 'odd_linkage' type_id=1 linkage=(unknown)\n");
  if (!corebpf::test::have_bpftool()) return;
  const fs::path file = write_temp(bytes, "unknown_linkage");
  expect_same_as_bpftool(file);
  fs::remove(file);
}

TEST(RawDump, BigEndianBtfDumpsLikeLittleEndian) {
  const BtfWriter writer = edge_case_btf();
  const Btf little = Btf::from_bytes(writer.serialize(corebpf::btf::Endian::little));
  const Btf big = Btf::from_bytes(writer.serialize(corebpf::btf::Endian::big));
  ASSERT_EQ(big.endian(), corebpf::btf::Endian::big);
  EXPECT_EQ(raw_dump(big), raw_dump(little));
}

TEST(RawDump, SinkGetsLargeChunks) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  const Btf btf = Btf::load_vmlinux();
  std::vector<std::size_t> sizes;
  corebpf::btf::dump_raw(btf, [&](std::string_view chunk) { sizes.push_back(chunk.size()); });
  ASSERT_GT(sizes.size(), 1u);
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_GE(sizes[i], 32u * 1024) << "chunk " << i;
}

}  // namespace
