// The C dumper (vmlinux.h). A header is right when clang compiles it for BPF and a generated
// check file proves every size, member offset and enumerator value against the BTF; bit-fields,
// which offsetof cannot see, are compared through the BTF clang itself emits for the header.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "btf/c_names.hpp"
#include "btf/dump_c_check.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::Error;
using corebpf::btf::Btf;
using corebpf::btf::BtfWriter;
using corebpf::btf::CDumpOptions;
using corebpf::btf::Kind;
using corebpf::btf::Type;
using corebpf::btf::TypeId;
using corebpf::test::run_command;

std::string dump_header(const Btf& btf, const CDumpOptions& options = {}) {
  std::string out;
  corebpf::btf::dump_c(
      btf, [&](std::string_view chunk) { out.append(chunk); }, options);
  return out;
}

std::string layout_check(const Btf& btf) {
  std::string out;
  corebpf::btf::detail::dump_c_layout_check(
      btf, [&](std::string_view chunk) { out.append(chunk); }, "vmlinux.h");
  return out;
}

Btf btf_of(BtfWriter& writer) { return Btf::from_vector(writer.serialize(), {}, "<test>"); }

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "corebpf-dump-c-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

bool have_program(const std::string& name) { return run_command("command -v " + name + " >/dev/null 2>&1") == 0; }

// The compilers the header must satisfy: clang-14 (Debian's default) and clang-16 when installed.
std::vector<std::string> bpf_compilers() {
  std::vector<std::string> compilers;
  for (const char* name : {"clang-14", "clang-16"})
    if (have_program(name)) compilers.emplace_back(name);
  if (compilers.empty() && have_program("clang")) compilers.emplace_back("clang");
  return compilers;
}

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run_in(const fs::path& dir, const std::string& command) {
  CommandResult result;
  result.status = run_command("cd '" + dir.string() + "' && " + command + " 2>&1", &result.output);
  return result;
}

// Named members of a record, with members of anonymous members flattened in, as (name, absolute
// bit offset, bit-field width); unnamed bit-fields (padding) left out.
struct FlatMember {
  std::string name;
  std::uint64_t bit_offset;
  std::uint32_t width;
  bool operator==(const FlatMember&) const = default;
};

void flatten(const Btf& btf, const Type& record, std::uint64_t base, int depth, std::vector<FlatMember>& out) {
  for (auto m : record.members()) {
    std::uint64_t offset = base + m.bit_offset();
    std::uint32_t width = m.bitfield_size();
    const Type resolved = btf.resolve(m.type());
    if (width == 0 && resolved.kind() == Kind::Int) {
      const auto info = resolved.int_info();
      if (info.bits != resolved.size() * 8 || info.bit_offset != 0) {
        width = info.bits;
        offset += info.bit_offset;
      }
    }
    if (m.name().empty()) {
      if (width != 0) continue;
      const Type inner = btf.skip_modifiers(m.type());
      if (inner.is_struct_or_union() && inner.name_offset() == 0 && depth < 16) {
        flatten(btf, inner, offset, depth + 1, out);
        continue;
      }
    }
    out.push_back({std::string(m.name()), offset, width});
  }
}

void PrintTo(const FlatMember& m, std::ostream* out) { *out << m.name << "@" << m.bit_offset << ":" << m.width; }

std::string describe(const std::vector<FlatMember>& members) {
  std::ostringstream out;
  for (const auto& m : members) out << m.name << "@" << m.bit_offset << ":" << m.width << " ";
  return out.str();
}

// Compiles `header` for BPF with one variable of every uniquely named record that has bit-fields,
// then compares the records in clang's BTF with `original`'s.
void expect_same_bitfields(const Btf& original, const fs::path& dir, const std::string& compiler) {
  corebpf::btf::detail::CNames names(original);
  std::string use = "#include \"vmlinux.h\"\n";
  std::vector<TypeId> records;
  for (TypeId id = 1; id < original.type_count(); ++id) {
    const Type t = original.type(id);
    if (!t.is_struct_or_union() || t.name_offset() == 0 || !names.name_is_unique(id)) continue;
    std::vector<FlatMember> members;
    flatten(original, t, 0, 0, members);
    if (std::none_of(members.begin(), members.end(), [](const FlatMember& m) { return m.width != 0; })) continue;
    use += std::string(t.kind() == Kind::Struct ? "struct " : "union ") + std::string(t.name()) + " g_" +
           std::to_string(id) + ";\n";
    records.push_back(id);
  }
  if (records.empty()) return;
  write_file(dir / "use.c", use);
  const auto compiled = run_in(dir, compiler + " -target bpf -g -O0 -c use.c -o use.o");
  ASSERT_EQ(compiled.status, 0) << compiled.output;
  const Btf emitted = Btf::load((dir / "use.o").string());
  for (TypeId id : records) {
    const Type t = original.type(id);
    const auto found = emitted.find(t.name(), t.kind());
    ASSERT_TRUE(found) << t.name();
    EXPECT_EQ(found->size(), t.size()) << t.name();
    std::vector<FlatMember> want, got;
    flatten(original, t, 0, 0, want);
    flatten(emitted, *found, 0, 0, got);
    EXPECT_EQ(want, got) << t.name() << "\n  BTF:    " << describe(want) << "\n  header: " << describe(got);
  }
}

// The header of `btf` compiles for BPF without a diagnostic and reproduces the BTF's layouts.
void expect_header_reproduces(const Btf& btf, const fs::path& dir, bool check_bitfields = true) {
  const auto compilers = bpf_compilers();
  ASSERT_FALSE(compilers.empty()) << "no clang";
  write_file(dir / "vmlinux.h", dump_header(btf));
  write_file(dir / "check.c", layout_check(btf));
  for (const auto& compiler : compilers) {
    const auto result = run_in(dir, compiler + " -target bpf -fsyntax-only -Wall check.c");
    EXPECT_EQ(result.status, 0) << compiler << ":\n" << result.output.substr(0, 4000);
    EXPECT_EQ(result.output, "") << compiler << ":\n" << result.output.substr(0, 4000);
  }
  if (check_bitfields) expect_same_bitfields(btf, dir, compilers.front());
}

// ---- hand-written C, compiled for x86-64 (BTF by pahole, as the kernel's) or for BPF ----

struct DataFile {
  const char* name;
  bool bpf;  // compiled for BPF by clang (its own BTF encoder); else x86-64 + pahole -J
};

void PrintTo(const DataFile& data, std::ostream* out) { *out << data.name << (data.bpf ? " (bpf)" : " (x86-64)"); }

class CDumpData : public testing::TestWithParam<DataFile> {};

TEST_P(CDumpData, HeaderReproducesLayouts) {
  const auto& data = GetParam();
  const auto source = corebpf::test::source_dir() / "tests/btf/data/c_dump" / data.name;
  ASSERT_TRUE(fs::exists(source)) << source;
  TempDir dir;
  const auto object = dir.path() / "data.o";
  std::string command;
  if (data.bpf) {
    command = "clang -g -O2 -target bpf -c '" + source.string() + "' -o data.o";
  } else {
    if (!have_program("pahole")) COREBPF_SKIP_OR_FAIL("pahole (Debian package dwarves) is not installed");
    command = "clang -g -O0 -fno-eliminate-unused-debug-types -target x86_64-linux-gnu -c '" + source.string() +
              "' -o data.o && pahole -J --btf_gen_floats data.o";
  }
  const auto built = run_in(dir.path(), command);
  ASSERT_EQ(built.status, 0) << built.output;
  const Btf btf = Btf::load(object.string());
  expect_header_reproduces(btf, dir.path());
}

INSTANTIATE_TEST_SUITE_P(Files, CDumpData,
                         testing::Values(DataFile{"packed.c", false}, DataFile{"aligned.c", false},
                                         DataFile{"bitfields.c", false}, DataFile{"enums.c", false},
                                         DataFile{"anon.c", false}, DataFile{"funcptr.c", false},
                                         DataFile{"va_list.c", false}, DataFile{"packed.c", true},
                                         DataFile{"bitfields.c", true}, DataFile{"enums.c", true},
                                         DataFile{"anon.c", true}, DataFile{"funcptr.c", true},
                                         DataFile{"kfuncs.bpf.c", true}),
                         [](const testing::TestParamInfo<DataFile>& info) {
                           std::string name = info.param.name;
                           name = name.substr(0, name.find('.'));
                           return name + (info.param.bpf ? "_bpf" : "_x86");
                         });

TEST(CDump, TargetDependentBuiltinsKeepTheBtfSizes) {
  if (!have_program("pahole")) COREBPF_SKIP_OR_FAIL("pahole (Debian package dwarves) is not installed");
  TempDir dir;
  const auto source = corebpf::test::source_dir() / "tests/btf/data/c_dump/va_list.c";
  const auto built = run_in(dir.path(), "clang -g -O0 -target x86_64-linux-gnu -c '" + source.string() +
                                            "' -o data.o && pahole -J --btf_gen_floats data.o");
  ASSERT_EQ(built.status, 0) << built.output;
  const auto header = dump_header(Btf::load((dir.path() / "data.o").string()));
  // clang predefines __builtin_va_list (8 bytes on BPF): the BTF's 24-byte array goes by another name.
  EXPECT_NE(header.find("typedef struct __va_list_tag btf_builtin_va_list[1];"), std::string::npos) << header;
  EXPECT_NE(header.find("typedef btf_builtin_va_list va_list;"), std::string::npos) << header;
  EXPECT_EQ(header.find("typedef struct __va_list_tag __builtin_va_list"), std::string::npos) << header;
  // BPF's long double has 8 bytes, x86's 16.
  EXPECT_NE(header.find("typedef unsigned __int128 btf_long_double;"), std::string::npos) << header;
}

TEST(CDump, KfuncPrototypesAndTypeTags) {
  TempDir dir;
  const auto source = corebpf::test::source_dir() / "tests/btf/data/c_dump/kfuncs.bpf.c";
  const auto built = run_in(dir.path(), "clang -g -O2 -target bpf -c '" + source.string() + "' -o data.o");
  ASSERT_EQ(built.status, 0) << built.output;
  const Btf btf = Btf::load((dir.path() / "data.o").string());
  const auto header = dump_header(btf);
  EXPECT_NE(header.find("extern struct task_like *test_task_acquire(struct task_like *task, int flags) __weak __ksym;"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find("extern void test_no_args(void) __weak __ksym;"), std::string::npos) << header;
  // A parameter named like a typedef would hide the typedef: its name goes.
  EXPECT_NE(header.find("extern int test_sum(int, long count) __weak __ksym;"), std::string::npos) << header;
  EXPECT_EQ(header.find("not_a_kfunc"), std::string::npos) << header;
  EXPECT_NE(header.find("#define __ksym __attribute__((section(\".ksyms\")))"), std::string::npos);
  EXPECT_NE(header.find("char __corebpf_type_tag(\"user\") *buffer;"), std::string::npos) << header;
  if (btf.find("rcu", Kind::TypeTag)) {  // clang-14 leaves this one out
    EXPECT_NE(header.find("struct task_like __corebpf_type_tag(\"rcu\") *parent;"), std::string::npos) << header;
  }
  EXPECT_NE(header.find("const void __corebpf_type_tag(\"user\") *const *table;"), std::string::npos) << header;

  // The prototypes are usable: a BPF program calling a kfunc compiles to a .ksyms extern.
  write_file(dir.path() / "vmlinux.h", header);
  write_file(dir.path() / "prog.c",
             "#include \"vmlinux.h\"\n"
             "__attribute__((section(\"tc\"))) int prog(struct task_like *t) {\n"
             "  struct task_like *got = test_task_acquire(t, 0);\n"
             "  if (got) test_task_release(got);\n"
             "  return got != 0;\n"
             "}\n");
  const auto compiled = run_in(dir.path(), "clang -target bpf -O2 -g -Wall -c prog.c -o prog.o");
  EXPECT_EQ(compiled.status, 0) << compiled.output;
  EXPECT_EQ(compiled.output, "");

  CDumpOptions without;
  without.kfunc_prototypes = false;
  EXPECT_EQ(dump_header(btf, without).find("__ksym"), std::string::npos);
}

// ---- BTF built by hand: collisions and the other cases C makes awkward ----

TEST(CDump, DisambiguatesNamesWithinEachCNamespace) {
  BtfWriter w;
  const TypeId int_id = w.add_int("int", 4, corebpf::btf::kIntSigned);
  const TypeId char_id = w.add_int("char", 1);
  const TypeId first = w.add_struct("foo", 4);
  w.add_member("a", int_id, 0);
  const TypeId second = w.add_struct("foo", 2);
  w.add_member("b", char_id, 0);
  w.add_member("c", char_id, 8);
  const TypeId fwd = w.add_fwd("foo", false);
  const TypeId union_foo = w.add_union("foo", 4);
  w.add_member("u", int_id, 0);
  w.add_typedef("foo", w.add_ptr(fwd));  // tags and typedef names don't collide
  const TypeId e1 = w.add_enum("colors");
  w.add_enumerator("RED", 0);
  w.add_enumerator("GREEN", 1);
  const TypeId e2 = w.add_enum("other_colors");
  w.add_enumerator("RED", 5);
  const TypeId holder = w.add_struct("holder", 20);
  w.add_member("x", first, 0);
  w.add_member("y", second, 32);
  w.add_member("z", union_foo, 64);
  w.add_member("e", e1, 96);
  w.add_member("f", e2, 128);
  (void)holder;
  const Btf btf = btf_of(w);

  const auto header = dump_header(btf);
  EXPECT_NE(header.find("struct foo {\n\tint a;\n};"), std::string::npos) << header;
  EXPECT_NE(header.find("struct foo___2 {\n\tchar b;\n\tchar c;\n};"), std::string::npos) << header;
  EXPECT_NE(header.find("union foo___3 {"), std::string::npos) << header;
  EXPECT_NE(header.find("typedef struct foo *foo;"), std::string::npos) << header;
  EXPECT_NE(header.find("\tRED = 0,"), std::string::npos) << header;
  EXPECT_NE(header.find("\tRED___2 = 5,"), std::string::npos) << header;
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDump, EnumSizesSignsAndValues) {
  BtfWriter w;
  const TypeId e8 = w.add_enum("e8", 1, true);
  w.add_enumerator("E8_NEG", -128);
  w.add_enumerator("E8_POS", 127);
  const TypeId e16 = w.add_enum("e16", 2);
  w.add_enumerator("E16_MAX", 65535);
  const TypeId e32 = w.add_enum("e32", 4);
  w.add_enumerator("E32_MAX", 4294967295LL);
  const TypeId e64 = w.add_enum64("e64", 8);
  w.add_enumerator("E64_MAX", static_cast<std::int64_t>(UINT64_MAX));
  w.add_enumerator("E64_BIG", 0x100000000LL);
  const TypeId s64 = w.add_enum64("s64", 8, true);
  w.add_enumerator("S64_MIN", INT64_MIN);
  w.add_enumerator("S64_MAX", INT64_MAX);
  const TypeId small64 = w.add_enum64("small64", 8);
  w.add_enumerator("SMALL64", 1);
  const TypeId old16 = w.add_enum("old16", 2);  // an encoder without the sign flag kept -2's bits
  w.add_enumerator("OLD16_NEG", 0xfffffffeLL);
  const TypeId anon8 = w.add_enum("", 1);
  w.add_enumerator("ANON8", 3);
  const TypeId holder = w.add_struct("holder", 40);
  w.add_member("a", e8, 0);
  w.add_member("b", e16, 16);
  w.add_member("c", e32, 32);
  w.add_member("d", e64, 64);
  w.add_member("e", s64, 128);
  w.add_member("f", small64, 192);
  w.add_member("g", old16, 256);
  w.add_member("h", anon8, 272);
  (void)holder;
  const Btf btf = btf_of(w);
  const auto header = dump_header(btf);
  EXPECT_NE(header.find("} __attribute__((mode(QI)));"), std::string::npos) << header;
  EXPECT_NE(header.find("\tE64_MAX = 18446744073709551615ULL,"), std::string::npos) << header;
  EXPECT_NE(header.find("\tS64_MIN = (-9223372036854775807LL - 1),"), std::string::npos) << header;
  EXPECT_NE(header.find("\tOLD16_NEG = -2,"), std::string::npos) << header;
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDump, AnonymousEnumUsedTwiceIsDefinedOnce) {
  BtfWriter w;
  const TypeId anon = w.add_enum("", 4);
  w.add_enumerator("SHARED_A", 1);
  const TypeId s1 = w.add_struct("one", 4);
  w.add_member("e", anon, 0);
  const TypeId s2 = w.add_struct("two", 4);
  w.add_member("e", anon, 0);
  (void)s1;
  (void)s2;
  const Btf btf = btf_of(w);
  const auto header = dump_header(btf);
  const auto first = header.find("SHARED_A");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(header.find("SHARED_A", first + 1), std::string::npos) << header;
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDump, ReservedAndUnknownBaseTypeNames) {
  BtfWriter w;
  const TypeId uint_id = w.add_int("unsigned int", 4);
  const TypeId void_ptr = w.add_ptr(0);
  const TypeId tag = w.add_struct("__va_list_tag", 24);
  w.add_member("gp_offset", uint_id, 0);
  w.add_member("fp_offset", uint_id, 32);
  w.add_member("overflow_arg_area", void_ptr, 64);
  w.add_member("reg_save_area", void_ptr, 128);
  const TypeId tag_array = w.add_array(tag, uint_id, 1);
  const TypeId builtin = w.add_typedef("__builtin_va_list", tag_array);
  const TypeId va_list = w.add_typedef("va_list", builtin);
  const TypeId odd_int = w.add_int("ssizetype", 8, corebpf::btf::kIntSigned);
  const TypeId long_double = w.add_float("long double", 16);
  const TypeId holder = w.add_struct("holder", 48);
  w.add_member("ap", va_list, 0);
  w.add_member("n", odd_int, 192);
  w.add_member("ld", long_double, 256);
  (void)holder;
  const Btf btf = btf_of(w);
  const auto header = dump_header(btf);
  EXPECT_NE(header.find("typedef struct __va_list_tag btf_builtin_va_list[1];"), std::string::npos) << header;
  EXPECT_NE(header.find("\tlong n;"), std::string::npos) << header;
  EXPECT_NE(header.find("\tbtf_long_double ld;"), std::string::npos) << header;
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDump, UnionsWithPaddingAndOverAlignment) {
  BtfWriter w;
  const TypeId int_id = w.add_int("int", 4, corebpf::btf::kIntSigned);
  const TypeId char_id = w.add_int("char", 1);
  const TypeId chars = w.add_array(char_id, int_id, 5);
  const TypeId padded = w.add_union("padded", 12);  // 5 bytes; no alignment rounds 5 to 12: padding
  w.add_member("a", char_id, 0);
  w.add_member("b", chars, 0);
  const TypeId aligned = w.add_union("over_aligned", 16);
  w.add_member("i", int_id, 0);
  const TypeId packed = w.add_union("packed_union", 5);
  w.add_member("i", int_id, 0);
  w.add_member("c", chars, 0);
  const TypeId holder = w.add_struct("holder", 48);
  w.add_member("p", padded, 0);
  w.add_member("c", char_id, 96);
  w.add_member("a", aligned, 128);
  w.add_member("k", packed, 256);
  (void)holder;
  const Btf btf = btf_of(w);
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDump, DeclarationsComeBeforeUseAndNotBeforeTheirOwnDefinition) {
  BtfWriter w;
  const TypeId a_ptr = w.add_ptr(3);
  const TypeId b_ptr = w.add_ptr(4);
  const TypeId a = w.add_struct("a", 16);
  w.add_member("self", a_ptr, 0);
  w.add_member("b", b_ptr, 64);
  const TypeId b = w.add_struct("b", 24);
  w.add_member("next", a_ptr, 0);
  w.add_member("a_by_value", a, 64);
  ASSERT_EQ(a, 3u);
  ASSERT_EQ(b, 4u);
  // `b` holds `a` by value, so `a` comes first, with `struct b;` before it and no `struct a;`.
  const Btf btf = btf_of(w);
  const auto header = dump_header(btf);
  const auto fwd_b = header.find("struct b;");
  const auto def_a = header.find("struct a {");
  const auto def_b = header.find("struct b {");
  ASSERT_NE(fwd_b, std::string::npos) << header;
  EXPECT_LT(fwd_b, def_a);
  EXPECT_LT(def_a, def_b);
  EXPECT_EQ(header.find("struct a;"), std::string::npos) << header;
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDump, LongGapsStayShortInTheHeader) {
  BtfWriter w;
  const TypeId int_id = w.add_int("int", 4, corebpf::btf::kIntSigned);
  const TypeId big = w.add_struct("big", 1u << 30);
  w.add_member("first", int_id, 0);
  w.add_member("last", int_id, 8u << 20);
  const TypeId big_union = w.add_union("big_union", 3u << 20);
  w.add_member("i", int_id, 0);
  (void)big;
  (void)big_union;
  const Btf btf = btf_of(w);
  const auto header = dump_header(btf);
  EXPECT_LT(header.size(), 2000u) << header;
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

// ---- malformed or C-inexpressible BTF ----

void expect_error_naming(const Btf& btf, const std::string& id_text, const std::string& why_text) {
  try {
    dump_header(btf);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(id_text), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(why_text), std::string::npos) << e.message();
  }
}

TEST(CDumpMalformed, StructContainingItself) {
  BtfWriter w;
  const TypeId s = w.add_struct("self", 8);
  w.add_member("again", s, 0);
  expect_error_naming(btf_of(w), "[1]", "contains itself");
}

TEST(CDumpMalformed, StructsContainingEachOther) {
  BtfWriter w;
  const TypeId a = w.add_struct("a", 8);
  const TypeId b = w.add_struct("b", 8);
  w.add_member("b", b, 0);
  w.add_member("a", a, 0);
  expect_error_naming(btf_of(w), "type [", "contains itself");
}

TEST(CDumpMalformed, TypedefCycle) {
  BtfWriter w;
  const TypeId first = w.add_typedef("first", 2);
  w.add_typedef("second", first);
  expect_error_naming(btf_of(w), "type [", "refers to itself");
}

TEST(CDumpMalformed, AnonymousStructPointingToItself) {
  BtfWriter w;
  const TypeId self_ptr = w.add_ptr(2);
  const TypeId anon = w.add_struct("", 8);
  w.add_member("self", self_ptr, 0);
  const TypeId holder = w.add_struct("holder", 8);
  w.add_member("inner", anon, 0);
  (void)holder;
  expect_error_naming(btf_of(w), "[2]", "refers to itself");
}

TEST(CDumpMalformed, PointerCycle) {
  BtfWriter w;
  const TypeId p = w.add_ptr(2);
  w.add_const(p);
  const TypeId holder = w.add_struct("holder", 8);
  w.add_member("p", p, 0);
  (void)holder;
  expect_error_naming(btf_of(w), "type [", "");
}

TEST(CDumpMalformed, ForwardDeclaredTypeByValue) {
  BtfWriter w;
  const TypeId fwd = w.add_fwd("opaque", false);
  const TypeId holder = w.add_struct("holder", 8);
  w.add_member("o", fwd, 0);
  (void)holder;
  expect_error_naming(btf_of(w), "[1]", "forward-declared");
}

TEST(CDumpMalformed, OverlappingMembers) {
  BtfWriter w;
  const TypeId int_id = w.add_int("int", 4, corebpf::btf::kIntSigned);
  const TypeId holder = w.add_struct("holder", 8);
  w.add_member("a", int_id, 0);
  w.add_member("b", int_id, 16);
  (void)holder;
  expect_error_naming(btf_of(w), "[2]", "overlap");
}

TEST(CDumpMalformed, UnionMemberAtAnOffset) {
  BtfWriter w;
  const TypeId int_id = w.add_int("int", 4, corebpf::btf::kIntSigned);
  const TypeId u = w.add_union("u", 8);
  w.add_member("a", int_id, 32);
  (void)u;
  expect_error_naming(btf_of(w), "[2]", "union member");
}

// ---- options ----

TEST(CDump, RootsEmitOnlyWhatTheyNeed) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  const Btf btf = Btf::load_vmlinux();
  CDumpOptions options;
  options.roots = {"task_struct"};
  const auto small = dump_header(btf, options);
  const auto full = dump_header(btf);
  EXPECT_NE(small.find("struct task_struct {"), std::string::npos);
  EXPECT_LT(small.size() * 2, full.size());
  EXPECT_EQ(small.find("__ksym"), std::string::npos);

  TempDir dir;
  write_file(dir.path() / "vmlinux.h", small);
  write_file(dir.path() / "check.c", "#include \"vmlinux.h\"\n_Static_assert(sizeof(struct task_struct) == " +
                                         std::to_string(btf.find("task_struct", Kind::Struct)->size()) + ", \"\");\n");
  const auto result = run_in(dir.path(), "clang -target bpf -fsyntax-only -Wall check.c");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "");

  options.roots = {"no_such_type_anywhere"};
  EXPECT_THROW(dump_header(btf, options), Error);
}

TEST(CDump, RootThroughAPointerIsOnlyDeclared) {
  BtfWriter w;
  const TypeId int_id = w.add_int("int", 4, corebpf::btf::kIntSigned);
  const TypeId big_ptr = w.add_ptr(3);
  const TypeId big = w.add_struct("big", 4);
  w.add_member("x", int_id, 0);
  ASSERT_EQ(big, 3u);
  const TypeId root = w.add_struct("root", 16);
  w.add_member("p", big_ptr, 0);
  w.add_member("n", int_id, 64);
  const TypeId unrelated = w.add_struct("unrelated", 4);
  w.add_member("y", int_id, 0);
  (void)root;
  (void)unrelated;
  CDumpOptions options;
  options.roots = {"root"};
  const auto header = dump_header(btf_of(w), options);
  EXPECT_NE(header.find("struct big;"), std::string::npos) << header;
  EXPECT_EQ(header.find("struct big {"), std::string::npos) << header;
  EXPECT_EQ(header.find("unrelated"), std::string::npos) << header;
  EXPECT_NE(header.find("struct root {"), std::string::npos) << header;
}

// ---- the three kernels ----

void expect_kernel_header_reproduces(const fs::path& btf_path) {
  const Btf btf = Btf::load(btf_path.string());
  std::size_t chunks = 0, largest = 0;
  std::string header;
  corebpf::btf::dump_c(btf, [&](std::string_view chunk) {
    ++chunks;
    largest = std::max(largest, chunk.size());
    header.append(chunk);
  });
  EXPECT_GT(chunks, 10u);  // streamed, not built whole
  EXPECT_LT(largest, 1u << 20);
  EXPECT_EQ(header, dump_header(btf)) << "output is not deterministic";
  EXPECT_NE(header.find("struct task_struct {"), std::string::npos);
  EXPECT_NE(header.find("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)"),
            std::string::npos);
  TempDir dir;
  expect_header_reproduces(btf, dir.path());
}

TEST(CDumpKernels, Running) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  expect_kernel_header_reproduces("/sys/kernel/btf/vmlinux");
}

TEST(CDumpKernels, Linux6_1) {
  const auto dir = corebpf::test::kernel_dir("6.1");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("kernel 6.1 not fetched: run scripts/fetch-kernels");
  expect_kernel_header_reproduces(dir / "vmlinux.btf");
}

TEST(CDumpKernels, Linux6_12) {
  const auto dir = corebpf::test::kernel_dir("6.12");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("kernel 6.12 not fetched: run scripts/fetch-kernels");
  expect_kernel_header_reproduces(dir / "vmlinux.btf");
}

TEST(CDumpKernels, SplitModuleBtf) {
  const auto dir = corebpf::test::kernel_dir("6.12");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("kernel 6.12 not fetched: run scripts/fetch-kernels");
  const auto module = dir / "modules/veth.ko";
  if (!fs::exists(module)) COREBPF_SKIP_OR_FAIL("no veth.ko among the fetched 6.12 modules");
  const Btf base = Btf::load((dir / "vmlinux.btf").string());
  corebpf::btf::LoadOptions options;
  options.base = &base;
  const Btf btf = Btf::load(module.string(), options);
  const auto header = dump_header(btf);
  EXPECT_NE(header.find("struct veth_priv {"), std::string::npos);
  TempDir temp;
  expect_header_reproduces(btf, temp.path());
}

}  // namespace
