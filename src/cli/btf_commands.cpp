// `corebpf btf ...`: dump BTF from a file or the kernel, list the kernel's BTF objects.
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "cli/output.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_diff.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/btf_extract.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object_spec.hpp"
#include "util/decompress.hpp"
#include "util/error_format.hpp"
#include "util/json_writer.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

constexpr std::string_view kSysfsBtfDir = "/sys/kernel/btf/";
constexpr std::string_view kSysfsVmlinux = "/sys/kernel/btf/vmlinux";

enum class DumpFormat { raw, c, json };

// `btf dump map MAP [key|value|kv|all]`: which of the map's types.
enum class MapPart { key, value, kv, all };

struct DumpRequest {
  std::optional<std::uint32_t> id;
  std::string path;
  std::optional<Selector> program;  // dump prog PROG
  std::optional<Selector> map;      // dump map MAP [part]
  MapPart map_part = MapPart::kv;
  std::optional<std::string> base_path;
  std::optional<DumpFormat> format;
  std::vector<std::string> roots;
};

DumpRequest parse_dump(Arguments& args) {
  static constexpr std::string_view sources[] = {"id", "file", "prog", "map"};
  static constexpr std::string_view keywords[] = {"base", "format", "root"};
  static constexpr std::string_view formats[] = {"raw", "c", "json"};
  static constexpr std::string_view map_parts[] = {"key", "value", "kv", "all"};
  DumpRequest request;
  const std::string_view source = args.take_keyword(sources, "BTF source");
  if (source == "id") {
    request.id = args.take_id("BTF id");
  } else if (source == "file") {
    request.path = std::string(args.take("BTF file path"));
  } else if (source == "prog") {
    request.program = take_selector(args, kernel::ObjectType::program);
  } else {
    request.map = take_selector(args, kernel::ObjectType::map);
    const std::string_view next = args.peek();
    if (!next.empty() && std::find(std::begin(map_parts), std::end(map_parts), next) != std::end(map_parts)) {
      args.take("map part");
      request.map_part = next == "key"     ? MapPart::key
                         : next == "value" ? MapPart::value
                         : next == "kv"    ? MapPart::kv
                                           : MapPart::all;
    }
  }
  while (!args.empty()) {
    const std::string_view keyword = args.take_keyword(keywords, "dump keyword");
    if (keyword == "base") {
      if (request.base_path) throw UsageError("'base' given twice");
      request.base_path = std::string(args.take("base BTF file path"));
    } else if (keyword == "format") {
      if (request.format) throw UsageError("'format' given twice");
      const std::string_view name = args.take_keyword(formats, "format");
      request.format = name == "raw" ? DumpFormat::raw : name == "c" ? DumpFormat::c : DumpFormat::json;
    } else {
      request.roots.emplace_back(args.take("root type name"));
    }
  }
  if (request.path.empty() && request.base_path)
    throw UsageError("'base' applies to 'dump file': a loaded module BTF finds its base by itself");
  if (!request.roots.empty() && request.format != DumpFormat::c) throw UsageError("'root' applies to 'format c' only");
  return request;
}

// The BTF the kernel keeps for the program or map the request names, and for a map the types to
// dump (empty: all of them).
btf::Btf load_object_btf(const DumpRequest& request, std::vector<btf::TypeId>& only) {
  const kernel::ObjectType type = request.program ? kernel::ObjectType::program : kernel::ObjectType::map;
  const Selector& selector = request.program ? *request.program : *request.map;
  const UniqueFd fd = open_one(type, selector);
  if (request.program) {
    const kernel::ProgramInfo info = kernel::program_info(fd.get());
    if (info.btf_id == 0)
      util::fail(std::errc::no_such_file_or_directory, "program {} (id {}) has no BTF",
                 info.name.empty() ? describe_selector(type, selector) : "'" + info.name + "'", info.id);
    return kernel::load_kernel_btf_by_id(info.btf_id);
  }
  const kernel::MapInfo info = kernel::map_info(fd.get());
  const std::string what =
      info.name.empty() ? fmt::format("map {}", info.id) : fmt::format("map '{}' (id {})", info.name, info.id);
  if (info.btf_id == 0) util::fail(std::errc::no_such_file_or_directory, "{} has no BTF", what);
  // A struct_ops map's value is a kernel type: bpftool shows it from vmlinux's BTF.
  const bool vmlinux_value = info.btf_vmlinux_value_type_id != 0;
  const btf::TypeId value = vmlinux_value ? info.btf_vmlinux_value_type_id : info.btf_value_type_id;
  const btf::TypeId key = info.btf_key_type_id;
  switch (request.map_part) {
    case MapPart::key:
      if (key == 0) util::fail(std::errc::no_such_file_or_directory, "{} has no BTF type for its key", what);
      only = {key};
      break;
    case MapPart::value:
      if (value == 0) util::fail(std::errc::no_such_file_or_directory, "{} has no BTF type for its value", what);
      only = {value};
      break;
    case MapPart::kv:
      if (key == 0 && value == 0)
        util::fail(std::errc::no_such_file_or_directory, "{} has no BTF types for its key and value", what);
      if (key != 0) only.push_back(key);
      if (value != 0) only.push_back(value);
      break;
    case MapPart::all:
      break;
  }
  if (vmlinux_value && request.map_part == MapPart::kv && key != 0)
    util::fail(std::errc::invalid_argument,
               "{}: its key type is in the map's BTF and its value type in vmlinux's: dump 'key' and 'value' "
               "separately",
               what);
  if (vmlinux_value && (request.map_part == MapPart::value || request.map_part == MapPart::kv))
    return btf::Btf::load_vmlinux();
  return kernel::load_kernel_btf_by_id(info.btf_id);
}

btf::Btf load_for_dump(const DumpRequest& request, const GlobalOptions& options) {
  if (request.id) return kernel::load_kernel_btf_by_id(*request.id);
  std::optional<btf::Btf> base;
  if (request.base_path) {
    base = btf::Btf::load(*request.base_path);
  } else if (!options.base_btf.empty()) {
    base = btf::Btf::load(options.base_btf);
  } else if (request.path.starts_with(kSysfsBtfDir) && request.path != kSysfsVmlinux) {
    // A module's BTF in sysfs is split BTF on top of vmlinux's, as bpftool assumes too.
    util::log(LogLevel::debug, "{}: module BTF, using {} as its base", request.path, kSysfsVmlinux);
    base = btf::Btf::load(std::string(kSysfsVmlinux));
  }
  // Without its base, a module's split BTF fails with the library's hint to give one.
  return btf::Btf::load(request.path, {.base = base ? &*base : nullptr});
}

void run_dump(Context& context, Arguments& args) {
  const DumpRequest request = parse_dump(args);
  const DumpFormat format = request.format.value_or(context.options.json ? DumpFormat::json : DumpFormat::raw);
  if (format == DumpFormat::c && context.options.json)
    throw UsageError("format c has no JSON form: drop -j/-p or use format raw");
  std::vector<btf::TypeId> only;
  const btf::Btf btf =
      request.program || request.map ? load_object_btf(request, only) : load_for_dump(request, context.options);
  util::log(LogLevel::debug, "{}: {} types from id {}", btf.source_name(), btf.type_count() - btf.first_id(),
            btf.first_id());
  switch (format) {
    case DumpFormat::raw:
      btf::dump_raw(btf, context.out.sink(), only);
      break;
    case DumpFormat::json:
      btf::dump_json(btf, context.out.sink(), context.options.pretty, only);
      break;
    case DumpFormat::c: {
      btf::CDumpOptions options;
      options.roots = request.roots;
      options.root_ids = only;
      btf::dump_c(btf, context.out.sink(), options);
      break;
    }
  }
}

// ---- btf extract ----

void run_extract(Context& context, Arguments& args) {
  std::vector<std::string> sources;
  std::string output = ".";
  std::string btfhub_distro, btfhub_version;
  bool compress = false;
  btf::ExtractOptions options;
  while (!args.empty()) {
    const std::string_view word = args.take("source");
    if (word == "output") {
      output = std::string(args.take("output directory"));
    } else if (word == "btfhub") {
      btfhub_distro = std::string(args.take("distribution (debian, ubuntu...)"));
      btfhub_version = std::string(args.take("distribution version (12...)"));
    } else if (word == "xz") {
      compress = true;
    } else if (word == "modules") {
      options.modules = true;
    } else {
      sources.emplace_back(word);
    }
  }
  if (sources.empty())
    throw UsageError("btf extract: missing source (a vmlinux, vmlinuz, Image, .ko, .deb or directory)");

  fmt::memory_buffer json_buffer;
  util::JsonWriter json(json_buffer, context.options.pretty);
  json.begin_array();
  for (const auto& source : sources) {
    for (const auto& extracted : btf::extract_btf(source, options)) {
      std::filesystem::path dir(output);
      if (!btfhub_distro.empty())
        dir = dir / btfhub_distro / btfhub_version / (extracted.arch.empty() ? "unknown" : extracted.arch);
      std::string file_name = extracted.release + ".btf";
      if (!extracted.module.empty()) {
        dir /= extracted.release.empty() ? std::string("modules") : extracted.release;
        file_name = extracted.module + ".btf";
      }
      std::filesystem::create_directories(dir);
      std::filesystem::path path = dir / file_name;
      if (compress) {
        path += ".xz";
        write_file(path.string(), util::compress_xz(extracted.btf));
      } else {
        write_file(path.string(), extracted.btf);
      }
      util::log(LogLevel::info, "{}: {} bytes of BTF from {}", path.string(), extracted.btf.size(), extracted.source);
      if (context.options.json) {
        json.begin_object();
        json.member("release", extracted.release);
        json.member("module", extracted.module);
        json.member("arch", extracted.arch);
        json.member("source", extracted.source);
        json.member("output", path.string());
        json.member("bytes", extracted.btf.size());
        json.end_object();
      } else {
        context.out.print("{}\t{}\n", path.string(), extracted.source);
      }
    }
  }
  json.end_array();
  if (context.options.json) {
    json_buffer.push_back('\n');
    context.out.write(std::string_view(json_buffer.data(), json_buffer.size()));
  }
}

// ---- btf diff ----

// The types an object's CO-RE relocations touch: each relocation's root type and the structs,
// unions and enums along its access path, by CO-RE essential name.
std::vector<std::string> relocated_types(const ObjectSpec& object) {
  std::set<std::string> names;
  if (!object.btf()) return {};
  const btf::Btf& local = *object.btf();
  const auto add = [&](const btf::Type& t) {
    if ((t.is_struct_or_union() || t.is_enum()) && !t.name().empty())
      names.insert(std::string(core::core_essential_name(t.name())));
  };
  for (const auto& program : object.programs()) {
    for (const auto& relo : program.core_relos()) {
      const auto root = local.try_type(relo.type_id);
      if (!root) continue;
      btf::Type t = local.resolve(relo.type_id);
      add(t);
      if (!core::is_field_kind(relo.kind)) continue;
      std::string_view access = local.string_at(relo.access_str_off);
      bool first = true;
      while (!access.empty()) {
        const auto colon = access.find(':');
        const std::string_view part = access.substr(0, colon);
        access = colon == std::string_view::npos ? std::string_view() : access.substr(colon + 1);
        std::uint32_t index = 0;
        std::from_chars(part.data(), part.data() + part.size(), index);
        if (first) {  // the first index steps over the pointer, not into the type
          first = false;
          continue;
        }
        if (t.is_struct_or_union()) {
          const auto members = t.members();
          if (index >= members.size()) break;
          t = local.resolve(members[index].type());
        } else if (t.kind() == btf::Kind::Array) {
          t = local.resolve(t.array().element_type);
        } else {
          break;
        }
        add(t);
      }
    }
  }
  return {names.begin(), names.end()};
}

void run_diff(Context& context, Arguments& args) {
  const std::string path_a(args.take("first BTF (the older kernel)"));
  const std::string path_b(args.take("second BTF (the newer kernel)"));
  btf::DiffOptions options;
  bool limited = false;
  while (!args.empty()) {
    static constexpr std::string_view keywords[] = {"root", "object"};
    const std::string_view keyword = args.take_keyword(keywords, "diff keyword");
    if (keyword == "root") {
      options.roots.emplace_back(args.take("type name"));
    } else {
      const auto object = ObjectSpec::open(std::string(args.take("object file path")));
      for (auto& name : relocated_types(object)) options.roots.push_back(std::move(name));
    }
    limited = true;
  }
  if (limited && options.roots.empty()) {
    util::log(LogLevel::info, "btf diff: the object has no CO-RE relocations: nothing to compare");
    if (context.options.json) context.out.write("[]\n");
    return;
  }
  const btf::Btf a = btf::Btf::load(path_a);
  const btf::Btf b = btf::Btf::load(path_b);
  const auto changes = btf::diff(a, b, options);
  if (context.options.json) {
    fmt::memory_buffer buffer;
    util::JsonWriter json(buffer, context.options.pretty);
    json.begin_array();
    for (const auto& c : changes) {
      json.begin_object();
      json.member("type", c.type);
      json.member("change", btf::change_kind_name(c.kind));
      json.member("item", c.item);
      json.member("from", c.from);
      json.member("to", c.to);
      json.end_object();
    }
    json.end_array();
    buffer.push_back('\n');
    context.out.write(std::string_view(buffer.data(), buffer.size()));
    return;
  }
  std::string_view current;
  for (const auto& c : changes) {
    if (c.type != current) {
      context.out.print("{}\n", c.type);
      current = c.type;
    }
    std::string line = fmt::format("  {}", btf::change_kind_name(c.kind));
    if (!c.item.empty()) line += fmt::format(" {}", c.item);
    if (!c.from.empty() && !c.to.empty()) {
      line += fmt::format(": {} -> {}", c.from, c.to);
    } else if (!c.from.empty()) {
      line += fmt::format(" (was {})", c.from);
    } else if (!c.to.empty()) {
      line += fmt::format(" ({})", c.to);
    }
    context.out.print("{}\n", line);
  }
}

// For each BTF id, the ids of the programs or maps that use it.
using UsersByBtf = std::map<std::uint32_t, std::vector<std::uint32_t>>;

UsersByBtf btf_users(kernel::ObjectType type) {
  UsersByBtf users;
  for (const std::uint32_t id : kernel::list_ids(type)) {
    const auto fd = kernel::try_open_by_id(type, id);
    if (!fd) continue;  // gone since the listing
    const std::uint32_t btf_id = type == kernel::ObjectType::program ? kernel::program_info(fd->get()).btf_id
                                                                     : kernel::map_info(fd->get()).btf_id;
    if (btf_id != 0) users[btf_id].push_back(id);
  }
  return users;
}

struct BtfListEntry {
  kernel::BtfInfo info;
  std::vector<std::uint32_t> program_ids;
  std::vector<std::uint32_t> map_ids;
};

void print_entry_text(Output& out, const BtfListEntry& entry) {
  const kernel::BtfInfo& info = entry.info;
  if (info.is_kernel) {
    out.print("{}: name [{}]  size {}B", info.id, info.name, info.size);
  } else {
    out.print("{}: name {}  size {}B", info.id, info.name.empty() ? std::string_view("<anon>") : info.name, info.size);
  }
  if (!entry.program_ids.empty()) out.print("  prog_ids {}", fmt::join(entry.program_ids, ","));
  if (!entry.map_ids.empty()) out.print("  map_ids {}", fmt::join(entry.map_ids, ","));
  out.write("\n");
}

void write_entry_json(util::JsonWriter& json, const BtfListEntry& entry) {
  json.begin_object();
  json.member("id", entry.info.id);
  json.member("size", entry.info.size);
  json.key("prog_ids");
  json.begin_array();
  for (const std::uint32_t id : entry.program_ids) json.value(id);
  json.end_array();
  json.key("map_ids");
  json.begin_array();
  for (const std::uint32_t id : entry.map_ids) json.value(id);
  json.end_array();
  json.member("kernel", entry.info.is_kernel);
  if (!entry.info.name.empty()) json.member("name", entry.info.name);
  json.end_object();
}

void run_list(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"id"};
  std::optional<std::uint32_t> only_id;
  if (!args.empty()) {
    args.take_keyword(keywords, "list keyword");
    only_id = args.take_id("BTF id");
  }
  args.expect_end();

  std::vector<BtfListEntry> entries;
  const auto add_entry = [&entries](const UniqueFd& fd) { entries.push_back({kernel::btf_info(fd.get()), {}, {}}); };
  if (only_id) {
    add_entry(kernel::open_by_id(kernel::ObjectType::btf, *only_id));
  } else {
    for (const std::uint32_t id : kernel::list_ids(kernel::ObjectType::btf))
      if (const auto fd = kernel::try_open_by_id(kernel::ObjectType::btf, id)) add_entry(*fd);
  }
  UsersByBtf programs = btf_users(kernel::ObjectType::program);
  UsersByBtf maps = btf_users(kernel::ObjectType::map);
  for (BtfListEntry& entry : entries) {
    entry.program_ids = std::move(programs[entry.info.id]);
    entry.map_ids = std::move(maps[entry.info.id]);
  }

  if (!context.options.json) {
    for (const BtfListEntry& entry : entries) print_entry_text(context.out, entry);
    return;
  }
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, context.options.pretty);
  // bpftool prints one object for `list id ID` and an array otherwise.
  if (only_id) {
    write_entry_json(json, entries.front());
  } else {
    json.begin_array();
    for (const BtfListEntry& entry : entries) write_entry_json(json, entry);
    json.end_array();
  }
  buffer.push_back('\n');
  context.out.write(std::string_view(buffer.data(), buffer.size()));
}

constexpr Verb kBtfVerbs[] = {
    {"show", run_list, ""},
    {"list", run_list, "{ show | list } [id BTF_ID]"},
    {"dump", run_dump, "dump BTF_SRC [base FILE] [format FORMAT] [root TYPE]..."},
    {"diff", run_diff, "diff FILE FILE [root TYPE]... [object OBJ]...", 2},
    {"extract", run_extract, "extract SRC... [output DIR] [btfhub DISTRO VERSION] [modules] [xz]"},
};

constexpr Object kBtfObject = {
    "btf",
    kBtfVerbs,
    "       BTF_SRC := { id BTF_ID | prog PROG | map MAP [{ key | value | kv | all }] | file FILE }\n"
    "       PROG    := { id PROG_ID | pinned FILE | name PROG_NAME | tag PROG_TAG }\n"
    "       MAP     := { id MAP_ID | pinned FILE | name MAP_NAME }\n"
    "       prog, map: the BTF the kernel keeps for the program or map; for a map only its key and value\n"
    "       types (kv, the default), one of them, or its whole BTF (all)\n"
    "       FILE    := raw BTF (/sys/kernel/btf/*), an ELF object, vmlinux or module (.ko, compressed too)\n"
    "       FORMAT  := { raw | c | json }   (raw is the default; -j turns raw into JSON)\n"
    "       base FILE: the base of split BTF (a module's .ko on its vmlinux)\n"
    "       root TYPE: with format c, emit only TYPE and what it needs (repeatable)\n"
    "       SRC     := a vmlinux, vmlinuz, arm64 Image, .ko, Debian linux-image .deb, or a directory of them;\n"
    "                  writes DIR/<release>.btf (btfhub: DIR/DISTRO/VERSION/<arch>/<release>.btf), modules'\n"
    "                  split BTF as <release>/<module>.btf, .btf.xz with xz\n",
};

}  // namespace

const Object& btf_object() { return kBtfObject; }

}  // namespace corebpf::cli
