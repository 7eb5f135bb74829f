// `corebpf struct_ops ...`: the kernel's struct_ops maps (registered kernel structs of BPF
// functions, such as a TCP congestion control), shown, dumped through the kernel's BTF,
// registered from an object and unregistered, with bpftool's grammar and output.
#include <fcntl.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_data.hpp"
#include "corebpf/btf_diff.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/map.hpp"
#include "corebpf/object.hpp"
#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

constexpr std::string_view kValuePrefix = "bpf_struct_ops_";

const btf::Btf& vmlinux() {
  static const btf::Btf btf = btf::Btf::load_vmlinux();
  return btf;
}

struct StructOpsMap {
  UniqueFd fd;
  kernel::MapInfo info;
  // "tcp_congestion_ops": the kernel struct, from the map's value type bpf_struct_ops_<name>.
  std::string kernel_struct;
};

std::string kernel_struct_of(const kernel::MapInfo& info) {
  const auto type = vmlinux().try_type(info.btf_vmlinux_value_type_id);
  if (!type) return fmt::format("(BTF type {})", info.btf_vmlinux_value_type_id);
  std::string_view name = type->name();
  if (name.starts_with(kValuePrefix)) name.remove_prefix(kValuePrefix.size());
  return std::string(name);
}

bool is_struct_ops(const kernel::MapInfo& info) { return static_cast<MapType>(info.type) == MapType::struct_ops; }

StructOpsMap describe_map(UniqueFd fd) {
  StructOpsMap map;
  map.info = kernel::map_info(fd.get());
  map.fd = std::move(fd);
  map.kernel_struct = kernel_struct_of(map.info);
  return map;
}

// The struct_ops maps a selector names (all without one); a selector naming a map of another
// type is an error naming it.
std::vector<StructOpsMap> selected_maps(Arguments& args) {
  const auto selector = take_optional_selector(args, ObjectType::map);
  args.expect_end();
  std::vector<StructOpsMap> maps;
  for (UniqueFd& fd : selector ? open_selected(ObjectType::map, *selector) : open_all(ObjectType::map)) {
    const kernel::MapInfo info = kernel::map_info(fd.get());
    if (is_struct_ops(info)) {
      maps.push_back(describe_map(std::move(fd)));
    } else if (selector && selector->by != Selector::By::name) {
      util::fail(std::errc::invalid_argument, "map '{}' (id {}) is a {} map, not a struct_ops map", info.name, info.id,
                 map_type_name(static_cast<MapType>(info.type)));
    }
  }
  if (selector && maps.empty())
    util::fail(std::errc::no_such_file_or_directory, "there is no struct_ops map {}",
               describe_selector(ObjectType::map, *selector));
  return maps;
}

void write_show_json(util::JsonWriter& json, const StructOpsMap& map) {
  json.begin_object();
  json.member("id", map.info.id);
  json.member("name", map.info.name);
  json.member("kernel_struct_ops", map.kernel_struct);
  json.end_object();
}

void run_show(Context& context, Arguments& args) {
  const bool single = !args.empty() && args.peek() != "name";  // id or pinned: bpftool prints one object
  const std::vector<StructOpsMap> maps = selected_maps(args);
  if (!context.options.json) {
    for (const StructOpsMap& map : maps)
      context.out.print("{}: {:<15} {:<32}\n", map.info.id, map.info.name, map.kernel_struct);
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    if (single && maps.size() == 1) {
      write_show_json(json, maps.front());
      return;
    }
    json.begin_array();
    for (const StructOpsMap& map : maps) write_show_json(json, map);
    json.end_array();
  });
}

// ---- dump

// struct bpf_map_info as the kernel gives it, typed by the kernel's own BTF so that every member
// this kernel has is shown (bpftool's "bpf_map_info").
void write_raw_map_info(util::JsonWriter& json, int fd, bool pretty) {
  const auto type = vmlinux().find("bpf_map_info", btf::Kind::Struct);
  if (!type) util::fail(std::errc::not_supported, "the kernel's BTF has no struct bpf_map_info");
  std::vector<std::byte> raw(vmlinux().size_of(type->id()));
  kernel::detail::object_info(fd, raw.data(), static_cast<std::uint32_t>(raw.size()), "(struct_ops map)");
  json.raw_value(btf::format_data_json(vmlinux(), type->id(), raw, pretty));
}

// The program's whole name: the kernel keeps 15 characters, its BTF (func info) the rest.
std::string program_name(std::uint32_t id) {
  auto fd = kernel::try_open_by_id(ObjectType::program, id);
  if (!fd) return {};
  const kernel::ProgramInfo info = kernel::program_info(fd->get());
  if (info.btf_id == 0 || info.name.size() < 15) return info.name;
  try {
    const kernel::ProgramCode code = kernel::program_code(fd->get());
    if (code.func_info.empty()) return info.name;
    const btf::Btf btf = kernel::load_kernel_btf_by_id(info.btf_id);
    return std::string(btf.type(code.func_info.front().type_id).name());
  } catch (const Error&) {
    return info.name;
  }
}

// A function pointer member holds the id of the program the kernel called through it (0: none):
// shown as bpftool does, "u32 (struct sock *) corebpf_ssthresh/prog_id:12".
std::string function_member_text(const btf::Btf& btf, btf::TypeId proto, std::uint64_t program_id) {
  // "u32 (struct sock *)": the prototype as bpftool spells it, without type_text's "(*)".
  std::string text = btf::type_text(btf, proto);
  if (const std::size_t star = text.find(" (*)("); star != std::string::npos) text.replace(star, 5, " (");
  if (program_id == 0) return text + " 0";
  return fmt::format("{} {}/prog_id:{}", text, program_name(static_cast<std::uint32_t>(program_id)), program_id);
}

bool is_function_pointer(const btf::Btf& btf, btf::TypeId type) {
  const btf::Type resolved = btf.resolve(type);
  return resolved.kind() == btf::Kind::Ptr && btf.resolve(resolved.type()).kind() == btf::Kind::FuncProto;
}

// The value (struct bpf_struct_ops_<name> { common; data; }) as bpftool's JSON: members by name,
// the function pointers of `data` as their prototype and program.
void write_value(util::JsonWriter& json, const btf::Btf& btf, btf::TypeId value_type, std::span<const std::byte> value,
                 bool pretty) {
  const btf::Type outer = btf.resolve(value_type);
  json.begin_object();
  for (const btf::Member member : outer.members()) {
    const std::size_t offset = member.bit_offset() / 8;
    const std::size_t size = btf.size_of(member.type());
    if (offset + size > value.size())
      util::fail(std::errc::invalid_argument, "struct_ops value of {} bytes: member '{}' lies outside", value.size(),
                 member.name());
    json.key(member.name());
    const btf::Type member_type = btf.resolve(member.type());
    if (member.name() != "data" || !member_type.is_struct_or_union()) {
      json.raw_value(btf::format_data_json(btf, member.type(), value.subspan(offset, size), pretty));
      continue;
    }
    json.begin_object();
    for (const btf::Member field : member_type.members()) {
      const std::size_t field_offset = offset + field.bit_offset() / 8;
      json.key(field.name());
      if (field.bitfield_size() == 0 && is_function_pointer(btf, field.type()) && field_offset + 8 <= value.size()) {
        std::uint64_t program_id = 0;
        std::memcpy(&program_id, value.data() + field_offset, sizeof program_id);
        json.value(function_member_text(btf, btf.resolve(field.type()).type(), program_id));
        continue;
      }
      const std::size_t field_size = btf.size_of(field.type());
      json.raw_value(btf::format_data_json(btf, field.type(), value.subspan(field_offset, field_size), pretty));
    }
    json.end_object();
  }
  json.end_object();
}

// bpftool prints the dump as JSON in either mode: text mode is the pretty form.
void run_dump(Context& context, Arguments& args) {
  const std::vector<StructOpsMap> maps = selected_maps(args);
  const bool pretty = context.options.pretty || !context.options.json;
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, pretty);
  json.begin_array();
  for (const StructOpsMap& map : maps) {
    const Map handle = Map::adopt(UniqueFd(::fcntl(map.fd.get(), F_DUPFD_CLOEXEC, 0)));
    std::vector<std::byte> value(map.info.value_size);
    const std::uint32_t key = 0;
    if (!handle.lookup(std::as_bytes(std::span(&key, 1)), value))
      util::fail(std::errc::no_such_file_or_directory, "struct_ops map '{}' (id {}) has no value", map.info.name,
                 map.info.id);
    json.begin_object();
    json.key("bpf_map_info");
    write_raw_map_info(json, map.fd.get(), pretty);
    json.end_object();
    json.begin_object();
    const btf::Type value_type = vmlinux().type(map.info.btf_vmlinux_value_type_id);
    json.key(value_type.name());
    write_value(json, vmlinux(), value_type.id(), value, pretty);
    json.end_object();
  }
  json.end_array();
  buffer.push_back('\n');
  context.out.write(std::string_view(buffer.data(), buffer.size()));
}

// ---- register / unregister

void run_register(Context& context, Arguments& args) {
  const std::string path(args.take("object file path"));
  std::string link_dir;
  if (!args.empty()) link_dir = std::string(args.take("link directory"));
  args.expect_end();

  corebpf::Object object = corebpf::Object::open(path);
  std::vector<const MapSpec*> specs;
  for (const MapSpec& spec : object.spec().maps())
    if (spec.origin() == MapOrigin::struct_ops) specs.push_back(&spec);
  if (specs.empty()) util::fail(std::errc::invalid_argument, "{}: the object has no struct_ops map", path);
  for (const MapSpec* spec : specs) {
    if ((spec->flags() & kMapFlagLink) != 0 && link_dir.empty())
      throw UsageError(
          fmt::format("{}: map '{}' is a .struct_ops.link map, registered only while its link lives: "
                      "give a LINK_DIR on bpffs to pin the link in",
                      path, spec->name()));
  }
  if (!link_dir.empty() && !std::filesystem::is_directory(link_dir))
    util::fail(std::errc::no_such_file_or_directory, "link directory {} does not exist", link_dir);
  object.load();

  struct Registered {
    kernel::MapInfo info;
    std::string kernel_struct;
    std::optional<std::uint32_t> link_id;
    std::string pin;
  };
  std::vector<Registered> done;
  // Until every map is registered, a failure undoes the others: the Links unregister as they go,
  // the pins are removed.
  std::vector<Link> links;
  std::vector<std::string> pins;
  try {
    for (const MapSpec* spec : specs) {
      Map& map = object.map(spec->name());
      const kernel::MapInfo info = kernel::map_info(map.fd());
      Registered entry{info, kernel_struct_of(info), std::nullopt, {}};
      Link link = object.attach_struct_ops(spec->name());
      if ((spec->flags() & kMapFlagLink) != 0) {
        entry.pin = link_dir + "/" + spec->name();
        link.pin(entry.pin);
        pins.push_back(entry.pin);
        entry.link_id = link.info().id;
      }
      links.push_back(std::move(link));
      done.push_back(std::move(entry));
    }
  } catch (...) {
    for (const std::string& pin : pins) std::filesystem::remove(pin);
    throw;
  }
  // The registrations outlive the command, as bpftool leaves them (`struct_ops unregister` ends
  // them): the pinned links stay by their pins, the others are let go without unregistering.
  for (Link& link : links)
    if (link.fd() < 0) link.disconnect();
  if (!context.options.json) {
    for (const Registered& entry : done) {
      if (entry.link_id) {
        context.out.print("Registered {} {} map id {} link id {}\n", entry.kernel_struct, entry.info.name,
                          entry.info.id, *entry.link_id);
      } else {
        context.out.print("Registered {} {} id {}\n", entry.kernel_struct, entry.info.name, entry.info.id);
      }
    }
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    json.begin_array();
    for (const Registered& entry : done) {
      json.begin_object();
      json.member("id", entry.info.id);
      json.member("name", entry.info.name);
      json.member("kernel_struct_ops", entry.kernel_struct);
      if (entry.link_id) {
        json.member("link_id", *entry.link_id);
        json.member("pinned", entry.pin);
      }
      json.end_object();
    }
    json.end_array();
  });
}

// The struct_ops link whose map is `map_id` (read from the raw info: the typed LinkInfo does not
// carry the map id); a map has one at most. Newest first, as the link is usually recent: opening
// (and closing) every link of a busy system is slow.
std::optional<UniqueFd> link_of_map(std::uint32_t map_id) {
  const std::vector<std::uint32_t> ids = kernel::list_ids(ObjectType::link);
  for (auto id = ids.rbegin(); id != ids.rend(); ++id) {
    auto fd = kernel::try_open_by_id(ObjectType::link, *id);
    if (!fd) continue;
    uapi::bpf_link_info raw{};
    kernel::detail::object_info(fd->get(), &raw, sizeof raw, "(link)");
    if (raw.type == uapi::BPF_LINK_TYPE_STRUCT_OPS && raw.struct_ops.map_id == map_id) return fd;
  }
  return std::nullopt;
}

void run_unregister(Context& context, Arguments& args) {
  if (args.empty()) throw UsageError("missing struct_ops map (id ID | name NAME | pinned FILE)");
  std::vector<StructOpsMap> maps = selected_maps(args);
  for (StructOpsMap& map : maps) {
    if ((map.info.flags & kMapFlagLink) == 0) {
      const Map handle = Map::adopt(std::move(map.fd));
      const std::uint32_t key = 0;
      if (const int error = handle.try_erase(std::as_bytes(std::span(&key, 1))); error != 0)
        throw Error(error,
                    fmt::format("unregistering {} {} (map id {})", map.kernel_struct, map.info.name, map.info.id));
    } else {
      // A .struct_ops.link map is registered by its link: detach that (kernels from 6.9 force a
      // struct_ops link off; on older ones removing its pins and fds is what ends it).
      const std::optional<UniqueFd> link = link_of_map(map.info.id);
      if (!link)
        util::fail(std::errc::no_such_file_or_directory, "{} {} (map id {}) is not registered (no link holds it)",
                   map.kernel_struct, map.info.name, map.info.id);
      bpf_attr attr = kernel::detail::zeroed_attr();
      attr.link_detach.link_fd = static_cast<std::uint32_t>(link->get());
      if (kernel::detail::bpf_call(BPF_LINK_DETACH, attr) < 0)
        util::fail_errno("unregistering {} {} (map id {}): detaching its link (remove the link's pin instead)",
                         map.kernel_struct, map.info.name, map.info.id);
    }
    if (!context.options.json)
      context.out.print("Unregistered {} {} id {}\n", map.kernel_struct, map.info.name, map.info.id);
  }
  if (context.options.json) write_json(context, [](util::JsonWriter& json) { json.null(); });
}

constexpr Verb kStructOpsVerbs[] = {
    {"show", run_show, ""},
    {"list", run_show, "{ show | list } [STRUCT_OPS_MAP]"},
    {"dump", run_dump, "dump [STRUCT_OPS_MAP]"},
    {"register", run_register, "register OBJ [LINK_DIR]"},
    {"unregister", run_unregister, "unregister STRUCT_OPS_MAP"},
};

constexpr Object kStructOpsObject = {
    "struct_ops",
    kStructOpsVerbs,
    "       STRUCT_OPS_MAP := { id STRUCT_OPS_MAP_ID | name STRUCT_OPS_MAP_NAME | pinned FILE }\n"
    "       dump prints each map's info and its value typed by the kernel's BTF (JSON; function\n"
    "       members as their prototype and program). register loads OBJ and registers each of its\n"
    "       struct_ops maps: a .struct_ops map stays registered until unregistered; a\n"
    "       .struct_ops.link map's link is pinned as LINK_DIR/MAP_NAME (needed) and lives as long\n"
    "       as its pin. unregister ends either kind.\n",
};

}  // namespace

const Object& struct_ops_object() { return kStructOpsObject; }

}  // namespace corebpf::cli
