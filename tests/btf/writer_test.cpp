// BTF writer: every add_*, argument checks, string deduplication, both byte orders, split BTF,
// type copies with remapping, and parse -> write -> parse round trips of real BTF (the running
// kernel, the fetched 6.1 and 6.12 kernels and their modules, BPF objects).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cstring>
#include <filesystem>

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
using corebpf::btf::Type;
using corebpf::btf::TypeId;
namespace fs = std::filesystem;

TypeId identity(TypeId id) { return id; }

Btf parse(const std::vector<std::byte>& bytes, const Btf* base = nullptr) {
  return Btf::from_bytes(bytes, LoadOptions{.base = base}, "written.btf");
}

// The writer must refuse with a message containing `part`.
template <typename Call>
void expect_refused(Call&& call, std::string_view part) {
  try {
    call();
    ADD_FAILURE() << "no error; expected: " << part;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument) << e.what();
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "'" << part << "' not in: " << e.what();
  }
}

// Everything a type says, with names spelled out, so types of different BTFs compare as text.
std::string describe(const Btf& btf, const Type& t) {
  std::string out = fmt::format("[{}] {} '{}' info={:#x} size_or_type={}", t.id(), corebpf::btf::kind_name(t.kind()),
                                t.name(), t.raw_info(), t.size());
  switch (t.kind()) {
    case Kind::Int:
      out += fmt::format(" enc={} off={} bits={}", t.int_info().encoding, t.int_info().bit_offset, t.int_info().bits);
      break;
    case Kind::Array:
      out += fmt::format(" elem={} index={} n={}", t.array().element_type, t.array().index_type, t.array().count);
      break;
    case Kind::Struct:
    case Kind::Union:
      for (auto m : t.members()) out += fmt::format(" |'{}' {} {:#x}", m.name(), m.type(), m.raw_offset());
      break;
    case Kind::Enum:
    case Kind::Enum64:
      for (auto e : t.enumerators()) out += fmt::format(" |'{}' {:#x}", e.name(), e.unsigned_value());
      break;
    case Kind::FuncProto:
      for (auto p : t.params()) out += fmt::format(" |'{}' {}", p.name(), p.type());
      break;
    case Kind::Datasec:
      for (auto v : t.datasec_vars()) out += fmt::format(" |{} {} {}", v.type(), v.offset(), v.size());
      break;
    case Kind::Var:
    case Kind::Func:
      out += fmt::format(" linkage={}", static_cast<int>(t.linkage()));
      break;
    case Kind::DeclTag:
      out += fmt::format(" component={}", t.component_index());
      break;
    default:
      break;
  }
  (void)btf;
  return out;
}

// Same ids, same types (names compared as text, so string offsets may differ).
void expect_same_types(const Btf& expected, const Btf& actual) {
  ASSERT_EQ(expected.first_id(), actual.first_id());
  ASSERT_EQ(expected.type_count(), actual.type_count());
  int mismatches = 0;
  for (TypeId id = expected.first_id(); id < expected.type_count() && mismatches < 5; ++id) {
    const auto want = describe(expected, expected.type(id));
    const auto got = describe(actual, actual.type(id));
    if (want != got) {
      ++mismatches;
      ADD_FAILURE() << "type " << id << " differs:\n  expected " << want << "\n  actual   " << got;
    }
  }
}

// Every type of `btf` copied in order, identity ids. With `strings_in_order`, the original string
// section is replayed first so that offsets (and so the bytes) can come out identical.
BtfWriter copy_all(const Btf& btf, const Btf* base, bool strings_in_order) {
  BtfWriter w = base ? BtfWriter(*base) : BtfWriter();
  if (strings_in_order && !base) {
    for (std::uint32_t off = 0; off < btf.string_section_size();) {
      const auto text = btf.string_at(off);
      w.add_string(text);
      off += static_cast<std::uint32_t>(text.size()) + 1;
    }
  }
  for (TypeId id = btf.first_id(); id < btf.type_count(); ++id) w.add_type_copy(btf.type(id), identity);
  return w;
}

bool same_bytes(std::span<const std::byte> a, const std::vector<std::byte>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

// parse -> write -> parse: same types; with the strings replayed in order, the same bytes too.
void round_trip(const Btf& btf, const Btf* base, bool expect_identical_bytes) {
  SCOPED_TRACE(btf.source_name());
  auto writer = copy_all(btf, base, true);
  const auto bytes = writer.serialize(btf.endian());
  auto again = parse(bytes, base);
  expect_same_types(btf, again);
  if (expect_identical_bytes) {
    EXPECT_TRUE(same_bytes(btf.raw_bytes(), bytes)) << "re-serialized bytes differ";
  }
  // The other byte order carries the same types.
  const Endian other = btf.endian() == Endian::little ? Endian::big : Endian::little;
  auto swapped = parse(writer.serialize(other), base);
  EXPECT_EQ(swapped.endian(), other);
  expect_same_types(btf, swapped);
}

// ---- add_* ----

TEST(Writer, EmptyWriterIsValidEmptyBtf) {
  BtfWriter w;
  EXPECT_EQ(w.next_id(), 1u);
  EXPECT_EQ(w.first_id(), 1u);
  EXPECT_EQ(w.base(), nullptr);
  const auto bytes = w.serialize(Endian::little);
  ASSERT_EQ(bytes.size(), 25u);  // header + the empty string
  auto btf = parse(bytes);
  EXPECT_EQ(btf.type_count(), 1u);
}

TEST(Writer, HeaderLayout) {
  BtfWriter w;
  w.add_int("int", 4, kIntSigned);
  const auto le = w.serialize(Endian::little);
  const auto be = w.serialize(Endian::big);
  EXPECT_EQ(le[0], std::byte{0x9f});
  EXPECT_EQ(le[1], std::byte{0xeb});
  EXPECT_EQ(be[0], std::byte{0xeb});
  EXPECT_EQ(be[1], std::byte{0x9f});
  EXPECT_EQ(le[2], std::byte{1});  // version
  EXPECT_EQ(le[3], std::byte{0});  // flags
  auto u32 = [](const std::vector<std::byte>& b, std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
  };
  EXPECT_EQ(u32(le, 4), 24u);   // hdr_len
  EXPECT_EQ(u32(le, 8), 0u);    // type_off
  EXPECT_EQ(u32(le, 12), 16u);  // type_len
  EXPECT_EQ(u32(le, 16), 16u);  // str_off
  EXPECT_EQ(u32(le, 20), 5u);   // str_len: "\0int\0"
  EXPECT_EQ(u32(be, 4), __builtin_bswap32(24u));
  // Every word of the type section swapped, the strings untouched.
  ASSERT_EQ(le.size(), be.size());
  for (std::size_t at = 24; at < 40; at += 4) EXPECT_EQ(u32(le, at), __builtin_bswap32(u32(be, at))) << at;
  EXPECT_TRUE(std::equal(le.begin() + 40, le.end(), be.begin() + 40));
}

TEST(Writer, EveryAddReturnsConsecutiveIdsAndReadsBack) {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  const auto c = w.add_int("char", 1, kIntChar);
  const auto b = w.add_int("_Bool", 1, kIntBool);
  const auto part = w.add_int("part", 8, 0, 4, 20);
  const auto p = w.add_ptr(i);
  const auto a = w.add_array(c, i, 16);
  const auto s = w.add_struct("s", 24);
  w.add_member("x", i, 0);
  w.add_member("name", a, 32);
  const auto u = w.add_union("u", 4);
  w.add_member("i", i, 0);
  w.add_member("c", c, 0);
  const auto e = w.add_enum("e", 2, true);
  w.add_enumerator("E_NEG", -1);
  const auto e64 = w.add_enum64("e64", 4);
  w.add_enumerator("E64", 5);
  const auto f = w.add_fwd("later", true);
  const auto td = w.add_typedef("int_t", i);
  const auto vol = w.add_volatile(i);
  const auto con = w.add_const(i);
  const auto res = w.add_restrict(p);
  const auto tag = w.add_type_tag("rcu", p);
  const auto proto = w.add_func_proto(0);
  w.add_param("s", s);
  const auto fn = w.add_func("fn", proto, Linkage::extern_);
  const auto var = w.add_var("v", s, Linkage::global);
  const auto sec = w.add_datasec(".bss", 24);
  w.add_datasec_var(var, 0, 24);
  const auto fl = w.add_float("float", 4);
  const auto dt = w.add_decl_tag("kfunc", fn, -1);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(dt, 22u);
  EXPECT_EQ(w.next_id(), 23u);
  EXPECT_EQ(w.type_count(), 23u);

  auto btf = parse(w.serialize());
  EXPECT_EQ(btf.type(b).int_info().encoding, kIntBool);
  EXPECT_EQ(btf.type(b).int_info().bits, 8);
  EXPECT_EQ(btf.type(part).int_info().bit_offset, 4);
  EXPECT_EQ(btf.type(part).int_info().bits, 20);
  EXPECT_EQ(btf.type(p).type(), i);
  EXPECT_EQ(btf.type(a).array().count, 16u);
  EXPECT_EQ(btf.type(s).members().size(), 2u);
  EXPECT_FALSE(btf.type(s).kind_flag());
  EXPECT_EQ(btf.type(u).kind(), Kind::Union);
  EXPECT_EQ(btf.type(e).size(), 2u);
  EXPECT_TRUE(btf.type(e).is_signed_enum());
  EXPECT_EQ(btf.type(e).enumerators()[0].signed_value(), -1);
  EXPECT_EQ(btf.type(e64).size(), 4u);
  EXPECT_EQ(btf.type(e64).kind(), Kind::Enum64);
  EXPECT_TRUE(btf.type(f).is_union_fwd());
  EXPECT_EQ(btf.type(td).name(), "int_t");
  EXPECT_EQ(btf.type(vol).kind(), Kind::Volatile);
  EXPECT_EQ(btf.type(con).kind(), Kind::Const);
  EXPECT_EQ(btf.type(res).kind(), Kind::Restrict);
  EXPECT_EQ(btf.type(tag).name(), "rcu");
  EXPECT_EQ(btf.type(proto).type(), 0u);
  EXPECT_EQ(btf.type(fn).linkage(), Linkage::extern_);
  EXPECT_EQ(btf.type(var).linkage(), Linkage::global);
  EXPECT_EQ(btf.type(sec).datasec_vars()[0].size(), 24u);
  EXPECT_EQ(btf.type(fl).size(), 4u);
  EXPECT_EQ(btf.type(dt).component_index(), -1);
  EXPECT_EQ(btf.decl_tags(fn), (std::vector<TypeId>{dt}));
}

TEST(Writer, FirstBitfieldSwitchesTheStructToKindFlag) {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  w.add_struct("s", 16);
  w.add_member("plain", i, 0);
  w.add_member("high", i, 32);
  w.add_member("bf", i, 64, 5);
  w.add_member("after", i, 96);
  auto btf = parse(w.serialize());
  auto s = btf.type(2);
  EXPECT_TRUE(s.kind_flag());
  EXPECT_EQ(s.members()[1].bit_offset(), 32u);
  EXPECT_EQ(s.members()[1].bitfield_size(), 0u);
  EXPECT_EQ(s.members()[2].bit_offset(), 64u);
  EXPECT_EQ(s.members()[2].bitfield_size(), 5u);
  EXPECT_EQ(s.members()[3].raw_offset(), 96u);
}

TEST(Writer, BitfieldEncodingLimits) {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  w.add_struct("big", 0x400000);
  w.add_member("far", i, 0x1000000);  // beyond 24 bits: fine without kind_flag
  expect_refused([&] { w.add_member("bf", i, 0, 3); }, "earlier member's bit offset 16777216 exceeds its 24 bits");
  w.add_struct("flagged", 0x400000);
  w.add_member("bf", i, 0, 3);
  expect_refused([&] { w.add_member("far", i, 0x1000000); }, "bit offset 16777216 exceeds the 24 bits");
  w.add_member("near", i, 0xffffff);  // the largest kind_flag offset
  // Refused members leave no trace.
  auto btf = parse(w.serialize());
  EXPECT_EQ(btf.type(2).members().size(), 1u);
  EXPECT_FALSE(btf.type(2).kind_flag());
  EXPECT_EQ(btf.type(3).members().size(), 2u);
  EXPECT_EQ(btf.type(3).members()[1].bit_offset(), 0xffffffu);
}

TEST(Writer, EnumeratorRanges) {
  BtfWriter w;
  w.add_enum("e", 4, false);
  w.add_enumerator("MIN", INT32_MIN);
  w.add_enumerator("MAX", UINT32_MAX);
  expect_refused([&] { w.add_enumerator("TOO_BIG", std::int64_t{UINT32_MAX} + 1); }, "does not fit a 32-bit ENUM");
  expect_refused([&] { w.add_enumerator("TOO_SMALL", std::int64_t{INT32_MIN} - 1); }, "does not fit a 32-bit ENUM");
  w.add_enum64("e64", 8, true);
  w.add_enumerator("MIN64", INT64_MIN);
  w.add_enumerator("MAX64", static_cast<std::int64_t>(UINT64_MAX));
  auto btf = parse(w.serialize());
  auto e = btf.type(1).enumerators();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].unsigned_value(), 0x80000000u);
  EXPECT_EQ(e[1].unsigned_value(), 0xffffffffu);
  auto e64 = btf.type(2).enumerators();
  EXPECT_EQ(e64[0].signed_value(), INT64_MIN);
  EXPECT_EQ(e64[1].unsigned_value(), UINT64_MAX);
}

TEST(Writer, RecordsNeedTheirOwner) {
  BtfWriter w;
  expect_refused([&] { w.add_member("m", 0, 0); }, "member added, but the last type added cannot hold one");
  const auto i = w.add_int("int", 4, kIntSigned);
  expect_refused([&] { w.add_member("m", i, 0); }, "member added");
  expect_refused([&] { w.add_enumerator("E", 1); }, "enumerator added");
  expect_refused([&] { w.add_param("p", i); }, "parameter added");
  expect_refused([&] { w.add_datasec_var(i, 0, 4); }, "datasec variable added");
  w.add_struct("s", 4);
  expect_refused([&] { w.add_param("p", i); }, "parameter added");
  w.add_member("m", i, 0);
  w.add_ptr(i);
  expect_refused([&] { w.add_member("late", i, 0); }, "member added");
  EXPECT_EQ(parse(w.serialize()).type(2).members().size(), 1u);
}

TEST(Writer, VlenLimit) {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  w.add_struct("wide", 0xffff * 4);
  for (std::uint32_t k = 0; k < 0xffff; ++k) w.add_member("", i, k * 32);
  expect_refused([&] { w.add_member("one_too_many", i, 0); }, "already has the maximum of 65535 members");
  auto btf = parse(w.serialize());
  EXPECT_EQ(btf.type(2).members().size(), 0xffffu);
}

TEST(Writer, ArgumentChecks) {
  BtfWriter w;
  expect_refused([&] { w.add_int("i3", 3); }, "INT 'i3' size 3 is not 1, 2, 4, 8 or 16");
  expect_refused([&] { w.add_int("i32", 32); }, "INT 'i32' size 32");
  expect_refused([&] { w.add_int("wide", 4, 0, 8, 32); }, "INT 'wide' bits 32 at bit offset 8 do not fit its 4 bytes");
  expect_refused([&] { w.add_int("enc", 4, kIntSigned | kIntChar); }, "INT 'enc' encoding 0x3");
  expect_refused([&] { w.add_enum("e", 3); }, "ENUM 'e' size 3");
  expect_refused([&] { w.add_enum64("e", 16); }, "ENUM64 'e' size 16");
  expect_refused([&] { w.add_float("f", 6); }, "FLOAT 'f' size 6");
  expect_refused([&] { w.add_decl_tag("t", 1, -2); }, "DECL_TAG 't' component index -2 is below -1");
  expect_refused([&] { w.add_var("v", 1, static_cast<Linkage>(3)); }, "VAR 'v' linkage 3");
  expect_refused([&] { w.add_func("f", 1, static_cast<Linkage>(7)); }, "FUNC 'f' linkage 7");
  expect_refused([&] { w.add_typedef(std::string_view("a\0b", 3), 0); }, "contains a NUL byte");
  // Nothing was added by the refused calls.
  EXPECT_EQ(w.next_id(), 1u);
  EXPECT_EQ(w.serialize().size(), 25u);
}

TEST(Writer, DanglingReferencesAreRefusedAtSerialize) {
  struct Case {
    const char* name;
    std::function<void(BtfWriter&)> add;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"ptr", [](BtfWriter& w) { w.add_ptr(9); },
       "type [2] PTR '': type refers to type id 9, but the last type id is 2"},
      {"member",
       [](BtfWriter& w) {
         w.add_struct("s", 8);
         w.add_member("ok", 1, 0);
         w.add_member("bad", 40, 32);
       },
       "type [2] STRUCT 's': member 'bad' refers to type id 40"},
      {"array", [](BtfWriter& w) { w.add_array(1, 3, 2); }, "type [2] ARRAY '': index type refers to type id 3"},
      {"element", [](BtfWriter& w) { w.add_array(3, 1, 2); }, "element type refers to type id 3"},
      {"return", [](BtfWriter& w) { w.add_func_proto(5); }, "FUNC_PROTO '': return type refers to type id 5"},
      {"param",
       [](BtfWriter& w) {
         w.add_func_proto(1);
         w.add_param("arg", 6);
       },
       "parameter 'arg' refers to type id 6"},
      {"datasec",
       [](BtfWriter& w) {
         w.add_datasec(".data", 4);
         w.add_datasec_var(7, 0, 4);
       },
       "type [2] DATASEC '.data': variable refers to type id 7"},
      {"var", [](BtfWriter& w) { w.add_var("v", 8, Linkage::global); }, "VAR 'v': type refers to type id 8"},
      {"decl_tag", [](BtfWriter& w) { w.add_decl_tag("t", 8); }, "DECL_TAG 't': type refers to type id 8"},
      {"typedef", [](BtfWriter& w) { w.add_typedef("t", 8); }, "TYPEDEF 't': type refers"},
      {"func", [](BtfWriter& w) { w.add_func("f", 8, Linkage::global); }, "FUNC 'f': type refers"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    BtfWriter w;
    w.add_int("int", 4, kIntSigned);
    c.add(w);
    expect_refused([&] { w.serialize(); }, c.message);
    // Adding the missing types makes it valid: references may point forward.
    while (w.next_id() <= 40) w.add_int("filler", 4);
    EXPECT_NO_THROW(parse(w.serialize()));
  }
}

TEST(Writer, StringsAreDeduplicated) {
  BtfWriter w;
  EXPECT_EQ(w.add_string(""), 0u);
  const auto foo = w.add_string("foo");
  EXPECT_EQ(foo, 1u);
  EXPECT_EQ(w.add_string("foo"), foo);
  const auto bar = w.add_string("bar");
  EXPECT_EQ(bar, 5u);
  const auto i = w.add_int("foo", 4, kIntSigned);  // a type named like an existing string
  w.add_struct("bar", 4);
  w.add_member("foo", i, 0);
  w.add_typedef("bar", 2);
  const auto bytes = w.serialize();
  auto btf = parse(bytes);
  EXPECT_EQ(btf.string_section_size(), 9u);  // "\0foo\0bar\0"
  EXPECT_EQ(btf.type(1).name_offset(), foo);
  EXPECT_EQ(btf.type(2).members()[0].name_offset(), foo);
  EXPECT_EQ(btf.type(3).name_offset(), bar);
  // Many strings (past the table's growth points) stay unique and findable.
  for (int k = 0; k < 5000; ++k) w.add_string("s" + std::to_string(k));
  const auto size_after = w.serialize().size();
  for (int k = 0; k < 5000; ++k) w.add_string("s" + std::to_string(k));
  EXPECT_EQ(w.serialize().size(), size_after);
  EXPECT_EQ(w.add_string("foo"), foo);
  EXPECT_EQ(w.add_string("s4999"), w.add_string("s4999"));
}

TEST(Writer, BothByteOrdersCarryTheSameTypes) {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  w.add_struct("s", 8);
  w.add_member("a", i, 0, 3);
  w.add_member("b", i, 32);
  w.add_enum64("big", 8);
  w.add_enumerator("X", static_cast<std::int64_t>(0x0123456789abcdefULL));
  w.add_decl_tag("t", 2, 1);
  w.add_var("v", i, Linkage::extern_);
  auto le = parse(w.serialize(Endian::little));
  auto be = parse(w.serialize(Endian::big));
  EXPECT_EQ(le.endian(), Endian::little);
  EXPECT_EQ(be.endian(), Endian::big);
  expect_same_types(le, be);
  EXPECT_EQ(be.type(3).enumerators()[0].unsigned_value(), 0x0123456789abcdefULL);
  EXPECT_EQ(be.type(2).members()[0].bitfield_size(), 3u);
  EXPECT_EQ(be.type(4).component_index(), 1);
  EXPECT_EQ(be.type(5).linkage(), Linkage::extern_);
  EXPECT_EQ(w.serialize(corebpf::btf::native_endian()), w.serialize());
}

// ---- Split BTF ----

Btf small_base() {
  BtfWriter w;
  const auto i = w.add_int("int", 4, kIntSigned);
  w.add_struct("base_struct", 4);
  w.add_member("x", i, 0);
  return parse(w.serialize());
}

TEST(WriterSplit, IdsAndStringOffsetsContinueFromTheBase) {
  const auto base = small_base();
  BtfWriter w(base);
  ASSERT_NE(w.base(), nullptr);
  EXPECT_EQ(w.base()->type_count(), base.type_count());
  EXPECT_EQ(w.first_id(), 3u);
  EXPECT_EQ(w.next_id(), 3u);
  // Strings the base has are referred to, new ones continue after the base's section.
  EXPECT_EQ(w.add_string("x"), base.type(2).members()[0].name_offset());
  EXPECT_EQ(w.add_string("int"), 1u);
  EXPECT_EQ(w.add_string(""), 0u);
  const auto fresh = w.add_string("module_only");
  EXPECT_EQ(fresh, base.string_section_size());
  const auto p = w.add_ptr(2);
  w.add_struct("mod", 16);
  w.add_member("x", 1, 0);
  w.add_member("next", p, 64);
  EXPECT_EQ(p, 3u);
  const auto bytes = w.serialize();
  auto split = parse(bytes, &base);
  EXPECT_EQ(split.first_id(), 3u);
  EXPECT_EQ(split.type(4).name(), "mod");
  EXPECT_EQ(split.type(4).members()[0].name(), "x");
  EXPECT_EQ(split.find("base_struct")->id(), 2u);
  EXPECT_EQ(split.string_section_size(), std::string_view("module_only\0mod\0next\0", 21).size());
  // Without the base the same bytes do not stand alone.
  EXPECT_THROW(parse(bytes), Error);
  // A reference past the split's last id is refused.
  w.add_ptr(99);
  expect_refused([&] { w.serialize(); }, "type [5] PTR '': type refers to type id 99, but the last type id is 5");
}

TEST(WriterSplit, EmptySplit) {
  const auto base = small_base();
  BtfWriter w(base);
  auto split = parse(w.serialize(), &base);
  EXPECT_EQ(split.type_count(), base.type_count());
  EXPECT_EQ(split.string_section_size(), 0u);
}

// ---- Copies ----

TEST(WriterCopy, RemapsIdsAndReaddsNames) {
  BtfWriter src_writer;
  const auto i = src_writer.add_int("int", 4, kIntSigned);
  const auto l = src_writer.add_int("long", 8, kIntSigned);
  const auto s = src_writer.add_struct("pair", 16);
  src_writer.add_member("a", i, 0, 7);
  src_writer.add_member("b", l, 64);
  const auto proto = src_writer.add_func_proto(l);
  src_writer.add_param("p", s);
  src_writer.add_param("", 0);
  const auto arr = src_writer.add_array(s, i, 2);
  const auto var = src_writer.add_var("g", arr, Linkage::global);
  src_writer.add_datasec(".data", 32);
  src_writer.add_datasec_var(var, 0, 32);
  src_writer.add_enum("e", 4, true);
  src_writer.add_enumerator("NEG", -7);
  auto src = parse(src_writer.serialize());

  // Copy in reverse id order, so old id n becomes count - n.
  BtfWriter w;
  std::vector<TypeId> order;
  for (TypeId id = src.type_count() - 1; id >= 1; --id) order.push_back(id);
  const TypeId count = src.type_count();
  auto remap = [count](TypeId id) { return count - id; };
  for (TypeId id : order) EXPECT_EQ(w.add_type_copy(src.type(id), remap), remap(id));
  auto copy = parse(w.serialize());
  auto pair = copy.type(remap(s));
  EXPECT_EQ(pair.name(), "pair");
  EXPECT_TRUE(pair.kind_flag());
  EXPECT_EQ(pair.members()[0].type(), remap(i));
  EXPECT_EQ(pair.members()[0].bitfield_size(), 7u);
  EXPECT_EQ(pair.members()[1].type(), remap(l));
  auto p = copy.type(remap(proto));
  EXPECT_EQ(p.type(), remap(l));
  EXPECT_EQ(p.params()[0].type(), remap(s));
  EXPECT_EQ(p.params()[1].type(), 0u);  // void stays void
  EXPECT_EQ(copy.type(remap(arr)).array().element_type, remap(s));
  EXPECT_EQ(copy.type(remap(arr)).array().index_type, remap(i));
  EXPECT_EQ(copy.type(remap(var)).type(), remap(arr));
  EXPECT_EQ(copy.find(".data")->datasec_vars()[0].type(), remap(var));
  EXPECT_EQ(copy.find("e")->enumerators()[0].signed_value(), -7);
  EXPECT_THROW(w.add_type_copy(src.type(0), remap), Error);
}

TEST(WriterCopy, CopiedStructAcceptsMoreMembers) {
  BtfWriter a;
  const auto i = a.add_int("int", 4, kIntSigned);
  a.add_struct("s", 8);
  a.add_member("x", i, 0);
  auto src = parse(a.serialize());
  BtfWriter w;
  w.add_type_copy(src.type(1), identity);
  w.add_type_copy(src.type(2), identity);
  w.add_member("y", i, 32);
  auto out = parse(w.serialize());
  EXPECT_EQ(out.type(2).members().size(), 2u);
  EXPECT_EQ(out.type(2).members()[1].name(), "y");
}

// ---- Round trips of real BTF ----

TEST(WriterRoundTrip, RunningKernel) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  round_trip(Btf::load_vmlinux(), nullptr, true);
}

TEST(WriterRoundTrip, RunningKernelWithoutReplayedStringsKeepsTypes) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  auto btf = Btf::load_vmlinux();
  auto again = parse(copy_all(btf, nullptr, false).serialize());
  expect_same_types(btf, again);
}

void round_trip_kernel(const std::string& series) {
  const auto dir = corebpf::test::kernel_dir(series);
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("no " + series + " kernel BTF: run scripts/fetch-kernels");
  auto vmlinux = Btf::load((dir / "vmlinux.btf").string());
  round_trip(vmlinux, nullptr, true);
  int modules = 0;
  if (fs::exists(dir / "modules")) {
    for (const auto& entry : fs::directory_iterator(dir / "modules")) {
      if (entry.path().extension() != ".ko") continue;
      auto module = Btf::load(entry.path().string(), {.base = &vmlinux});
      round_trip(module, &vmlinux, true);
      ++modules;
    }
  }
  if (modules == 0) COREBPF_SKIP_OR_FAIL("no " + series + " modules: run scripts/fetch-kernels");
}

TEST(WriterRoundTrip, Kernel6_1AndModules) { round_trip_kernel("6.1"); }
TEST(WriterRoundTrip, Kernel6_12AndModules) { round_trip_kernel("6.12"); }

// Module BTF of the running kernel, when it has any (a kernel with everything built in has none:
// the fetched kernels' modules cover split BTF round trips either way).
TEST(WriterRoundTrip, RunningKernelModules) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux (kernel without BTF)");
  auto vmlinux = Btf::load_vmlinux();
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator("/sys/kernel/btf")) {
    ++entries;
    if (entry.path().filename() == "vmlinux") continue;
    auto module = Btf::load(entry.path().string(), {.base = &vmlinux});
    round_trip(module, &vmlinux, true);
  }
  EXPECT_GE(entries, 1u);
}

TEST(WriterRoundTrip, BpfObjects) {
  // Our own sample plus every other BPF object the build made for tests.
  std::vector<fs::path> objects{fs::path(COREBPF_TEST_OBJECT_DIR) / "elf_sample.bpf.o"};
  const auto tests_dir = corebpf::test::build_dir() / "tests";
  if (fs::exists(tests_dir))
    for (const auto& entry : fs::recursive_directory_iterator(tests_dir))
      if (entry.path().string().ends_with(".bpf.o") && entry.path() != objects.front()) objects.push_back(entry.path());
  int with_btf = 0;
  for (const auto& path : objects) {
    ASSERT_TRUE(fs::exists(path)) << path;
    std::optional<Btf> btf;
    try {
      btf = Btf::load(path.string());
    } catch (const Error& e) {
      // Objects without debug info, or deliberately broken ones of other tests.
      if (path == objects.front()) throw;
      continue;
    }
    round_trip(*btf, nullptr, true);
    ++with_btf;
  }
  EXPECT_GE(with_btf, 1);
}

}  // namespace
