// relocate() over BPF objects compiled from data/core_kinds.bpf.c against target "kernels"
// compiled from data/kernel_a.c and data/kernel_b.c, and `corebpf core explain`. The expected
// offsets are read off those C layouts by hand (see the comments).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "corebpf/btf.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"
#include "object/core/core_test_support.hpp"
#include "object/core/target_cache.hpp"
#include "support/test_support.hpp"

namespace corebpf::test {
namespace {

using core::ReloKind;
using core::Status;

struct Relocated {
  ObjectSpec object;
  std::vector<core::ProgramRelocations> results;
};

Relocated relocate_object(const std::string& object, const std::string& target_object) {
  Relocated r{ObjectSpec::open(core_object_path(object).string()), {}};
  const auto target = core::Target::from_file(core_object_path(target_object).string());
  r.results = core::relocate(r.object, target);
  return r;
}

const core::ReloResult& get(const Relocated& r, std::string_view program, std::string_view spec, ReloKind kind) {
  const auto* found = find_relocation(r.results, program, spec, kind);
  if (found == nullptr) {
    ADD_FAILURE() << "no " << core::kind_name(kind) << " relocation of " << spec << " in " << program;
    static const core::ReloResult none;
    return none;
  }
  return *found;
}

// Expects an ok relocation with this target value.
void expect_target(const Relocated& r, std::string_view program, std::string_view spec, ReloKind kind,
                   std::uint64_t value) {
  const auto& result = get(r, program, spec, kind);
  EXPECT_EQ(result.status, Status::ok) << program << " " << spec << ": " << result.message;
  EXPECT_EQ(result.target_value, value) << program << " " << spec << " " << core::kind_name(kind);
}

void expect_poisoned(const Relocated& r, std::string_view program, std::string_view spec, ReloKind kind) {
  const auto& result = get(r, program, spec, kind);
  EXPECT_EQ(result.status, Status::poisoned) << program << " " << spec << " " << core::kind_name(kind);
  EXPECT_FALSE(result.message.empty());
}

const Insn& insn_of(const Relocated& r, std::string_view program, const core::ReloResult& result) {
  return r.object.program(program).insns()[result.insn_index];
}

bool is_poison(const Insn& insn) { return insn.is_call() && insn.imm == core::kPoisonHelperId; }

// kernel_a.c's struct task: first_pad[3] @0, parent @24, tgid @32, pid @36, comm[32] @40,
// v2_only @72, the union @80 (anon_y @80, anon_x @82, u_long @80), arr[8] of 16-byte inners @88,
// in @216 (b @224, a @228), matrix[5][6] @232, bitfields in the int @352 (pad_bits:5,
// flags_mid:13, flags_lo:3, sbits:9), wide:44 in the u64 @360, ubits:6 @366, grows (u64) @368,
// shrinks (u32) @376, sgrows (long) @384, small @392, st @396, tail_len @400, tail @404; 408 bytes.
TEST(CoreObject, FieldsOnKernelA) {
  const auto r = relocate_object("core_kinds", "core_kernel_a");
  const ReloKind off = ReloKind::field_byte_offset;
  expect_target(r, "direct_loads", "task.pid", off, 36);
  expect_target(r, "direct_loads", "task.tgid", off, 32);
  expect_target(r, "direct_loads", "task.parent", off, 24);
  expect_target(r, "direct_loads", "task.in.b", off, 224);
  expect_target(r, "direct_loads", "task.arr[2].b", off, 88 + 2 * 16 + 8);
  expect_target(r, "direct_loads", "task.matrix[1]", off, 232 + 24);
  expect_target(r, "direct_loads", "task.u_long", off, 80);
  expect_target(r, "direct_loads", "task.anon_y", off, 80);
  expect_target(r, "direct_loads", "task.small", off, 392);
  expect_target(r, "direct_loads", "task.tail[5]", off, 404 + 20);
  expect_target(r, "direct_loads", "task.comm[3]", off, 43);
  expect_target(r, "field_info", "task.comm", off, 40);
  expect_target(r, "field_info", "task.comm", ReloKind::field_byte_size, 32);
  expect_target(r, "field_info", "task.arr[1]", ReloKind::field_byte_size, 16);
  expect_target(r, "field_info", "task.arr[3].a", off, 88 + 48 + 12);
  expect_target(r, "field_info", "task[1].tgid", off, 408 + 32);
  expect_target(r, "field_info", "task.missing_field", ReloKind::field_exists, 0);
  expect_target(r, "field_info", "task.tgid", ReloKind::field_exists, 1);
  expect_poisoned(r, "field_info", "task.missing_field", off);
  expect_target(r, "field_info", "task.u_int", ReloKind::field_byte_size, 4);
  expect_target(r, "field_info", "task.anon_x", off, 82);
  expect_target(r, "field_info", "task.tail_len", off, 400);
  expect_target(r, "field_info", "task.tail[2]", off, 404 + 8);
  expect_target(r, "probe_reads", "task.in.a", off, 228);
  expect_target(r, "probe_reads", "task.st", off, 396);
  // The subprogram's relocations, inside the program that calls it.
  expect_target(r, "with_subprog", "task.in.a", off, 228);
  expect_target(r, "with_subprog", "task.tgid", off, 32);
  // Flavors: task___v2 is struct task.
  expect_target(r, "flavors", "task___v2.v2_only", ReloKind::field_exists, 1);
  expect_target(r, "flavors", "task___v2.v2_only", off, 72);
  expect_target(r, "flavors", "task___v2.pid", off, 36);
}

TEST(CoreObject, LoadsAreResizedOrPoisonedOnKernelA) {
  const auto r = relocate_object("core_kinds", "core_kernel_a");
  const ReloKind off = ReloKind::field_byte_offset;
  // __u32 grows is __u64 on A: the load widens; __u64 shrinks is __u32: it narrows.
  const auto& grows = get(r, "direct_loads", "task.grows", off);
  EXPECT_EQ(grows.status, Status::ok) << grows.message;
  EXPECT_EQ(grows.target_value, 368u);
  EXPECT_EQ(insn_of(r, "direct_loads", grows).code, Insn::kLdx | Insn::kDw | Insn::kMem);
  EXPECT_EQ(insn_of(r, "direct_loads", grows).off, 368);
  const auto& shrinks = get(r, "direct_loads", "task.shrinks", off);
  EXPECT_EQ(insn_of(r, "direct_loads", shrinks).code, Insn::kLdx | Insn::kW | Insn::kMem);
  EXPECT_EQ(insn_of(r, "direct_loads", shrinks).off, 376);
  // The store of grows widens as well.
  const auto& store = get(r, "stores", "task.grows", off);
  EXPECT_EQ(insn_of(r, "stores", store).code & 0x18, Insn::kDw);
  // int sgrows is long on A: a zero-extending load of a signed value cannot be resized.
  const auto& sgrows = get(r, "direct_loads", "task.sgrows", off);
  EXPECT_EQ(sgrows.status, Status::poisoned);
  EXPECT_NE(sgrows.message.find("4 bytes locally and 8 on the target"), std::string::npos) << sgrows.message;
  EXPECT_TRUE(is_poison(insn_of(r, "direct_loads", sgrows)));
  const auto& missing = get(r, "field_info", "task.missing_field", off);
  EXPECT_TRUE(is_poison(insn_of(r, "field_info", missing)));
  // An unchanged offset leaves the instruction as compiled.
  const auto& pid = get(r, "direct_loads", "task.pid", off);
  EXPECT_EQ(insn_of(r, "direct_loads", pid).off, 36);
}

// A's bitfields: the int @352 holds pad_bits:5 (bits 0-4), flags_mid:13 (5-17), flags_lo:3
// (18-20), sbits:9 (21-29); wide:44 is bits 0-43 of the u64 @360; ubits:6 is bits 0-5 of @366.
TEST(CoreObject, BitfieldsOnKernelA) {
  const auto r = relocate_object("core_kinds", "core_kernel_a");
  struct Expected {
    const char* spec;
    std::uint64_t off, size, lshift, rshift, is_signed;
  };
  const Expected expected[] = {
      {"task.flags_lo", 352, 4, 64 - 21, 64 - 3, 0}, {"task.flags_mid", 352, 4, 64 - 18, 64 - 13, 0},
      {"task.sbits", 352, 4, 64 - 30, 64 - 9, 1},    {"task.wide", 360, 8, 64 - 44, 64 - 44, 0},
      {"task.ubits", 366, 1, 64 - 6, 64 - 6, 0},
  };
  for (const auto& e : expected) {
    SCOPED_TRACE(e.spec);
    expect_target(r, "bitfields", e.spec, ReloKind::field_byte_offset, e.off);
    expect_target(r, "bitfields", e.spec, ReloKind::field_byte_size, e.size);
    expect_target(r, "bitfields", e.spec, ReloKind::field_lshift_u64, e.lshift);
    expect_target(r, "bitfields", e.spec, ReloKind::field_rshift_u64, e.rshift);
    expect_target(r, "bitfields", e.spec, ReloKind::field_signed, e.is_signed);
  }
  expect_target(r, "bitfields", "task.sgrows", ReloKind::field_signed, 1);
  expect_target(r, "bitfields", "task.grows", ReloKind::field_signed, 0);
  // Every relocated shift is in its instruction.
  for (const auto& p : r.results) {
    for (const auto& result : p.relocations) {
      if (result.kind != ReloKind::field_lshift_u64 || result.status != Status::ok) continue;
      EXPECT_EQ(static_cast<std::uint64_t>(insn_of(r, p.name, result).imm), result.target_value) << result.spec;
    }
  }
}

TEST(CoreObject, TypesAndEnumsOnKernelA) {
  const auto r = relocate_object("core_kinds", "core_kernel_a");
  const auto kernel_a = btf::Btf::load(core_object_path("core_kernel_a").string());
  expect_target(r, "types", "struct task", ReloKind::type_exists, 1);
  expect_target(r, "types", "struct task", ReloKind::type_size, 408);
  expect_target(r, "types", "struct task", ReloKind::type_id_target, kernel_a.find("task", btf::Kind::Struct)->id());
  expect_target(r, "types", "task_t", ReloKind::type_size, 408);
  expect_target(r, "types", "u32_alias", ReloKind::type_exists, 1);
  expect_target(r, "types", "struct nothere", ReloKind::type_size, 0);
  expect_target(r, "types", "struct nothere", ReloKind::type_id_target, 0);
  expect_target(r, "types", "struct tm_ok", ReloKind::type_matches, 1);
  expect_target(r, "types", "struct tm_bad", ReloKind::type_matches, 0);
  expect_target(r, "types", "struct tm_ptr", ReloKind::type_matches, 1);
  expect_target(r, "types", "task_t", ReloKind::type_matches, 0);  // A's task has no missing_field
  expect_target(r, "types", "enum big", ReloKind::type_size, 8);
  const auto& local_id = get(r, "types", "struct task", ReloKind::type_id_local);
  EXPECT_EQ(local_id.target_value, local_id.local_type_id);
  expect_target(r, "enums", "enum state::S_STOPPED", ReloKind::enumval_value, 40);
  expect_target(r, "enums", "enum state::S_GONE", ReloKind::enumval_value, 90);
  expect_target(r, "enums", "enum state___new::S_NEW", ReloKind::enumval_value, 100);
  expect_target(r, "enums", "enum big::BIG_A", ReloKind::enumval_value, 0x200000000ULL);
  expect_target(r, "enums", "enum big::BIG_B", ReloKind::enumval_value, 3);
  expect_target(r, "enums", "enum negative::NEG_A", ReloKind::enumval_value, static_cast<std::uint64_t>(-30));
  // The 64-bit value went into both halves of the ld_imm64.
  const auto& big = get(r, "enums", "enum big::BIG_A", ReloKind::enumval_value);
  const auto insns = r.object.program("enums").insns();
  EXPECT_TRUE(insns[big.insn_index].is_ld_imm64());
  EXPECT_EQ(insns[big.insn_index].imm, 0);
  EXPECT_EQ(insns[big.insn_index + 1].imm, 2);
  // struct nothere is nowhere.
  expect_target(r, "missing", "struct nothere", ReloKind::type_exists, 0);
  expect_target(r, "missing", "nothere.x", ReloKind::field_exists, 0);
  expect_poisoned(r, "missing", "nothere.x", ReloKind::field_byte_offset);
}

// kernel_b.c has only `task___old`: pid @0, tgid @4, parent @8, comm[16] @16, in @32, arr[2] @40,
// matrix[3][4] @56, u_long @104, anon_x @112, anon_y @114; then u64 bitfields: flags_lo:2,
// flags_mid:20 and sbits:7 still fit the 8-byte unit @112 (its bits 32-60), wide:35 opens the unit
// @120; ubits:5 is bits 3-7 of byte 124; grows @128, shrinks @136, sgrows (int) @140, small @144,
// st @148, tail_len @152, tail @156.
TEST(CoreObject, OlderLayoutOnKernelB) {
  const auto r = relocate_object("core_kinds", "core_kernel_b");
  const ReloKind off = ReloKind::field_byte_offset;
  expect_target(r, "direct_loads", "task.pid", off, 0);
  expect_target(r, "direct_loads", "task.tgid", off, 4);
  expect_target(r, "direct_loads", "task.parent", off, 8);
  expect_target(r, "direct_loads", "task.in.b", off, 36);
  expect_poisoned(r, "direct_loads", "task.arr[2].b", off);  // only two elements
  expect_target(r, "direct_loads", "task.matrix[1]", off, 72);
  expect_target(r, "direct_loads", "task.anon_y", off, 114);
  expect_target(r, "direct_loads", "task.sgrows", off, 140);  // an int on B too: no resize
  expect_target(r, "direct_loads", "task.tail[5]", off, 156 + 20);
  expect_target(r, "direct_loads", "task.comm[3]", off, 19);
  expect_target(r, "flavors", "task___v2.v2_only", ReloKind::field_exists, 0);
  expect_poisoned(r, "flavors", "task___v2.v2_only", off);
  expect_target(r, "flavors", "task___v2.pid", off, 0);
  // flags_mid is bits 34-53 of the u64 @112; sbits is unsigned on B; wide is bits 0-34 @120.
  expect_target(r, "bitfields", "task.flags_mid", off, 112);
  expect_target(r, "bitfields", "task.flags_mid", ReloKind::field_byte_size, 8);
  expect_target(r, "bitfields", "task.flags_mid", ReloKind::field_lshift_u64, 64 - 54);
  expect_target(r, "bitfields", "task.flags_mid", ReloKind::field_rshift_u64, 64 - 20);
  expect_target(r, "bitfields", "task.sbits", ReloKind::field_signed, 0);
  expect_target(r, "bitfields", "task.wide", off, 120);
  expect_target(r, "bitfields", "task.wide", ReloKind::field_lshift_u64, 64 - 35);
  expect_target(r, "bitfields", "task.wide", ReloKind::field_rshift_u64, 64 - 35);
  expect_target(r, "bitfields", "task.ubits", off, 124);
  expect_target(r, "bitfields", "task.ubits", ReloKind::field_lshift_u64, 64 - 8);
  expect_target(r, "enums", "enum state::S_STOPPED", ReloKind::enumval_value, 8);
  expect_poisoned(r, "enums", "enum state::S_GONE", ReloKind::enumval_value);
  expect_target(r, "enums", "enum state::S_GONE", ReloKind::enumval_exists, 0);
  expect_poisoned(r, "enums", "enum big::BIG_A", ReloKind::enumval_value);
  expect_target(r, "enums", "enum negative::NEG_A", ReloKind::enumval_value, static_cast<std::uint64_t>(-3));
  expect_target(r, "types", "u32_alias", ReloKind::type_exists, 0);
  expect_target(r, "types", "enum big", ReloKind::type_size, 0);
}

TEST(CoreObject, OlderCompilerAndOtherByteOrderAgree) {
  const auto newest = relocate_object("core_kinds", "core_kernel_a");
  if (std::filesystem::exists(core_object_path("core_kinds_clang14"))) {
    // clang-14 emits no TYPE_MATCHES relocations and no ENUM64; fields relocate the same.
    const auto old = relocate_object("core_kinds_clang14", "core_kernel_a");
    std::size_t compared = 0;
    for (const auto& p : old.results) {
      for (const auto& result : p.relocations) {
        if (!core::is_field_kind(result.kind)) continue;
        const auto* same = find_relocation(newest.results, p.name, result.spec, result.kind);
        ASSERT_NE(same, nullptr) << p.name << " " << result.spec;
        EXPECT_EQ(result.status, same->status) << result.spec;
        EXPECT_EQ(result.target_value, same->target_value) << result.spec;
        ++compared;
      }
    }
    EXPECT_GT(compared, 50u);
  }
  // Big-endian object against big-endian BTF: same layout, so the same offsets; the left
  // shifts of bitfields count from the other end.
  const auto be = relocate_object("core_kinds_be", "core_kernel_a_be");
  EXPECT_EQ(be.object.endian(), btf::Endian::big);
  std::size_t compared = 0;
  for (const auto& p : be.results) {
    for (const auto& result : p.relocations) {
      const auto* same = find_relocation(newest.results, p.name, result.spec, result.kind);
      ASSERT_NE(same, nullptr) << p.name << " " << result.spec;
      EXPECT_EQ(result.status, same->status) << result.spec << " " << result.message;
      const bool bitfield = result.spec.find("bits") != std::string::npos ||
                            result.spec.find("flags") != std::string::npos ||
                            result.spec.find("wide") != std::string::npos;
      if (result.kind == ReloKind::field_byte_offset && !bitfield) {
        EXPECT_EQ(result.target_value, same->target_value) << result.spec;
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 90u);
  // wide:44 starts the big-endian u64 @360: shifted left by nothing.
  expect_target(be, "bitfields", "task.wide", ReloKind::field_lshift_u64, 0);
}

TEST(CoreObject, AmbiguousCandidatesFailTheirRelocationOnly) {
  const auto r = relocate_object("core_ambiguous", "core_kernel_ambiguous");
  expect_target(r, "same_layout", "same.b", ReloKind::field_byte_offset, 4);
  const auto& ambiguous = get(r, "ambiguous", "dup.y", ReloKind::field_byte_offset);
  EXPECT_EQ(ambiguous.status, Status::error);
  EXPECT_NE(ambiguous.message.find("ambiguous"), std::string::npos) << ambiguous.message;
  const std::string message = [&] {
    try {
      core::check_relocations(r.object, r.results);
    } catch (const Error& e) {
      return e.message();
    }
    return std::string();
  }();
  EXPECT_NE(message.find("program 'ambiguous'"), std::string::npos) << message;
  EXPECT_NE(message.find("insn #"), std::string::npos) << message;
  EXPECT_NE(message.find("struct dup"), std::string::npos) << message;
  EXPECT_NE(message.find("dup.y"), std::string::npos) << message;
  // A program that will not be loaded does not fail the load.
  auto object = ObjectSpec::open(core_object_path("core_ambiguous").string());
  object.program("ambiguous").set_autoload(false);
  const auto target = core::Target::from_file(core_object_path("core_kernel_ambiguous").string());
  const auto results = core::relocate(object, target);
  EXPECT_NO_THROW(core::check_relocations(object, results));
}

TEST(CoreObject, PoisonedInstructionsLeadBackToTheirRelocation) {
  const auto r = relocate_object("core_kinds", "core_kernel_a");
  const auto& missing = get(r, "field_info", "task.missing_field", ReloKind::field_byte_offset);
  const core::ProgramRelocations* field_info = nullptr;
  for (const auto& p : r.results)
    if (p.name == "field_info") field_info = &p;
  ASSERT_NE(field_info, nullptr);
  EXPECT_EQ(core::find_poisoned(*field_info, missing.insn_index), &missing);
  EXPECT_EQ(core::find_poisoned(*field_info, missing.insn_index + 1), nullptr);
  const std::string line = core::describe(field_info->name, missing);
  EXPECT_NE(line.find("program 'field_info': insn #" + std::to_string(missing.insn_index)), std::string::npos) << line;
  EXPECT_NE(line.find("byte_off of task.missing_field (struct task, access 0:14): poisoned"), std::string::npos)
      << line;
  EXPECT_NE(line.find("no field 'missing_field' in struct task"), std::string::npos) << line;
}

TEST(CoreObject, RelocatingTwiceAgainstOneTargetReusesItsCache) {
  const auto target = core::Target::from_file(core_object_path("core_kernel_a").string());
  auto first = ObjectSpec::open(core_object_path("core_kinds").string());
  const auto a = core::relocate(first, target);
  const auto candidates = target.cache().candidates.size();
  // struct task, task___v2, nothere, inner... each looked up once.
  EXPECT_GE(candidates, 8u);
  auto second = ObjectSpec::open(core_object_path("core_kinds").string());
  const auto b = core::relocate(second, target);
  EXPECT_EQ(target.cache().candidates.size(), candidates);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].relocations.size(), b[i].relocations.size());
    for (std::size_t j = 0; j < a[i].relocations.size(); ++j)
      EXPECT_EQ(a[i].relocations[j].target_value, b[i].relocations[j].target_value);
  }
}

// ---- corebpf core explain ----

std::string explain(const std::string& arguments, int* status = nullptr) {
  std::string output;
  const int rc = run_command(cli_path().string() + " " + arguments + " 2>&1", &output);
  if (status != nullptr) *status = rc;
  return output;
}

TEST(CoreExplain, JsonHasEveryRelocationWithTheDocumentedKeys) {
  int status = -1;
  const std::string out = explain("-j core explain " + core_object_path("core_kinds").string() + " btf " +
                                      core_object_path("core_kernel_a").string(),
                                  &status);
  ASSERT_EQ(status, 0) << out;
  const auto json = nlohmann::json::parse(out);
  ASSERT_TRUE(json.contains("programs"));
  const auto spec = ObjectSpec::open(core_object_path("core_kinds").string());
  ASSERT_EQ(json["programs"].size(), spec.programs().size());
  const std::vector<std::string> keys = {"access", "insn",   "kind",   "local", "message",
                                         "spec",   "status", "target", "type"};
  std::size_t total = 0;
  bool saw_grows = false, saw_poison = false;
  for (std::size_t i = 0; i < spec.programs().size(); ++i) {
    const auto& program = json["programs"][i];
    EXPECT_EQ(program["name"], spec.programs()[i].name());
    EXPECT_EQ(program["section"], spec.programs()[i].section());
    EXPECT_EQ(program["relocations"].size(), spec.programs()[i].core_relos().size());
    for (const auto& relo : program["relocations"]) {
      std::vector<std::string> have;
      for (auto it = relo.begin(); it != relo.end(); ++it) have.push_back(it.key());
      EXPECT_EQ(have, keys);
      ++total;
      if (program["name"] == "direct_loads" && relo["spec"] == "task.grows") {
        saw_grows = true;
        EXPECT_EQ(relo["kind"], "byte_off");
        EXPECT_EQ(relo["type"], "struct task");
        EXPECT_EQ(relo["local"], 152);
        EXPECT_EQ(relo["target"], 368);
        EXPECT_EQ(relo["status"], "ok");
      }
      if (relo["status"] == "poisoned") {
        saw_poison = true;
        EXPECT_TRUE(relo["target"].is_null());
        EXPECT_FALSE(relo["message"].get<std::string>().empty());
      }
    }
  }
  EXPECT_GT(total, 90u);
  EXPECT_TRUE(saw_grows);
  EXPECT_TRUE(saw_poison);
}

TEST(CoreExplain, TextNamesProgramsFieldsAndChanges) {
  int status = -1;
  const std::string out = explain(
      "core explain " + core_object_path("core_kinds").string() + " btf " + core_object_path("core_kernel_b").string(),
      &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("program direct_loads (raw_tp/sys_enter)"), std::string::npos) << out;
  EXPECT_NE(out.find("task.parent"), std::string::npos);
  EXPECT_NE(out.find("24 -> 8"), std::string::npos);
  EXPECT_NE(out.find("poisoned"), std::string::npos);
  EXPECT_NE(out.find("no field 'v2_only' in struct task___old"), std::string::npos) << out;
  // Prefixes work as everywhere in the grammar.
  EXPECT_EQ(explain("core ex " + core_object_path("core_kinds").string() + " b " +
                    core_object_path("core_kernel_b").string()),
            out);
}

TEST(CoreExplain, BadInputIsOneClearLine) {
  int status = -1;
  std::string out = explain("core explain /nonexistent.bpf.o", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("/nonexistent.bpf.o"), std::string::npos) << out;
  out = explain("core explain " + core_object_path("core_kinds").string() + " btf /nonexistent.btf", &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("/nonexistent.btf"), std::string::npos) << out;
  out = explain("core explain " + core_object_path("core_kinds").string() + " bogus x", &status);
  EXPECT_EQ(status, 2) << out;
  out = explain("core explain", &status);
  EXPECT_EQ(status, 2) << out;
}

}  // namespace
}  // namespace corebpf::test
