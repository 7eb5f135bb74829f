// BTF reader: every kind and accessor, the queries, split BTF, both byte orders, ELF objects, and
// every validation error of src/btf/btf_parse.cpp. BTF is built by hand twice over: with the
// independent RawBtf assembler and with our BtfWriter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "btf/btf_state.hpp"
#include "btf/raw_btf.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"
#include "support/test_support.hpp"

namespace {

using corebpf::Error;
using corebpf::btf::Btf;
using corebpf::btf::BtfWriter;
using corebpf::btf::Endian;
using corebpf::btf::Kind;
using corebpf::btf::kIntBool;
using corebpf::btf::kIntChar;
using corebpf::btf::kIntSigned;
using corebpf::btf::Linkage;
using corebpf::btf::LoadOptions;
using corebpf::btf::TypeId;
using corebpf::test::RawBtf;
using R = RawBtf;

std::filesystem::path test_object_dir() { return COREBPF_TEST_OBJECT_DIR; }

Btf parse(const std::vector<std::byte>& bytes, const Btf* base = nullptr) {
  return Btf::from_bytes(bytes, LoadOptions{.base = base}, "test.btf");
}

// Parsing must fail with a message containing every one of `parts`.
void expect_invalid(const std::vector<std::byte>& bytes, std::initializer_list<std::string_view> parts,
                    const Btf* base = nullptr) {
  try {
    parse(bytes, base);
    ADD_FAILURE() << "parsed without error; expected: " << *parts.begin();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument) << e.what();
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("test.btf: invalid BTF: ", 0), 0u) << message;
    for (auto part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

std::vector<std::string_view> member_names(const corebpf::btf::Type& t) {
  std::vector<std::string_view> names;
  for (auto m : t.members()) names.push_back(m.name());
  return names;
}

// ---- One BTF with every kind, assembled by hand and by the writer ----

// Ids of the "every kind" sample; both builders must produce exactly these.
enum SampleId : TypeId {
  kInt = 1,
  kChar,
  kBool,
  kOddBits,
  kLong,
  kInt128,
  kPtrInt,
  kArrInt4,
  kArrArr,
  kStructBits,
  kUnionEither,
  kEnumUnsigned,
  kEnumSigned,
  kEnum64Unsigned,
  kEnum64Signed,
  kFwdStruct,
  kFwdUnion,
  kTypedefInt,
  kVolatileInt,
  kConstVolatile,
  kRestrictPtr,
  kTypeTagUser,
  kProtoVarargs,
  kFuncGlobal,
  kFuncStatic,
  kFuncExtern,
  kVarGlobal,
  kVarStatic,
  kVarExtern,
  kDatasecData,
  kFloatDouble,
  kTagWhole,
  kTagMember,
  kTagParam,
  kEnumTiny,
  kSampleCount
};

std::vector<std::byte> every_kind_raw(bool big_endian = false) {
  RawBtf b;
  b.type(b.str("int"), R::info(R::kInt), 4, {(1u << 24) | 32});
  b.type(b.str("char"), R::info(R::kInt), 1, {(2u << 24) | 8});
  b.type(b.str("_Bool"), R::info(R::kInt), 1, {(4u << 24) | 8});
  b.type(b.str("odd_bits"), R::info(R::kInt), 2, {(3u << 16) | 9});
  b.type(b.str("long int"), R::info(R::kInt), 8, {(1u << 24) | 64});
  b.type(b.str("unsigned __int128"), R::info(R::kInt), 16, {128});
  b.type(0, R::info(R::kPtr), kInt);
  b.type(0, R::info(R::kArray), 0, {kInt, kLong, 4});
  b.type(0, R::info(R::kArray), 0, {kArrInt4, kInt, 3});
  // A type's name is added before its members' names, as the writer does. (Names are taken into
  // variables first: the order in which function arguments are evaluated is unspecified.)
  auto name = b.str("bits");
  b.type(name, R::info(R::kStruct, 3, true), 16,
         {b.str("a"), kInt, (3u << 24) | 0, b.str("b"), kInt, (13u << 24) | 3, b.str("c"), kChar, 96});
  name = b.str("either");
  b.type(name, R::info(R::kUnion, 2), 8, {b.str("i"), kInt, 0, b.str("l"), kLong, 0});
  name = b.str("small_unsigned");
  b.type(name, R::info(R::kEnum, 3), 4,
         {b.str("SU_ONE"), 1, b.str("SU_HIGH"), 0x80000000u, b.str("SU_MAX"), 0xffffffffu});
  name = b.str("small_signed");
  b.type(name, R::info(R::kEnum, 2, true), 4,
         {b.str("SS_NEG"), static_cast<std::uint32_t>(-5), b.str("SS_MAX"), 0x7fffffffu});
  name = b.str("wide_unsigned");
  b.type(name, R::info(R::kEnum64, 2), 8, {b.str("WU_BIG"), 0x76543210u, 0xfedcba98u, b.str("WU_ONE"), 1, 0});
  name = b.str("wide_signed");
  b.type(name, R::info(R::kEnum64, 1, true), 8, {b.str("WS_NEG"), 0, 0xffffffffu});
  b.type(b.str("fwd_struct"), R::info(R::kFwd), 0);
  b.type(b.str("fwd_union"), R::info(R::kFwd, 0, true), 0);
  b.type(b.str("int_t"), R::info(R::kTypedef), kInt);
  b.type(0, R::info(R::kVolatile), kInt);
  b.type(0, R::info(R::kConst), kVolatileInt);
  b.type(0, R::info(R::kRestrict), kPtrInt);
  b.type(b.str("user"), R::info(R::kTypeTag), kInt);
  b.type(0, R::info(R::kFuncProto, 2), kInt, {b.str("fmt"), kPtrInt, 0, 0});
  b.type(b.str("printk_like"), R::info(R::kFunc, 1), kProtoVarargs);
  b.type(b.str("static_fn"), R::info(R::kFunc, 0), kProtoVarargs);
  b.type(b.str("extern_fn"), R::info(R::kFunc, 2), kProtoVarargs);
  b.type(b.str("global_var"), R::info(R::kVar), kInt, {1});
  b.type(b.str("static_var"), R::info(R::kVar), kLong, {0});
  b.type(b.str("extern_var"), R::info(R::kVar), kStructBits, {2});
  b.type(b.str(".data"), R::info(R::kDatasec, 2), 16, {kVarGlobal, 0, 4, kVarStatic, 8, 8});
  b.type(b.str("double"), R::info(R::kFloat), 8);
  b.type(b.str("whole"), R::info(R::kDeclTag), kStructBits, {0xffffffffu});
  b.type(b.str("member_b"), R::info(R::kDeclTag), kStructBits, {1});
  b.type(b.str("param_fmt"), R::info(R::kDeclTag), kFuncGlobal, {0});
  name = b.str("tiny");
  b.type(name, R::info(R::kEnum, 1), 1, {b.str("TINY_X"), 0x80});
  return b.bytes(big_endian);
}

std::vector<std::byte> every_kind_written(Endian endian = corebpf::btf::native_endian()) {
  BtfWriter w;
  w.add_int("int", 4, kIntSigned);
  w.add_int("char", 1, kIntChar);
  w.add_int("_Bool", 1, kIntBool);
  w.add_int("odd_bits", 2, 0, 3, 9);
  w.add_int("long int", 8, kIntSigned);
  w.add_int("unsigned __int128", 16);
  w.add_ptr(kInt);
  w.add_array(kInt, kLong, 4);
  w.add_array(kArrInt4, kInt, 3);
  w.add_struct("bits", 16);
  w.add_member("a", kInt, 0, 3);
  w.add_member("b", kInt, 3, 13);
  w.add_member("c", kChar, 96);
  w.add_union("either", 8);
  w.add_member("i", kInt, 0);
  w.add_member("l", kLong, 0);
  w.add_enum("small_unsigned", 4, false);
  w.add_enumerator("SU_ONE", 1);
  w.add_enumerator("SU_HIGH", 0x80000000LL);
  w.add_enumerator("SU_MAX", 0xffffffffLL);
  w.add_enum("small_signed", 4, true);
  w.add_enumerator("SS_NEG", -5);
  w.add_enumerator("SS_MAX", 0x7fffffff);
  w.add_enum64("wide_unsigned", 8, false);
  w.add_enumerator("WU_BIG", static_cast<std::int64_t>(0xfedcba9876543210ULL));
  w.add_enumerator("WU_ONE", 1);
  w.add_enum64("wide_signed", 8, true);
  w.add_enumerator("WS_NEG", -0x100000000LL);
  w.add_fwd("fwd_struct", false);
  w.add_fwd("fwd_union", true);
  w.add_typedef("int_t", kInt);
  w.add_volatile(kInt);
  w.add_const(kVolatileInt);
  w.add_restrict(kPtrInt);
  w.add_type_tag("user", kInt);
  w.add_func_proto(kInt);
  w.add_param("fmt", kPtrInt);
  w.add_param("", 0);
  w.add_func("printk_like", kProtoVarargs, Linkage::global);
  w.add_func("static_fn", kProtoVarargs, Linkage::static_);
  w.add_func("extern_fn", kProtoVarargs, Linkage::extern_);
  w.add_var("global_var", kInt, Linkage::global);
  w.add_var("static_var", kLong, Linkage::static_);
  w.add_var("extern_var", kStructBits, Linkage::extern_);
  w.add_datasec(".data", 16);
  w.add_datasec_var(kVarGlobal, 0, 4);
  w.add_datasec_var(kVarStatic, 8, 8);
  w.add_float("double", 8);
  w.add_decl_tag("whole", kStructBits);
  w.add_decl_tag("member_b", kStructBits, 1);
  w.add_decl_tag("param_fmt", kFuncGlobal, 0);
  w.add_enum("tiny", 1);
  w.add_enumerator("TINY_X", 0x80);
  EXPECT_EQ(w.next_id(), kSampleCount);
  return w.serialize(endian);
}

void check_every_kind(const Btf& btf) {
  ASSERT_EQ(btf.type_count(), kSampleCount);
  EXPECT_EQ(btf.first_id(), 1u);
  EXPECT_FALSE(btf.base());

  auto t = btf.type(kInt);
  EXPECT_EQ(t.kind(), Kind::Int);
  EXPECT_EQ(t.name(), "int");
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.int_info().encoding, kIntSigned);
  EXPECT_EQ(t.int_info().bit_offset, 0);
  EXPECT_EQ(t.int_info().bits, 32);
  EXPECT_EQ(btf.type(kChar).int_info().encoding, kIntChar);
  EXPECT_EQ(btf.type(kBool).int_info().encoding, kIntBool);
  t = btf.type(kOddBits);
  EXPECT_EQ(t.int_info().encoding, 0);
  EXPECT_EQ(t.int_info().bit_offset, 3);
  EXPECT_EQ(t.int_info().bits, 9);
  EXPECT_EQ(btf.type(kInt128).size(), 16u);
  EXPECT_EQ(btf.type(kInt128).int_info().bits, 128);
  EXPECT_EQ(btf.type(kInt).extra_bytes().size(), 4u);

  t = btf.type(kPtrInt);
  EXPECT_EQ(t.kind(), Kind::Ptr);
  EXPECT_EQ(t.type(), kInt);
  EXPECT_EQ(t.name(), "");
  EXPECT_EQ(t.name_offset(), 0u);

  t = btf.type(kArrArr);
  EXPECT_EQ(t.kind(), Kind::Array);
  EXPECT_EQ(t.array().element_type, kArrInt4);
  EXPECT_EQ(t.array().index_type, kInt);
  EXPECT_EQ(t.array().count, 3u);
  EXPECT_EQ(btf.type(kArrInt4).array().index_type, kLong);
  EXPECT_EQ(btf.type(kArrInt4).array().count, 4u);

  t = btf.type(kStructBits);
  EXPECT_EQ(t.kind(), Kind::Struct);
  EXPECT_TRUE(t.kind_flag());
  EXPECT_TRUE(t.is_struct_or_union());
  EXPECT_EQ(t.vlen(), 3);
  EXPECT_EQ(t.size(), 16u);
  auto members = t.members();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(member_names(t), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(members[0].bit_offset(), 0u);
  EXPECT_EQ(members[0].bitfield_size(), 3u);
  EXPECT_EQ(members[1].bit_offset(), 3u);
  EXPECT_EQ(members[1].bitfield_size(), 13u);
  EXPECT_EQ(members[1].raw_offset(), (13u << 24) | 3);
  EXPECT_EQ(members[2].bit_offset(), 96u);
  EXPECT_EQ(members[2].bitfield_size(), 0u);
  EXPECT_EQ(members[2].type(), kChar);
  EXPECT_EQ(members.end() - members.begin(), 3);
  EXPECT_EQ((*(members.begin() + 1)).name(), "b");
  EXPECT_EQ(t.extra_bytes().size(), 36u);

  t = btf.type(kUnionEither);
  EXPECT_EQ(t.kind(), Kind::Union);
  EXPECT_FALSE(t.kind_flag());
  EXPECT_EQ(member_names(t), (std::vector<std::string_view>{"i", "l"}));
  EXPECT_EQ(t.members()[1].type(), kLong);
  EXPECT_EQ(t.members()[1].bitfield_size(), 0u);

  t = btf.type(kEnumUnsigned);
  EXPECT_EQ(t.kind(), Kind::Enum);
  EXPECT_TRUE(t.is_enum());
  EXPECT_FALSE(t.is_signed_enum());
  auto e = t.enumerators();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].name(), "SU_ONE");
  EXPECT_EQ(e[1].unsigned_value(), 0x80000000u);
  EXPECT_EQ(e[1].signed_value(), 0x80000000LL);
  EXPECT_EQ(e[2].unsigned_value(), 0xffffffffu);
  EXPECT_FALSE(e[2].is_signed());

  t = btf.type(kEnumSigned);
  EXPECT_TRUE(t.is_signed_enum());
  e = t.enumerators();
  EXPECT_EQ(e[0].signed_value(), -5);
  EXPECT_EQ(e[0].unsigned_value(), static_cast<std::uint64_t>(-5LL));
  EXPECT_TRUE(e[0].is_signed());
  EXPECT_EQ(e[1].signed_value(), 0x7fffffff);

  t = btf.type(kEnum64Unsigned);
  EXPECT_EQ(t.kind(), Kind::Enum64);
  EXPECT_EQ(t.size(), 8u);
  e = t.enumerators();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].name(), "WU_BIG");
  EXPECT_EQ(e[0].unsigned_value(), 0xfedcba9876543210ULL);
  EXPECT_EQ(e[1].unsigned_value(), 1u);
  std::vector<std::string_view> names;
  for (auto en : e) names.push_back(en.name());
  EXPECT_EQ(names, (std::vector<std::string_view>{"WU_BIG", "WU_ONE"}));
  t = btf.type(kEnum64Signed);
  EXPECT_TRUE(t.is_signed_enum());
  EXPECT_EQ(t.enumerators()[0].signed_value(), -0x100000000LL);
  EXPECT_EQ(btf.type(kEnumTiny).size(), 1u);
  EXPECT_EQ(btf.type(kEnumTiny).enumerators()[0].unsigned_value(), 0x80u);

  EXPECT_EQ(btf.type(kFwdStruct).kind(), Kind::Fwd);
  EXPECT_FALSE(btf.type(kFwdStruct).is_union_fwd());
  EXPECT_TRUE(btf.type(kFwdUnion).is_union_fwd());

  EXPECT_EQ(btf.type(kTypedefInt).kind(), Kind::Typedef);
  EXPECT_EQ(btf.type(kTypedefInt).type(), kInt);
  EXPECT_EQ(btf.type(kVolatileInt).kind(), Kind::Volatile);
  EXPECT_TRUE(btf.type(kVolatileInt).is_modifier());
  EXPECT_EQ(btf.type(kConstVolatile).kind(), Kind::Const);
  EXPECT_EQ(btf.type(kConstVolatile).type(), kVolatileInt);
  EXPECT_EQ(btf.type(kRestrictPtr).kind(), Kind::Restrict);
  EXPECT_EQ(btf.type(kTypeTagUser).kind(), Kind::TypeTag);
  EXPECT_EQ(btf.type(kTypeTagUser).name(), "user");
  EXPECT_TRUE(btf.type(kTypeTagUser).is_modifier());

  t = btf.type(kProtoVarargs);
  EXPECT_EQ(t.kind(), Kind::FuncProto);
  EXPECT_EQ(t.type(), kInt);
  auto params = t.params();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name(), "fmt");
  EXPECT_EQ(params[0].type(), kPtrInt);
  EXPECT_EQ(params[1].name(), "");  // "..."
  EXPECT_EQ(params[1].type(), 0u);

  EXPECT_EQ(btf.type(kFuncGlobal).kind(), Kind::Func);
  EXPECT_EQ(btf.type(kFuncGlobal).type(), kProtoVarargs);
  EXPECT_EQ(btf.type(kFuncGlobal).linkage(), Linkage::global);
  EXPECT_EQ(btf.type(kFuncStatic).linkage(), Linkage::static_);
  EXPECT_EQ(btf.type(kFuncExtern).linkage(), Linkage::extern_);

  EXPECT_EQ(btf.type(kVarGlobal).kind(), Kind::Var);
  EXPECT_EQ(btf.type(kVarGlobal).linkage(), Linkage::global);
  EXPECT_EQ(btf.type(kVarStatic).linkage(), Linkage::static_);
  EXPECT_EQ(btf.type(kVarExtern).linkage(), Linkage::extern_);
  EXPECT_EQ(btf.type(kVarExtern).type(), kStructBits);

  t = btf.type(kDatasecData);
  EXPECT_EQ(t.kind(), Kind::Datasec);
  EXPECT_EQ(t.name(), ".data");
  EXPECT_EQ(t.size(), 16u);
  auto vars = t.datasec_vars();
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars[0].type(), kVarGlobal);
  EXPECT_EQ(vars[0].offset(), 0u);
  EXPECT_EQ(vars[0].size(), 4u);
  EXPECT_EQ(vars[1].type(), kVarStatic);
  EXPECT_EQ(vars[1].offset(), 8u);
  EXPECT_EQ(vars[1].size(), 8u);

  EXPECT_EQ(btf.type(kFloatDouble).kind(), Kind::Float);
  EXPECT_EQ(btf.type(kFloatDouble).size(), 8u);

  EXPECT_EQ(btf.type(kTagWhole).kind(), Kind::DeclTag);
  EXPECT_EQ(btf.type(kTagWhole).component_index(), -1);
  EXPECT_EQ(btf.type(kTagMember).component_index(), 1);
  EXPECT_EQ(btf.type(kTagParam).component_index(), 0);
  EXPECT_EQ(btf.type(kTagParam).type(), kFuncGlobal);
  EXPECT_EQ(btf.type(kTagWhole).name(), "whole");

  // Accessors of another kind answer empty.
  EXPECT_TRUE(btf.type(kInt).members().empty());
  EXPECT_TRUE(btf.type(kInt).enumerators().empty());
  EXPECT_TRUE(btf.type(kInt).params().empty());
  EXPECT_TRUE(btf.type(kInt).datasec_vars().empty());
  EXPECT_EQ(btf.type(kStructBits).int_info().bits, 0);
  EXPECT_EQ(btf.type(kStructBits).array().count, 0u);
  EXPECT_EQ(btf.type(kStructBits).component_index(), -1);
  EXPECT_EQ(btf.type(kStructBits).linkage(), Linkage::static_);

  // Void.
  auto v = btf.type(0);
  EXPECT_TRUE(v.is_void());
  EXPECT_EQ(v.kind(), Kind::Unknown);
  EXPECT_EQ(v.name(), "");
  EXPECT_EQ(v.size(), 0u);
  EXPECT_TRUE(v.extra_bytes().empty());
}

TEST(ReaderKinds, EveryKindFromRawAssembler) {
  auto btf = parse(every_kind_raw());
  EXPECT_EQ(btf.endian(), Endian::little);
  check_every_kind(btf);
}

TEST(ReaderKinds, EveryKindFromWriter) { check_every_kind(parse(every_kind_written(Endian::little))); }

TEST(ReaderKinds, WriterAndAssemblerAgreeByteForByte) {
  EXPECT_EQ(every_kind_written(Endian::little), every_kind_raw(false));
  EXPECT_EQ(every_kind_written(Endian::big), every_kind_raw(true));
}

TEST(ReaderKinds, BigEndianBlobFromAssembler) {
  const auto bytes = every_kind_raw(true);
  auto btf = parse(bytes);
  EXPECT_EQ(btf.endian(), Endian::big);
  check_every_kind(btf);
  // raw_bytes() keeps the original byte order.
  ASSERT_EQ(btf.raw_bytes().size(), bytes.size());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), btf.raw_bytes().begin()));
}

TEST(ReaderKinds, BigEndianBlobFromWriter) {
  auto btf = parse(every_kind_written(Endian::big));
  EXPECT_EQ(btf.endian(), Endian::big);
  check_every_kind(btf);
}

TEST(ReaderKinds, KindNames) {
  EXPECT_EQ(corebpf::btf::kind_name(Kind::Int), "INT");
  EXPECT_EQ(corebpf::btf::kind_name(Kind::FuncProto), "FUNC_PROTO");
  EXPECT_EQ(corebpf::btf::kind_name(Kind::DeclTag), "DECL_TAG");
  EXPECT_EQ(corebpf::btf::kind_name(Kind::TypeTag), "TYPE_TAG");
  EXPECT_EQ(corebpf::btf::kind_name(Kind::Enum64), "ENUM64");
  EXPECT_EQ(corebpf::btf::kind_name(Kind::Unknown), "UNKN");
  EXPECT_EQ(corebpf::btf::kind_name(static_cast<Kind>(25)), "UNKN");
}

TEST(ReaderKinds, TypeIdOutOfRange) {
  auto btf = parse(every_kind_raw());
  EXPECT_FALSE(btf.try_type(kSampleCount));
  EXPECT_FALSE(btf.try_type(0xffffffffu));
  EXPECT_TRUE(btf.try_type(kSampleCount - 1));
  try {
    btf.type(kSampleCount);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test.btf: type id 36 does not exist (the last is 35)"), std::string::npos)
        << e.what();
  }
}

TEST(ReaderKinds, StringsAndSourceName) {
  auto btf = parse(every_kind_raw());
  EXPECT_EQ(btf.source_name(), "test.btf");
  EXPECT_EQ(btf.string_at(0), "");
  EXPECT_EQ(btf.string_at(1), "int");
  EXPECT_EQ(btf.string_at(2), "nt");  // offsets may point inside a string
  EXPECT_EQ(btf.string_at(btf.string_section_size()), "");
  EXPECT_EQ(btf.string_at(0xffffffffu), "");
}

TEST(ReaderKinds, OldStyleBitfieldsWithoutKindFlag) {
  // Without kind_flag the offset is a plain bit offset, even one above 24 bits.
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  w.add_struct("big", 0x400000);
  w.add_member("x", i, 0);
  w.add_member("far", i, 0x1000000 * 2);
  auto btf = parse(w.serialize());
  auto s = btf.type(2);
  EXPECT_FALSE(s.kind_flag());
  EXPECT_EQ(s.members()[1].bit_offset(), 0x2000000u);
  EXPECT_EQ(s.members()[1].bitfield_size(), 0u);
}

// ---- Queries ----

class ReaderQueries : public ::testing::Test {
 protected:
  void SetUp() override {
    BtfWriter w;
    int_ = w.add_int("int", 4, kIntSigned);
    long_ = w.add_int("long int", 8, kIntSigned);
    char_ = w.add_int("char", 1, kIntSigned);
    task_ = w.add_struct("task_struct", 16);
    w.add_member("pid", int_, 0);
    w.add_member("flags", long_, 64);
    task_v2_ = w.add_struct("task_struct___v2", 4);
    w.add_member("pid", int_, 0);
    task_old_ = w.add_struct("task_struct___old", 4);
    w.add_member("pid", int_, 0);
    task_typedef_ = w.add_typedef("task_struct", task_);
    task_fwd_ = w.add_fwd("task_struct", false);
    ptr_ = w.add_ptr(task_);
    volatile_ = w.add_volatile(int_);
    const_ = w.add_const(volatile_);
    typedef_ = w.add_typedef("cv_int", const_);
    const_typedef_ = w.add_const(typedef_);
    arr_ = w.add_array(long_, int_, 4);
    arr2_ = w.add_array(arr_, int_, 3);
    arr_typedef_ = w.add_typedef("matrix_t", arr2_);
    // { char c; int i; } : natural alignment 4.
    natural_ = w.add_struct("natural", 8);
    w.add_member("c", char_, 0);
    w.add_member("i", int_, 32);
    // { char c; int i; } __attribute__((packed)) : i at byte 1.
    packed_ = w.add_struct("packed", 5);
    w.add_member("c", char_, 0);
    w.add_member("i", int_, 8);
    // { long l; char c; } with size 9: packed tail.
    packed_tail_ = w.add_struct("packed_tail", 9);
    w.add_member("l", long_, 0);
    w.add_member("c", char_, 64);
    // Bitfields off natural alignment do not make a struct packed.
    bitfields_ = w.add_struct("bitfields", 4);
    w.add_member("a", int_, 0, 3);
    w.add_member("b", int_, 3, 5);
    union_ = w.add_union("either", 8);
    w.add_member("i", int_, 0);
    w.add_member("l", long_, 0);
    enum_ = w.add_enum("e8", 8);
    int128_ = w.add_int("__int128", 16, kIntSigned);
    float_ = w.add_float("double", 8);
    proto_ = w.add_func_proto(int_);
    w.add_param("x", int_);
    w.add_param("y", long_);
    func_ = w.add_func("f", proto_, Linkage::global);
    var_ = w.add_var("v", arr_, Linkage::global);
    datasec_ = w.add_datasec(".data", 32);
    w.add_datasec_var(var_, 0, 32);
    nested_ = w.add_struct("outer", 24);
    w.add_member("n", natural_, 0);
    w.add_member("arr", arr_, 64);
    tag_whole_ = w.add_decl_tag("whole", task_);
    tag_pid_ = w.add_decl_tag("pid_tag", task_, 0);
    tag_flags_ = w.add_decl_tag("flags_tag", task_, 1);
    tag_pid2_ = w.add_decl_tag("pid_tag2", task_, 0);
    tag_param_ = w.add_decl_tag("param", func_, 1);
    btf_.emplace(parse(w.serialize()));
  }

  std::optional<Btf> btf_;
  TypeId int_, long_, char_, task_, task_v2_, task_old_, task_typedef_, task_fwd_, ptr_, volatile_, const_, typedef_,
      const_typedef_, arr_, arr2_, arr_typedef_, natural_, packed_, packed_tail_, bitfields_, union_, enum_, int128_,
      float_, proto_, func_, var_, datasec_, nested_, tag_whole_, tag_pid_, tag_flags_, tag_pid2_, tag_param_;
};

TEST_F(ReaderQueries, FindByName) {
  const Btf& btf = *btf_;
  ASSERT_TRUE(btf.find("int"));
  EXPECT_EQ(btf.find("int")->id(), int_);
  // Several types named "task_struct": the lowest id wins, a kind narrows it.
  EXPECT_EQ(btf.find("task_struct")->id(), task_);
  EXPECT_EQ(btf.find("task_struct", Kind::Typedef)->id(), task_typedef_);
  EXPECT_EQ(btf.find("task_struct", Kind::Fwd)->id(), task_fwd_);
  EXPECT_EQ(btf.find("task_struct", Kind::Struct)->id(), task_);
  EXPECT_FALSE(btf.find("task_struct", Kind::Union));
  EXPECT_EQ(btf.find("task_struct___v2")->id(), task_v2_);
  EXPECT_FALSE(btf.find("task_struct___v3"));
  EXPECT_FALSE(btf.find("task"));
  EXPECT_FALSE(btf.find("no_such_type"));
  EXPECT_FALSE(btf.find(""));
  EXPECT_EQ(btf.find("f", Kind::Func)->id(), func_);
}

TEST_F(ReaderQueries, FindAll) {
  const Btf& btf = *btf_;
  EXPECT_EQ(btf.find_all("task_struct"), (std::vector<TypeId>{task_, task_typedef_, task_fwd_}));
  EXPECT_EQ(btf.find_all("task_struct___old"), (std::vector<TypeId>{task_old_}));
  EXPECT_TRUE(btf.find_all("nothing").empty());
  EXPECT_EQ(btf.find_all_essential("task_struct"),
            (std::vector<TypeId>{task_, task_v2_, task_old_, task_typedef_, task_fwd_}));
  EXPECT_TRUE(btf.find_all_essential("task").empty());
  EXPECT_EQ(corebpf::btf::essential_name("task_struct___v2"), "task_struct");
  EXPECT_EQ(corebpf::btf::essential_name("a___b___c"), "a");
  EXPECT_EQ(corebpf::btf::essential_name("a__b"), "a__b");
  EXPECT_EQ(corebpf::btf::essential_name("plain"), "plain");
}

// The first lookups of a scope scan the types, later ones use the index built then: the same
// answers, in the same (id) order, either way.
TEST_F(ReaderQueries, ScansAndIndexAnswerAlike) {
  const Btf& btf = *btf_;
  const std::vector<TypeId> all{task_, task_typedef_, task_fwd_};
  const std::vector<TypeId> essential{task_, task_v2_, task_old_, task_typedef_, task_fwd_};
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(round);
    EXPECT_EQ(btf.find_all("task_struct"), all);
    EXPECT_EQ(btf.find_all_essential("task_struct"), essential);
    EXPECT_TRUE(btf.find_all("nothing").empty());
    EXPECT_EQ(btf.find("f", Kind::Func)->id(), func_);
    EXPECT_FALSE(btf.find(""));
  }
}

// Announced names are answered from one scan: the same ids as a scan or the index gives, for exact
// and essential lookups, in both scopes, for names absent, and for one-character keys whose
// flavors ("x___y") start differently from the key's two bytes.
TEST_F(ReaderQueries, PrefetchedNamesAnswerAsLookupsDo) {
  const Btf fresh = Btf::from_vector(std::vector<std::byte>(btf_->raw_bytes().begin(), btf_->raw_bytes().end()));
  BtfWriter w;
  const TypeId i = w.add_int("int", 4, kIntSigned);
  const TypeId x = w.add_typedef("x", i);
  const TypeId x_flavor = w.add_typedef("x___v2", i);
  const Btf small = Btf::from_vector(w.serialize(corebpf::btf::native_endian()));
  const corebpf::btf::NameQuery queries[] = {{"task_struct", corebpf::btf::NameScope::all},
                                             {"f", corebpf::btf::NameScope::symbols},
                                             {"nothing", corebpf::btf::NameScope::types},
                                             {"x", corebpf::btf::NameScope::types}};
  fresh.prefetch_names(queries);
  small.prefetch_names(queries);
  EXPECT_EQ(fresh.find_all("task_struct"), (std::vector<TypeId>{task_, task_typedef_, task_fwd_}));
  EXPECT_EQ(fresh.find_all_essential("task_struct"),
            (std::vector<TypeId>{task_, task_v2_, task_old_, task_typedef_, task_fwd_}));
  EXPECT_EQ(fresh.find("task_struct___v2", Kind::Struct)->id(), task_v2_);
  EXPECT_EQ(fresh.find("f", Kind::Func)->id(), func_);
  EXPECT_TRUE(fresh.find_all("nothing").empty());
  EXPECT_EQ(fresh.find("cv_int", Kind::Typedef)->id(), typedef_);  // not announced: scanned as before
  EXPECT_EQ(small.find_all_essential("x"), (std::vector<TypeId>{x, x_flavor}));
  EXPECT_EQ(small.find("x___v2", Kind::Typedef)->id(), x_flavor);
}

// The index scans names eight bytes at a time: a "___" (or "____", or "__" then a NUL) at every
// position relative to a word boundary, and names ending right at the string section's end,
// must index under the same essential name that essential_name() gives.
TEST(ReaderNameIndex, EssentialNamesAtEveryWordPosition) {
  BtfWriter writer;
  const TypeId int_id = writer.add_int("int", 4, corebpf::btf::kIntSigned);
  std::vector<std::pair<std::string, TypeId>> named;
  for (std::size_t prefix = 1; prefix <= 19; ++prefix) {
    const std::string stem(prefix, 'a' + static_cast<char>(prefix % 26));
    for (const std::string suffix : {"___v2", "____x", "__", "_", "___", "__b___c"}) {
      const std::string name = stem + suffix;
      named.emplace_back(name, writer.add_typedef(name, int_id));
    }
  }
  // The last string added sits at the very end of the section.
  named.emplace_back("z___", writer.add_typedef("z___", int_id));
  const Btf btf = Btf::from_vector(writer.serialize(corebpf::btf::native_endian()));
  for (const auto& [name, id] : named) {
    const auto essential = corebpf::btf::essential_name(name);
    const auto ids = btf.find_all_essential(essential);
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << name << " not found under '" << essential << "'";
    ASSERT_TRUE(btf.find(name)) << name;
    EXPECT_EQ(btf.find(name)->id(), id) << name;
  }
}

TEST_F(ReaderQueries, ResolveAndSkipModifiers) {
  const Btf& btf = *btf_;
  EXPECT_EQ(btf.resolve(const_typedef_).id(), int_);
  EXPECT_EQ(btf.resolve(typedef_).id(), int_);
  EXPECT_EQ(btf.resolve(int_).id(), int_);
  EXPECT_EQ(btf.resolve(0).id(), 0u);
  EXPECT_EQ(btf.resolve(ptr_).id(), ptr_);  // pointers are not followed
  EXPECT_EQ(btf.skip_modifiers(const_typedef_).id(), typedef_);
  EXPECT_EQ(btf.skip_modifiers(const_).id(), int_);
  EXPECT_EQ(btf.skip_modifiers(typedef_).id(), typedef_);
  EXPECT_THROW(btf.resolve(9999), Error);
}

TEST_F(ReaderQueries, SizeOf) {
  const Btf& btf = *btf_;
  EXPECT_EQ(btf.size_of(int_), 4u);
  EXPECT_EQ(btf.size_of(const_typedef_), 4u);
  EXPECT_EQ(btf.size_of(ptr_), 8u);
  EXPECT_EQ(btf.size_of(task_), 16u);
  EXPECT_EQ(btf.size_of(arr_), 32u);
  EXPECT_EQ(btf.size_of(arr2_), 96u);  // long[3][4]
  EXPECT_EQ(btf.size_of(arr_typedef_), 96u);
  EXPECT_EQ(btf.size_of(union_), 8u);
  EXPECT_EQ(btf.size_of(enum_), 8u);
  EXPECT_EQ(btf.size_of(float_), 8u);
  EXPECT_EQ(btf.size_of(var_), 32u);
  EXPECT_EQ(btf.size_of(datasec_), 32u);
  EXPECT_THROW(btf.size_of(0), Error);
  EXPECT_THROW(btf.size_of(func_), Error);
  EXPECT_THROW(btf.size_of(proto_), Error);
  EXPECT_THROW(btf.size_of(task_fwd_), Error);
}

TEST_F(ReaderQueries, AlignmentOf) {
  const Btf& btf = *btf_;
  EXPECT_EQ(btf.alignment_of(char_), 1u);
  EXPECT_EQ(btf.alignment_of(int_), 4u);
  EXPECT_EQ(btf.alignment_of(long_), 8u);
  EXPECT_EQ(btf.alignment_of(int128_), 16u);
  EXPECT_EQ(btf.alignment_of(float_), 8u);
  EXPECT_EQ(btf.alignment_of(ptr_), 8u);
  EXPECT_EQ(btf.alignment_of(enum_), 8u);
  EXPECT_EQ(btf.alignment_of(arr2_), 8u);
  EXPECT_EQ(btf.alignment_of(const_typedef_), 4u);
  EXPECT_EQ(btf.alignment_of(natural_), 4u);
  EXPECT_EQ(btf.alignment_of(packed_), 1u);
  EXPECT_EQ(btf.alignment_of(packed_tail_), 1u);
  EXPECT_EQ(btf.alignment_of(bitfields_), 4u);
  EXPECT_EQ(btf.alignment_of(union_), 8u);
  EXPECT_EQ(btf.alignment_of(nested_), 8u);
  EXPECT_EQ(btf.alignment_of(task_), 8u);
}

TEST_F(ReaderQueries, DeclTags) {
  const Btf& btf = *btf_;
  EXPECT_EQ(btf.decl_tags(task_), (std::vector<TypeId>{tag_whole_, tag_pid_, tag_flags_, tag_pid2_}));
  EXPECT_EQ(btf.decl_tags(task_, -1), (std::vector<TypeId>{tag_whole_}));
  EXPECT_EQ(btf.decl_tags(task_, 0), (std::vector<TypeId>{tag_pid_, tag_pid2_}));
  EXPECT_EQ(btf.decl_tags(task_, 1), (std::vector<TypeId>{tag_flags_}));
  EXPECT_TRUE(btf.decl_tags(task_, 2).empty());
  EXPECT_EQ(btf.decl_tags(func_, 1), (std::vector<TypeId>{tag_param_}));
  EXPECT_TRUE(btf.decl_tags(int_).empty());
}

TEST_F(ReaderQueries, PointerSize) {
  EXPECT_EQ(btf_->pointer_size(), 8u);
  BtfWriter w;
  const auto l = w.add_int("long int", 4, kIntSigned);
  const auto p = w.add_ptr(l);
  const auto s = w.add_struct("with_ptr", 8);
  w.add_member("a", p, 0);
  w.add_member("b", p, 32);
  auto btf32 = parse(w.serialize());
  EXPECT_EQ(btf32.pointer_size(), 4u);
  EXPECT_EQ(btf32.size_of(p), 4u);
  EXPECT_EQ(btf32.alignment_of(p), 4u);
  EXPECT_EQ(btf32.alignment_of(s), 4u);
}

TEST(ReaderQueriesMalformed, CyclesThrowInsteadOfHanging) {
  BtfWriter w;
  const TypeId a = w.add_typedef("a", 2);  // a -> b -> a
  const TypeId b = w.add_typedef("b", a);
  const TypeId c = w.add_const(w.next_id());          // c -> c
  const TypeId arr = w.add_array(w.next_id(), 0, 2);  // arr -> arr
  const TypeId s = w.add_struct("self", 8);           // contains itself
  w.add_member("me", s, 0);
  const TypeId zero = w.add_array(w.next_id(), 0, 0);  // zero-length self array
  const TypeId huge = w.add_array(w.next_id(), 0, 0xffffffffu);
  EXPECT_EQ(a, 1u);
  auto btf = parse(w.serialize());
  EXPECT_THROW(btf.resolve(a), Error);
  EXPECT_THROW(btf.resolve(b), Error);
  EXPECT_THROW(btf.skip_modifiers(c), Error);
  EXPECT_THROW(btf.size_of(b), Error);
  EXPECT_THROW(btf.size_of(arr), Error);
  EXPECT_THROW(btf.size_of(zero), Error);
  EXPECT_THROW(btf.size_of(huge), Error);
  EXPECT_THROW(btf.alignment_of(b), Error);
  EXPECT_THROW(btf.alignment_of(arr), Error);
  EXPECT_THROW(btf.alignment_of(s), Error);
  EXPECT_EQ(btf.size_of(s), 8u);  // a struct's size is its own field
}

TEST(ReaderQueriesMalformed, HugeArraysAreReportedNotWrapped) {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  const auto big = w.add_array(i, i, 0x40000000);  // 4 GiB
  const auto ok = w.add_array(i, i, 0x3fffffff);
  const auto outer = w.add_array(big, i, 0xffffffffu);
  const auto empty = w.add_struct("empty", 0);
  const auto many_empty = w.add_array(empty, i, 0xffffffffu);
  const auto many_many_empty = w.add_array(many_empty, i, 0xffffffffu);
  auto btf = parse(w.serialize());
  try {
    btf.size_of(big);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::value_too_large);
  }
  EXPECT_EQ(btf.size_of(ok), 0xfffffffcu);
  EXPECT_THROW(btf.size_of(outer), Error);
  EXPECT_EQ(btf.size_of(many_empty), 0u);
  EXPECT_EQ(btf.size_of(many_many_empty), 0u);
}

TEST(ReaderQueriesMalformed, WideStructFanOutDoesNotExplode) {
  // 40 levels of structs each holding two of the next: a naive recursive alignment walk makes
  // 2^40 calls.
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  constexpr int kLevels = 40;
  for (int level = 0; level < kLevels; ++level) {
    const TypeId inner = level + 1 == kLevels ? i : w.next_id() + 1;
    w.add_struct("s" + std::to_string(level), 8);
    w.add_member("x", inner, 0);
    w.add_member("y", inner, 32);
  }
  auto btf = parse(w.serialize());
  EXPECT_EQ(btf.alignment_of(2), 4u);
}

// ---- Split BTF ----

struct SplitPair {
  std::vector<std::byte> base_bytes;
  std::vector<std::byte> split_bytes;
  std::uint32_t x_offset;  // of the base's string "x"
};

SplitPair split_sample_raw() {
  SplitPair pair;
  RawBtf base;
  base.type(base.str("int"), R::info(R::kInt), 4, {(1u << 24) | 32});  // 1
  const auto name = base.str("base_struct");
  pair.x_offset = base.str("x");
  base.type(name, R::info(R::kStruct, 1), 4, {pair.x_offset, 1, 0});  // 2
  base.type(base.str("shared"), R::info(R::kTypedef), 1);             // 3
  pair.base_bytes = base.bytes();
  RawBtf split(static_cast<std::uint32_t>(base.strings().size()));
  split.type(0, R::info(R::kPtr), 2);  // 4
  const auto mod_name = split.str("mod_struct");
  split.type(mod_name, R::info(R::kStruct, 2), 16, {split.str("p"), 4, 0, pair.x_offset, 1, 64});  // 5
  split.type(split.str("shared"), R::info(R::kTypedef), 5);                                        // 6
  split.type(split.str("tag"), R::info(R::kDeclTag), 2, {0xffffffffu});                            // 7
  pair.split_bytes = split.bytes();
  return pair;
}

TEST(ReaderSplit, IdsAndStringsContinueFromBase) {
  const auto pair = split_sample_raw();
  auto base = parse(pair.base_bytes);
  ASSERT_EQ(base.string_at(pair.x_offset), "x");
  auto split = parse(pair.split_bytes, &base);
  EXPECT_EQ(split.first_id(), 4u);
  EXPECT_EQ(split.type_count(), 8u);
  ASSERT_TRUE(split.base());
  EXPECT_EQ(split.base()->type_count(), 4u);
  EXPECT_EQ(split.type(1).name(), "int");
  EXPECT_EQ(split.type(4).type(), 2u);
  auto mod = split.type(5);
  EXPECT_EQ(mod.name(), "mod_struct");
  EXPECT_EQ(mod.name_offset(), base.string_section_size());  // the split's first own string
  EXPECT_EQ(mod.members()[1].name_offset(), pair.x_offset);
  EXPECT_EQ(member_names(mod), (std::vector<std::string_view>{"p", "x"}));
  EXPECT_EQ(split.string_at(1), "int");
  EXPECT_EQ(split.string_section_size(), std::string_view("mod_struct\0p\0shared\0tag\0", 24).size());
  EXPECT_EQ(split.size_of(5), 16u);
  EXPECT_EQ(split.resolve(6).id(), 5u);
  EXPECT_EQ(split.resolve(3).id(), 1u);
}

TEST(ReaderSplit, LookupsSpanBaseAndSplit) {
  const auto pair = split_sample_raw();
  auto base = parse(pair.base_bytes);
  auto split = parse(pair.split_bytes, &base);
  EXPECT_EQ(split.find("int")->id(), 1u);
  EXPECT_EQ(split.find("mod_struct")->id(), 5u);
  EXPECT_EQ(split.find("shared")->id(), 3u);
  EXPECT_EQ(split.find_all("shared"), (std::vector<TypeId>{3, 6}));
  EXPECT_EQ(split.find_all_essential("shared"), (std::vector<TypeId>{3, 6}));
  EXPECT_EQ(split.decl_tags(2), (std::vector<TypeId>{7}));
  EXPECT_FALSE(base.find("mod_struct"));
  EXPECT_EQ(base.find_all("shared"), (std::vector<TypeId>{3}));
}

TEST(ReaderSplit, SplitOfSplit) {
  const auto pair = split_sample_raw();
  auto base = parse(pair.base_bytes);
  auto middle = parse(pair.split_bytes, &base);
  BtfWriter w(middle);
  EXPECT_EQ(w.first_id(), 8u);
  const auto p = w.add_ptr(5);
  w.add_struct("top", 8);
  w.add_member("x", p, 0);  // "x" reused from the base's strings
  w.add_typedef("shared", 1);
  auto top = parse(w.serialize(), &middle);
  EXPECT_EQ(top.first_id(), 8u);
  EXPECT_EQ(top.type(9).members()[0].name_offset(), pair.x_offset);
  EXPECT_EQ(top.find_all("shared"), (std::vector<TypeId>{3, 6, 10}));
  EXPECT_EQ(top.type(9).name(), "top");
  EXPECT_EQ(top.size_of(9), 8u);
  EXPECT_EQ(top.string_at(1), "int");
  EXPECT_EQ(top.resolve(10).id(), 1u);
}

TEST(ReaderSplit, ReferencesAndNamesCheckedAgainstTheWholeChain) {
  const auto pair = split_sample_raw();
  auto base = parse(pair.base_bytes);
  const auto base_strings = base.string_section_size();
  RawBtf split(base_strings);
  split.type(0, R::info(R::kPtr), 3);  // 4: fine, base type
  split.type(0, R::info(R::kPtr), 6);  // 5: beyond
  expect_invalid(split.bytes(),
                 {"type [5] at byte offset 12", "PTR type refers to type id 6, but the last type id is 5"}, &base);
  RawBtf names(base_strings);
  names.type(0, R::info(R::kPtr), 1);
  names.type(base_strings + 5, R::info(R::kTypedef), 1);  // own section is empty
  expect_invalid(names.bytes(), {"type [5] at byte offset 12", "type name offset"}, &base);
  // Without its base the split blob lacks the leading empty string.
  expect_invalid(pair.split_bytes, {"string section does not start with an empty string", "give its base BTF"});
}

// ---- ELF objects ----

TEST(ReaderElf, ReadsDotBtfOfBpfObject) {
  const auto path = test_object_dir() / "elf_sample.bpf.o";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  auto btf = Btf::load(path.string());
  auto pair = btf.find("sample_pair", Kind::Struct);
  ASSERT_TRUE(pair);
  EXPECT_EQ(pair->size(), 32u);
  EXPECT_EQ(member_names(*pair),
            (std::vector<std::string_view>{"first", "second", "flags", "level", "mode", "user_ptr"}));
  EXPECT_EQ(pair->members()[3].bit_offset(), 131u);
  EXPECT_EQ(pair->members()[3].bitfield_size(), 5u);
  EXPECT_EQ(btf.decl_tags(pair->id(), -1).size(), 1u);
  auto mode = btf.find("sample_mode", Kind::Enum);
  ASSERT_TRUE(mode);
  EXPECT_EQ(mode->enumerators()[2].unsigned_value(), 0x80000000u);
  auto prog = btf.find("sample_prog", Kind::Func);
  ASSERT_TRUE(prog);
  EXPECT_EQ(prog->linkage(), Linkage::global);
  EXPECT_EQ(btf.type(prog->type()).kind(), Kind::FuncProto);
  auto helper = btf.find("sample_helper", Kind::Func);
  ASSERT_TRUE(helper);
  EXPECT_EQ(helper->linkage(), Linkage::static_);
  EXPECT_EQ(btf.decl_tags(helper->id(), 0).size(), 1u);
  auto data = btf.find(".data", Kind::Datasec);
  ASSERT_TRUE(data);
  ASSERT_EQ(data->datasec_vars().size(), 1u);
  EXPECT_EQ(btf.type(data->datasec_vars()[0].type()).name(), "sample_global");
  auto counters = btf.find("sample_counters", Kind::Var);
  ASSERT_TRUE(counters);
  EXPECT_EQ(btf.size_of(counters->id()), 64u);
  bool has_user_tag = false;
  for (TypeId id = 1; id < btf.type_count(); ++id)
    has_user_tag |= btf.type(id).kind() == Kind::TypeTag && btf.type(id).name() == "user";
  EXPECT_TRUE(has_user_tag);

  // The same bytes from memory.
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  auto from_memory = Btf::from_bytes(bytes);
  EXPECT_EQ(from_memory.type_count(), btf.type_count());
  EXPECT_TRUE(from_memory.find("sample_pair", Kind::Struct));
}

TEST(ReaderElf, ObjectWithoutBtfIsAClearError) {
  const auto path = test_object_dir() / "elf_sample_nobtf.bpf.o";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  try {
    Btf::load(path.string());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".BTF"), std::string::npos) << e.what();
  }
}

// ---- Validation: header and sections ----

RawBtf small_valid() {
  RawBtf b;
  b.type(b.str("int"), R::info(R::kInt), 4, {(1u << 24) | 32});
  return b;
}

TEST(ReaderValidation, SmallValidParses) { EXPECT_EQ(parse(small_valid().bytes()).type_count(), 2u); }

TEST(ReaderValidation, EmptyTypeSectionParses) {
  RawBtf b;
  EXPECT_EQ(parse(b.bytes()).type_count(), 1u);
}

// Bytes that are not BTF at all are turned away before parsing, with their own message.
void expect_not_btf(const std::vector<std::byte>& bytes) {
  try {
    parse(bytes);
    ADD_FAILURE() << "parsed without error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("test.btf: not BTF: ", 0), 0u) << e.what();
  }
}

TEST(ReaderValidation, ShortHeader) {
  auto bytes = small_valid().bytes();
  bytes.resize(20);
  expect_invalid(bytes, {"20 bytes is too short for a BTF header"});
  bytes.resize(2);
  expect_invalid(bytes, {"2 bytes is too short for a BTF header"});
  expect_not_btf({});
}

TEST(ReaderValidation, BadMagic) {
  const auto bytes = small_valid().bytes(false, {.magic = 0x1234});
  expect_not_btf(bytes);
  // The parser checks the magic itself too, for callers that hand it a blob directly.
  try {
    corebpf::btf::detail::parse_blob(bytes, nullptr, "direct.btf", nullptr);
    ADD_FAILURE() << "parsed without error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "direct.btf: invalid BTF: bad magic 0x1234 (expected 0xeb9f)");
  }
}

TEST(ReaderValidation, BadVersion) {
  expect_invalid(small_valid().bytes(false, {.version = 2}), {"unsupported version 2"});
}

TEST(ReaderValidation, HeaderLength) {
  expect_invalid(small_valid().bytes(false, {.hdr_len = 20}), {"header length 20 is outside [24, "});
  expect_invalid(small_valid().bytes(false, {.hdr_len = 100000}), {"header length 100000 is outside"});
}

TEST(ReaderValidation, LongerHeaderWithZeroTailIsAccepted) {
  auto btf = parse(small_valid().bytes(false, {}, {0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(btf.type(1).name(), "int");
  // A 25-byte header leaves the type section misaligned in memory: it is read from a copy.
  for (bool big_endian : {false, true}) {
    auto odd = parse(small_valid().bytes(big_endian, {}, {0}));
    EXPECT_EQ(odd.type(1).name(), "int");
    EXPECT_EQ(odd.type(1).int_info().bits, 32);
    EXPECT_EQ(odd.type(1).int_info().encoding, kIntSigned);
  }
}

TEST(ReaderValidation, NonZeroUnknownHeaderTail) {
  expect_invalid(small_valid().bytes(false, {}, {0, 0, 0, 0, 7, 0, 0, 0}),
                 {"header has 32 bytes with unknown non-zero fields"});
}

TEST(ReaderValidation, MisalignedTypeSection) {
  auto b = small_valid();
  expect_invalid(b.bytes(false, {.type_off = 2}), {"type section offset 2 is not 4-byte aligned"});
}

TEST(ReaderValidation, TypeSectionLengthNotMultipleOfFour) {
  auto b = small_valid();
  expect_invalid(b.bytes(false, {.type_len = 14, .str_off = 16}), {"type section length 14 is not a multiple of 4"});
}

TEST(ReaderValidation, SectionsOutOfBounds) {
  auto b = small_valid();
  const auto type_len = b.type_section_size();
  const auto str_len = static_cast<std::uint32_t>(b.strings().size());
  expect_invalid(b.bytes(false, {.type_len = type_len + str_len + 4}),
                 {"type section (offset 0, length 25) runs past the end of the data (21 bytes)"});
  expect_invalid(b.bytes(false, {.type_off = 0xfffffff0u}), {"type section (offset 4294967280"});
  expect_invalid(b.bytes(false, {.str_len = str_len + 1}), {"string section (offset 16, length 6) runs past the end"});
  expect_invalid(b.bytes(false, {.str_off = 0xffffffffu, .str_len = 2}), {"string section (offset 4294967295"});
}

TEST(ReaderValidation, SectionsOverlap) {
  auto b = small_valid();
  expect_invalid(b.bytes(false, {.str_off = 8, .str_len = 8}), {"type and string sections overlap"});
}

TEST(ReaderValidation, StringSectionShape) {
  auto b = small_valid();
  b.strings()[0] = 'x';
  expect_invalid(b.bytes(), {"string section does not start with an empty string", "give its base BTF"});
  auto unterminated = small_valid();
  unterminated.strings().back() = 'x';
  expect_invalid(unterminated.bytes(), {"string section is not NUL-terminated"});
  RawBtf none;
  expect_invalid(none.bytes(false, {.str_len = 0}),
                 {"string section does not start with an empty string", "give its base BTF"});
}

// ---- Validation: types ----

// A few valid types first, so that errors come at a non-zero id and offset.
RawBtf prefix() {
  RawBtf b;
  b.type(b.str("int"), R::info(R::kInt), 4, {(1u << 24) | 32});  // [1] at 0
  b.type(0, R::info(R::kPtr), 1);                                // [2] at 16
  return b;                                                      // next: [3] at 28
}

TEST(ReaderValidation, StringOffsetsOutOfRange) {
  auto b = prefix();
  b.type(1000, R::info(R::kTypedef), 1);
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "type name offset 1000 is beyond the string section"});

  b = prefix();
  b.type(b.str("s"), R::info(R::kStruct, 2), 8, {b.str("a"), 1, 0, 999, 1, 32});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "member name offset 999"});

  b = prefix();
  b.type(b.str("e"), R::info(R::kEnum, 1), 4, {998, 0});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "enumerator name offset 998"});

  b = prefix();
  b.type(b.str("e"), R::info(R::kEnum64, 1), 8, {997, 0, 0});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "enumerator name offset 997"});

  b = prefix();
  b.type(0, R::info(R::kFuncProto, 2), 1, {0, 1, 996, 1});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "parameter name offset 996"});

  // Exactly the section size is already out of range.
  b = prefix();
  const auto end = static_cast<std::uint32_t>(b.strings().size());
  b.type(end, R::info(R::kTypedef), 1);
  expect_invalid(b.bytes(), {"type [3]", "type name offset " + std::to_string(end)});
}

TEST(ReaderValidation, UnknownKind) {
  auto b = prefix();
  b.type(0, R::info(20), 0);
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "unknown kind 20"});
  b = prefix();
  b.type(0, R::info(0), 0);
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "unknown kind 0"});
  b = prefix();
  b.type(0, R::info(31), 0);
  expect_invalid(b.bytes(), {"unknown kind 31"});
}

TEST(ReaderValidation, TruncatedType) {
  auto b = prefix();
  b.words({0, R::info(R::kPtr)});  // 8 of a header's 12 bytes
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "truncated: 8 bytes left, a type header needs 12"});
}

TEST(ReaderValidation, TruncatedVlenRecords) {
  auto b = prefix();
  b.type(b.str("s"), R::info(R::kStruct, 3), 12, {0, 1, 0});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "STRUCT with vlen 3 needs 36 more bytes, only 12 remain"});
  b = prefix();
  b.type(0, R::info(R::kInt), 4);  // INT without its extra word
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "INT with vlen 0 needs 4 more bytes, only 0 remain"});
  b = prefix();
  b.type(0, R::info(R::kArray), 0, {1, 1});
  expect_invalid(b.bytes(), {"ARRAY with vlen 0 needs 12 more bytes, only 8 remain"});
  b = prefix();
  b.type(b.str("e"), R::info(R::kEnum64, 2), 8, {0, 1, 2});
  expect_invalid(b.bytes(), {"ENUM64 with vlen 2 needs 24 more bytes, only 12 remain"});
  b = prefix();
  b.type(b.str("d"), R::info(R::kDatasec, 0xffff), 8);
  expect_invalid(b.bytes(), {"DATASEC with vlen 65535 needs 786420 more bytes, only 0 remain"});
}

TEST(ReaderValidation, IntChecks) {
  auto with_int = [](std::uint32_t size, std::uint32_t word) {
    auto b = prefix();
    b.type(b.str("i"), R::info(R::kInt), size, {word});
    return b.bytes();
  };
  expect_invalid(with_int(3, 24), {"type [3] at byte offset 28", "INT size 3 is not 1, 2, 4, 8 or 16"});
  expect_invalid(with_int(32, 32), {"INT size 32"});
  expect_invalid(with_int(0, 0), {"INT size 0"});
  expect_invalid(with_int(4, 0), {"type [3] at byte offset 28", "INT bits 0 at bit offset 0 do not fit its 4 bytes"});
  expect_invalid(with_int(4, 33), {"INT bits 33 at bit offset 0"});
  expect_invalid(with_int(16, 129), {"INT bits 129"});
  expect_invalid(with_int(4, (8u << 16) | 25), {"INT bits 25 at bit offset 8 do not fit its 4 bytes"});
  expect_invalid(with_int(4, (3u << 24) | 32), {"type [3] at byte offset 28", "INT encoding 0x3 is not valid"});
  expect_invalid(with_int(4, (8u << 24) | 32), {"INT encoding 0x8"});
  EXPECT_NO_THROW(parse(with_int(4, (8u << 16) | 24)));
}

TEST(ReaderValidation, EnumSizes) {
  for (std::uint32_t size : {0u, 3u, 16u}) {
    auto b = prefix();
    b.type(b.str("e"), R::info(R::kEnum), size);
    expect_invalid(b.bytes(),
                   {"type [3] at byte offset 28", "ENUM size " + std::to_string(size) + " is not 1, 2, 4 or 8"});
    b = prefix();
    b.type(b.str("e"), R::info(R::kEnum64), size);
    expect_invalid(b.bytes(), {"type [3] at byte offset 28", "ENUM64 size " + std::to_string(size)});
  }
  for (std::uint32_t size : {1u, 2u, 4u, 8u}) {
    auto b = prefix();
    b.type(b.str("e"), R::info(R::kEnum), size);
    EXPECT_NO_THROW(parse(b.bytes()));
  }
}

TEST(ReaderValidation, VarLinkage) {
  auto b = prefix();
  b.type(b.str("v"), R::info(R::kVar), 1, {3});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "VAR linkage 3 is not static, global or extern"});
}

TEST(ReaderValidation, DeclTagComponent) {
  auto b = prefix();
  b.type(b.str("t"), R::info(R::kDeclTag), 1, {static_cast<std::uint32_t>(-2)});
  expect_invalid(b.bytes(), {"type [3] at byte offset 28", "DECL_TAG component index -2 is below -1"});
}

TEST(ReaderValidation, FloatSize) {
  for (std::uint32_t size : {0u, 1u, 3u, 32u}) {
    auto b = prefix();
    b.type(b.str("f"), R::info(R::kFloat), size);
    expect_invalid(b.bytes(), {"type [3] at byte offset 28", "FLOAT size " + std::to_string(size)});
  }
  for (std::uint32_t size : {2u, 4u, 8u, 12u, 16u}) {
    auto b = prefix();
    b.type(b.str("f"), R::info(R::kFloat), size);
    EXPECT_NO_THROW(parse(b.bytes()));
  }
}

struct BadRef {
  const char* what;
  std::function<void(RawBtf&)> add;  // appends type [3] at offset 28 referring to id 77
  const char* message;
};

TEST(ReaderValidation, TypeReferencesOutOfRange) {
  const std::vector<BadRef> cases = {
      {"ptr", [](RawBtf& b) { b.type(0, R::info(R::kPtr), 77); }, "PTR type refers to type id 77"},
      {"typedef", [](RawBtf& b) { b.type(b.str("t"), R::info(R::kTypedef), 77); }, "TYPEDEF type refers to type id 77"},
      {"volatile", [](RawBtf& b) { b.type(0, R::info(R::kVolatile), 77); }, "VOLATILE type refers"},
      {"const", [](RawBtf& b) { b.type(0, R::info(R::kConst), 77); }, "CONST type refers"},
      {"restrict", [](RawBtf& b) { b.type(0, R::info(R::kRestrict), 77); }, "RESTRICT type refers"},
      {"type_tag", [](RawBtf& b) { b.type(b.str("u"), R::info(R::kTypeTag), 77); }, "TYPE_TAG type refers"},
      {"func", [](RawBtf& b) { b.type(b.str("f"), R::info(R::kFunc), 77); }, "FUNC type refers"},
      {"var", [](RawBtf& b) { b.type(b.str("v"), R::info(R::kVar), 77, {0}); }, "VAR type refers"},
      {"decl_tag", [](RawBtf& b) { b.type(b.str("t"), R::info(R::kDeclTag), 77, {0}); }, "DECL_TAG type refers"},
      {"array element",
       [](RawBtf& b) {
         b.type(0, R::info(R::kArray), 0, {77, 1, 2});
       },
       "ARRAY element type refers to type id 77"},
      {"array index",
       [](RawBtf& b) {
         b.type(0, R::info(R::kArray), 0, {1, 77, 2});
       },
       "ARRAY index type refers to type id 77"},
      {"struct member",
       [](RawBtf& b) {
         b.type(b.str("s"), R::info(R::kStruct, 2), 8, {0, 1, 0, 0, 77, 32});
       },
       "STRUCT member type refers to type id 77"},
      {"union member",
       [](RawBtf& b) {
         b.type(b.str("u"), R::info(R::kUnion, 1), 8, {0, 77, 0});
       },
       "UNION member type refers to type id 77"},
      {"proto return",
       [](RawBtf& b) {
         b.type(0, R::info(R::kFuncProto, 1), 77, {0, 1});
       },
       "FUNC_PROTO return type refers to type id 77"},
      {"proto param",
       [](RawBtf& b) {
         b.type(0, R::info(R::kFuncProto, 2), 1, {0, 1, 0, 77});
       },
       "FUNC_PROTO parameter type refers to type id 77"},
      {"datasec var",
       [](RawBtf& b) {
         b.type(b.str(".d"), R::info(R::kDatasec, 1), 4, {77, 0, 4});
       },
       "DATASEC variable type refers to type id 77"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto b = prefix();
    c.add(b);
    b.type(0, R::info(R::kPtr), 1);  // [4]: the last id is 4
    expect_invalid(b.bytes(), {"type [3] at byte offset 28", c.message, "but the last type id is 4"});
  }
}

TEST(ReaderValidation, ForwardReferencesAreFine) {
  auto b = prefix();
  b.type(0, R::info(R::kPtr), 4);  // [3] -> [4], defined later
  b.type(b.str("s"), R::info(R::kStruct, 1), 8, {b.str("next"), 3, 0});
  auto btf = parse(b.bytes());
  EXPECT_EQ(btf.type(3).type(), 4u);
}

TEST(ReaderValidation, ErrorsInBigEndianBlobsNameTheSameTypeAndOffset) {
  auto b = prefix();
  b.type(b.str("i"), R::info(R::kInt), 3, {24});
  expect_invalid(b.bytes(true), {"type [3] at byte offset 28", "INT size 3"});
  b = prefix();
  b.type(0, R::info(R::kConst), 77);
  expect_invalid(b.bytes(true), {"type [3] at byte offset 28", "CONST type refers to type id 77"});
}

TEST(ReaderValidation, EveryTruncationOfAValidBlobFailsCleanly) {
  const auto bytes = every_kind_raw();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse(cut), Error) << n;
  }
}

// ---- The running kernel ----

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
  const auto align = btf.alignment_of(task->id());
  EXPECT_TRUE(align >= 8 && (align & (align - 1)) == 0) << align;
  EXPECT_EQ(btf.size_of(task->id()) % align, 0u);
}

}  // namespace
