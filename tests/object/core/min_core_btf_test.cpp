// min_core_btf: for the CO-RE test objects against the running, 6.1 and 6.12 kernels and the
// test "kernels" compiled from C (both byte orders), every relocation gives the same status and
// value against the minimized BTF as against the input; the output is small, parses and dumps;
// and it relocates the objects as bpftool's own `gen min_core_btf` output does.
#include "corebpf/min_core_btf.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "corebpf/btf_archive.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"
#include "object/core/core_test_support.hpp"
#include "support/test_support.hpp"
#include "util/file_bytes.hpp"

namespace corebpf::test {
namespace {

namespace fs = std::filesystem;
using btf::Btf;
using btf::TypeId;
using core::ReloKind;
using core::Status;

fs::path bpf_object_path(const std::string& name) { return fs::path(COREBPF_BPF_OBJECT_DIR) / (name + ".bpf.o"); }

// The CO-RE objects of tests/object/core/data and tests/bpf that this build compiled, little-endian
// ones first (bpftool reads only those).
struct TestObjects {
  std::vector<fs::path> little_endian;
  std::vector<fs::path> big_endian;
};

TestObjects test_objects() {
  TestObjects objects;
  for (const char* name :
       {"core_kinds", "core_kinds_clang14", "core_ambiguous", "core_min_local", "core_vmlinux", "core_many"})
    if (fs::exists(core_object_path(name))) objects.little_endian.push_back(core_object_path(name));
  objects.little_endian.push_back(bpf_object_path("object_core"));
  objects.big_endian = {core_object_path("core_kinds_be"), bpf_object_path("object_core_be")};
  return objects;
}

std::vector<ObjectSpec> open_objects(const std::vector<fs::path>& paths) {
  std::vector<ObjectSpec> objects;
  objects.reserve(paths.size());
  for (const auto& path : paths) objects.push_back(ObjectSpec::open(path.string()));
  return objects;
}

// Relocates a copy (relocation patches the instructions).
std::vector<core::ProgramRelocations> relocate_copy(const ObjectSpec& object, const core::Target& target) {
  ObjectSpec copy = object;
  return core::relocate(copy, target);
}

// Type ids of a target differ between BTFs: they are compared through `same_type`.
using SameType = std::function<bool(TypeId expected, TypeId actual)>;

// Every relocation of `objects` against `actual` as against `expected`: status, value, field size
// and load resizing. Returns how many relocations were compared.
std::size_t expect_same_relocations(const std::vector<ObjectSpec>& objects, const core::Target& expected_target,
                                    const core::Target& actual_target, const SameType& same_type,
                                    const std::string& what) {
  std::size_t compared = 0;
  for (const ObjectSpec& object : objects) {
    const auto want = relocate_copy(object, expected_target);
    const auto got = relocate_copy(object, actual_target);
    EXPECT_EQ(want.size(), got.size());
    for (std::size_t p = 0; p < std::min(want.size(), got.size()); ++p) {
      EXPECT_EQ(want[p].relocations.size(), got[p].relocations.size()) << object.source() << " " << want[p].name;
      if (want[p].relocations.size() != got[p].relocations.size()) continue;
      for (std::size_t i = 0; i < want[p].relocations.size(); ++i) {
        const auto& w = want[p].relocations[i];
        const auto& g = got[p].relocations[i];
        const std::string where = what + ": " + object.source() + ": " + core::describe(want[p].name, w) +
                                  "\n  against the output: " + core::describe(got[p].name, g);
        ++compared;
        EXPECT_EQ(w.status, g.status) << where;
        if (w.status != g.status || w.status == Status::error) continue;
        if (w.kind == ReloKind::type_id_target && w.status == Status::ok && w.target_value != 0) {
          EXPECT_TRUE(same_type(static_cast<TypeId>(w.target_value), static_cast<TypeId>(g.target_value))) << where;
        } else {
          EXPECT_EQ(w.target_value, g.target_value) << where;
        }
        EXPECT_EQ(w.target_type_id == 0, g.target_type_id == 0) << where;
        if (w.target_type_id != 0 && g.target_type_id != 0) {
          EXPECT_TRUE(same_type(w.target_type_id, g.target_type_id)) << where;
        }
        EXPECT_EQ(w.target_size, g.target_size) << where;
        EXPECT_EQ(w.resize, g.resize) << where;
      }
    }
  }
  return compared;
}

std::size_t expect_same_relocations(const std::vector<ObjectSpec>& objects, const Btf& expected, const Btf& actual,
                                    const SameType& same_type, const std::string& what) {
  return expect_same_relocations(objects, core::Target(expected), core::Target(actual), same_type, what);
}

struct Input {
  std::string name;
  fs::path path;
  bool whole_kernel = false;  // a real kernel's BTF: the output must be a small fraction of it
};

std::vector<Input> test_inputs() {
  std::vector<Input> inputs = {
      {"kernel_a", core_object_path("core_kernel_a")},
      {"kernel_a (big-endian)", core_object_path("core_kernel_a_be")},
      {"kernel_b", core_object_path("core_kernel_b")},
      {"kernel_ambiguous", core_object_path("core_kernel_ambiguous")},
      {"min_core_kernel", core_object_path("core_min_kernel")},
  };
  if (fs::exists("/sys/kernel/btf/vmlinux")) inputs.push_back({"running kernel", "/sys/kernel/btf/vmlinux", true});
  for (const char* series : {"6.1", "6.12"})
    if (const auto dir = kernel_dir(series); !dir.empty()) inputs.push_back({series, dir / "vmlinux.btf", true});
  return inputs;
}

std::string dump_raw(const Btf& btf) {
  return btf::to_string([&](const btf::Sink& sink) { btf::dump_raw(btf, sink); });
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("corebpf_min_core_btf_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(MinCoreBtf, RelocatesAsTheInputDoes) {
  const TestObjects paths = test_objects();
  std::vector<fs::path> all = paths.little_endian;
  all.insert(all.end(), paths.big_endian.begin(), paths.big_endian.end());
  const auto objects = open_objects(all);
  for (const Input& input : test_inputs()) {
    SCOPED_TRACE(input.name);
    const Btf in = Btf::load(input.path.string());
    const core::MinCoreBtf min = core::min_core_btf(in, objects);
    const Btf out = Btf::from_vector(min.bytes, {}, "minimized " + input.name);
    ASSERT_EQ(min.input_ids.size(), out.type_count());
    EXPECT_EQ(out.endian(), in.endian());

    const auto same_type = [&](TypeId want, TypeId got) {
      return got < min.input_ids.size() && min.input_ids[got] == want;
    };
    const std::size_t compared = expect_same_relocations(objects, in, out, same_type, input.name);
    EXPECT_GT(compared, 300u);
    EXPECT_GT(min.relocation_count, 100u);

    // Every kept type is the input's, by name and kind.
    for (TypeId id = 1; id < out.type_count(); ++id) {
      const auto kept = out.type(id);
      const auto original = in.type(min.input_ids[id]);
      EXPECT_EQ(kept.kind(), original.kind()) << "[" << id << "]";
      EXPECT_EQ(kept.name(), original.name()) << "[" << id << "]";
      if (kept.is_struct_or_union()) {
        EXPECT_EQ(kept.size(), original.size()) << kept.name();
        EXPECT_LE(kept.vlen(), original.vlen()) << kept.name();
      }
    }

    // It parses and dumps (raw and C).
    EXPECT_NE(dump_raw(out).find("[1] "), std::string::npos);
    EXPECT_NO_THROW(btf::to_string([&](const btf::Sink& sink) { btf::dump_c(out, sink); }));

    const std::size_t in_size = in.raw_bytes().size();
    std::printf("min_core_btf %-24s %9zu -> %6zu bytes (%u -> %u types, %zu relocations)\n", input.name.c_str(),
                in_size, min.bytes.size(), in.type_count() - 1, out.type_count() - 1, min.relocation_count);
    if (input.whole_kernel) {
      EXPECT_LT(min.bytes.size() * 50, in_size) << "the output is not much smaller";
    }
  }
}

// The edge cases of data/min_core_local.bpf.c: what the input answers, and that the output keeps
// those answers although it keeps only part of each type.
TEST(MinCoreBtf, KeepsWhatDecidesAMismatch) {
  const Btf in = Btf::load(core_object_path("core_min_kernel").string());
  const auto objects = open_objects({core_object_path("core_min_local")});
  const core::MinCoreBtf min = core::min_core_btf(in, objects);
  const Btf out = Btf::from_vector(min.bytes);
  for (const Btf* target : {&in, &out}) {
    SCOPED_TRACE(target == &in ? "input" : "output");
    const auto results = relocate_copy(objects[0], core::Target(*target));
    auto find = [&](std::string_view program, std::string_view spec, ReloKind kind) {
      const core::ReloResult* r = find_relocation(results, program, spec, kind);
      EXPECT_NE(r, nullptr) << program << " " << spec;
      return r != nullptr ? *r : core::ReloResult{};
    };
    // A struct whose kept member is `void *` locally but a pointer to a struct on the target.
    EXPECT_EQ(find("pointer_targets", "struct mc_ptr", ReloKind::type_matches).target_value, 0u);
    EXPECT_EQ(find("pointer_targets", "mc_handle_t", ReloKind::type_exists).target_value, 0u);
    EXPECT_EQ(find("pointer_targets", "mc_holder.h", ReloKind::field_byte_offset).target_value, 8u);
    // A zero-length array in the middle is not flexible, whatever else is kept.
    EXPECT_EQ(find("zero_length_array", "mc_zla.pad", ReloKind::field_exists).target_value, 1u);
    EXPECT_EQ(find("zero_length_array", "mc_zla.pad[1]", ReloKind::field_byte_offset).status, Status::poisoned);
    // Flavors: only mc_flav has `kind`; the enum keeps its size and signedness.
    EXPECT_EQ(find("flavors_and_enums", "mc_flav.kind", ReloKind::field_byte_size).target_value, 1u);
    EXPECT_EQ(find("flavors_and_enums", "mc_flav.kind", ReloKind::field_signed).target_value, 1u);
  }
  // Only the members some relocation reads (plus the zero-length array's successor) are kept.
  EXPECT_EQ(out.find("mc_ptr", btf::Kind::Struct)->vlen(), 1);
  EXPECT_EQ(out.find("mc_zla", btf::Kind::Struct)->vlen(), 2);
  EXPECT_FALSE(out.find("mc_flav___2", btf::Kind::Struct));
}

TEST(MinCoreBtf, RealKernelsAreAvailable) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("/sys/kernel/btf/vmlinux is missing");
  for (const char* series : {"6.1", "6.12"})
    if (kernel_dir(series).empty())
      COREBPF_SKIP_OR_FAIL(std::string("kernel ") + series + " BTF missing: run scripts/fetch-kernels");
  if (!fs::exists(core_object_path("core_vmlinux")) || !fs::exists(core_object_path("core_many")))
    COREBPF_SKIP_OR_FAIL("the objects built against the running kernel's vmlinux.h are missing");
}

// Each object alone: only what that object needs.
TEST(MinCoreBtf, OneObjectKeepsOnlyItsTypes) {
  const auto dir = kernel_dir("6.12");
  if (dir.empty() || !fs::exists(core_object_path("core_vmlinux")))
    COREBPF_SKIP_OR_FAIL("6.12 BTF or core_vmlinux.bpf.o missing");
  const Btf in = Btf::load((dir / "vmlinux.btf").string());
  const auto objects = open_objects({core_object_path("core_vmlinux")});
  const core::MinCoreBtf min = core::min_core_btf(in, objects);
  const Btf out = Btf::from_vector(min.bytes);
  // Field paths keep their members only: task_struct has hundreds, the object reads a few.
  const auto task = out.find("task_struct", btf::Kind::Struct);
  ASSERT_TRUE(task);
  EXPECT_LT(task->vlen(), 20);
  EXPECT_EQ(task->size(), in.find("task_struct", btf::Kind::Struct)->size());
  // Types no relocation reaches are gone.
  EXPECT_FALSE(out.find("sk_buff"));
  // Enum value relocations keep the enumerators asked for.
  const auto map_type = out.find("bpf_map_type", btf::Kind::Enum);
  ASSERT_TRUE(map_type);
  EXPECT_LT(map_type->vlen(), in.find("bpf_map_type", btf::Kind::Enum)->vlen());
}

fs::path nf_conntrack_module(const fs::path& kernel) { return kernel / "guest-modules" / "nf_conntrack.ko"; }

// A module's split BTF on its base: the output is one standalone BTF (ids from 1, no base) with
// the module's types and vmlinux's that the relocations touch, and relocating against it alone
// answers as against vmlinux with the module (found only when vmlinux has no candidate, as the
// loader does). nf_conntrack's struct nf_conn is vmlinux's; nf_conn_acct, nf_conntrack_helper,
// bpf_ct_opts and enum ip_conntrack_events are the module's.
TEST(MinCoreBtf, ModuleBtfOnItsBase) {
  const auto objects = open_objects({core_object_path("core_min_module")});
  for (const char* series : {"6.1", "6.12"}) {
    SCOPED_TRACE(series);
    const auto dir = kernel_dir(series);
    if (dir.empty() || !fs::exists(nf_conntrack_module(dir)))
      COREBPF_SKIP_OR_FAIL(fmt::format("{} BTF or its nf_conntrack.ko missing: run scripts/fetch-kernels", series));
    const Btf base = Btf::load((dir / "vmlinux.btf").string());
    const Btf module = Btf::load(nf_conntrack_module(dir).string(), {.base = &base});
    const core::Target full(base, std::vector<Btf>{module});
    const core::MinCoreBtf min = core::min_core_btf(full, objects);
    // The split BTF alone names the same kernel and module.
    EXPECT_EQ(core::min_core_btf(module, objects).bytes, min.bytes);
    const Btf out = Btf::from_bytes(min.bytes, {}, "minimal BTF");
    EXPECT_EQ(out.first_id(), 1u);
    ASSERT_EQ(min.input_ids.size(), out.type_count());
    ASSERT_EQ(min.input_btfs.size(), out.type_count());
    std::size_t from_module = 0;
    for (TypeId id = 1; id < out.type_count(); ++id) {
      const Btf& from = min.input_btfs[id] == 0 ? base : module;
      EXPECT_EQ(out.type(id).name(), from.type(min.input_ids[id]).name()) << id;
      EXPECT_EQ(out.type(id).kind(), from.type(min.input_ids[id]).kind()) << id;
      if (min.input_btfs[id] == 1) {
        EXPECT_GE(min.input_ids[id], module.first_id());
        ++from_module;
      }
    }
    EXPECT_GE(from_module, 5u);  // nf_conn_acct, nf_conn_counter, nf_conn_tstamp, the helper, the enum...
    EXPECT_TRUE(out.find("nf_conn", btf::Kind::Struct));
    EXPECT_TRUE(out.find("nf_conn_acct", btf::Kind::Struct));
    EXPECT_TRUE(out.find("ip_conntrack_events", btf::Kind::Enum));
    EXPECT_LT(out.type_count(), 100u);
    const auto same_type = [&](TypeId want, TypeId got) {
      return got < min.input_ids.size() && min.input_ids[got] == want;
    };
    EXPECT_EQ(expect_same_relocations(objects, full, core::Target(out), same_type, series), 15u);
    // Against vmlinux alone, the module's types are missing: the module is what makes these work.
    for (const auto& program : relocate_copy(objects[0], full)) {
      for (const auto& r : program.relocations) {
        if (r.spec.starts_with("nf_conn_acct") || r.spec.starts_with("nf_conntrack_helper.me")) {
          EXPECT_EQ(r.status, Status::ok) << core::describe(program.name, r);
        }
      }
    }
    std::size_t poisoned_without = 0;
    for (const auto& program : relocate_copy(objects[0], core::Target(base)))
      for (const auto& r : program.relocations) poisoned_without += r.status == Status::poisoned;
    EXPECT_GE(poisoned_without, 5u);
  }
}

// The CLI finds a module's base beside it (scripts/fetch-kernels' layout), or takes it with -B;
// `core explain ... btf MODULE` relocates against the kernel with that module, and the minimal
// BTF gives the same answers. bpftool (7.1, and 7.7 from ../shared/peers) cannot: it parses its
// input without a base, so a module's split BTF fails to parse, with -B too.
TEST(MinCoreBtf, CliModuleBtf) {
  const auto dir = kernel_dir("6.12");
  if (dir.empty() || !fs::exists(nf_conntrack_module(dir)))
    COREBPF_SKIP_OR_FAIL("6.12 BTF or its nf_conntrack.ko missing: run scripts/fetch-kernels");
  const std::string module = nf_conntrack_module(dir).string();
  const std::string object = core_object_path("core_min_module").string();
  const std::string out_path = temp_path("module.btf");
  std::string output;
  ASSERT_EQ(
      run_command(fmt::format("{} gen min_core_btf '{}' {} '{}' 2>&1", cli_path().string(), module, out_path, object),
                  &output),
      0)
      << output;
  std::string full;
  std::string minimal;
  ASSERT_EQ(run_command(fmt::format("{} -j core explain '{}' btf '{}'", cli_path().string(), object, module), &full), 0)
      << full;
  ASSERT_EQ(run_command(fmt::format("{} -j core explain '{}' btf {}", cli_path().string(), object, out_path), &minimal),
            0)
      << minimal;
  // The same relocations, statuses and values (type ids and messages name different BTFs).
  const auto values = [](const std::string& json) {
    std::vector<std::string> found;
    for (const std::string_view key : {"\"status\":", "\"target_value\":"})
      for (auto at = json.find(key); at != std::string::npos; at = json.find(key, at + 1))
        found.push_back(json.substr(at, json.find_first_of(",}", at) - at));
    return found;
  };
  EXPECT_FALSE(values(full).empty()) << full;
  EXPECT_EQ(values(full), values(minimal));
  // The kernel named by its vmlinux with `module FILE`: the same target.
  std::string named;
  ASSERT_EQ(run_command(fmt::format("{} -j core explain '{}' btf '{}' module '{}'", cli_path().string(), object,
                                    (dir / "vmlinux.btf").string(), module),
                        &named),
            0)
      << named;
  EXPECT_EQ(values(full), values(named));
  EXPECT_EQ(
      run_command(fmt::format("{} core explain '{}' module '{}' 2>&1", cli_path().string(), object, module), &named),
      2);
  EXPECT_NE(named.find("'module' needs 'btf FILE'"), std::string::npos) << named;
  // -B names the base; the same output.
  const std::string with_base = temp_path("module_b.btf");
  ASSERT_EQ(run_command(fmt::format("{} -B '{}' gen min_core_btf '{}' {} '{}' 2>&1", cli_path().string(),
                                    (dir / "vmlinux.btf").string(), module, with_base, object),
                        &output),
            0)
      << output;
  EXPECT_EQ(util::FileBytes::open(out_path).bytes().size(), util::FileBytes::open(with_base).bytes().size());
  // Split BTF with no base beside it: one error with the hint.
  const std::string lone = temp_path("lone_module.btf");
  fs::copy_file(module, lone, fs::copy_options::overwrite_existing);
  EXPECT_EQ(
      run_command(fmt::format("{} gen min_core_btf {} {} '{}' 2>&1", cli_path().string(), lone, temp_path("x"), object),
                  &output),
      1);
  EXPECT_NE(output.find("give its base with -B"), std::string::npos) << output;
  for (const std::string& bpftool : {std::string("bpftool"), std::string(COREBPF_PEERS_DIR "/bpftool-7.7.0")}) {
    if (run_command("command -v '" + bpftool + "' >/dev/null") != 0) {
      std::printf("peer missing: %s\n", bpftool.c_str());
      continue;
    }
    EXPECT_NE(run_command(fmt::format("'{}' -B '{}' gen min_core_btf '{}' {} '{}' 2>&1", bpftool,
                                      (dir / "vmlinux.btf").string(), module, temp_path("bpftool.btf"), object),
                          &output),
              0)
        << bpftool << " now reads module BTF: " << output;
  }
  for (const auto& path : {out_path, with_base, lone, temp_path("bpftool.btf")}) fs::remove(path);
}

// The CLI, against bpftool's own `gen min_core_btf` on the same input and objects: both outputs
// relocate every object alike. bpftool reads only little-endian objects and writes only
// host-order BTF, and refuses objects whose relocations are ambiguous, so those stay out. So do
// the edge cases of min_core_local.bpf.c: on bpftool 7.1's output two of them answer differently
// than on its input (type_matches of mc_ptr is 1 there: its pointer lost its target; mc_zla.pad[1]
// is found there: the zero-length array became the last member), which KeepsWhatDecidesAMismatch
// checks for ours.
TEST(MinCoreBtf, RelocatesAsBpftoolsOutputDoes) {
  if (run_command("command -v bpftool >/dev/null") != 0) COREBPF_SKIP_OR_FAIL("bpftool (the oracle) is missing");
  std::vector<fs::path> paths;
  for (const auto& path : test_objects().little_endian)
    if (path.filename() != "core_ambiguous.bpf.o" && path.filename() != "core_min_local.bpf.o") paths.push_back(path);
  const auto objects = open_objects(paths);
  std::string object_args;
  for (const auto& path : paths) object_args += " '" + path.string() + "'";
  const std::string ours_path = temp_path("ours.btf");
  const std::string theirs_path = temp_path("bpftool.btf");
  for (const Input& input : test_inputs()) {
    if (input.name.find("big-endian") != std::string::npos || input.name == "kernel_ambiguous") continue;
    SCOPED_TRACE(input.name);
    std::string output;
    for (const auto& [tool, output_path] :
         {std::pair(cli_path().string(), ours_path), std::pair(std::string("bpftool"), theirs_path)})
      ASSERT_EQ(run_command(fmt::format("{} gen min_core_btf '{}' '{}'{} 2>&1", tool, input.path.string(), output_path,
                                        object_args),
                            &output),
                0)
          << output;
    const Btf ours = Btf::load(ours_path);
    const Btf theirs = Btf::load(theirs_path);
    // Ids differ between the two outputs: a type is the same when its C spelling is.
    const auto same_type = [&](TypeId want, TypeId got) {
      return core::type_display_name(theirs, want) == core::type_display_name(ours, got);
    };
    EXPECT_GT(expect_same_relocations(objects, theirs, ours, same_type, input.name + " (bpftool's output vs ours)"),
              300u);
    std::printf("min_core_btf %-24s corebpf %6ju bytes, bpftool %6ju bytes\n", input.name.c_str(),
                static_cast<std::uintmax_t>(fs::file_size(ours_path)),
                static_cast<std::uintmax_t>(fs::file_size(theirs_path)));
  }
  fs::remove(ours_path);
  fs::remove(theirs_path);
}

// A batch: every kernel of an archive directory (here /work/kernels' layout: <dir>/vmlinux.btf
// with <dir>/version, modules in <dir>/*/*.ko) gets its minimal BTF, named by release, at the same
// place in DIR_OUT, from the kernel and its modules, and each relocates the objects as its kernel
// with its modules does.
TEST(MinCoreBtf, BatchOverAnArchive) {
  const auto dir61 = kernel_dir("6.1");
  const auto dir612 = kernel_dir("6.12");
  if (dir61.empty() || dir612.empty() || !fs::exists(core_object_path("core_vmlinux")))
    COREBPF_SKIP_OR_FAIL("6.1/6.12 BTF or core_vmlinux.bpf.o missing");
  const fs::path archive = dir61.parent_path();
  const fs::path out = temp_path("batch");
  std::string output;
  ASSERT_EQ(run_command(cli_path().string() + " gen min_core_btf '" + archive.string() + "' '" + out.string() + "' '" +
                            core_object_path("core_vmlinux").string() + "' '" +
                            core_object_path("core_min_module").string() + "' 2>&1",
                        &output),
            0)
      << output;
  const auto objects = open_objects({core_object_path("core_vmlinux"), core_object_path("core_min_module")});
  const auto entries = btf::scan_btf_archive(archive.string());
  for (const auto& dir : {dir61, dir612}) {
    std::ifstream version(dir / "version");
    std::string release;
    std::getline(version, release);
    const fs::path written = out / fs::relative(dir, archive) / (release + ".btf");
    ASSERT_TRUE(fs::exists(written)) << written;
    const Btf min = Btf::load(written.string());
    const Btf full = Btf::load((dir / "vmlinux.btf").string());
    EXPECT_LT(min.type_count(), full.type_count() / 10);
    EXPECT_EQ(min.find("task_struct", btf::Kind::Struct)->size(), full.find("task_struct", btf::Kind::Struct)->size());
    // The archive's modules of this kernel (nf_conntrack among them) are part of the input.
    const auto entry =
        std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.release == release; });
    ASSERT_NE(entry, entries.end());
    std::vector<Btf> modules;
    for (const auto& module : entry->modules) modules.push_back(Btf::load(module, {.base = &full}));
    EXPECT_TRUE(std::any_of(entry->modules.begin(), entry->modules.end(),
                            [](const std::string& m) { return m.ends_with("/nf_conntrack.ko"); }));
    EXPECT_TRUE(min.find("nf_conn_acct", btf::Kind::Struct));
    const core::Target with_modules(full, std::move(modules));
    const auto same_type = [&](TypeId want, TypeId got) {
      return core::type_display_name(with_modules.vmlinux(), want) == core::type_display_name(min, got) ||
             std::any_of(with_modules.modules().begin(), with_modules.modules().end(), [&](const Btf& m) {
               return want < m.type_count() && core::type_display_name(m, want) == core::type_display_name(min, got);
             });
    };
    EXPECT_GT(expect_same_relocations(objects, with_modules, core::Target(min), same_type, release), 15u);
  }
  fs::remove_all(out);
}

TEST(MinCoreBtf, CliUsageAndErrors) {
  std::string output;
  EXPECT_EQ(run_command(cli_path().string() + " gen help 2>&1", &output), 0);
  EXPECT_NE(output.find("min_core_btf INPUT OUTPUT OBJECT"), std::string::npos) << output;
  // bpftool's grammar: unique prefixes; at least one object.
  EXPECT_EQ(run_command(cli_path().string() + " g min /nonexistent /tmp/x 2>&1", &output), 2);
  EXPECT_NE(output.find("missing object file path"), std::string::npos) << output;
  EXPECT_EQ(run_command(cli_path().string() + " gen min_core_btf /nonexistent " + temp_path("x") + " '" +
                            core_object_path("core_kinds").string() + "' 2>&1",
                        &output),
            1);
  EXPECT_NE(output.find("/nonexistent"), std::string::npos) << output;
  const std::string out_path = temp_path("cli.btf");
  EXPECT_EQ(run_command(cli_path().string() + " -j gen min '" + core_object_path("core_kernel_a").string() + "' " +
                            out_path + " '" + core_object_path("core_kinds").string() + "' 2>&1",
                        &output),
            0)
      << output;
  EXPECT_NE(output.find("\"types\":"), std::string::npos) << output;
  EXPECT_NO_THROW(Btf::load(out_path));
  fs::remove(out_path);
}

}  // namespace
}  // namespace corebpf::test
