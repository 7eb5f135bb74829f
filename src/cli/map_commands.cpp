// `corebpf map ...`: list the kernel's maps, and show, change and delete their elements with
// bpftool's key/value byte syntax. Maps with BTF show keys and values through their types (text:
// C-like; JSON: bpftool's "formatted" member next to the raw bytes).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "btf/dump_data.hpp"
#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/btf_data.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

std::string type_text(MapType type) {
  const std::string_view name = map_type_name(type);
  return name.empty() ? fmt::format("type {}", static_cast<std::uint32_t>(type)) : std::string(name);
}

// ---- map show / list

void print_text(Output& out, const kernel::MapInfo& info, const ObjectRefs& refs) {
  out.print("{}: {}  ", info.id, type_text(static_cast<MapType>(info.type)));
  if (!info.name.empty()) out.print("name {}  ", info.name);
  out.print("flags 0x{:x}\n", info.flags);
  out.print("\tkey {}B  value {}B  max_entries {}", info.key_size, info.value_size, info.max_entries);
  if (info.memlock_bytes) out.print("  memlock {}B", *info.memlock_bytes);
  out.write("\n");
  print_pinned_text(out, refs);
  if (info.btf_id != 0 || info.frozen) {
    out.write("\t");
    if (info.btf_id != 0) out.print("btf_id {}", info.btf_id);
    if (info.frozen) out.write(info.btf_id != 0 ? "  frozen" : "frozen");
    out.write("\n");
  }
  print_pids_text(out, refs);
}

void write_map_json(util::JsonWriter& json, const kernel::MapInfo& info, const ObjectRefs& refs) {
  json.begin_object();
  json.member("id", info.id);
  json.member("type", type_text(static_cast<MapType>(info.type)));
  if (!info.name.empty()) json.member("name", info.name);
  json.member("flags", info.flags);
  json.member("bytes_key", info.key_size);
  json.member("bytes_value", info.value_size);
  json.member("max_entries", info.max_entries);
  if (info.memlock_bytes) json.member("bytes_memlock", *info.memlock_bytes);
  json.member("frozen", info.frozen ? 1 : 0);
  if (info.btf_id != 0) json.member("btf_id", info.btf_id);
  write_refs_json(json, refs);
  json.end_object();
}

void run_show(Context& context, Arguments& args) {
  show_objects(context, args, ObjectType::map, &kernel::map_info, &print_text, &write_map_json);
}

// ---- element commands

Map open_map(Arguments& args) { return Map::adopt(open_one(ObjectType::map, take_selector(args, ObjectType::map))); }

bool is_keyword(std::string_view word) {
  return word == "key" || word == "value" || word == "any" || word == "exist" || word == "noexist";
}

// bpftool's DATA := [hex] BYTES: one byte per word, in C notation (12, 0x0c, 014), or in bare hex
// after `hex`. Reads words until one is a keyword of the command or the end.
std::vector<std::byte> take_bytes(Arguments& args, std::string_view what) {
  int base = 0;
  if (args.peek() == "hex") {
    args.take("hex");
    base = 16;
  }
  std::vector<std::byte> bytes;
  while (!args.empty() && !is_keyword(args.peek())) {
    const std::string_view word = args.take(what);
    std::string_view digits = word;
    int word_base = base;
    if (base == 0) {
      if (digits.starts_with("0x") || digits.starts_with("0X")) {
        word_base = 16;
        digits.remove_prefix(2);
      } else if (digits.size() > 1 && digits.starts_with("0")) {
        word_base = 8;
        digits.remove_prefix(1);
      } else {
        word_base = 10;
      }
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, word_base);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value > 0xff)
      throw UsageError(fmt::format("{} byte '{}' is not a number from 0 to 255", what, word));
    bytes.push_back(static_cast<std::byte>(value));
  }
  if (bytes.empty()) throw UsageError(fmt::format("missing {} bytes", what));
  return bytes;
}

void check_size(const Map& map, std::string_view what, std::size_t given, std::size_t wanted) {
  if (given != wanted)
    util::fail(std::errc::invalid_argument, "{} has {} byte{}, map '{}' wants {}", what, given, given == 1 ? "" : "s",
               map.name(), wanted);
}

// The map's key and value types, when it has BTF that describes them.
struct MapTypes {
  std::optional<btf::Btf> btf;
  btf::TypeId key = 0;
  btf::TypeId value = 0;
};

MapTypes map_types(const Map& map) {
  MapTypes types;
  const MapInfo& info = map.info();
  if (info.btf_id == 0 || (info.btf_value_type_id == 0 && info.btf_vmlinux_value_type_id == 0)) return {};
  try {
    // A struct_ops map's value is a kernel type, described by vmlinux's BTF.
    if (info.btf_vmlinux_value_type_id != 0) {
      types.btf = btf::Btf::load_vmlinux();
      types.value = info.btf_vmlinux_value_type_id;
      return types;
    }
    types.btf = kernel::load_kernel_btf_by_id(info.btf_id);
    types.value = info.btf_value_type_id;
  } catch (const Error& e) {
    util::log(LogLevel::warning, "map '{}': its BTF (id {}) is unreadable, showing raw bytes: {}", map.name(),
              info.btf_id, e.message());
    return {};
  }
  types.key = info.btf_key_type_id;
  return types;
}

bool is_map_of_maps(MapType type) { return type == MapType::array_of_maps || type == MapType::hash_of_maps; }

class EntryPrinter {
 public:
  EntryPrinter(Context& context, const Map& map) : context_(context), map_(map), types_(map_types(map)) {}

  // One element: `value` is value_stride() bytes (every CPU's value for a per-CPU map).
  void text(std::span<const std::byte> key, std::span<const std::byte> value) {
    Output& out = context_.out;
    out.print("key: {}", key_text(key));
    if (!map_.is_per_cpu()) {
      out.print("  value: {}\n", value_text(value.first(map_.value_size())));
      return;
    }
    out.write("\n");
    const std::size_t step = map_.value_stride() / possible_cpus();
    for (std::uint32_t cpu = 0; cpu < possible_cpus(); ++cpu)
      out.print("  cpu {}: {}\n", cpu, value_text(value.subspan(cpu * step, map_.value_size())));
  }

  // bpftool's shape: raw bytes as "key"/"value" (per-CPU: "values" of {"cpu", "value"}), and
  // "formatted" with the same members through BTF.
  void json(util::JsonWriter& json, std::span<const std::byte> key, std::span<const std::byte> value) {
    json.begin_object();
    json.key("key");
    write_byte_array(json, key);
    write_values(json, value, [&](std::span<const std::byte> one) { write_byte_array(json, one); });
    if (is_map_of_maps(map_.type()) && value.size() >= 4) {
      std::uint32_t inner = 0;
      std::memcpy(&inner, value.data(), sizeof(inner));
      json.member("inner_map_id", inner);
    }
    if (types_.btf) {
      json.key("formatted");
      json.begin_object();
      if (types_.key != 0) {
        json.key("key");
        btf::write_data_json(json, *types_.btf, types_.key, key);
      }
      write_values(json, value,
                   [&](std::span<const std::byte> one) { btf::write_data_json(json, *types_.btf, types_.value, one); });
      json.end_object();
    }
    json.end_object();
  }

 private:
  // "value": X, or for a per-CPU map "values": [{"cpu": N, "value": X}...], X written by `write_one`.
  void write_values(util::JsonWriter& json, std::span<const std::byte> value,
                    const std::function<void(std::span<const std::byte>)>& write_one) const {
    if (!map_.is_per_cpu()) {
      json.key("value");
      write_one(value.first(map_.value_size()));
      return;
    }
    const std::size_t step = map_.value_stride() / possible_cpus();
    json.key("values");
    json.begin_array();
    for (std::uint32_t cpu = 0; cpu < possible_cpus(); ++cpu) {
      json.begin_object();
      json.member("cpu", cpu);
      json.key("value");
      write_one(value.subspan(cpu * step, map_.value_size()));
      json.end_object();
    }
    json.end_array();
  }
  std::string key_text(std::span<const std::byte> key) const {
    if (types_.btf && types_.key != 0) return btf::format_data(*types_.btf, types_.key, key);
    return bytes_text(key);
  }
  std::string value_text(std::span<const std::byte> value) const {
    if (types_.btf) return btf::format_data(*types_.btf, types_.value, value);
    return bytes_text(value);
  }

  Context& context_;
  const Map& map_;
  MapTypes types_;
};

// Map types whose elements the kernel does not list: why, and what to use instead.
void require_dumpable(const Map& map) {
  std::string_view why;
  switch (map.type()) {
    case MapType::queue:
    case MapType::stack:
      why = "its values have no keys: read them with 'map peek' or 'map pop'";
      break;
    case MapType::ringbuf:
    case MapType::user_ringbuf:
      why = "its records are a stream, read by a ring buffer consumer";
      break;
    case MapType::perf_event_array:
      why = "its values are perf event fds, which user space cannot read back";
      break;
    case MapType::bloom_filter:
      why = "a bloom filter keeps no elements to list";
      break;
    default:
      return;
  }
  util::fail(std::errc::operation_not_supported, "map '{}' ({}) cannot be dumped: {}", map.name(),
             type_text(map.type()), why);
}

void run_dump(Context& context, Arguments& args) {
  const Map map = open_map(args);
  args.expect_end();
  require_dumpable(map);
  EntryPrinter printer(context, map);
  std::vector<std::byte> value(map.value_stride());
  std::size_t found = 0;
  if (!context.options.json) {
    for (const auto& key : map.keys()) {
      if (!map.lookup(key, value)) continue;  // deleted since the walk
      printer.text(key, value);
      ++found;
    }
    context.out.print("Found {} element{}\n", found, found == 1 ? "" : "s");
    return;
  }
  // Streamed: the writer's state does not live in its buffer, so the buffer is drained to the
  // output as it grows and a large map never sits whole in memory as JSON.
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, context.options.pretty);
  const auto drain = [&](std::size_t above) {
    if (buffer.size() <= above) return;
    context.out.write(std::string_view(buffer.data(), buffer.size()));
    buffer.clear();
  };
  json.begin_array();
  for (const auto& key : map.keys()) {
    if (!map.lookup(key, value)) continue;
    printer.json(json, key, value);
    drain(std::size_t{64} * 1024);
  }
  json.end_array();
  buffer.push_back('\n');
  drain(0);
}

std::vector<std::byte> take_key(Arguments& args, const Map& map) {
  static constexpr std::string_view keywords[] = {"key"};
  args.take_keyword(keywords, "keyword");
  auto key = take_bytes(args, "key");
  check_size(map, "key", key.size(), map.key_size());
  return key;
}

void run_lookup(Context& context, Arguments& args) {
  const Map map = open_map(args);
  const auto key = take_key(args, map);
  args.expect_end();
  std::vector<std::byte> value(map.value_stride());
  if (!map.lookup(key, value))
    util::fail(std::errc::no_such_file_or_directory, "map '{}': no element with key {}", map.name(),
               bytes_text(key, "0x"));
  EntryPrinter printer(context, map);
  if (!context.options.json) {
    printer.text(key, value);
    return;
  }
  write_json(context, [&](util::JsonWriter& json) { printer.json(json, key, value); });
}

bool is_fd_map(MapType type) {
  return type == MapType::prog_array || type == MapType::array_of_maps || type == MapType::hash_of_maps;
}

// VALUE := { DATA | PROG (prog arrays) | MAP (maps of maps) }: for the last two, the fd the
// kernel takes, kept open in `holder` until the update.
std::vector<std::byte> take_value(Arguments& args, const Map& map, UniqueFd& holder) {
  static constexpr std::string_view keywords[] = {"value"};
  args.take_keyword(keywords, "keyword");
  if (is_fd_map(map.type()) && args.peek() != "hex" && !args.peek().empty() &&
      !std::isdigit(static_cast<unsigned char>(args.peek().front()))) {
    const ObjectType type = map.type() == MapType::prog_array ? ObjectType::program : ObjectType::map;
    holder = open_one(type, take_selector(args, type));
    const auto fd = static_cast<std::uint32_t>(holder.get());
    std::vector<std::byte> bytes(sizeof(fd));
    std::memcpy(bytes.data(), &fd, sizeof(fd));
    return bytes;
  }
  auto value = take_bytes(args, "value");
  check_size(map, "value", value.size(), map.value_size());
  if (!map.is_per_cpu()) return value;
  // As bpftool: the one value given goes to every CPU.
  std::vector<std::byte> all(map.value_stride());
  const std::size_t step = map.value_stride() / possible_cpus();
  for (std::uint32_t cpu = 0; cpu < possible_cpus(); ++cpu)
    std::copy(value.begin(), value.end(), all.begin() + cpu * step);
  return all;
}

void run_update(Context&, Arguments& args) {
  static constexpr std::string_view flag_words[] = {"any", "exist", "noexist"};
  const Map map = open_map(args);
  const auto key = take_key(args, map);
  UniqueFd holder;
  const auto value = take_value(args, map, holder);
  UpdateFlags flags = UpdateFlags::any;
  if (!args.empty()) {
    const std::string_view word = args.take_keyword(flag_words, "update flag");
    flags = word == "exist" ? UpdateFlags::exist : word == "noexist" ? UpdateFlags::no_exist : UpdateFlags::any;
  }
  args.expect_end();
  map.update(key, value, flags);
}

void run_delete(Context&, Arguments& args) {
  const Map map = open_map(args);
  const auto key = take_key(args, map);
  args.expect_end();
  if (!map.erase(key))
    util::fail(std::errc::no_such_file_or_directory, "map '{}': no element with key {}", map.name(),
               bytes_text(key, "0x"));
}

void run_getnext(Context& context, Arguments& args) {
  const Map map = open_map(args);
  std::optional<std::vector<std::byte>> key;
  if (!args.empty()) key = take_key(args, map);
  args.expect_end();
  std::vector<std::byte> next(map.key_size());
  if (!map.next_key(key ? std::span<const std::byte>(*key) : std::span<const std::byte>(), next)) {
    util::fail(std::errc::no_such_file_or_directory, "map '{}': no key after {}", map.name(),
               key ? bytes_text(*key, "0x") : std::string("the start"));
  }
  if (!context.options.json) {
    context.out.print("key: {}\nnext key: {}\n", key ? bytes_text(*key) : std::string("None"), bytes_text(next));
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    json.begin_object();
    json.key("key");
    if (key) {
      write_byte_array(json, *key);
    } else {
      json.null();
    }
    json.key("next_key");
    write_byte_array(json, next);
    json.end_object();
  });
}

void run_freeze(Context&, Arguments& args) {
  const Map map = open_map(args);
  args.expect_end();
  map.freeze();
}

// Queue and stack maps: push (enqueue) a value, pop (dequeue) or peek the next one.
void run_push(Context&, Arguments& args) {
  static constexpr std::string_view keywords[] = {"value"};
  const Map map = open_map(args);
  args.take_keyword(keywords, "keyword");
  const auto value = take_bytes(args, "value");
  check_size(map, "value", value.size(), map.value_size());
  args.expect_end();
  map.push(value);
}

void show_value(Context& context, const Map& map, std::span<const std::byte> value) {
  const MapTypes types = map_types(map);
  if (!context.options.json) {
    context.out.print("value: {}\n", types.btf ? btf::format_data(*types.btf, types.value, value) : bytes_text(value));
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    json.begin_object();
    json.key("value");
    write_byte_array(json, value);
    if (types.btf) {
      json.key("formatted");
      json.begin_object();
      json.key("value");
      btf::write_data_json(json, *types.btf, types.value, value);
      json.end_object();
    }
    json.end_object();
  });
}

void take_out(Context& context, Arguments& args, bool remove) {
  const Map map = open_map(args);
  args.expect_end();
  std::vector<std::byte> value(map.value_size());
  if (!(remove ? map.pop(value) : map.peek(value)))
    util::fail(std::errc::no_such_file_or_directory, "map '{}' is empty", map.name());
  show_value(context, map, value);
}

void run_pop(Context& context, Arguments& args) { take_out(context, args, true); }
void run_peek(Context& context, Arguments& args) { take_out(context, args, false); }

// `map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME
// [flags FLAGS] [inner_map MAP]`: a map without BTF, pinned at FILE (it lives while pinned).
void run_create(Context&, Arguments& args) {
  static constexpr std::string_view keywords[] = {"type", "key", "value", "entries", "name", "flags", "inner_map"};
  const std::string path(args.take("pin path"));
  MapCreateOptions options;
  bool have_type = false;
  std::optional<Map> inner;
  while (!args.empty()) {
    const std::string_view keyword = args.take_keyword(keywords, "create keyword");
    if (keyword == "type") {
      const std::string_view name = args.take("map type");
      for (std::uint32_t value = 1; value < 64 && !have_type; ++value) {
        if (map_type_name(static_cast<MapType>(value)) == name) {
          options.type = static_cast<MapType>(value);
          have_type = true;
        }
      }
      if (!have_type) throw UsageError(fmt::format("unknown map type '{}'", name));
    } else if (keyword == "key") {
      options.key_size = args.take_id("key size");
    } else if (keyword == "value") {
      options.value_size = args.take_id("value size");
    } else if (keyword == "entries") {
      options.max_entries = args.take_id("max entries");
    } else if (keyword == "name") {
      options.name = std::string(args.take("map name"));
    } else if (keyword == "flags") {
      options.flags = args.take_id("flags");
    } else {
      inner = Map::adopt(open_one(ObjectType::map, take_selector(args, ObjectType::map)));
      options.inner_map_fd = inner->fd();
    }
  }
  if (!have_type) throw UsageError("missing 'type' of the map to create");
  if (options.name.empty()) throw UsageError("missing 'name' of the map to create");
  const Map map = Map::create(options);
  map.pin(path);
}

void run_pin(Context&, Arguments& args) {
  const Map map = open_map(args);
  const std::string path(args.take("pin path"));
  args.expect_end();
  map.pin(path);
}

constexpr Verb kMapVerbs[] = {
    {"show", run_show, ""},
    {"list", run_show, "{ show | list } [MAP]"},
    {"dump", run_dump, "dump MAP"},
    {"lookup", run_lookup, "lookup MAP key DATA"},
    {"update", run_update, "update MAP key DATA value VALUE [UPDATE_FLAGS]"},
    {"delete", run_delete, "delete MAP key DATA"},
    {"getnext", run_getnext, "getnext MAP [key DATA]"},
    {"pin", run_pin, "pin MAP FILE"},
    {"freeze", run_freeze, "freeze MAP"},
    {"push", run_push, "{ push | enqueue } MAP value DATA"},
    {"enqueue", run_push, ""},
    {"pop", run_pop, "{ pop | dequeue } MAP"},
    {"dequeue", run_pop, ""},
    {"peek", run_peek, "peek MAP"},
    {"create", run_create,
     "create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] "
     "[inner_map MAP]"},
};

constexpr Object kMapObject = {
    "map",
    kMapVerbs,
    "       MAP := { id MAP_ID | pinned FILE | name MAP_NAME }\n"
    "       DATA := { [hex] BYTES }   one byte per word: 1 0x01 01, or bare hex after 'hex'\n"
    "       VALUE := { DATA | PROG (prog arrays) | MAP (maps of maps) }\n"
    "       PROG := { id PROG_ID | pinned FILE | name PROG_NAME | tag PROG_TAG }\n"
    "       UPDATE_FLAGS := { any | exist | noexist }\n"
    "       A per-CPU map's value is set on every CPU and shown per CPU.\n",
};

}  // namespace

const Object& map_object() { return kMapObject; }

}  // namespace corebpf::cli
