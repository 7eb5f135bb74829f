// `corebpf gen skeleton`: a C++20 header embedding a BPF object, with the object's types (from
// its BTF, through the C dumper's C++ dialect), structs for its global data sections, typed map
// views, program handles and links (include/corebpf/skeleton.hpp is the runtime base).
#include "corebpf/skeleton_gen.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "btf/dump_cxx.hpp"
#include "corebpf/min_core_btf.hpp"
#include "corebpf/object_spec.hpp"
#include "util/error_format.hpp"

namespace corebpf {

namespace {

using btf::Kind;
using btf::TypeId;

// Letters, digits and '_' kept, anything else '_', a leading digit prefixed, keywords escaped.
std::string identifier(std::string_view text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])) != 0) out.insert(out.begin(), '_');
  return btf::detail::cxx_identifier(out);
}

bool has_zero_length_arrays(const btf::Btf& b) {
  for (TypeId id = 1; id < b.type_count(); ++id) {
    const auto t = b.type(id);
    if (t.kind() == Kind::Array && t.array().count == 0) return true;
  }
  return false;
}

bool typed_view_map(MapType type) {
  switch (type) {
    case MapType::hash:
    case MapType::array:
    case MapType::lru_hash:
    case MapType::lpm_trie:
    case MapType::sk_storage:
    case MapType::inode_storage:
    case MapType::task_storage:
    case MapType::cgrp_storage:
      return true;
    default:
      return false;
  }
}

bool per_cpu_map(MapType type) {
  return type == MapType::percpu_hash || type == MapType::percpu_array || type == MapType::lru_percpu_hash;
}

struct Section {
  const MapSpec* map;
  std::string accessor;   // bss, rodata, data_custom...
  std::string type_name;  // in NAME::types
  bool frozen;
};

struct TypedMap {
  std::string member;
  std::string name;
  std::string key, value;  // C++ spellings of the key and value types in namespace types
  bool per_cpu;
};

class Generator {
 public:
  Generator(std::span<const std::byte> elf, std::string_view file_name, const SkeletonOptions& options,
            const btf::Sink& sink)
      : elf_(elf), file_name_(file_name), options_(options), sink_(sink) {
    const auto slash = file_name.rfind('/');
    base_name_ = std::string(slash == std::string_view::npos ? file_name : file_name.substr(slash + 1));
    spec_.emplace(ObjectSpec::from_memory(elf, base_name_));
    name_ = options.name.empty() ? skeleton_name(base_name_) : options.name;
    if (identifier(name_) != name_)
      util::fail(std::errc::invalid_argument, "{}: skeleton name '{}' is not a C++ identifier", file_name, name_);
  }

  void run();

 private:
  const ObjectSpec& spec() const { return *spec_; }
  void put(std::string_view text) { out_.append(text); }
  template <typename... Args>
  void putf(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), format, std::forward<Args>(args)...);
  }
  void flush() {
    if (writer_) writer_->flush();
    if (!out_.empty()) sink_(out_);
    out_.clear();
  }

  TypeId resolve(TypeId id) const;
  bool nameable(TypeId id) const;
  std::string free_type_name(std::string base) const;
  void collect();
  void write_types();
  void write_section(const Section& section);
  void write_class();
  void write_elf();
  void write_btf_archive();
  void write_bytes(std::span<const std::byte> bytes);

  std::span<const std::byte> elf_;
  std::string_view file_name_;
  std::string base_name_;
  const SkeletonOptions& options_;
  const btf::Sink& sink_;
  std::optional<ObjectSpec> spec_;
  std::string name_;
  std::string out_;
  std::optional<btf::CxxTypeWriter> writer_;
  std::vector<TypeId> roots_;
  std::vector<Section> sections_;
  std::vector<TypedMap> typed_maps_;
};

TypeId Generator::resolve(TypeId id) const {
  const auto& b = *spec().btf();
  for (int steps = 0; steps < 64 && id != 0; ++steps) {
    const auto t = b.type(id);
    if (!(t.is_modifier() || t.kind() == Kind::Typedef || t.kind() == Kind::TypeTag)) return id;
    id = t.type();
  }
  return id;
}

// A map key or value type C++ can name as a template argument: not an array, not an anonymous
// record without a typedef, not void.
bool Generator::nameable(TypeId id) const {
  if (id == 0) return false;
  const auto& b = *spec().btf();
  const auto first = b.type(id);
  const auto t = b.type(resolve(id));
  switch (t.kind()) {
    case Kind::Int:
    case Kind::Float:
    case Kind::Ptr:
    case Kind::Enum:
    case Kind::Enum64:
      return true;
    case Kind::Struct:
    case Kind::Union:
      return t.name_offset() != 0 || first.kind() == Kind::Typedef;
    default:
      return false;
  }
}

// A name in NAME::types that no type of the object takes.
std::string Generator::free_type_name(std::string base) const {
  const auto& b = *spec().btf();
  while (!b.find_all(base, btf::NameScope::types).empty()) base += "_section";
  return base;
}

void Generator::collect() {
  std::set<TypeId> seen;
  auto root = [&](TypeId id) {
    if (id != 0 && seen.insert(id).second) roots_.push_back(id);
  };
  const bool has_btf = spec().btf().has_value();
  for (const MapSpec& map : spec().maps()) {
    if (map.is_internal()) {
      if (!has_btf || map.variables().empty()) continue;  // string literals (.rodata.str1.1)
      std::string section = map.section();
      const auto origin = map.origin();
      std::string accessor = identifier(std::string_view(section).substr(section.starts_with('.') ? 1 : 0));
      sections_.push_back(
          {&map, accessor, free_type_name(accessor), origin == MapOrigin::rodata || origin == MapOrigin::kconfig});
      for (const auto& v : map.variables()) root(v.type_id);
      continue;
    }
    if (!has_btf) continue;
    if (map.origin() == MapOrigin::struct_ops) {
      root(map.struct_ops_type_id());
      continue;
    }
    const auto& d = map.definition();
    root(d.btf_key_type_id);
    root(d.btf_value_type_id);
    const bool per_cpu = per_cpu_map(d.type);
    if ((typed_view_map(d.type) || per_cpu) && nameable(d.btf_key_type_id) && nameable(d.btf_value_type_id))
      typed_maps_.push_back({identifier(map.name()), map.name(), {}, {}, per_cpu});
  }
  for (const auto& name : options_.types) {
    if (!has_btf) util::fail(std::errc::invalid_argument, "{}: no BTF, so no type '{}'", file_name_, name);
    bool found = false;
    for (TypeId id : spec().btf()->find_all(name, btf::NameScope::types)) {
      const auto kind = spec().btf()->type(id).kind();
      if (kind == Kind::Struct || kind == Kind::Union || kind == Kind::Enum || kind == Kind::Enum64 ||
          kind == Kind::Typedef) {
        root(id);
        found = true;
      }
    }
    if (!found)
      util::fail(std::errc::invalid_argument, "{}: no struct, union, enum or typedef named '{}' in its BTF", file_name_,
                 name);
  }
}

void Generator::write_types() {
  putf("namespace {}::types {{\n\n", name_);
  const bool zero_length_arrays = spec().btf() && has_zero_length_arrays(*spec().btf());
  if (zero_length_arrays) {
    // `__extension__` covers zero-length arrays for clang, but g++ still flags a record ending in
    // one that is a member of another record (a global of that type, in its section's struct).
    put("#if defined(__GNUC__) && !defined(__clang__)\n#pragma GCC diagnostic push\n"
        "#pragma GCC diagnostic ignored \"-Wpedantic\"\n#endif\n\n");
  }
  if (spec().btf()) {
    writer_.emplace(*spec().btf(), sink_);
    flush();
    for (TypeId id : roots_) writer_->define(id);
    writer_->flush();
    for (const auto& section : sections_) write_section(section);
    const bool struct_ops = std::any_of(spec().maps().begin(), spec().maps().end(),
                                        [](const MapSpec& m) { return m.origin() == MapOrigin::struct_ops; });
    if (!typed_maps_.empty() || struct_ops) {
      put("// Key and value types of the typed maps, structs of the struct_ops maps.\nnamespace maps_ {\n");
      for (const MapSpec& map : spec().maps()) {
        if (map.origin() == MapOrigin::struct_ops)
          putf("using {}_ops = {};\n", identifier(map.name()), writer_->declaration(map.struct_ops_type_id(), ""));
      }
      for (auto& m : typed_maps_) {
        const auto& d = spec().map(m.name).definition();
        m.key = "types::maps_::" + m.member + "_key";
        m.value = "types::maps_::" + m.member + "_value";
        putf("using {}_key = {};\nusing {}_value = {};\n", m.member, writer_->declaration(d.btf_key_type_id, ""),
             m.member, writer_->declaration(d.btf_value_type_id, ""));
      }
      put("}  // namespace maps_\n\n");
    }
  }
  if (zero_length_arrays) put("#if defined(__GNUC__) && !defined(__clang__)\n#pragma GCC diagnostic pop\n#endif\n\n");
  putf("}}  // namespace {}::types\n\n", name_);
}

// The section's variables at their offsets, explicit padding between them and up to the
// section's size; its sizeof rounds the size up to its alignment (open() grows the map to it).
void Generator::write_section(const Section& section) {
  std::vector<DatasecVariable> vars(section.map->variables().begin(), section.map->variables().end());
  std::sort(vars.begin(), vars.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
  const std::uint32_t size = section.map->value_size();
  putf("// {}\nstruct {} {{\n", section.map->section(), section.type_name);
  std::uint64_t end = 0;
  unsigned pads = 0;
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::uint32_t>> asserts;
  for (const auto& v : vars) {
    if (v.offset < end) {
      util::fail(std::errc::invalid_argument, "{}: {}: variable '{}' at offset {} overlaps the one before it",
                 file_name_, section.map->section(), v.name, v.offset);
    }
    if (v.offset > end) putf("  std::uint8_t _pad{}[{}];\n", pads++, v.offset - end);
    std::string member = identifier(v.name);
    while (!names.insert(member).second) member += '_';
    if (v.type_id == 0) {
      putf("  std::uint8_t {}[{}];\n", member, v.size);
    } else {
      putf("  {}{};\n", writer_->needs_extension(v.type_id) ? "__extension__ " : "",
           writer_->declaration(v.type_id, member));
    }
    asserts.emplace_back(member, v.offset);
    end = std::uint64_t{v.offset} + v.size;
  }
  if (end < size) putf("  std::uint8_t _pad{}[{}];\n", pads++, size - end);
  put("};\n");
  for (const auto& [member, offset] : asserts)
    putf("static_assert(offsetof({}, {}) == {});\n", section.type_name, member, offset);
  putf("static_assert(sizeof({0}) >= {1} && sizeof({0}) - {1} < alignof({0}));\n\n", section.type_name, size);
}

// `bytes` as the initializer of an unsigned char array (the braces included).
void Generator::write_bytes(std::span<const std::byte> bytes) {
  put("{");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i % 24 == 0) put("\n      ");
    putf("{},", static_cast<unsigned>(bytes[i]));
  }
  put("\n    }");
}

void Generator::write_elf() {
  put("  // The object file, embedded.\n  static std::span<const std::byte> elf_bytes() noexcept {\n"
      "    alignas(8) static constexpr unsigned char bytes[] = ");
  write_bytes(elf_);
  put(";\n    return std::as_bytes(std::span(bytes));\n  }\n\n");
}

// The kernels' BTF cut down to what this object relocates against, by release.
void Generator::write_btf_archive() {
  if (options_.btf_archive.empty()) return;
  put("  // For kernels without BTF: the part of each listed kernel's BTF that this object's CO-RE\n"
      "  // relocations read, by release (open() passes it as ObjectOptions::embedded_btf_archive).\n"
      "  static corebpf::btf::MemoryArchive btf_archive() {\n    corebpf::btf::MemoryArchive archive;\n");
  const std::span<const ObjectSpec> objects(&spec(), 1);
  std::size_t index = 0;
  for (const auto& [release, kernel_btf] : options_.btf_archive) {
    const auto minimal = core::min_core_btf(kernel_btf, objects);
    putf("    // {}: {} bytes\n    alignas(8) static constexpr unsigned char kernel{}[] = ", release,
         minimal.bytes.size(), index);
    write_bytes(minimal.bytes);
    putf(";\n    archive.kernels.emplace(\"{}\", std::as_bytes(std::span(kernel{})));\n", release, index);
    ++index;
  }
  put("    return archive;\n  }\n\n");
}

void Generator::write_class() {
  putf("namespace {} {{\n\nclass Skeleton : public corebpf::SkeletonBase {{\n public:\n", name_);
  std::vector<std::pair<std::string, std::string>> plain_maps;  // member, name
  std::vector<std::pair<std::string, std::string>> struct_ops;  // member, map
  for (const MapSpec& map : spec().maps()) {
    if (map.is_internal()) continue;
    const bool typed =
        std::any_of(typed_maps_.begin(), typed_maps_.end(), [&](const TypedMap& m) { return m.name == map.name(); });
    if (!typed) plain_maps.emplace_back(identifier(map.name()), map.name());
    if (map.origin() == MapOrigin::struct_ops && spec().btf())
      struct_ops.emplace_back(identifier(map.name()), map.name());
  }
  put("  // After load(): typed views where the map's BTF names its key and value, the Map otherwise.\n"
      "  struct Maps {\n");
  for (const auto& m : typed_maps_)
    putf("    corebpf::{}<{}, {}> {};\n", m.per_cpu ? "PerCpuMapView" : "MapView", m.key, m.value, m.member);
  for (const auto& [member, name] : plain_maps) putf("    corebpf::Map& {};\n", member);
  put("  };\n  // After load(); empty handles for programs not loaded.\n  struct Progs {\n");
  for (const auto& p : spec().programs()) putf("    corebpf::Program& {};\n", identifier(p.name()));
  put("  };\n  // Filled by attach() for the programs whose SEC() names their target.\n  struct Links {\n");
  for (const auto& p : spec().programs()) putf("    std::optional<corebpf::Link> {};\n", identifier(p.name()));
  put("  };\n  // The structs of struct_ops maps: their data members may change until load().\n"
      "  struct StructOps {\n");
  for (const auto& [member, name] : struct_ops) {
    putf("    types::maps_::{}_ops& {};\n", member, member);
  }
  put("  };\n\n");
  write_elf();
  write_btf_archive();
  if (options_.btf_archive.empty()) {
    put("  // Opens the embedded object; nothing is loaded yet.\n"
        "  static Skeleton open(corebpf::ObjectOptions options = {}) { return Skeleton(std::move(options)); }\n\n");
  } else {
    put("  // Opens the embedded object with its BTF archive (unless options bring one); nothing is\n"
        "  // loaded yet.\n"
        "  static Skeleton open(corebpf::ObjectOptions options = {}) {\n"
        "    if (options.embedded_btf_archive.kernels.empty()) options.embedded_btf_archive = btf_archive();\n"
        "    return Skeleton(std::move(options));\n  }\n\n");
  }
  put("  Skeleton(Skeleton&&) noexcept = default;\n"
      "  Skeleton& operator=(Skeleton&& other) noexcept {\n"
      "    if (this != &other) {\n      std::destroy_at(this);\n      std::construct_at(this, std::move(other));\n"
      "    }\n    return *this;\n  }\n  ~Skeleton() = default;  // links first, then the object\n\n");
  put("  // CO-RE, maps, programs; throws corebpf::Error naming what failed, leaving nothing loaded.\n"
      "  void load() {\n    object().load();\n");
  for (const auto& m : typed_maps_)
    putf("    check_view(\"{}\", sizeof({}), sizeof({}), {});\n", m.name, m.key, m.value, m.per_cpu);
  put("  }\n\n  // Attaches every loaded program whose SEC() names its target and registers the struct_ops\n"
      "  // maps; on failure detaches what it attached and throws.\n  void attach() {\n    try {\n");
  for (const auto& p : spec().programs()) {
    const auto member = identifier(p.name());
    putf("      if (!links.{0}) links.{0} = attach_auto(\"{1}\");\n", member, p.name());
  }
  put("      attach_struct_ops();\n    } catch (...) {\n      detach();\n      throw;\n    }\n  }\n\n"
      "  void detach() noexcept {\n");
  for (const auto& p : spec().programs()) putf("    links.{}.reset();\n", identifier(p.name()));
  put("    detach_struct_ops();\n  }\n\n");
  for (const auto& s : sections_) {
    const auto& section = s.map->section();
    if (s.frozen && s.map->origin() == MapOrigin::kconfig) {
      putf("  // {} as resolved by load(), read-only.\n", section);
    } else if (s.frozen) {
      putf("  // {}: writable until load(), then read through the const overload.\n", section);
    } else {
      putf("  // {}: the initial values until load(), then the live section.\n", section);
    }
    if (s.map->origin() != MapOrigin::kconfig)
      putf("  types::{0}& {1}() {{ return writable<types::{0}>(\"{2}\"); }}\n", s.type_name, s.accessor, section);
    putf("  const types::{0}& {1}() const {{ return readable<types::{0}>(\"{2}\"); }}\n\n", s.type_name, s.accessor,
         section);
  }
  put("  Maps maps;\n  Progs progs;\n  Links links;\n  StructOps struct_ops;\n\n private:\n"
      "  explicit Skeleton(corebpf::ObjectOptions options)\n");
  putf("      : corebpf::SkeletonBase(elf_bytes(), \"{}\", std::move(options)),\n        maps{{", base_name_);
  bool first = true;
  auto sep = [&] {
    if (!first) put(", ");
    first = false;
  };
  for (const auto& m : typed_maps_) {
    sep();
    putf("{{object().map_handle(\"{}\"), corebpf::unchecked_view}}", m.name);
  }
  for (const auto& [member, name] : plain_maps) {
    sep();
    putf("object().map_handle(\"{}\")", name);
  }
  put("},\n        progs{");
  first = true;
  for (const auto& p : spec().programs()) {
    sep();
    putf("object().program_handle(\"{}\")", p.name());
  }
  put("},\n        links{},\n        struct_ops{");
  first = true;
  for (const auto& [member, name] : struct_ops) {
    sep();
    putf("struct_ops_data<types::maps_::{}_ops>(\"{}\")", member, name);
  }
  put("} {\n");
  for (const auto& s : sections_)
    putf("    reserve_section(\"{}\", sizeof(types::{}));\n", s.map->section(), s.type_name);
  putf("  }}\n}};\n\n}}  // namespace {}\n", name_);
}

void Generator::run() {
  collect();
  putf(
      "// Generated by `corebpf gen skeleton {}`; do not edit.\n"
      "// The BPF object {} embedded, with its types, global data, maps, programs and links\n"
      "// (see corebpf/skeleton.hpp).\n"
      "#pragma once\n\n#include <cstddef>\n#include <cstdint>\n#include <memory>\n#include <optional>\n"
      "#include <span>\n#include <utility>\n\n#include <corebpf/skeleton.hpp>\n\n",
      base_name_, base_name_);
  write_types();
  write_class();
  flush();
}

}  // namespace

std::string skeleton_name(std::string_view file_name) {
  const auto slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  return identifier(file_name.substr(0, file_name.find('.')));
}

void generate_skeleton(std::span<const std::byte> elf, std::string_view file_name, const SkeletonOptions& options,
                       const btf::Sink& sink) {
  Generator(elf, file_name, options, sink).run();
}

}  // namespace corebpf
