// `corebpf btf ...`: dump BTF from a file or the kernel, list the kernel's BTF objects.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "util/json_writer.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

constexpr std::string_view kSysfsBtfDir = "/sys/kernel/btf/";
constexpr std::string_view kSysfsVmlinux = "/sys/kernel/btf/vmlinux";

enum class DumpFormat { raw, c, json };

struct DumpRequest {
  std::optional<std::uint32_t> id;
  std::string path;
  std::optional<std::string> base_path;
  std::optional<DumpFormat> format;
  std::vector<std::string> roots;
};

DumpRequest parse_dump(Arguments& args) {
  static constexpr std::string_view sources[] = {"id", "file"};
  static constexpr std::string_view keywords[] = {"base", "format", "root"};
  static constexpr std::string_view formats[] = {"raw", "c", "json"};
  DumpRequest request;
  if (args.take_keyword(sources, "BTF source") == "id") {
    request.id = args.take_id("BTF id");
  } else {
    request.path = std::string(args.take("BTF file path"));
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
  if (request.id && request.base_path)
    throw UsageError("'base' applies to 'dump file': a loaded module BTF finds its base by itself");
  if (!request.roots.empty() && request.format != DumpFormat::c) throw UsageError("'root' applies to 'format c' only");
  return request;
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
  const btf::Btf btf = load_for_dump(request, context.options);
  util::log(LogLevel::debug, "{}: {} types from id {}", btf.source_name(), btf.type_count() - btf.first_id(),
            btf.first_id());
  switch (format) {
    case DumpFormat::raw:
      btf::dump_raw(btf, context.out.sink());
      break;
    case DumpFormat::json:
      btf::dump_json(btf, context.out.sink(), context.options.pretty);
      break;
    case DumpFormat::c: {
      btf::CDumpOptions options;
      options.roots = request.roots;
      btf::dump_c(btf, context.out.sink(), options);
      break;
    }
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
};

constexpr Object kBtfObject = {
    "btf",
    kBtfVerbs,
    "       BTF_SRC := { id BTF_ID | file FILE }\n"
    "       FILE    := raw BTF (/sys/kernel/btf/*), an ELF object, vmlinux or module (.ko, compressed too)\n"
    "       FORMAT  := { raw | c | json }   (raw is the default; -j turns raw into JSON)\n"
    "       base FILE: the base of split BTF (a module's .ko on its vmlinux)\n"
    "       root TYPE: with format c, emit only TYPE and what it needs (repeatable)\n",
};

}  // namespace

const Object& btf_object() { return kBtfObject; }

}  // namespace corebpf::cli
