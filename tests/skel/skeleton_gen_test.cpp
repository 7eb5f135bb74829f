// The skeleton generator's output for the test objects, as text: what the header promises
// (types with padding and layout asserts, keyword names escaped, typed and per-CPU map views,
// one accessor per global data section, struct_ops structs) and the errors it gives.
#include <gtest/gtest.h>

#include <string>

#include "corebpf/error.hpp"
#include "corebpf/skeleton_gen.hpp"
#include "support/test_support.hpp"
#include "util/file_bytes.hpp"

namespace corebpf {
namespace {

std::string generate(const std::filesystem::path& object, SkeletonOptions options = {}) {
  const auto file = util::FileBytes::open(object.string());
  std::string out;
  generate_skeleton(file.bytes(), object.string(), options, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

std::filesystem::path skeleton_object() { return test::build_dir() / "tests/skel/skeleton.bpf.o"; }

TEST(SkeletonGen, TypesCarryPaddingBitfieldsAndLayoutAsserts) {
  const auto header = generate(skeleton_object());
  EXPECT_NE(header.find("namespace skeleton::types {"), std::string::npos);
  // Bit-fields keep their widths (an enum bit-field as its integer type) and get no offsetof.
  EXPECT_NE(header.find("std::uint32_t mode: 3;"), std::string::npos) << header.substr(0, 4000);
  EXPECT_NE(header.find("std::int32_t kind: 4;"), std::string::npos);
  EXPECT_EQ(header.find("offsetof(struct flags, mode)"), std::string::npos);
  EXPECT_NE(header.find("static_assert(offsetof(struct flags, weight) == 2);"), std::string::npos);
  // Anonymous union and struct members, and asserts through them.
  EXPECT_NE(header.find("__extension__ union {"), std::string::npos);
  EXPECT_NE(header.find("static_assert(offsetof(struct event, hi) == 12);"), std::string::npos);
  // Kernel pointers, C++ keywords, flexible arrays, explicit padding, sizes.
  EXPECT_NE(header.find("std::uint64_t task;"), std::string::npos);
  EXPECT_NE(header.find("__u8 class_;"), std::string::npos);
  EXPECT_NE(header.find("__u32 new_;"), std::string::npos);
  EXPECT_NE(header.find("__extension__ __u8 tail[0];"), std::string::npos);
  EXPECT_NE(header.find("std::uint8_t _pad0[4];"), std::string::npos);
  EXPECT_NE(header.find("static_assert(sizeof(struct event) == 64);"), std::string::npos);
  EXPECT_NE(header.find("static_assert(sizeof(struct stats) == 32);"), std::string::npos);
  // Enums take their BTF size as underlying type, signed when a value is negative.
  EXPECT_NE(header.find("enum level : std::uint8_t {"), std::string::npos);
  EXPECT_NE(header.find("enum kind : std::int32_t {"), std::string::npos);
  EXPECT_NE(header.find("enum wide : std::uint64_t {"), std::string::npos);
}

TEST(SkeletonGen, SectionsMapsProgramsAndLinks) {
  const auto header = generate(skeleton_object());
  for (const char* expected :
       {"struct rodata {", "types::rodata& rodata()", "const types::rodata& rodata() const",
        "types::data_custom& data_custom()", "types::rodata_limits& rodata_limits()", "types::bss& bss()",
        "const types::kconfig& kconfig() const", "static_assert(offsetof(bss, seen_high) == 72);",
        "corebpf::MapView<types::maps_::counts_key, types::maps_::counts_value> counts;",
        "corebpf::PerCpuMapView<types::maps_::per_cpu_key, types::maps_::per_cpu_value> per_cpu;",
        "corebpf::MapView<types::maps_::delete__key, types::maps_::delete__value> delete_;", "corebpf::Map& events;",
        "corebpf::Map& perf;", "corebpf::Program& operator_;", "std::optional<corebpf::Link> count_getpid;",
        "using counts_value = struct stats;", "static Skeleton open(corebpf::ObjectOptions options = {})",
        "alignas(8) static constexpr unsigned char", "corebpf::SkeletonBase(elf_bytes(), \"skeleton.bpf.o\""}) {
    EXPECT_NE(header.find(expected), std::string::npos) << expected;
  }
  // A writable accessor for .kconfig would promise what the kernel refuses.
  EXPECT_EQ(header.find("types::kconfig& kconfig() {"), std::string::npos);
}

TEST(SkeletonGen, EmptyObjectAndStructOps) {
  const auto empty = generate(test::build_dir() / "tests/skel/skeleton_empty.bpf.o");
  EXPECT_NE(empty.find("corebpf::Program& drop_all;"), std::string::npos);
  EXPECT_NE(empty.find("struct Maps {\n  };"), std::string::npos);
  EXPECT_EQ(empty.find("bss()"), std::string::npos);
  const auto ops = generate(test::build_dir() / "tests/bpf/struct_ops.bpf.o");
  EXPECT_NE(ops.find("struct tcp_congestion_ops {"), std::string::npos);
  EXPECT_NE(ops.find("struct StructOps {\n    types::maps_::"), std::string::npos) << ops.substr(ops.find("class"));
}

TEST(SkeletonGen, NamesAndTypes) {
  EXPECT_EQ(skeleton_name("dir/my-prog.bpf.o"), "my_prog");
  EXPECT_EQ(skeleton_name("1st.bpf.o"), "_1st");
  EXPECT_EQ(skeleton_name("class.bpf.o"), "class_");
  SkeletonOptions options;
  options.name = "custom";
  options.types = {"endpoint_t"};
  const auto header = generate(skeleton_object(), options);
  EXPECT_NE(header.find("namespace custom {"), std::string::npos);
  EXPECT_NE(header.find("} endpoint_t;"), std::string::npos);
}

TEST(SkeletonGen, ErrorsNameTheObjectAndTheCause) {
  SkeletonOptions options;
  options.types = {"no_such_type"};
  try {
    generate(skeleton_object(), options);
    FAIL() << "an unknown type was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_type"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("skeleton.bpf.o"), std::string::npos) << e.what();
  }
  options = {};
  options.name = "not an identifier";
  EXPECT_THROW(generate(skeleton_object(), options), Error);
  const std::byte garbage[16] = {};
  EXPECT_THROW(generate_skeleton(garbage, "garbage.bpf.o", {}, [](std::string_view) {}), Error);
}

}  // namespace
}  // namespace corebpf
