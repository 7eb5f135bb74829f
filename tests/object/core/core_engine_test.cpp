// The CO-RE engine on hand-built BTF: every relocation kind, candidate search, the compatibility
// and type_matches rules, bitfields, arrays, anonymous members, enums, errors, and patching.
// Expected values are worked out by hand from the layouts written here.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/btf_writer.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "object/core/target_cache.hpp"

namespace corebpf::core {
namespace {

using btf::Btf;
using btf::BtfWriter;
using btf::TypeId;

// A BTF under construction plus the access strings relocations will name.
class BtfBuilder {
 public:
  BtfBuilder() {
    for (const char* access :
         {"0",   "1",   "2",   "3",     "5",     "0:0",   "0:1",   "0:2",   "0:3",   "0:4",   "0:5",
          "1:0", "1:1", "2:1", "0:0:1", "0:0:2", "0:1:0", "0:1:1", "0:2:0", "0:2:1", "0:3:7", "0:0:9"})
      access_string(access);
  }
  BtfWriter w;
  std::uint32_t access_string(const std::string& access) {
    const std::uint32_t off = w.add_string(access);
    strings_[access] = off;
    return off;
  }
  std::uint32_t offset_of(const std::string& access) const {
    auto it = strings_.find(access);
    if (it == strings_.end()) throw std::logic_error("access string not added: " + access);
    return it->second;
  }
  Btf build(const std::string& name, btf::Endian endian = btf::native_endian()) {
    return Btf::from_vector(w.serialize(endian), {}, name);
  }

 private:
  std::map<std::string, std::uint32_t> strings_;
};

struct Fixture {
  BtfBuilder local;
  BtfBuilder target;
  std::optional<Btf> local_btf;
  std::optional<Target> target_obj;

  void finish(btf::Endian endian = btf::native_endian()) {
    local_btf = local.build("local.btf", endian);
    target_obj.emplace(target.build("target.btf", endian));
  }
  ReloRecord record(TypeId type, const std::string& access, ReloKind kind, std::uint32_t insn_off = 0) const {
    return ReloRecord{insn_off, type, local.offset_of(access), kind};
  }
  ReloResult run(TypeId type, const std::string& access, ReloKind kind) const {
    return compute(*local_btf, record(type, access, kind), *target_obj);
  }
};

// Expects an ok result with these values.
void expect_ok(const ReloResult& r, std::uint64_t local, std::uint64_t target) {
  EXPECT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(r.local_value, local) << r.spec << " " << kind_name(r.kind);
  EXPECT_EQ(r.target_value, target) << r.spec << " " << kind_name(r.kind);
}

struct Ints {
  TypeId int_ = 0, uint = 0, long_ = 0, ulong = 0, short_ = 0, ushort = 0, char_ = 0, uchar = 0, ull = 0;
};
Ints add_ints(BtfWriter& w) {
  Ints i;
  i.int_ = w.add_int("int", 4, btf::kIntSigned);
  i.uint = w.add_int("unsigned int", 4);
  i.long_ = w.add_int("long", 8, btf::kIntSigned);
  i.ulong = w.add_int("unsigned long", 8);
  i.short_ = w.add_int("short", 2, btf::kIntSigned);
  i.ushort = w.add_int("unsigned short", 2);
  i.char_ = w.add_int("char", 1, btf::kIntSigned);
  i.uchar = w.add_int("unsigned char", 1);
  i.ull = w.add_int("unsigned long long", 8);
  return i;
}

// ---- names ----

TEST(CoreNames, EssentialNameCutsAtTheLastFlavorSeparator) {
  EXPECT_EQ(core_essential_name("task_struct___v2"), "task_struct");
  EXPECT_EQ(core_essential_name("task_struct"), "task_struct");
  EXPECT_EQ(core_essential_name("a___b___c"), "a___b");
  EXPECT_EQ(core_essential_name("____x"), "____x");
  EXPECT_EQ(core_essential_name("x___"), "x___");
  EXPECT_EQ(core_essential_name("a____b"), "a____b");
  EXPECT_EQ(core_essential_name("S_NEW___x"), "S_NEW");
  EXPECT_EQ(core_essential_name(""), "");
}

TEST(CoreNames, KindAndStatusNames) {
  const char* expected[] = {"byte_off",       "byte_sz",       "field_exists",   "signed",      "lshift_u64",
                            "rshift_u64",     "local_type_id", "target_type_id", "type_exists", "type_size",
                            "enumval_exists", "enumval_value", "type_matches"};
  for (std::uint32_t k = 0; k <= kMaxReloKind; ++k) EXPECT_EQ(kind_name(static_cast<ReloKind>(k)), expected[k]);
  EXPECT_EQ(kind_name(static_cast<ReloKind>(13)), "unknown");
  EXPECT_EQ(status_name(Status::ok), "ok");
  EXPECT_EQ(status_name(Status::poisoned), "poisoned");
  EXPECT_EQ(status_name(Status::error), "error");
}

// ---- fields ----

// local:  struct s { int a; unsigned int b; long c; }                 (16 bytes)
// target: struct s { long c; unsigned int b; int extra; int a; }      (24 bytes)
struct MovedFields : Fixture {
  TypeId local_s = 0, target_s = 0;
  MovedFields() {
    auto li = add_ints(local.w);
    local_s = local.w.add_struct("s", 16);
    local.w.add_member("a", li.int_, 0);
    local.w.add_member("b", li.uint, 32);
    local.w.add_member("c", li.long_, 64);
    auto ti = add_ints(target.w);
    target.w.add_struct("pad_type", 4);  // ids differ from the local ones
    target_s = target.w.add_struct("s", 24);
    target.w.add_member("c", ti.long_, 0);
    target.w.add_member("b", ti.uint, 64);
    target.w.add_member("extra", ti.int_, 96);
    target.w.add_member("a", ti.int_, 128);
    finish();
  }
};

TEST(CoreFields, OffsetsSizesExistenceSignedness) {
  MovedFields f;
  auto a = f.run(f.local_s, "0:0", ReloKind::field_byte_offset);
  expect_ok(a, 0, 16);
  EXPECT_EQ(a.spec, "s.a");
  EXPECT_EQ(a.local_type_name, "struct s");
  EXPECT_EQ(a.access, "0:0");
  EXPECT_EQ(a.target_type_id, f.target_s);
  EXPECT_TRUE(a.validate);
  EXPECT_EQ(a.local_size, 4u);
  EXPECT_EQ(a.target_size, 4u);
  EXPECT_EQ(a.resize, MemResize::none);
  expect_ok(f.run(f.local_s, "0:1", ReloKind::field_byte_offset), 4, 8);
  expect_ok(f.run(f.local_s, "0:2", ReloKind::field_byte_offset), 8, 0);
  expect_ok(f.run(f.local_s, "0:2", ReloKind::field_byte_size), 8, 8);
  expect_ok(f.run(f.local_s, "0:1", ReloKind::field_exists), 1, 1);
  expect_ok(f.run(f.local_s, "0:0", ReloKind::field_signed), 1, 1);
  expect_ok(f.run(f.local_s, "0:1", ReloKind::field_signed), 0, 0);
  // Whole fields: the shifts that extract them from a 64-bit load.
  expect_ok(f.run(f.local_s, "0:0", ReloKind::field_lshift_u64), 32, 32);
  expect_ok(f.run(f.local_s, "0:0", ReloKind::field_rshift_u64), 32, 32);
}

TEST(CoreFields, RootArrayIndexStepsOverWholeStructs) {
  MovedFields f;
  // &s[1].a and &s[2].b: the root pointer indexed first, by each side's struct size.
  auto r = f.run(f.local_s, "1:0", ReloKind::field_byte_offset);
  expect_ok(r, 16, 24 + 16);
  EXPECT_EQ(r.spec, "s[1].a");
  expect_ok(f.run(f.local_s, "2:1", ReloKind::field_byte_offset), 32 + 4, 48 + 8);
}

TEST(CoreFields, FlavorsMatchByEssentialName) {
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId v2 = f.local.w.add_struct("s___v2", 8);
  f.local.w.add_member("a", li.int_, 0);
  f.local.w.add_member("b", li.int_, 32);
  auto ti = add_ints(f.target.w);
  const TypeId target_s = f.target.w.add_struct("s", 12);
  f.target.w.add_member("b", ti.int_, 0);
  f.target.w.add_member("x", ti.int_, 32);
  f.target.w.add_member("a", ti.int_, 64);
  f.target.w.add_struct("s_other", 4);  // same prefix, other essential name: not a candidate
  f.target.w.add_member("a", ti.int_, 0);
  f.finish();
  auto r = f.run(v2, "0:0", ReloKind::field_byte_offset);
  expect_ok(r, 0, 8);
  EXPECT_EQ(r.target_type_id, target_s);
  EXPECT_EQ(r.spec, "s___v2.a");
  expect_ok(f.run(v2, "0:1", ReloKind::field_byte_offset), 4, 0);
}

TEST(CoreFields, MissingFieldExistsZeroOthersPoisoned) {
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId s = f.local.w.add_struct("s", 8);
  f.local.w.add_member("kept", li.int_, 0);
  f.local.w.add_member("gone", li.int_, 32);
  auto ti = add_ints(f.target.w);
  f.target.w.add_struct("s", 4);
  f.target.w.add_member("kept", ti.int_, 0);
  f.finish();
  auto exists = f.run(s, "0:1", ReloKind::field_exists);
  expect_ok(exists, 1, 0);
  EXPECT_NE(exists.message.find("no field 'gone'"), std::string::npos) << exists.message;
  for (auto kind : {ReloKind::field_byte_offset, ReloKind::field_byte_size, ReloKind::field_signed,
                    ReloKind::field_lshift_u64, ReloKind::field_rshift_u64}) {
    auto r = f.run(s, "0:1", kind);
    EXPECT_EQ(r.status, Status::poisoned) << kind_name(kind);
    EXPECT_NE(r.message.find("gone"), std::string::npos) << r.message;
    EXPECT_EQ(r.spec, "s.gone");
  }
  expect_ok(f.run(s, "0:0", ReloKind::field_byte_offset), 0, 0);
}

TEST(CoreFields, IncompatibleFieldTypeIsNoMatch) {
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId local_inner = f.local.w.add_struct("inner", 4);
  f.local.w.add_member("v", li.int_, 0);
  const TypeId local_ptr = f.local.w.add_ptr(li.int_);
  const TypeId s = f.local.w.add_struct("s", 16);
  f.local.w.add_member("num", li.int_, 0);  // an int locally...
  f.local.w.add_member("ptr", local_ptr, 64);
  (void)local_inner;
  auto ti = add_ints(f.target.w);
  const TypeId target_inner = f.target.w.add_struct("inner", 4);
  f.target.w.add_member("v", ti.int_, 0);
  const TypeId target_ptr = f.target.w.add_ptr(ti.long_);
  f.target.w.add_struct("s", 16);
  f.target.w.add_member("num", target_inner, 0);  // ...a struct on the target
  f.target.w.add_member("ptr", target_ptr, 64);
  f.finish();
  auto r = f.run(s, "0:0", ReloKind::field_byte_offset);
  EXPECT_EQ(r.status, Status::poisoned);
  EXPECT_NE(r.message.find("field 'num' is int locally but struct inner"), std::string::npos) << r.message;
  // Any two pointers are compatible.
  expect_ok(f.run(s, "0:1", ReloKind::field_byte_offset), 8, 8);
}

TEST(CoreFields, FieldCompatibilityRules) {
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId le = f.local.w.add_enum("color", 4);
  f.local.w.add_enumerator("RED", 0);
  const TypeId lanon_enum = f.local.w.add_enum("", 4);
  f.local.w.add_enumerator("X", 0);
  const TypeId lfloat = f.local.w.add_float("float", 4);
  const TypeId lunion = f.local.w.add_union("u", 4);
  f.local.w.add_member("i", li.int_, 0);
  const TypeId larr = f.local.w.add_array(li.int_, li.int_, 2);
  const TypeId s = f.local.w.add_struct("s", 64);
  f.local.w.add_member("e", le, 0);            // 0:0 enum vs enum64 same name
  f.local.w.add_member("e2", lanon_enum, 32);  // 0:1 anonymous enum vs named
  f.local.w.add_member("fl", lfloat, 64);      // 0:2 float vs double
  f.local.w.add_member("comp", lunion, 96);    // 0:3 union vs struct
  f.local.w.add_member("arr", larr, 128);      // 0:4 array dims ignored
  f.local.w.add_member("en", le, 192);         // 0:5 enum vs other-named enum
  auto ti = add_ints(f.target.w);
  const TypeId te = f.target.w.add_enum64("color___x", 8);
  f.target.w.add_enumerator("RED", 0);
  const TypeId tother = f.target.w.add_enum("shade", 4);
  f.target.w.add_enumerator("RED", 0);
  const TypeId tdouble = f.target.w.add_float("double", 8);
  const TypeId tstruct = f.target.w.add_struct("whatever", 8);
  f.target.w.add_member("i", ti.long_, 0);
  const TypeId tarr = f.target.w.add_array(ti.long_, ti.int_, 5);
  f.target.w.add_struct("s", 128);
  f.target.w.add_member("e", te, 0);
  f.target.w.add_member("e2", tother, 64);
  f.target.w.add_member("fl", tdouble, 128);
  f.target.w.add_member("comp", tstruct, 192);
  f.target.w.add_member("arr", tarr, 256);
  f.target.w.add_member("en", tother, 640);
  f.finish();
  expect_ok(f.run(s, "0:0", ReloKind::field_byte_offset), 0, 0);
  expect_ok(f.run(s, "0:1", ReloKind::field_byte_offset), 4, 8);
  expect_ok(f.run(s, "0:2", ReloKind::field_byte_offset), 8, 16);
  expect_ok(f.run(s, "0:3", ReloKind::field_byte_offset), 12, 24);
  expect_ok(f.run(s, "0:4", ReloKind::field_byte_offset), 16, 32);
  expect_ok(f.run(s, "0:4", ReloKind::field_byte_size), 8, 40);
  EXPECT_EQ(f.run(s, "0:5", ReloKind::field_byte_offset).status, Status::poisoned);
}

// local:  struct a { int arr[4]; int m[3][4]; struct inner { int x; int y; } in[2]; int n; int tail[]; }
// target: struct a { long pad; int arr[8]; int m[5][6]; struct inner { long z; int y; int x; } in[1]; int n; int
// tail[]; }
struct Arrays : Fixture {
  TypeId local_a = 0;
  Arrays(bool flexible_target_tail = true) {
    local.access_string("0:1:1:2");
    local.access_string("0:2:1:1");
    local.access_string("0:2:0:1");
    local.access_string("0:4:7");
    local.access_string("0:1:1");
    auto li = add_ints(local.w);
    const TypeId linner = local.w.add_struct("inner", 8);
    local.w.add_member("x", li.int_, 0);
    local.w.add_member("y", li.int_, 32);
    const TypeId row = local.w.add_array(li.int_, li.int_, 4);
    const TypeId arr = local.w.add_array(li.int_, li.int_, 4);
    const TypeId matrix = local.w.add_array(row, li.int_, 3);
    const TypeId inners = local.w.add_array(linner, li.int_, 2);
    const TypeId tail = local.w.add_array(li.int_, li.int_, 0);
    local_a = local.w.add_struct("a", 84);
    local.w.add_member("arr", arr, 0);      // 0:0 @0
    local.w.add_member("m", matrix, 128);   // 0:1 @16
    local.w.add_member("in", inners, 512);  // 0:2 @64
    local.w.add_member("n", li.int_, 640);  // 0:3 @80
    local.w.add_member("tail", tail, 672);  // 0:4 @84
    auto ti = add_ints(target.w);
    const TypeId tinner = target.w.add_struct("inner", 16);
    target.w.add_member("z", ti.long_, 0);
    target.w.add_member("y", ti.int_, 64);
    target.w.add_member("x", ti.int_, 96);
    const TypeId trow = target.w.add_array(ti.int_, ti.int_, 6);
    const TypeId tarr = target.w.add_array(ti.int_, ti.int_, 8);
    const TypeId tmatrix = target.w.add_array(trow, ti.int_, 5);
    const TypeId tinners = target.w.add_array(tinner, ti.int_, 1);
    const TypeId ttail = target.w.add_array(ti.int_, ti.int_, flexible_target_tail ? 0 : 2);
    target.w.add_struct("a", 184);
    target.w.add_member("pad", ti.long_, 0);   // @0
    target.w.add_member("arr", tarr, 64);      // @8
    target.w.add_member("m", tmatrix, 320);    // @40 (120 bytes)
    target.w.add_member("in", tinners, 1280);  // @160
    target.w.add_member("n", ti.int_, 1408);   // @176
    target.w.add_member("tail", ttail, 1440);  // @180
    finish();
  }
};

TEST(CoreArrays, ElementsOfOneAndTwoDimensions) {
  Arrays f;
  auto r = f.run(f.local_a, "0:0:2", ReloKind::field_byte_offset);
  expect_ok(r, 8, 8 + 8);
  EXPECT_EQ(r.spec, "a.arr[2]");
  EXPECT_EQ(r.local_size, 4u);
  expect_ok(f.run(f.local_a, "0:0", ReloKind::field_byte_size), 16, 32);
  expect_ok(f.run(f.local_a, "0:0:1", ReloKind::field_byte_size), 4, 4);
  auto m = f.run(f.local_a, "0:1:1:2", ReloKind::field_byte_offset);
  expect_ok(m, 16 + 16 + 8, 40 + 24 + 8);
  EXPECT_EQ(m.spec, "a.m[1][2]");
  // A row of the matrix: its size is the row's.
  expect_ok(f.run(f.local_a, "0:1:1", ReloKind::field_byte_size), 16, 24);
  auto x = f.run(f.local_a, "0:2:0:1", ReloKind::field_byte_offset);
  expect_ok(x, 64 + 4, 160 + 8);
  EXPECT_EQ(x.spec, "a.in[0].y");
}

TEST(CoreArrays, IndexBeyondTheTargetArrayDoesNotMatch) {
  Arrays f;
  // in[1] exists locally (2 elements) but not on the target (1 element).
  auto r = f.run(f.local_a, "0:2:1:1", ReloKind::field_byte_offset);
  EXPECT_EQ(r.status, Status::poisoned);
  EXPECT_NE(r.message.find("index 1 is out of bounds"), std::string::npos) << r.message;
  expect_ok(f.run(f.local_a, "0:2:1:1", ReloKind::field_exists), 1, 0);
}

TEST(CoreArrays, FlexibleArraysTakeAnyIndex) {
  Arrays flexible(true);
  auto r = flexible.run(flexible.local_a, "0:4:7", ReloKind::field_byte_offset);
  expect_ok(r, 84 + 28, 180 + 28);
  EXPECT_EQ(r.spec, "a.tail[7]");
  // A fixed two-element array on the target does not have element 7.
  Arrays fixed(false);
  EXPECT_EQ(fixed.run(fixed.local_a, "0:4:7", ReloKind::field_byte_offset).status, Status::poisoned);
}

TEST(CoreArrays, LocalIndexBeyondTheArrayIsAnError) {
  Arrays f;
  auto r = f.run(f.local_a, "0:0:9", ReloKind::field_byte_offset);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_NE(r.message.find("index 9"), std::string::npos) << r.message;
}

TEST(CoreArrays, ElementsHaveNoSignednessOrShifts) {
  Arrays f;
  auto r = f.run(f.local_a, "0:0:1", ReloKind::field_signed);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_NE(r.message.find("array element"), std::string::npos) << r.message;
  expect_ok(f.run(f.local_a, "0:0:1", ReloKind::field_exists), 1, 1);
}

// local:  struct anon { int head; union { int x; long y; }; struct { short p; short q; }; }     (24 bytes)
// target: struct anon { struct { union { short q; int zz; }; short p; }; long y; int x; int head; }
TEST(CoreAnonymous, MembersAreFoundThroughAnonymousStructsAndUnions) {
  Fixture f;
  f.local.access_string("0:2:1");
  f.local.access_string("0:2:0");
  auto li = add_ints(f.local.w);
  const TypeId lu = f.local.w.add_union("", 8);
  f.local.w.add_member("x", li.int_, 0);
  f.local.w.add_member("y", li.long_, 0);
  const TypeId ls = f.local.w.add_struct("", 4);
  f.local.w.add_member("p", li.short_, 0);
  f.local.w.add_member("q", li.short_, 16);
  const TypeId anon = f.local.w.add_struct("anon", 24);
  f.local.w.add_member("head", li.int_, 0);
  f.local.w.add_member("", lu, 64);
  f.local.w.add_member("", ls, 128);
  auto ti = add_ints(f.target.w);
  const TypeId tu = f.target.w.add_union("", 4);
  f.target.w.add_member("q", ti.short_, 0);
  f.target.w.add_member("zz", ti.int_, 0);
  const TypeId ts = f.target.w.add_struct("", 8);
  f.target.w.add_member("", tu, 0);
  f.target.w.add_member("p", ti.short_, 32);
  f.target.w.add_struct("anon", 24);
  f.target.w.add_member("", ts, 0);
  f.target.w.add_member("y", ti.long_, 64);
  f.target.w.add_member("x", ti.int_, 128);
  f.target.w.add_member("head", ti.int_, 160);
  f.finish();
  auto q = f.run(anon, "0:2:1", ReloKind::field_byte_offset);
  expect_ok(q, 18, 0);
  EXPECT_EQ(q.spec, "anon.q");
  EXPECT_EQ(q.access, "0:2:1");
  expect_ok(f.run(anon, "0:2:0", ReloKind::field_byte_offset), 16, 4);
  expect_ok(f.run(anon, "0:1:0", ReloKind::field_byte_offset), 8, 16);
  expect_ok(f.run(anon, "0:1:1", ReloKind::field_byte_offset), 8, 8);
  expect_ok(f.run(anon, "0:0", ReloKind::field_byte_offset), 0, 20);
}

// Large structs are searched through an index of their members, small ones are scanned: both must
// give the same answers, including the odd cases of hand-made BTF with a member name twice.
//   target: struct big { union { struct blob x; int y; }; int x; struct blob z; int z; int pad... }
// `x` inside the anonymous union has the wrong type, so the search goes on to the outer `x`; the
// second `z` is in the same struct as the first, wrong one, so `z` is not found at all.
class MemberSearch : public ::testing::TestWithParam<int> {};

TEST_P(MemberSearch, IndexAndScanAgree) {
  const int padding = GetParam();
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId big = f.local.w.add_struct("big", 12);
  f.local.w.add_member("x", li.int_, 0);
  f.local.w.add_member("y", li.int_, 32);
  f.local.w.add_member("z", li.int_, 64);
  auto ti = add_ints(f.target.w);
  const TypeId blob = f.target.w.add_struct("blob", 4);
  f.target.w.add_member("b", ti.int_, 0);
  const TypeId anon = f.target.w.add_union("", 4);
  f.target.w.add_member("x", blob, 0);
  f.target.w.add_member("y", ti.int_, 0);
  f.target.w.add_struct("big", 16 + 4 * padding);
  f.target.w.add_member("", anon, 0);
  f.target.w.add_member("x", ti.int_, 32);
  f.target.w.add_member("z", blob, 64);
  f.target.w.add_member("z", ti.int_, 96);
  for (int i = 0; i < padding; ++i) f.target.w.add_member("pad" + std::to_string(i), ti.int_, 128 + 32 * i);
  f.finish();
  auto x = f.run(big, "0:0", ReloKind::field_byte_offset);
  expect_ok(x, 0, 4);
  auto y = f.run(big, "0:1", ReloKind::field_byte_offset);
  expect_ok(y, 4, 0);
  auto z = f.run(big, "0:2", ReloKind::field_byte_offset);
  EXPECT_EQ(z.status, Status::poisoned);
  EXPECT_NE(z.message.find("field 'z' is int locally but struct blob"), std::string::npos) << z.message;
}

// 0 padding members: 4 members, scanned; 20: 24 members, indexed.
INSTANTIATE_TEST_SUITE_P(CoreFields, MemberSearch, ::testing::Values(0, 20));

// Target bitfields (little endian), worked out with the CO-RE rule: start from the base type's
// size at its alignment, double until one aligned load covers the field.
//   a: unsigned int :3  at bit 0    -> load 4 @0,  lshift 64-3=61,      rshift 61
//   c: int :7           at bit 30   -> 4 bytes would end at bit 37 > 32, so load 8 @0: lshift 27, rshift 57
//   d: u64 :40          at bit 64   -> load 8 @8,  lshift 24,           rshift 24
//   e: unsigned char :5 at bit 104  -> load 1 @13, lshift 59,           rshift 59
//   f: u16 :12          at bit 110  -> 2 bytes @12 end at bit 26 > 16, so load 4 @12: lshift 38, rshift 52
struct Bitfields : Fixture {
  TypeId local_bits = 0, local_wide = 0;
  explicit Bitfields(btf::Endian endian = btf::native_endian()) {
    auto li = add_ints(local.w);
    local_bits = local.w.add_struct("bits", 16);
    local.w.add_member("a", li.uint, 0, 3);
    local.w.add_member("c", li.int_, 3, 7);
    local.w.add_member("d", li.ull, 64, 40);
    local.w.add_member("e", li.uchar, 104, 5);
    local.w.add_member("f", li.ushort, 112, 12);
    local_wide = local.w.add_struct("wide", 16);
    local.w.add_member("pad", li.ull, 0, 60);
    local.w.add_member("g", li.ull, 60, 10);
    auto ti = add_ints(target.w);
    target.w.add_struct("bits", 16);
    target.w.add_member("a", ti.uint, 0, 3);
    target.w.add_member("c", ti.int_, 30, 7);
    target.w.add_member("d", ti.ull, 64, 40);
    target.w.add_member("e", ti.uchar, 104, 5);
    target.w.add_member("f", ti.ushort, 110, 12);
    target.w.add_struct("wide", 16);
    target.w.add_member("pad", ti.ull, 0, 60);
    target.w.add_member("g", ti.ull, 60, 10);
    finish(endian);
  }
  struct Expected {
    const char* access;
    std::uint64_t byte_off, byte_sz, lshift, rshift, is_signed;
  };
};

TEST(CoreBitfields, EveryFieldAspectOfSeveralWidthsAndSignedness) {
  Bitfields f;
  const Bitfields::Expected expected[] = {
      {"0:0", 0, 4, 61, 61, 0},  {"0:1", 0, 8, 27, 57, 1},  {"0:2", 8, 8, 24, 24, 0},
      {"0:3", 13, 1, 59, 59, 0}, {"0:4", 12, 4, 38, 52, 0},
  };
  for (const auto& e : expected) {
    SCOPED_TRACE(e.access);
    auto off = f.run(f.local_bits, e.access, ReloKind::field_byte_offset);
    EXPECT_EQ(off.status, Status::ok) << off.message;
    EXPECT_EQ(off.target_value, e.byte_off);
    // The compiler picks its own load for bitfields: nothing to validate, nothing to resize.
    EXPECT_FALSE(off.validate);
    EXPECT_EQ(off.local_size, 0u);
    EXPECT_EQ(f.run(f.local_bits, e.access, ReloKind::field_byte_size).target_value, e.byte_sz);
    EXPECT_EQ(f.run(f.local_bits, e.access, ReloKind::field_lshift_u64).target_value, e.lshift);
    auto rshift = f.run(f.local_bits, e.access, ReloKind::field_rshift_u64);
    EXPECT_EQ(rshift.target_value, e.rshift);
    EXPECT_TRUE(rshift.validate);
    auto sign = f.run(f.local_bits, e.access, ReloKind::field_signed);
    EXPECT_EQ(sign.target_value, e.is_signed);
    EXPECT_TRUE(sign.validate);
  }
  // Local values come from the local layout: c is at bit 3 there, inside the first int.
  auto c = f.run(f.local_bits, "0:1", ReloKind::field_lshift_u64);
  EXPECT_EQ(c.local_value, 64u - 10u);
}

TEST(CoreBitfields, BigEndianShiftsCountFromTheOtherEnd) {
  Bitfields f(btf::Endian::big);
  // (8 - load size) * 8 + the field's bit offset within the load.
  EXPECT_EQ(f.run(f.local_bits, "0:0", ReloKind::field_lshift_u64).target_value, 32u);
  EXPECT_EQ(f.run(f.local_bits, "0:1", ReloKind::field_lshift_u64).target_value, 30u);
  EXPECT_EQ(f.run(f.local_bits, "0:2", ReloKind::field_lshift_u64).target_value, 0u);
  EXPECT_EQ(f.run(f.local_bits, "0:3", ReloKind::field_lshift_u64).target_value, 56u);
  EXPECT_EQ(f.run(f.local_bits, "0:4", ReloKind::field_lshift_u64).target_value, 46u);
  EXPECT_EQ(f.run(f.local_bits, "0:4", ReloKind::field_rshift_u64).target_value, 52u);
}

TEST(CoreBitfields, FieldNoSingleLoadCoversIsAnError) {
  Bitfields f;
  auto r = f.run(f.local_wide, "0:1", ReloKind::field_byte_offset);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_NE(r.message.find("64-bit load"), std::string::npos) << r.message;
}

// ---- candidates ----

TEST(CoreCandidates, TwoCandidatesThatAgreeAreFine) {
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId s = f.local.w.add_struct("s", 8);
  f.local.w.add_member("x", li.int_, 0);
  f.local.w.add_member("y", li.int_, 32);
  auto ti = add_ints(f.target.w);
  for (const char* name : {"s", "s___copy"}) {
    f.target.w.add_struct(name, 12);
    f.target.w.add_member("pad", ti.int_, 0);
    f.target.w.add_member("y", ti.int_, 32);
    f.target.w.add_member("x", ti.int_, 64);
  }
  f.finish();
  expect_ok(f.run(s, "0:1", ReloKind::field_byte_offset), 4, 4);
}

TEST(CoreCandidates, CandidatesThatDisagreeAreAnError) {
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId s = f.local.w.add_struct("s", 8);
  f.local.w.add_member("x", li.int_, 0);
  f.local.w.add_member("y", li.int_, 32);
  auto ti = add_ints(f.target.w);
  const TypeId first = f.target.w.add_struct("s", 8);
  f.target.w.add_member("x", ti.int_, 0);
  f.target.w.add_member("y", ti.int_, 32);
  const TypeId second = f.target.w.add_struct("s___other", 8);
  f.target.w.add_member("y", ti.int_, 0);
  f.target.w.add_member("x", ti.int_, 32);
  f.finish();
  auto r = f.run(s, "0:1", ReloKind::field_byte_offset);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_NE(r.message.find("ambiguous"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("[" + std::to_string(first) + "]"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("[" + std::to_string(second) + "]"), std::string::npos) << r.message;
  // Two compatible types of one name have two ids: a target type id is ambiguous too.
  auto id = f.run(s, "0", ReloKind::type_id_target);
  EXPECT_EQ(id.status, Status::error);
  EXPECT_NE(id.message.find("ambiguous"), std::string::npos) << id.message;
}

TEST(CoreCandidates, AMatchNarrowsTheCandidatesOfItsTypeForLaterRelocations) {
  // s has x at 0 and no z; s___2 has x at 4 and z. Once z matched only s___2, x is read from
  // s___2 alone (as libbpf does), so it is not ambiguous.
  Fixture f;
  auto li = add_ints(f.local.w);
  const TypeId s = f.local.w.add_struct("s", 8);
  f.local.w.add_member("x", li.int_, 0);
  f.local.w.add_member("z", li.int_, 32);
  auto ti = add_ints(f.target.w);
  f.target.w.add_struct("s", 4);
  f.target.w.add_member("x", ti.int_, 0);
  const TypeId s2 = f.target.w.add_struct("s___2", 12);
  f.target.w.add_member("pad", ti.int_, 0);
  f.target.w.add_member("x", ti.int_, 32);
  f.target.w.add_member("z", ti.int_, 64);
  f.finish();
  Relocator narrowing(*f.local_btf, *f.target_obj);
  auto z = narrowing.compute(f.record(s, "0:1", ReloKind::field_byte_offset));
  expect_ok(z, 4, 8);
  EXPECT_EQ(z.target_type_id, s2);
  expect_ok(narrowing.compute(f.record(s, "0:0", ReloKind::field_byte_offset)), 0, 4);
  // In a fresh session x alone sees both candidates.
  Relocator fresh(*f.local_btf, *f.target_obj);
  EXPECT_EQ(fresh.compute(f.record(s, "0:0", ReloKind::field_byte_offset)).status, Status::error);
}

TEST(CoreCandidates, ModulesAreSearchedOnlyWhenVmlinuxHasNoCandidate) {
  BtfWriter vw;
  const TypeId vint = vw.add_int("int", 4, btf::kIntSigned);
  vw.add_struct("in_vmlinux", 4);
  vw.add_member("v", vint, 0);
  const Btf vmlinux = Btf::from_vector(vw.serialize(), {}, "vmlinux");
  BtfWriter mw(vmlinux);
  const TypeId module_struct = mw.add_struct("in_module", 8);
  mw.add_member("pad", vint, 0);
  mw.add_member("m", vint, 32);
  const Btf module = Btf::from_vector(mw.serialize(), {.base = &vmlinux}, "module");

  BtfBuilder local;
  auto li = add_ints(local.w);
  const TypeId lmod = local.w.add_struct("in_module", 4);
  local.w.add_member("m", li.int_, 0);
  const TypeId lvm = local.w.add_struct("in_vmlinux", 4);
  local.w.add_member("v", li.int_, 0);
  const Btf local_btf = local.build("local");

  int loads = 0;
  Target target(vmlinux, [&](const Btf& base) {
    ++loads;
    EXPECT_EQ(&base.data(), &vmlinux.data());
    return std::vector<Btf>{module};
  });
  Relocator relocator(local_btf, target);
  expect_ok(relocator.compute({0, lvm, local.offset_of("0:0"), ReloKind::field_byte_offset}), 0, 0);
  EXPECT_EQ(loads, 0) << "vmlinux had the candidate: modules must not be loaded";
  auto m = relocator.compute({0, lmod, local.offset_of("0:0"), ReloKind::field_byte_offset});
  expect_ok(m, 0, 4);
  EXPECT_EQ(m.target_type_id, module_struct);
  auto id = relocator.compute({0, lmod, local.offset_of("0"), ReloKind::type_id_target});
  expect_ok(id, lmod, module_struct);
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(target.modules().size(), 1u);
  EXPECT_EQ(&target.btf_at(1).data(), &module.data());
}

TEST(CoreCandidates, TargetCacheIsSharedAcrossObjects) {
  MovedFields f;
  auto& cache = f.target_obj->cache();
  const auto before = cache.candidates.size();
  expect_ok(f.run(f.local_s, "0:0", ReloKind::field_byte_offset), 0, 16);
  EXPECT_EQ(cache.candidates.size(), before + 1);
  const auto* list = &cache.find(f.target_obj->vmlinux(), "s", btf::Kind::Struct);
  // A second object with its own BTF asks the same question: answered from the cache.
  BtfBuilder other;
  auto oi = add_ints(other.w);
  const TypeId os = other.w.add_struct("s___mine", 4);
  other.w.add_member("b", oi.uint, 0);
  const Btf other_btf = other.build("other");
  expect_ok(compute(other_btf, {0, os, other.offset_of("0:0"), ReloKind::field_byte_offset}, *f.target_obj), 0, 8);
  EXPECT_EQ(cache.candidates.size(), before + 1);
  EXPECT_EQ(&cache.find(f.target_obj->vmlinux(), "s", btf::Kind::Struct), list);
}

// ---- enums ----

struct Enums : Fixture {
  TypeId e = 0, big = 0, small = 0, neg = 0, high = 0;
  Enums() {
    e = local.w.add_enum("e", 4);
    local.w.add_enumerator("A", 1);
    local.w.add_enumerator("B", 2);
    local.w.add_enumerator("C___x", 3);
    big = local.w.add_enum64("big", 8);
    local.w.add_enumerator("BIG", 0x100000000LL);
    small = local.w.add_enum("small", 4);
    local.w.add_enumerator("S", 5);
    neg = local.w.add_enum("neg", 4, true);
    local.w.add_enumerator("N", -3);
    high = local.w.add_enum("high", 4);
    local.w.add_enumerator("H", 0xffffffffLL);
    target.w.add_enum("e", 4);
    target.w.add_enumerator("C", 30);
    target.w.add_enumerator("A", 10);
    target.w.add_enum64("big", 8);
    target.w.add_enumerator("BIG", 0x300000000LL);
    target.w.add_enum64("small", 8);
    target.w.add_enumerator("S", 0x500000000LL);
    target.w.add_enum("neg", 4, true);
    target.w.add_enumerator("N", -30);
    target.w.add_enum("high", 4);
    target.w.add_enumerator("H", 0xfffffffeLL);
    finish();
  }
};

TEST(CoreEnums, ValuesAndExistenceByEnumeratorName) {
  Enums f;
  auto a = f.run(f.e, "0", ReloKind::enumval_value);
  expect_ok(a, 1, 10);
  EXPECT_EQ(a.spec, "enum e::A");
  expect_ok(f.run(f.e, "0", ReloKind::enumval_exists), 1, 1);
  // C___x is C on the target.
  expect_ok(f.run(f.e, "2", ReloKind::enumval_value), 3, 30);
  auto missing = f.run(f.e, "1", ReloKind::enumval_value);
  EXPECT_EQ(missing.status, Status::poisoned);
  EXPECT_NE(missing.message.find("no enumerator B"), std::string::npos) << missing.message;
  expect_ok(f.run(f.e, "1", ReloKind::enumval_exists), 1, 0);
}

TEST(CoreEnums, Enum64AndMixedWidths) {
  Enums f;
  expect_ok(f.run(f.big, "0", ReloKind::enumval_value), 0x100000000ULL, 0x300000000ULL);
  // A 32-bit local enum finds its 64-bit counterpart.
  expect_ok(f.run(f.small, "0", ReloKind::enumval_value), 5, 0x500000000ULL);
  expect_ok(f.run(f.small, "0", ReloKind::type_size), 4, 8);
}

TEST(CoreEnums, ThirtyTwoBitValuesWidenAsSigned) {
  Enums f;
  expect_ok(f.run(f.neg, "0", ReloKind::enumval_value), static_cast<std::uint64_t>(-3),
            static_cast<std::uint64_t>(-30));
  // As libbpf: a 32-bit enumerator widens from its signed 32-bit form, whatever the enum says.
  expect_ok(f.run(f.high, "0", ReloKind::enumval_value), 0xffffffffffffffffULL, 0xfffffffffffffffeULL);
}

TEST(CoreEnums, BadEnumeratorIndexIsAnError) {
  Enums f;
  auto r = f.run(f.e, "5", ReloKind::enumval_value);
  EXPECT_EQ(r.status, Status::error);
  EXPECT_NE(r.message.find("names no enumerator"), std::string::npos) << r.message;
  EXPECT_EQ(f.run(f.e, "0:1", ReloKind::enumval_exists).status, Status::error);
}

// ---- types ----

struct Types : Fixture {
  TypeId s = 0, s_alias = 0, missing = 0, int_alias = 0, ptr_alias = 0;
  TypeId tm_ok = 0, tm_long = 0, tm_fwd = 0, tm_missing_member = 0, tm_union = 0, tm_enum = 0, tm_enum_size = 0,
         tm_sign = 0, tm_array = 0, tm_func = 0, tm_func_args = 0, tm_anon = 0;
  TypeId target_s = 0, target_alias = 0;
  Types() {
    auto li = add_ints(local.w);
    s = local.w.add_struct("s", 8);
    local.w.add_member("a", li.int_, 0);
    local.w.add_member("b", li.int_, 32);
    s_alias = local.w.add_typedef("s_t", s);
    missing = local.w.add_struct("missing", 4);
    local.w.add_member("m", li.int_, 0);
    int_alias = local.w.add_typedef("int_t", li.int_);
    ptr_alias = local.w.add_typedef("ptr_t", local.w.add_ptr(li.int_));
    // type_matches cases.
    tm_ok = local.w.add_struct("tm_ok", 16);  // members by name, any order, target may have more
    local.w.add_member("a", li.int_, 0);
    local.w.add_member("b", li.long_, 64);
    tm_long = local.w.add_struct("tm_long", 4);  // int vs long: sizes differ
    local.w.add_member("a", li.int_, 0);
    const TypeId opaque_ptr = local.w.add_ptr(local.w.add_fwd("opaque", false));
    tm_fwd = local.w.add_struct("tm_fwd", 8);  // a forward declaration behind a pointer matches the struct
    local.w.add_member("o", opaque_ptr, 0);
    tm_missing_member = local.w.add_struct("tm_missing_member", 8);
    local.w.add_member("a", li.int_, 0);
    local.w.add_member("gone", li.int_, 32);
    tm_union = local.w.add_union("tm_union", 4);  // a union never matches a struct
    local.w.add_member("a", li.int_, 0);
    tm_enum = local.w.add_enum("tm_enum", 4);  // enumerators by name, target may have more
    local.w.add_enumerator("ONE", 1);
    tm_enum_size = local.w.add_enum("tm_enum_size", 4);  // sizes must match
    local.w.add_enumerator("ONE", 1);
    tm_sign = local.w.add_typedef("tm_sign", li.int_);                                   // signedness must match
    tm_array = local.w.add_typedef("tm_array", local.w.add_array(li.int_, li.int_, 4));  // counts must match
    const TypeId long_ptr = local.w.add_ptr(li.long_);
    const TypeId proto = local.w.add_func_proto(li.int_);
    local.w.add_param("x", li.int_);
    local.w.add_param("y", long_ptr);
    tm_func = local.w.add_typedef("tm_func", local.w.add_ptr(proto));
    tm_func_args = local.w.add_typedef("tm_func_args", local.w.add_ptr(proto));
    const TypeId anon_inner = local.w.add_struct("", 4);
    local.w.add_member("i", li.int_, 0);
    tm_anon = local.w.add_struct("tm_anon", 4);  // anonymous members match anonymous members
    local.w.add_member("", anon_inner, 0);

    auto ti = add_ints(target.w);
    target_s = target.w.add_struct("s", 4);
    target.w.add_member("other", ti.int_, 0);
    target_alias = target.w.add_typedef("s_t", target_s);
    target.w.add_typedef("int_t", ti.long_);
    target.w.add_typedef("ptr_t", target.w.add_ptr(ti.char_));
    target.w.add_struct("tm_ok", 24);
    target.w.add_member("b", ti.long_, 0);
    target.w.add_member("extra", ti.int_, 64);
    target.w.add_member("a", ti.int_, 96);
    // Integers named like the local ones, so that only size or signedness differs.
    const TypeId wide_int = target.w.add_int("int", 8, btf::kIntSigned);
    const TypeId unsigned_int = target.w.add_int("int", 4);
    target.w.add_struct("tm_long", 8);
    target.w.add_member("a", wide_int, 0);
    const TypeId topaque = target.w.add_struct("opaque", 4);
    target.w.add_member("hidden", ti.int_, 0);
    const TypeId topaque_ptr = target.w.add_ptr(topaque);
    target.w.add_struct("tm_fwd", 8);
    target.w.add_member("o", topaque_ptr, 0);
    target.w.add_struct("tm_missing_member", 4);
    target.w.add_member("a", ti.int_, 0);
    target.w.add_struct("tm_union", 4);
    target.w.add_member("a", ti.int_, 0);
    target.w.add_enum("tm_enum", 4);
    target.w.add_enumerator("ZERO", 0);
    target.w.add_enumerator("ONE", 7);
    target.w.add_enum64("tm_enum_size", 8);
    target.w.add_enumerator("ONE", 1);
    target.w.add_typedef("tm_sign", unsigned_int);
    target.w.add_typedef("tm_array", target.w.add_array(ti.int_, ti.int_, 5));
    const TypeId tlong_ptr = target.w.add_ptr(ti.long_);
    const TypeId tproto = target.w.add_func_proto(ti.int_);
    target.w.add_param("renamed", ti.int_);
    target.w.add_param("y", tlong_ptr);
    target.w.add_typedef("tm_func", target.w.add_ptr(tproto));
    const TypeId tproto1 = target.w.add_func_proto(ti.int_);
    target.w.add_param("x", ti.int_);
    target.w.add_typedef("tm_func_args", target.w.add_ptr(tproto1));
    const TypeId tanon_inner = target.w.add_struct("", 4);
    target.w.add_member("i", ti.int_, 0);
    target.w.add_struct("tm_anon", 4);
    target.w.add_member("", tanon_inner, 0);
    finish();
  }
};

TEST(CoreTypes, ExistsSizeAndIds) {
  Types f;
  auto exists = f.run(f.s, "0", ReloKind::type_exists);
  expect_ok(exists, 1, 1);
  EXPECT_EQ(exists.spec, "struct s");
  expect_ok(f.run(f.s, "0", ReloKind::type_size), 8, 4);
  auto id = f.run(f.s, "0", ReloKind::type_id_target);
  expect_ok(id, f.s, f.target_s);
  EXPECT_FALSE(id.validate);
  auto local_id = f.run(f.s, "0", ReloKind::type_id_local);
  expect_ok(local_id, f.s, f.s);
  EXPECT_FALSE(local_id.validate);
  // A typedef root: candidates are typedefs of that name; sizes resolve through them.
  expect_ok(f.run(f.s_alias, "0", ReloKind::type_exists), 1, 1);
  expect_ok(f.run(f.s_alias, "0", ReloKind::type_size), 8, 4);
  expect_ok(f.run(f.s_alias, "0", ReloKind::type_id_target), f.s_alias, f.target_alias);
  // Integers of any size are compatible; pointers follow their targets.
  expect_ok(f.run(f.int_alias, "0", ReloKind::type_exists), 1, 1);
  expect_ok(f.run(f.ptr_alias, "0", ReloKind::type_exists), 1, 1);
}

TEST(CoreTypes, MissingTypeGivesZero) {
  Types f;
  for (auto kind : {ReloKind::type_exists, ReloKind::type_size, ReloKind::type_id_target, ReloKind::type_matches}) {
    auto r = f.run(f.missing, "0", kind);
    EXPECT_EQ(r.status, Status::ok) << kind_name(kind);
    EXPECT_EQ(r.target_value, 0u) << kind_name(kind);
    EXPECT_NE(r.message.find("no struct named 'missing'"), std::string::npos) << r.message;
  }
  auto field = f.run(f.missing, "0:0", ReloKind::field_byte_offset);
  EXPECT_EQ(field.status, Status::poisoned);
  EXPECT_NE(field.message.find("no struct named 'missing'"), std::string::npos) << field.message;
}

TEST(CoreTypes, TypeMatchesRules) {
  Types f;
  auto matches = [&](TypeId id) {
    auto r = f.run(id, "0", ReloKind::type_matches);
    EXPECT_EQ(r.status, Status::ok) << r.message;
    return r.target_value;
  };
  EXPECT_EQ(matches(f.tm_ok), 1u);
  EXPECT_EQ(matches(f.tm_long), 0u);
  EXPECT_EQ(matches(f.tm_fwd), 1u);
  EXPECT_EQ(matches(f.tm_missing_member), 0u);
  EXPECT_EQ(matches(f.tm_union), 0u);
  EXPECT_EQ(matches(f.tm_enum), 1u);
  EXPECT_EQ(matches(f.tm_enum_size), 0u);
  EXPECT_EQ(matches(f.tm_sign), 0u);
  EXPECT_EQ(matches(f.tm_array), 0u);
  EXPECT_EQ(matches(f.tm_func), 1u);  // parameter names do not matter, types do
  EXPECT_EQ(matches(f.tm_func_args), 0u);
  EXPECT_EQ(matches(f.tm_anon), 1u);
  // The same types are merely compatible where type_matches says no.
  expect_ok(f.run(f.tm_long, "0", ReloKind::type_exists), 1, 1);
  expect_ok(f.run(f.tm_sign, "0", ReloKind::type_exists), 1, 1);
  auto no = f.run(f.tm_long, "0", ReloKind::type_matches);
  EXPECT_NE(no.message.find("does not match"), std::string::npos) << no.message;
}

// ---- malformed relocations ----

TEST(CoreErrors, MalformedRelocationsAreErrorsNamingTheRelocation) {
  MovedFields f;
  f.local_btf.reset();
  for (const char* access : {"", "0:", ":0", "0:a", "0:1x", "0::1", "0:99", "99999999999"})
    f.local.access_string(access);
  const TypeId anon = f.local.w.add_struct("", 4);
  f.local.w.add_member("v", 1, 0);
  f.local_btf = f.local.build("local.btf");
  for (const char* access : {"", "0:", ":0", "0:a", "0:1x", "0::1", "0:99", "99999999999"}) {
    auto r = f.run(f.local_s, access, ReloKind::field_byte_offset);
    EXPECT_EQ(r.status, Status::error) << "'" << access << "'";
    EXPECT_FALSE(r.message.empty());
    EXPECT_EQ(r.local_type_name, "struct s");
  }
  auto type_access = f.run(f.local_s, "0:1", ReloKind::type_exists);
  EXPECT_EQ(type_access.status, Status::error);
  EXPECT_NE(type_access.message.find("must be \"0\""), std::string::npos) << type_access.message;
  auto bad_kind = f.run(f.local_s, "0:1", static_cast<ReloKind>(13));
  EXPECT_EQ(bad_kind.status, Status::error);
  EXPECT_NE(bad_kind.message.find("kind 13"), std::string::npos) << bad_kind.message;
  auto bad_type = f.run(9999, "0:0", ReloKind::field_byte_offset);
  EXPECT_EQ(bad_type.status, Status::error);
  auto anonymous = f.run(anon, "0:0", ReloKind::field_byte_offset);
  EXPECT_EQ(anonymous.status, Status::error);
  EXPECT_NE(anonymous.message.find("has no name"), std::string::npos) << anonymous.message;
  auto misaligned = compute(
      *f.local_btf, ReloRecord{4, f.local_s, f.local.offset_of("0:0"), ReloKind::field_byte_offset}, *f.target_obj);
  EXPECT_EQ(misaligned.status, Status::error);
  auto bad_string =
      compute(*f.local_btf, ReloRecord{0, f.local_s, 1u << 30, ReloKind::field_byte_offset}, *f.target_obj);
  EXPECT_EQ(bad_string.status, Status::error);
}

// ---- patching ----

Insn make(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  Insn insn;
  insn.code = code;
  insn.set_dst(dst);
  insn.set_src(src);
  insn.off = off;
  insn.imm = imm;
  return insn;
}

ReloResult result(std::size_t insn, std::uint64_t local, std::uint64_t target) {
  ReloResult r;
  r.insn_index = insn;
  r.kind = ReloKind::field_byte_offset;
  r.local_type_name = "struct s";
  r.spec = "s.f";
  r.local_value = local;
  r.target_value = target;
  return r;
}

bool is_poison(const Insn& insn) {
  return insn.code == (Insn::kJmp | Insn::kCall) && insn.regs == 0 && insn.off == 0 && insn.imm == kPoisonHelperId;
}

std::string patch_error(std::vector<Insn>& insns, ReloResult r) {
  try {
    patch(insns, r, "prog");
  } catch (const Error& e) {
    return e.message();
  }
  ADD_FAILURE() << "patch did not throw";
  return {};
}

TEST(CorePatch, AluImmediates) {
  std::vector<Insn> insns = {make(Insn::kAlu64 | Insn::kMov | Insn::kK, 1, 0, 0, 4),
                             make(Insn::kAlu | Insn::kAdd | Insn::kK, 2, 0, 0, 4)};
  auto r = result(0, 4, 32);
  patch(insns, r, "prog");
  EXPECT_EQ(insns[0].imm, 32);
  auto add = result(1, 4, 0xfffffffffffffffeULL);  // a negative value fits the sign-extended immediate
  patch(insns, add, "prog");
  EXPECT_EQ(insns[1].imm, -2);
  EXPECT_EQ(insns[1].dst(), 2);
}

TEST(CorePatch, ValidationMismatchNamesTheInstruction) {
  std::vector<Insn> insns = {make(Insn::kAlu64 | Insn::kMov | Insn::kK, 1, 0, 0, 0),
                             make(Insn::kAlu64 | Insn::kMov | Insn::kK, 1, 0, 0, 5)};
  const std::string message = patch_error(insns, result(1, 4, 8));
  EXPECT_NE(message.find("insn #1: expected imm 4, found 5"), std::string::npos) << message;
  EXPECT_NE(message.find("prog"), std::string::npos) << message;
  EXPECT_EQ(insns[1].imm, 5);
  // Not validated: whatever the instruction held is the local value.
  auto unvalidated = result(1, 4, 8);
  unvalidated.validate = false;
  patch(insns, unvalidated, "prog");
  EXPECT_EQ(unvalidated.local_value, 5u);
  EXPECT_EQ(insns[1].imm, 8);
}

TEST(CorePatch, LoadAndStoreOffsets) {
  std::vector<Insn> insns = {make(Insn::kLdx | Insn::kW | Insn::kMem, 2, 1, 4, 0),
                             make(Insn::kSt | Insn::kH | Insn::kMem, 1, 0, 4, 7),
                             make(Insn::kStx | Insn::kDw | Insn::kMem, 1, 2, 4, 0)};
  for (std::size_t i = 0; i < insns.size(); ++i) {
    auto r = result(i, 4, 100 + i);
    patch(insns, r, "prog");
    EXPECT_EQ(insns[i].off, static_cast<std::int16_t>(100 + i));
  }
  EXPECT_EQ(insns[0].code, Insn::kLdx | Insn::kW | Insn::kMem);
  EXPECT_EQ(insns[1].imm, 7);
  const std::string mismatch = patch_error(insns, result(0, 4, 8));
  EXPECT_NE(mismatch.find("insn #0: expected offset 4, found 100"), std::string::npos) << mismatch;
  const std::string too_far = patch_error(insns, result(0, 100, 40000));
  EXPECT_NE(too_far.find("does not fit"), std::string::npos) << too_far;
}

TEST(CorePatch, LoadsFollowTheFieldSize) {
  std::vector<Insn> insns = {
      make(Insn::kLdx | Insn::kW | Insn::kMem, 2, 1, 8, 0), make(Insn::kLdx | Insn::kDw | Insn::kMem, 2, 1, 8, 0),
      make(Insn::kLdx | Insn::kW | Insn::kMem, 2, 1, 8, 0), make(Insn::kLdx | Insn::kW | Insn::kMemsx, 2, 1, 8, 0),
      make(Insn::kLdx | Insn::kW | Insn::kMemsx, 2, 1, 8, 0)};
  auto widen = result(0, 8, 16);
  widen.local_size = 4, widen.target_size = 8, widen.resize = MemResize::zero_extend;
  patch(insns, widen, "prog");
  EXPECT_EQ(insns[0].code, Insn::kLdx | Insn::kDw | Insn::kMem);
  EXPECT_EQ(insns[0].off, 16);
  auto narrow = result(1, 8, 16);
  narrow.local_size = 8, narrow.target_size = 2, narrow.resize = MemResize::zero_extend;
  patch(insns, narrow, "prog");
  EXPECT_EQ(insns[1].code, Insn::kLdx | Insn::kH | Insn::kMem);
  // A signed value read by a zero-extending load cannot change size: poisoned, and said so.
  auto sign = result(2, 8, 16);
  sign.local_size = 4, sign.target_size = 8, sign.resize = MemResize::sign_extend;
  patch(insns, sign, "prog");
  EXPECT_TRUE(is_poison(insns[2]));
  EXPECT_EQ(sign.status, Status::poisoned);
  EXPECT_NE(sign.message.find("4 bytes locally and 8 on the target"), std::string::npos) << sign.message;
  // ...but a sign-extending load can (and an 8-byte one needs no extension).
  auto sx = result(3, 8, 16);
  sx.local_size = 4, sx.target_size = 2, sx.resize = MemResize::sign_extend;
  patch(insns, sx, "prog");
  EXPECT_EQ(insns[3].code, Insn::kLdx | Insn::kH | Insn::kMemsx);
  auto sx8 = result(4, 8, 16);
  sx8.local_size = 4, sx8.target_size = 8, sx8.resize = MemResize::sign_extend;
  patch(insns, sx8, "prog");
  EXPECT_EQ(insns[4].code, Insn::kLdx | Insn::kDw | Insn::kMem);
  // Anything else (a struct to an int...) is poisoned too.
  std::vector<Insn> one = {make(Insn::kLdx | Insn::kW | Insn::kMem, 2, 1, 8, 0)};
  auto unsafe = result(0, 8, 16);
  unsafe.local_size = 4, unsafe.target_size = 8, unsafe.resize = MemResize::unsafe;
  patch(one, unsafe, "prog");
  EXPECT_TRUE(is_poison(one[0]));
  // The load must be of the field's local size to be resized.
  std::vector<Insn> bytes = {make(Insn::kLdx | Insn::kB | Insn::kMem, 2, 1, 8, 0)};
  auto partial = result(0, 8, 16);
  partial.local_size = 4, partial.target_size = 8, partial.resize = MemResize::zero_extend;
  const std::string message = patch_error(bytes, partial);
  EXPECT_NE(message.find("accesses 1 bytes, but the field is 4 bytes"), std::string::npos) << message;
}

TEST(CorePatch, LdImm64BothHalves) {
  std::vector<Insn> insns = {make(Insn::kLd | Insn::kDw | Insn::kImm, 1, 0, 0, 0), make(0, 0, 0, 0, 1)};  // 0x100000000
  auto r = result(0, 0x100000000ULL, 0x3000000005ULL);
  r.kind = ReloKind::enumval_value;
  patch(insns, r, "prog");
  EXPECT_EQ(insns[0].imm, 5);
  EXPECT_EQ(insns[1].imm, 0x30);
  // A map reference is not a plain constant.
  std::vector<Insn> map_ref = {make(Insn::kLd | Insn::kDw | Insn::kImm, 1, Insn::kPseudoMapIdx, 0, 0),
                               make(0, 0, 0, 0, 0)};
  const std::string message = patch_error(map_ref, result(0, 0, 1));
  EXPECT_NE(message.find("not a plain ld_imm64"), std::string::npos) << message;
  std::vector<Insn> truncated = {make(Insn::kLd | Insn::kDw | Insn::kImm, 1, 0, 0, 0)};
  EXPECT_NE(patch_error(truncated, result(0, 0, 1)).find("second slot"), std::string::npos);
}

TEST(CorePatch, PoisonedInstructionsBecomeTheBadCall) {
  std::vector<Insn> insns = {make(Insn::kLdx | Insn::kW | Insn::kMem, 2, 1, 8, 0),
                             make(Insn::kLd | Insn::kDw | Insn::kImm, 1, 0, 0, 4), make(0, 0, 0, 0, 0),
                             make(Insn::kJmp | Insn::kExit, 0, 0, 0, 0)};
  auto load = result(0, 8, 0);
  load.status = Status::poisoned;
  patch(insns, load, "prog");
  EXPECT_TRUE(is_poison(insns[0]));
  auto wide = result(1, 4, 0);
  wide.status = Status::poisoned;
  patch(insns, wide, "prog");
  EXPECT_TRUE(is_poison(insns[1]));
  EXPECT_TRUE(is_poison(insns[2]));
  EXPECT_TRUE(insns[3].is_exit());
  EXPECT_EQ(kPoisonHelperId, 195896080);
}

TEST(CorePatch, InstructionsThatCannotCarryARelocation) {
  std::vector<Insn> insns = {make(Insn::kJmp | Insn::kExit, 0, 0, 0, 0),
                             make(Insn::kAlu64 | Insn::kAdd | Insn::kX, 1, 2, 0, 0)};
  EXPECT_NE(patch_error(insns, result(0, 0, 1)).find("cannot carry"), std::string::npos);
  EXPECT_NE(patch_error(insns, result(1, 0, 1)).find("register operand"), std::string::npos);
  EXPECT_NE(patch_error(insns, result(7, 0, 1)).find("past the program's end"), std::string::npos);
  auto failed = result(0, 0, 1);
  failed.status = Status::error;
  failed.message = "ambiguous";
  EXPECT_NE(patch_error(insns, failed).find("ambiguous"), std::string::npos);
  std::vector<Insn> alu = {make(Insn::kAlu64 | Insn::kMov | Insn::kK, 1, 0, 0, 0)};
  EXPECT_NE(patch_error(alu, result(0, 0, 0x100000000ULL)).find("32-bit immediate"), std::string::npos);
}

// ---- display names ----

TEST(CoreNames, TypeDisplayNames) {
  BtfWriter w;
  const TypeId i = w.add_int("int", 4, btf::kIntSigned);
  const TypeId s = w.add_struct("s", 4);
  w.add_member("x", i, 0);
  const TypeId u = w.add_union("", 4);
  const TypeId e = w.add_enum64("e", 8);
  const TypeId f = w.add_fwd("f", true);
  const TypeId p = w.add_ptr(w.add_const(s));
  const TypeId a = w.add_array(p, i, 3);
  const TypeId t = w.add_typedef("s_t", s);
  const Btf btf = Btf::from_vector(w.serialize());
  EXPECT_EQ(type_display_name(btf, 0), "void");
  EXPECT_EQ(type_display_name(btf, i), "int");
  EXPECT_EQ(type_display_name(btf, s), "struct s");
  EXPECT_EQ(type_display_name(btf, u), "union (anon)");
  EXPECT_EQ(type_display_name(btf, e), "enum e");
  EXPECT_EQ(type_display_name(btf, f), "union f");
  EXPECT_EQ(type_display_name(btf, p), "const struct s *");
  EXPECT_EQ(type_display_name(btf, a), "const struct s *[3]");
  EXPECT_EQ(type_display_name(btf, t), "s_t");
  EXPECT_EQ(type_display_name(btf, 999), "<bad type id 999>");
}

}  // namespace
}  // namespace corebpf::core
