// An object compiled against the running kernel's vmlinux.h (data/core_vmlinux.bpf.c), relocated
// against the running kernel and Debian's 6.1 and 6.12: every field offset, type size and enum
// value must be what that kernel's BTF says. The expected values come from bpftool's raw dump of
// each BTF, read by a small parser here, not from corebpf's reader.
#include <gtest/gtest.h>

#include <charconv>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "corebpf/core.hpp"
#include "corebpf/object_spec.hpp"
#include "object/core/core_test_support.hpp"
#include "support/test_support.hpp"

namespace corebpf::test {
namespace {

using core::ReloKind;
using core::Status;

// One type of `bpftool btf dump file X` (format raw).
struct RawType {
  std::string kind;
  std::string name;
  std::map<std::string, std::string> attrs;  // type_id, size, nr_elems...
  struct Item {
    std::string name;
    std::map<std::string, std::string> attrs;  // type_id, bits_offset, bitfield_size, val
  };
  std::vector<Item> items;

  std::uint64_t number(const std::string& key) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? 0 : std::stoull(it->second);
  }
};

std::map<std::string, std::string> parse_attrs(std::string_view text) {
  std::map<std::string, std::string> attrs;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) attrs[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return attrs;
}

// "'name' rest" -> name, rest.
std::pair<std::string, std::string_view> split_quoted(std::string_view text) {
  const auto open = text.find('\'');
  const auto close = text.find('\'', open + 1);
  if (open == std::string_view::npos || close == std::string_view::npos) return {{}, text};
  return {std::string(text.substr(open + 1, close - open - 1)), text.substr(close + 1)};
}

class BpftoolBtf {
 public:
  static std::optional<BpftoolBtf> dump(const std::string& path) {
    std::string text;
    if (run_command("bpftool btf dump file " + path + " 2>/dev/null", &text) != 0 || text.empty()) return {};
    BpftoolBtf btf;
    std::istringstream in(text);
    std::string line;
    RawType* current = nullptr;
    while (std::getline(in, line)) {
      if (line.starts_with("[")) {
        const auto close = line.find(']');
        const std::uint32_t id = std::stoul(line.substr(1, close - 1));
        std::string_view rest = std::string_view(line).substr(close + 2);
        RawType t;
        t.kind = std::string(rest.substr(0, rest.find(' ')));
        auto [name, after] = split_quoted(rest);
        t.name = name == "(anon)" ? "" : name;
        t.attrs = parse_attrs(after);
        current = &(btf.types_[id] = std::move(t));
        if (!current->name.empty()) btf.by_name_[current->kind + " " + current->name].push_back(id);
      } else if (current != nullptr && line.starts_with("\t'")) {
        auto [name, after] = split_quoted(line);
        current->items.push_back({name == "(anon)" ? "" : name, parse_attrs(after)});
      }
    }
    return btf;
  }

  const RawType* type(std::uint32_t id) const {
    auto it = types_.find(id);
    return it == types_.end() ? nullptr : &it->second;
  }
  // The complete (vlen > 0) struct or union of that name, or an enum.
  std::optional<std::uint32_t> find(const std::string& kind, const std::string& name) const {
    auto it = by_name_.find(kind + " " + name);
    if (it == by_name_.end()) return {};
    for (auto id : it->second)
      if (type(id)->number("vlen") > 0) return id;
    return it->second.front();
  }
  std::uint32_t resolve(std::uint32_t id) const {
    for (const RawType* t = type(id);
         t != nullptr && (t->kind == "TYPEDEF" || t->kind == "CONST" || t->kind == "VOLATILE" ||
                          t->kind == "RESTRICT" || t->kind == "TYPE_TAG");
         t = type(id))
      id = static_cast<std::uint32_t>(t->number("type_id"));
    return id;
  }

  // Bit offset of `member` in the struct/union `id`, through anonymous members; sets `*type_id`.
  std::optional<std::uint64_t> member_offset(std::uint32_t id, const std::string& member, std::uint32_t* type_id,
                                             bool* bitfield) const {
    const RawType* t = type(resolve(id));
    if (t == nullptr || (t->kind != "STRUCT" && t->kind != "UNION")) return {};
    for (const auto& item : t->items) {
      const std::uint64_t bits = std::stoull(item.attrs.at("bits_offset"));
      const auto member_type = static_cast<std::uint32_t>(std::stoul(item.attrs.at("type_id")));
      if (item.name == member) {
        *type_id = member_type;
        *bitfield = item.attrs.count("bitfield_size") > 0;
        return bits;
      }
      if (item.name.empty()) {
        if (auto inner = member_offset(member_type, member, type_id, bitfield)) return bits + *inner;
      }
    }
    return {};
  }

  // Byte offset of a readable path "root.a.b" (no array indexes but a trailing [0]).
  std::optional<std::uint64_t> path_offset(const std::string& spec, bool* bitfield) const {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(spec);
    while (std::getline(in, part, '.')) parts.push_back(part);
    const std::string root_name = parts[0].substr(0, parts[0].find("___"));  // flavors
    auto root = find("STRUCT", root_name);
    if (!root) root = find("UNION", root_name);
    if (!root) return {};
    std::uint32_t id = *root;
    std::uint64_t bits = 0;
    *bitfield = false;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      std::string name = parts[i];
      if (name.ends_with("[0]")) name.resize(name.size() - 3);
      auto off = member_offset(id, name, &id, bitfield);
      if (!off) return {};
      bits += *off;
    }
    return bits / 8;
  }

  std::optional<std::int64_t> enum_value(const std::string& enum_name, const std::string& enumerator) const {
    for (const char* kind : {"ENUM", "ENUM64"}) {
      auto id = find(kind, enum_name);
      if (!id) continue;
      for (const auto& item : type(*id)->items) {
        if (item.name != enumerator) continue;
        std::string v = item.attrs.at("val");
        while (!v.empty() && (v.back() == 'L' || v.back() == 'U')) v.pop_back();
        return std::stoll(v);
      }
    }
    return {};
  }

 private:
  std::map<std::uint32_t, RawType> types_;
  std::map<std::string, std::vector<std::uint32_t>> by_name_;
};

// Checks every relocation of core_vmlinux against `btf_path`'s own description; returns how many
// were compared.
std::size_t check_kernel(const std::string& btf_path, std::vector<core::ProgramRelocations>* out = nullptr) {
  if (!std::filesystem::exists(core_object_path("core_vmlinux"))) {
    ADD_FAILURE() << "core_vmlinux.bpf.o was not built (no /sys/kernel/btf/vmlinux at build time)";
    return 0;
  }
  const auto expected = BpftoolBtf::dump(btf_path);
  if (!expected) {
    ADD_FAILURE() << "bpftool cannot dump " << btf_path;
    return 0;
  }
  auto object = ObjectSpec::open(core_object_path("core_vmlinux").string());
  const auto target = core::Target::from_file(btf_path);
  const auto results = core::relocate(object, target);
  std::size_t compared = 0;
  for (const auto& program : results) {
    for (const auto& r : program.relocations) {
      SCOPED_TRACE(program.name + " " + r.spec + " " + std::string(core::kind_name(r.kind)));
      EXPECT_NE(r.status, Status::error) << r.message;
      if (r.kind == ReloKind::field_byte_offset || r.kind == ReloKind::field_exists) {
        bool bitfield = false;
        const auto offset = expected->path_offset(r.spec, &bitfield);
        if (r.kind == ReloKind::field_exists) {
          EXPECT_EQ(r.target_value, offset ? 1u : 0u);
          ++compared;
          continue;
        }
        if (!offset) {
          EXPECT_EQ(r.status, Status::poisoned);
          ++compared;
          continue;
        }
        if (bitfield) continue;  // the offset of the load, checked by the libbpf comparison
        EXPECT_EQ(r.status, Status::ok) << r.message;
        EXPECT_EQ(r.target_value, *offset);
        ++compared;
      } else if (r.kind == ReloKind::type_size) {
        const std::string name = r.spec.substr(r.spec.find(' ') + 1);
        const auto id = expected->find("STRUCT", name);
        if (!id) {
          ADD_FAILURE() << "bpftool's dump has no " << r.spec;
          continue;
        }
        EXPECT_EQ(r.target_value, expected->type(*id)->number("size"));
        ++compared;
      } else if (r.kind == ReloKind::enumval_value) {
        // "enum bpf_map_type::BPF_MAP_TYPE_RINGBUF"
        const auto sep = r.spec.find("::");
        const auto value = expected->enum_value(r.spec.substr(5, sep - 5), r.spec.substr(sep + 2));
        if (!value) {
          ADD_FAILURE() << "bpftool's dump has no " << r.spec;
          continue;
        }
        EXPECT_EQ(static_cast<std::int64_t>(r.target_value), *value);
        ++compared;
      } else if (r.kind == ReloKind::type_id_target) {
        const std::string name = r.spec.substr(r.spec.find(' ') + 1);
        EXPECT_EQ(r.target_value, expected->find("STRUCT", name).value_or(0));
        ++compared;
      }
    }
  }
  if (out != nullptr) *out = results;
  return compared;
}

TEST(CoreKernels, RunningKernel) {
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  std::vector<core::ProgramRelocations> results;
  EXPECT_GE(check_kernel("/sys/kernel/btf/vmlinux", &results), 20u);
  // vmlinux.h was written from this very BTF: every field is where the object expects it.
  for (const auto& program : results) {
    for (const auto& r : program.relocations) {
      if (r.kind == ReloKind::field_byte_offset && r.status == Status::ok) {
        EXPECT_EQ(r.local_value, r.target_value) << r.spec;
      }
    }
  }
}

void check_other_kernel(const std::string& series) {
  const auto dir = kernel_dir(series);
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("no " + series + " kernel BTF: run scripts/fetch-kernels");
  std::vector<core::ProgramRelocations> results;
  EXPECT_GE(check_kernel((dir / "vmlinux.btf").string(), &results), 20u);
  // Another kernel (unless the tests run on that very kernel): task_struct's fields have moved.
  std::string running, other;
  run_command("cat /sys/kernel/btf/vmlinux 2>/dev/null | md5sum", &running);
  run_command("md5sum < " + (dir / "vmlinux.btf").string(), &other);
  if (running == other) return;
  const auto* real_parent =
      find_relocation(results, "task_fields", "task_struct.real_parent", ReloKind::field_byte_offset);
  ASSERT_NE(real_parent, nullptr);
  EXPECT_NE(real_parent->local_value, real_parent->target_value);
}

TEST(CoreKernels, Debian61) { check_other_kernel("6.1"); }
TEST(CoreKernels, Debian612) { check_other_kernel("6.12"); }

}  // namespace
}  // namespace corebpf::test
