// The pure parts of user-space probes, against binutils' view of the same files: function symbols
// to file offsets (nm, readelf -l), versioned .dynsym names (libc), <sys/sdt.h> notes
// (readelf -n) and their x86-64 argument specs, ld.so.cache and the glob matcher; and the hidden
// functions of <bpf/usdt.bpf.h> given static linkage for the kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"
#include "elf/elf_symbols.hpp"
#include "elf/library_search.hpp"
#include "elf/usdt_notes.hpp"
#include "kernel/btf_sanitize.hpp"
#include "support/test_support.hpp"

namespace corebpf::elf {
namespace {

std::string output_of(const std::string& command) {
  std::string output;
  EXPECT_EQ(test::run_command(command, &output), 0) << command;
  return output;
}

// readelf -lW's LOAD rows: (offset, vaddr, filesz).
struct Load {
  std::uint64_t offset, vaddr, filesz;
};
std::vector<Load> loads_of(const std::string& path) {
  std::istringstream rows(output_of("readelf -lW " + path + " | awk '$1==\"LOAD\" {print $2, $3, $5}'"));
  std::vector<Load> loads;
  for (std::string offset, vaddr, filesz; rows >> offset >> vaddr >> filesz;)
    loads.push_back(
        {std::stoull(offset, nullptr, 16), std::stoull(vaddr, nullptr, 16), std::stoull(filesz, nullptr, 16)});
  return loads;
}

std::uint64_t expected_offset(const std::vector<Load>& loads, std::uint64_t address) {
  for (const auto& load : loads)
    if (address >= load.vaddr && address < load.vaddr + load.filesz) return address - load.vaddr + load.offset;
  ADD_FAILURE() << "address " << address << " in no LOAD row";
  return 0;
}

// The PIE target (code at its file offsets, data a page off) and a non-PIE one linked at
// 0x400000 (every address 0x400000 past its file offset).
class UprobeSymbols : public testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Targets, UprobeSymbols, testing::Values(COREBPF_UPROBE_TARGET, COREBPF_UPROBE_TARGET_NOPIE));

TEST_P(UprobeSymbols, FileOffsetsMatchNmAndProgramHeaders) {
  const std::string target = GetParam();
  const auto file = ElfFile::open(target);
  const auto loads = loads_of(target);
  ASSERT_FALSE(loads.empty());
  for (const char* name : {"uprobe_target_add", "uprobe_target_mul", "uprobe_target_usdt", "main"}) {
    const auto nm = output_of("nm " + target + " | awk '$3==\"" + name + "\" {print $1}'");
    ASSERT_FALSE(nm.empty()) << name;
    const std::uint64_t address = std::stoull(nm, nullptr, 16);
    const auto found = find_function(file, name);
    ASSERT_TRUE(found) << name;
    EXPECT_EQ(found->address, address) << name;
    EXPECT_EQ(found->file_offset, expected_offset(loads, address)) << name;
    EXPECT_EQ(found->table, ".symtab");
    EXPECT_EQ(address_to_file_offset(file, address), found->file_offset);
  }
  // The semaphores live in the data segment, which sits at a different offset than its address.
  const auto semaphore = output_of("nm " + target + " | awk '$3==\"corebpf_test_gated_semaphore\" {print $1}'");
  ASSERT_FALSE(semaphore.empty());
  const std::uint64_t semaphore_address = std::stoull(semaphore, nullptr, 16);
  EXPECT_EQ(address_to_file_offset(file, semaphore_address), expected_offset(loads, semaphore_address));
  EXPECT_NE(expected_offset(loads, semaphore_address), semaphore_address);
  EXPECT_FALSE(find_function(file, "corebpf_no_such_function"));
  EXPECT_FALSE(find_function(file, "corebpf_test_gated_semaphore")) << "an object, not a function";
  EXPECT_FALSE(address_to_file_offset(file, loads.back().vaddr + loads.back().filesz + 0x100000));
}

TEST(UprobeLibc, VersionedDynamicSymbols) {
  const auto path = find_library("libc.so.6");
  ASSERT_TRUE(path);
  const auto file = ElfFile::open(*path);
  const auto loads = loads_of(*path);
  // readelf prints .dynsym names with their versions: "memcpy@GLIBC_2.2.5", "memcpy@@GLIBC_2.14".
  const auto address_of = [&](const std::string& versioned) {
    const auto text = output_of("readelf --dyn-syms -W " + *path + " | awk '$8==\"" + versioned + "\" {print $2}'");
    EXPECT_FALSE(text.empty()) << versioned;
    return text.empty() ? 0 : std::stoull(text, nullptr, 16);
  };
  const auto old_memcpy = find_function(file, "memcpy@GLIBC_2.2.5");
  const auto new_memcpy = find_function(file, "memcpy@@GLIBC_2.14");
  const auto bare_memcpy = find_function(file, "memcpy");
  ASSERT_TRUE(old_memcpy && new_memcpy && bare_memcpy);
  EXPECT_EQ(old_memcpy->address, address_of("memcpy@GLIBC_2.2.5"));
  EXPECT_EQ(new_memcpy->address, address_of("memcpy@@GLIBC_2.14"));
  EXPECT_NE(old_memcpy->address, new_memcpy->address);
  EXPECT_EQ(bare_memcpy->address, new_memcpy->address) << "a bare name takes the default version";
  EXPECT_TRUE(new_memcpy->ifunc);
  EXPECT_EQ(new_memcpy->table, ".dynsym");
  const auto malloc_trim = find_function(file, "malloc_trim");
  ASSERT_TRUE(malloc_trim);
  EXPECT_EQ(malloc_trim->file_offset, expected_offset(loads, address_of("malloc_trim@@GLIBC_2.2.5")));
  EXPECT_FALSE(find_function(file, "memcpy@GLIBC_9.9"));
}

TEST(UprobePatterns, MatchOncePerAddress) {
  const auto file = ElfFile::open(COREBPF_UPROBE_TARGET);
  const auto functions = match_functions(file, "uprobe_target_*");
  std::vector<std::string> names;
  for (const auto& function : functions) names.push_back(function.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"uprobe_target_add", "uprobe_target_mul", "uprobe_target_semaphore",
                                             "uprobe_target_usdt"}));
  EXPECT_TRUE(match_functions(file, "corebpf_nothing_*").empty());
}

TEST(UprobePatterns, GlobMatch) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*c", "abbbc"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*_add", "uprobe_target_add"));
  EXPECT_FALSE(glob_match("*_add", "uprobe_target_add2"));
  EXPECT_TRUE(glob_match("**x*", "abxab"));
  EXPECT_FALSE(glob_match("abc", "ab"));
}

TEST(UsdtNotes, NotesOfTheTargetMatchReadelf) {
  const std::string target = COREBPF_UPROBE_TARGET;
  const auto file = ElfFile::open(target);
  const auto notes = read_usdt_notes(file);
  ASSERT_EQ(notes.size(), 2U);
  // readelf -n: "Location: 0x..., Base: 0x..., Semaphore: 0x..." then "Arguments: ...".
  std::istringstream readelf(output_of("readelf -n " + target + " | grep -E 'Name:|Location:|Arguments:'"));
  for (const auto& note : notes) {
    std::string line, name, location, arguments;
    std::getline(readelf, name);
    std::getline(readelf, location);
    std::getline(readelf, arguments);
    EXPECT_NE(name.find("Name: " + note.name), std::string::npos) << name;
    EXPECT_EQ(note.provider, "corebpf_test");
    std::uint64_t address = 0, base = 0, semaphore = 0;
    ASSERT_EQ(std::sscanf(location.c_str(), " Location: %lx, Base: %lx, Semaphore: %lx", &address, &base, &semaphore),
              3)
        << location;
    EXPECT_EQ(note.address, address) << "no prelink: .stapsdt.base where the notes say";
    EXPECT_EQ(note.semaphore, semaphore);
    EXPECT_NE(note.semaphore, 0U) << "the target's probes all have semaphores";
    EXPECT_EQ("    Arguments: " + note.arguments, arguments);
    EXPECT_NO_THROW(parse_usdt_arguments(note.arguments)) << note.arguments;
  }
  EXPECT_EQ(notes[0].name, "args");
  EXPECT_EQ(parse_usdt_arguments(notes[0].arguments).size(), 4U);
}

// One note in the .note.stapsdt layout: header, "stapsdt\0", then pc, base, semaphore and strings.
std::vector<std::byte> make_note(std::uint64_t pc, std::uint64_t base, std::uint64_t semaphore,
                                 const std::string& text) {
  std::vector<std::byte> desc(24);
  std::memcpy(desc.data(), &pc, 8);
  std::memcpy(desc.data() + 8, &base, 8);
  std::memcpy(desc.data() + 16, &semaphore, 8);
  for (char c : text) desc.push_back(static_cast<std::byte>(c));
  std::vector<std::byte> note(12);
  const std::uint32_t header[3] = {8, static_cast<std::uint32_t>(desc.size()), 3};
  std::memcpy(note.data(), header, 12);
  for (char c : std::string("stapsdt", 8)) note.push_back(static_cast<std::byte>(c));
  note.insert(note.end(), desc.begin(), desc.end());
  while (note.size() % 4 != 0) note.push_back(std::byte{0});
  return note;
}

TEST(UsdtNotes, PrelinkedBaseShiftsAddresses) {
  auto bytes = make_note(0x1000, 0x5000, 0x6000, std::string("prov\0probe\0-4@%edi\0", 19));
  const auto second = make_note(0x2000, 0x5000, 0, std::string("prov\0other\0\0", 12));
  bytes.insert(bytes.end(), second.begin(), second.end());
  const auto unmoved = parse_stapsdt_notes(bytes, "test", 0x5000);
  ASSERT_EQ(unmoved.size(), 2U);
  EXPECT_EQ(unmoved[0].address, 0x1000U);
  EXPECT_EQ(unmoved[0].semaphore, 0x6000U);
  EXPECT_EQ(unmoved[0].arguments, "-4@%edi");
  EXPECT_EQ(unmoved[1].name, "other");
  EXPECT_EQ(unmoved[1].arguments, "");
  const auto moved = parse_stapsdt_notes(bytes, "test", 0x405000);
  EXPECT_EQ(moved[0].address, 0x401000U);
  EXPECT_EQ(moved[0].semaphore, 0x406000U);
  EXPECT_EQ(moved[1].semaphore, 0U) << "no semaphore stays none";
  const auto down = parse_stapsdt_notes(bytes, "test", 0x4000);
  EXPECT_EQ(down[0].address, 0x0000U);

  // Truncations and unterminated strings are errors naming the file, never reads past the end.
  for (std::size_t size = 13; size < bytes.size() / 2; ++size) {
    std::vector<std::byte> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_THROW(parse_stapsdt_notes(cut, "cut", std::nullopt), Error) << size;
  }
  const auto unterminated = make_note(1, 0, 0, "prov");
  try {
    parse_stapsdt_notes(unterminated, "bad.so", std::nullopt);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("bad.so"), std::string::npos) << e.message();
  }
}

struct SpecCase {
  const char* spec;
  UsdtArgKind kind;
  std::int64_t value;
  const char* reg;
  std::uint16_t reg_offset;
  std::uint8_t size;
  bool is_signed;
};

TEST(UsdtArguments, X86SpecForms) {
  const SpecCase cases[] = {
      {"-4@%eax", UsdtArgKind::reg, 0, "eax", 80, 4, true},
      {"8@%rdi", UsdtArgKind::reg, 0, "rdi", 112, 8, false},
      {"%rdi", UsdtArgKind::reg, 0, "rdi", 112, 8, false},
      {"1@%sil", UsdtArgKind::reg, 0, "sil", 104, 1, false},
      {"-2@%ax", UsdtArgKind::reg, 0, "ax", 80, 2, true},
      {"4@%r9d", UsdtArgKind::reg, 0, "r9d", 64, 4, false},
      {"-1@%r15b", UsdtArgKind::reg, 0, "r15b", 0, 1, true},
      {"8@-8(%rbp)", UsdtArgKind::reg_deref, -8, "rbp", 32, 8, false},
      {"-8@-8(%rsp)", UsdtArgKind::reg_deref, -8, "rsp", 152, 8, true},
      {"4@(%rax)", UsdtArgKind::reg_deref, 0, "rax", 80, 4, false},
      {"2@0x10(%r12)", UsdtArgKind::reg_deref, 16, "r12", 24, 2, false},
      {"-4@$5", UsdtArgKind::constant, 5, "", 0, 4, true},
      {"-8@$-9", UsdtArgKind::constant, -9, "", 0, 8, true},
      {"8@$0xffffffffffffffff", UsdtArgKind::constant, -1, "", 0, 8, false},
      {"$42", UsdtArgKind::constant, 42, "", 0, 8, false},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_usdt_arguments(c.spec);
    ASSERT_EQ(parsed.size(), 1U) << c.spec;
    EXPECT_EQ(parsed[0].kind, c.kind) << c.spec;
    EXPECT_EQ(parsed[0].value, c.value) << c.spec;
    EXPECT_EQ(parsed[0].reg, c.reg) << c.spec;
    EXPECT_EQ(parsed[0].reg_offset, c.reg_offset) << c.spec;
    EXPECT_EQ(parsed[0].size, c.size) << c.spec;
    EXPECT_EQ(parsed[0].is_signed, c.is_signed) << c.spec;
  }
  const auto several = parse_usdt_arguments("  -4@%edi -4@$42\t-8@-8(%rsp) -2@%ax ");
  ASSERT_EQ(several.size(), 4U);
  EXPECT_EQ(several[2].kind, UsdtArgKind::reg_deref);
  EXPECT_TRUE(parse_usdt_arguments("").empty());
}

TEST(UsdtArguments, RejectedFormsNameTheSpec) {
  for (const char* spec : {"3@%eax", "4@%xyz", "4@(%rax,%rbx,4)", "4@counter(%rip)", "4@", "@%eax", "4@$", "4@$12x",
                           "4@8(rax)", "4@-8(%rbp", "x@%eax", "4@()", "16@%rax"}) {
    try {
      parse_usdt_arguments(spec);
      ADD_FAILURE() << spec << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(spec), std::string::npos) << e.message();
    }
  }
  std::string thirteen;
  for (int i = 0; i < 13; ++i) thirteen += "4@%eax ";
  EXPECT_THROW(parse_usdt_arguments(thirteen), Error);
  EXPECT_EQ(parse_usdt_arguments(thirteen.substr(0, 12 * 7)).size(), 12U);
}

TEST(LibrarySearch, LdSoCacheAndTheLoadersDirectories) {
  const auto path = find_library("libc.so.6");
  ASSERT_TRUE(path);
  EXPECT_TRUE(std::filesystem::is_regular_file(*path)) << *path;
  EXPECT_EQ(std::filesystem::path(*path).filename(), "libc.so.6");
  // ldconfig -p lists the same cache.
  std::string ldconfig;
  if (test::run_command("ldconfig -p | grep -c 'x86-64'", &ldconfig) == 0 &&
      std::filesystem::exists("/etc/ld.so.cache")) {
    const auto cache = util::FileBytes::open("/etc/ld.so.cache");
    EXPECT_EQ(parse_ld_so_cache(cache.bytes()).size(), std::stoul(ldconfig));
  }
  EXPECT_FALSE(find_library("libcorebpf_nope.so.1"));
  EXPECT_FALSE(find_library("/lib/libc.so.6")) << "paths are not names";
  const std::byte junk[64] = {};
  EXPECT_THROW(parse_ld_so_cache(junk), Error);
}

}  // namespace
}  // namespace corebpf::elf

namespace corebpf {
namespace {

// <bpf/usdt.bpf.h>'s helpers are `__weak __hidden` globals: the object model marks them hidden
// and the loader's BTF gives them static linkage (the verifier then checks them with their
// caller's argument types; as globals, `long *res` would be a nullable pointer it rejects).
TEST(HiddenFunctions, UsdtHelpersBecomeStaticInTheLoadedBtf) {
  const auto object = ObjectSpec::open(std::string(COREBPF_BPF_OBJECT_DIR) + "/attach_uprobe.bpf.o");
  const auto& program = object.program("on_usdt_args");
  std::vector<std::string> hidden;
  for (const auto& function : program.functions()) {
    if (function.hidden) hidden.push_back(function.name);
    if (function.name == "on_usdt_args") {
      EXPECT_FALSE(function.hidden);
    }
  }
  std::sort(hidden.begin(), hidden.end());
  EXPECT_EQ(hidden, (std::vector<std::string>{"bpf_usdt_arg", "bpf_usdt_arg_cnt", "bpf_usdt_cookie"}));
  ASSERT_TRUE(object.btf());
  const auto& local = *object.btf();
  const auto sanitized = btf::Btf::from_vector(
      kernel::detail::sanitize_btf(local, object.maps(), kernel::detail::BtfSupport::all(), hidden), {}, "sanitized");
  int checked = 0;
  for (btf::TypeId id = 1; id < local.type_count(); ++id) {
    const auto type = local.type(id);
    if (type.kind() != btf::Kind::Func) continue;
    const bool is_hidden = std::find(hidden.begin(), hidden.end(), type.name()) != hidden.end();
    if (is_hidden) {
      EXPECT_EQ(type.linkage(), btf::Linkage::global) << type.name() << " as compiled";
    }
    EXPECT_EQ(sanitized.type(id).linkage(), is_hidden ? btf::Linkage::static_ : type.linkage()) << type.name();
    checked += is_hidden;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace
}  // namespace corebpf
