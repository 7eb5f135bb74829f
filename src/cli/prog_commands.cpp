// `corebpf prog ...`: list the kernel's programs, load an object's programs and pin them (and,
// with autoattach, attach them and pin their links so they outlive the command), pin a program.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "cli/prog_dump.hpp"
#include "cli/prog_run.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

std::string tag_hex(const kernel::ProgramInfo& info) { return fmt::format("{:02x}", fmt::join(info.tag, "")); }

std::string type_text(std::uint32_t type) {
  const std::string_view name = program_type_name(static_cast<ProgramType>(type));
  return name.empty() ? fmt::format("type {}", type) : std::string(name);
}

std::string loaded_at_text(std::uint64_t boot_ns) {
  const std::time_t seconds = boot_ns_to_epoch_seconds(boot_ns);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char text[64];
  std::strftime(text, sizeof(text), "%FT%T%z", &local);
  return text;
}

void print_text(Output& out, const kernel::ProgramInfo& info, const ObjectRefs& refs) {
  out.print("{}: {}  ", info.id, type_text(info.type));
  if (!info.name.empty()) out.print("name {}  ", info.name);
  out.print("tag {}", tag_hex(info));
  if (info.gpl_compatible) out.write("  gpl");
  if (info.run_count != 0) out.print(" run_time_ns {} run_cnt {}", info.run_time_ns, info.run_count);
  out.print("\n\tloaded_at {}  uid {}\n", loaded_at_text(info.loaded_at_ns), info.created_by_uid);
  out.print("\txlated {}B  ", info.xlated_size);
  if (info.jited_size != 0) {
    out.print("jited {}B", info.jited_size);
  } else {
    out.write("not jited");
  }
  if (info.memlock_bytes) out.print("  memlock {}B", *info.memlock_bytes);
  if (!info.map_ids.empty()) out.print("  map_ids {}", fmt::join(info.map_ids, ","));
  out.write("\n");
  print_pinned_text(out, refs);
  if (info.btf_id != 0) out.print("\tbtf_id {}\n", info.btf_id);
  print_pids_text(out, refs);
}

void write_program_json(util::JsonWriter& json, const kernel::ProgramInfo& info, const ObjectRefs& refs) {
  json.begin_object();
  json.member("id", info.id);
  json.member("type", type_text(info.type));
  if (!info.name.empty()) json.member("name", info.name);
  json.member("tag", tag_hex(info));
  json.member("gpl_compatible", info.gpl_compatible);
  if (info.run_count != 0) {
    json.member("run_time_ns", info.run_time_ns);
    json.member("run_cnt", info.run_count);
  }
  json.member("loaded_at", boot_ns_to_epoch_seconds(info.loaded_at_ns));
  json.member("uid", info.created_by_uid);
  json.member("bytes_xlated", info.xlated_size);
  json.member("jited", info.jited_size != 0);
  if (info.jited_size != 0) json.member("bytes_jited", info.jited_size);
  if (info.memlock_bytes) json.member("bytes_memlock", *info.memlock_bytes);
  if (!info.map_ids.empty()) {
    json.key("map_ids");
    json.begin_array();
    for (const std::uint32_t id : info.map_ids) json.value(id);
    json.end_array();
  }
  if (info.btf_id != 0) json.member("btf_id", info.btf_id);
  if (info.verified_insns != 0) json.member("verified_insns", info.verified_insns);
  write_refs_json(json, refs);
  json.end_object();
}

void run_show(Context& context, Arguments& args) {
  show_objects(context, args, ObjectType::program, &kernel::program_info, &print_text, &write_program_json);
}

// The SEC()-style name (`type xdp`, `type tracepoint`) or a program type name.
ProgramDefinition parse_program_type(std::string_view word) {
  if (auto definition = section_definition(word)) return *definition;
  for (std::uint32_t value = 1; value < 64; ++value) {
    const auto type = static_cast<ProgramType>(value);
    if (program_type_name(type) == word) {
      ProgramDefinition definition;
      definition.type = type;
      return definition;
    }
  }
  throw UsageError(fmt::format("unknown program type '{}'", word));
}

struct LoadRequest {
  std::string object_path;
  std::string pin_path;  // the program (load) or the directory (loadall)
  std::optional<ProgramDefinition> type;
  std::string pinmaps;
  std::string kernel_btf;
  bool autoattach = false;
};

LoadRequest parse_load(Arguments& args) {
  static constexpr std::string_view keywords[] = {"type", "pinmaps", "autoattach", "kernel_btf"};
  LoadRequest request;
  request.object_path = std::string(args.take("object file path"));
  request.pin_path = std::string(args.take("pin path"));
  while (!args.empty()) {
    const std::string_view keyword = args.take_keyword(keywords, "load keyword");
    if (keyword == "type") {
      request.type = parse_program_type(args.take("program type"));
    } else if (keyword == "pinmaps") {
      request.pinmaps = std::string(args.take("map pin directory"));
    } else if (keyword == "autoattach") {
      request.autoattach = true;
    } else {
      request.kernel_btf = std::string(args.take("kernel BTF file path"));
    }
  }
  return request;
}

// Pins made so far, removed again unless the command succeeds: a failed load leaves nothing.
class PinSet {
 public:
  PinSet() = default;
  PinSet(const PinSet&) = delete;
  PinSet& operator=(const PinSet&) = delete;
  ~PinSet() {
    for (const std::string& path : paths_) std::filesystem::remove(path, ignored_);
    for (const std::string& dir : made_dirs_) std::filesystem::remove(dir, ignored_);
  }
  void add(std::string path) { paths_.push_back(std::move(path)); }
  // Creates `dir` and its missing parents (recording them for removal) when it does not exist.
  void make_dir(const std::string& dir) {
    std::vector<std::filesystem::path> missing;
    for (std::filesystem::path p = dir; !p.empty() && !std::filesystem::exists(p); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      std::error_code error;
      std::filesystem::create_directory(*it, error);
      if (error)
        util::fail(static_cast<std::errc>(error.value()), "creating pin directory {}: {}", it->string(),
                   error.message());
      made_dirs_.insert(made_dirs_.begin(), it->string());  // removed deepest first
    }
  }
  void keep() {
    paths_.clear();
    made_dirs_.clear();
  }

 private:
  std::vector<std::string> paths_;
  std::vector<std::string> made_dirs_;
  std::error_code ignored_;
};

corebpf::Object open_and_load(const LoadRequest& request, PinSet& pins) {
  ObjectOptions options;
  options.target_btf = request.kernel_btf;
  // Maps declared __uint(pinning, LIBBPF_PIN_BY_NAME) are pinned (or reused) where bpftool puts
  // them: libbpf's default pin root.
  options.pin_root = "/sys/fs/bpf";
  corebpf::Object object = corebpf::Object::open(request.object_path, options);
  if (request.type) {
    for (ProgramSpec& program : object.spec().programs()) {
      program.set_type(request.type->type);
      program.set_expected_attach_type(request.type->expected_attach_type);
    }
  }
  object.load();
  if (!request.pinmaps.empty()) {
    pins.make_dir(request.pinmaps);
    for (const MapSpec& spec : object.spec().maps()) {
      // bpffs refuses '.' in names: "obj.bss" is pinned as "obj_bss", as libbpf does.
      std::string name = spec.name();
      std::replace(name.begin(), name.end(), '.', '_');
      const std::string path = request.pinmaps + "/" + name;
      object.map(spec.name()).pin(path);
      pins.add(path);
    }
  }
  return object;
}

void run_load(Context&, Arguments& args) {
  const LoadRequest request = parse_load(args);
  if (request.autoattach) throw UsageError("'autoattach' applies to 'prog loadall'");
  PinSet pins;
  corebpf::Object object = open_and_load(request, pins);
  const ProgramSpec* first = nullptr;
  for (const ProgramSpec& program : object.spec().programs())
    if (program.autoload() && first == nullptr) first = &program;
  if (first == nullptr) util::fail(std::errc::no_such_file_or_directory, "{}: no program to pin", request.object_path);
  object.program(first->name()).pin(request.pin_path);
  pins.add(request.pin_path);
  util::log(LogLevel::debug, "program '{}' pinned at {}", first->name(), request.pin_path);
  pins.keep();
}

void run_loadall(Context&, Arguments& args) {
  const LoadRequest request = parse_load(args);
  PinSet pins;
  corebpf::Object object = open_and_load(request, pins);
  pins.make_dir(request.pin_path);
  for (const ProgramSpec& spec : object.spec().programs()) {
    if (!spec.autoload()) continue;
    Program& program = object.program(spec.name());
    const std::string path = request.pin_path + "/" + spec.name();
    program.pin(path);
    pins.add(path);
    util::log(LogLevel::debug, "program '{}' pinned at {}", spec.name(), path);
    if (!request.autoattach || !spec.auto_attachable()) continue;
    // The link is pinned so the attachment outlives this command; our handle then lets go of it
    // without detaching (a pinned BPF link stays).
    Link link = program.attach();
    if (link.fd() < 0)
      util::fail(std::errc::operation_not_supported,
                 "program '{}': {} is not a BPF link and cannot be pinned: it would end with this command", spec.name(),
                 link.description());
    const std::string link_path = path + "_link";
    link.pin(link_path);
    pins.add(link_path);
    util::log(LogLevel::debug, "{} pinned at {}", link.description(), link_path);
  }
  pins.keep();
}

void run_pin(Context&, Arguments& args) {
  const Selector selector = take_selector(args, ObjectType::program);
  const std::string path(args.take("pin path"));
  args.expect_end();
  Program program(open_one(ObjectType::program, selector));
  program.pin(path);
}

constexpr Verb kProgVerbs[] = {
    {"show", run_show, ""},
    {"list", run_show, "{ show | list } [PROG]"},
    {"load", run_load, "load OBJ FILE [type TYPE] [pinmaps DIR] [kernel_btf BTF]"},
    {"loadall", run_loadall, "loadall OBJ DIR [type TYPE] [pinmaps DIR] [autoattach] [kernel_btf BTF]"},
    {"pin", run_pin, "pin PROG FILE"},
    {"dump", run_prog_dump,
     "dump xlated PROG [{ file FILE | [opcodes] [linum] [visual] }]\n"
     "       corebpf prog dump jited PROG [{ file FILE | [opcodes] [linum] }]"},
    {"tracelog", run_prog_tracelog, "tracelog"},
    {"run", run_prog_run,
     "run PROG { data_in FILE | ctx_in FILE } [data_out FILE [data_size_out L]]\n"
     "                        [ctx_out FILE [ctx_size_out M]] [repeat N]"},
    {"attach", run_prog_attach, "attach PROG ATTACH_TYPE [MAP]"},
    // `prog d` stays dump, as bpftool users abbreviate it.
    {"detach", run_prog_detach, "detach PROG ATTACH_TYPE [MAP]", 2},
};

constexpr Object kProgObject = {
    "prog",
    kProgVerbs,
    "       PROG := { id PROG_ID | pinned FILE | name PROG_NAME | tag PROG_TAG }\n"
    "       TYPE := a SEC() name (xdp, tracepoint, socket...) or a program type (sched_cls...)\n"
    "       load pins the object's first program at FILE; loadall pins every program as DIR/NAME\n"
    "       and, with autoattach, attaches those whose SEC() names a target and pins their links\n"
    "       as DIR/NAME_link, so they stay attached after the command ends.\n"
    "       pinmaps DIR pins every map of the object as DIR/MAP_NAME. Maps declared with\n"
    "       LIBBPF_PIN_BY_NAME are pinned as /sys/fs/bpf/MAP_NAME (reused when there), as bpftool does.\n"
    "       kernel_btf BTF: CO-RE relocations against this BTF instead of the running kernel's.\n"
    "       dump xlated: the kernel's translated instructions with helper, kfunc, subprogram and map\n"
    "       names and the source lines (file:line with linum); visual prints a DOT control-flow graph.\n"
    "       dump jited: the native code per function (Capstone). file FILE writes the raw code.\n"
    "       MAP := { id MAP_ID | pinned FILE | name MAP_NAME }\n"
    "       ATTACH_TYPE := { sk_msg_verdict | sk_skb_verdict | sk_skb_stream_verdict |\n"
    "                        sk_skb_stream_parser | flow_dissector }\n"
    "       tracelog follows the kernel's trace_pipe (bpf_printk output) until Ctrl-C.\n"
    "       run: BPF_PROG_TEST_RUN on the bytes of FILE ('-': standard input); data_out and ctx_out\n"
    "       write the output to FILE, or hex-dump it with '-'. The out sizes default to the in sizes.\n"
    "       attach/detach: a sockmap/sockhash MAP for the sk_msg/sk_skb types; flow_dissector\n"
    "       attaches to the current network namespace (no MAP). The attachment stays until detached.\n",
};

}  // namespace

const Object& prog_object() { return kProgObject; }

}  // namespace corebpf::cli
