// `corebpf gen ...`: generated artifacts. `gen min_core_btf INPUT OUTPUT OBJ...` writes the part of
// a kernel's BTF that the objects' CO-RE relocations need (what BTFHub ships per kernel);
// `gen skeleton OBJ [name NAME] [type TYPE]...` writes an object's C++ skeleton header to stdout.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_docs.hpp"
#include "cli/commands.hpp"
#include "cli/gen_disasm.hpp"
#include "cli/output.hpp"
#include "cli/target_input.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/btf_archive.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/min_core_btf.hpp"
#include "corebpf/object_spec.hpp"
#include "corebpf/skeleton_gen.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"
#include "util/json_writer.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

struct MinCoreSummary {
  std::string output;
  std::size_t types = 0;
  std::size_t bytes = 0;
  std::size_t relocations = 0;
};

MinCoreSummary write_min_core_btf(const core::Target& target, const std::string& output_path,
                                  std::span<const ObjectSpec> objects) {
  const core::MinCoreBtf result = core::min_core_btf(target, objects);
  write_file(output_path, result.bytes);
  MinCoreSummary summary{output_path, result.input_ids.size() - 1, result.bytes.size(), result.relocation_count};
  std::size_t input_types = target.vmlinux().type_count() - 1;
  for (const auto& module : target.modules()) input_types += module.type_count() - module.first_id();
  util::log(LogLevel::info, "{}: {} of {} types ({} modules), {} bytes, for {} relocations", output_path, summary.types,
            input_types, target.modules().size(), summary.bytes, summary.relocations);
  return summary;
}

// DIR_IN DIR_OUT: every kernel of the archive DIR_IN (btf/btf_archive.hpp layouts) gets its
// minimal BTF at the same place under DIR_OUT (<release>.btf), kernels in parallel; a kernel's
// modules in the archive are part of its input, the output stays one standalone file.
std::vector<MinCoreSummary> min_core_btf_batch(const std::string& input_dir, const std::string& output_dir,
                                               std::span<const ObjectSpec> objects) {
  const auto entries = btf::scan_btf_archive(input_dir);
  if (entries.empty()) util::fail(std::errc::no_such_file_or_directory, "{}: no kernel BTF files in it", input_dir);
  std::vector<MinCoreSummary> summaries(entries.size());
  std::vector<std::string> errors(entries.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < entries.size(); i = next++) {
      try {
        const auto relative =
            std::filesystem::relative(std::filesystem::path(entries[i].path).parent_path(), input_dir);
        const auto dir = (std::filesystem::path(output_dir) / relative).lexically_normal();
        std::filesystem::create_directories(dir);
        const btf::Btf vmlinux = btf::Btf::load(entries[i].path);
        std::vector<btf::Btf> modules;
        for (const auto& module : entries[i].modules) {
          // A module built without BTF (or not on this vmlinux) has nothing for relocations, as
          // for the loader: noted and left out.
          try {
            modules.push_back(btf::Btf::load(module, {.base = &vmlinux}));
          } catch (const Error& e) {
            util::log(LogLevel::warning, "{}: module left out: {}", entries[i].release, e.message());
          }
        }
        const core::Target target(vmlinux, std::move(modules));
        summaries[i] = write_min_core_btf(target, (dir / (entries[i].release + ".btf")).string(), objects);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  {
    const unsigned threads =
        std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), static_cast<unsigned>(entries.size())));
    std::vector<std::jthread> pool;
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back(work);
  }
  for (const auto& error : errors)
    if (!error.empty()) throw Error(EINVAL, error);
  return summaries;
}

void run_min_core_btf(Context& context, Arguments& args) {
  const std::string input_path(args.take("input BTF file or archive directory"));
  const std::string output_path(args.take("output BTF file or directory"));
  std::vector<ObjectSpec> objects;
  std::vector<std::string> modules;
  do {
    if (args.peek() == "module") {
      args.take("module");
      modules.emplace_back(args.take("module BTF file path"));
    } else {
      objects.push_back(ObjectSpec::open(std::string(args.take("object file path"))));
    }
  } while (!args.empty());
  if (objects.empty()) throw UsageError("missing object file path");

  const bool batch = std::filesystem::is_directory(input_path);
  if (batch && (!modules.empty() || !context.options.base_btf.empty()))
    throw UsageError("'module' and -B apply to one kernel: an archive directory brings its kernels' modules");
  const std::vector<MinCoreSummary> summaries =
      batch ? min_core_btf_batch(input_path, output_path, objects)
            : std::vector<MinCoreSummary>{
                  write_min_core_btf(load_target(input_path, context.options.base_btf, modules), output_path, objects)};
  if (context.options.json) {
    fmt::memory_buffer buffer;
    util::JsonWriter json(buffer, context.options.pretty);
    if (batch) json.begin_array();
    for (const auto& summary : summaries) {
      json.begin_object();
      json.member("output", summary.output);
      json.member("types", summary.types);
      json.member("bytes", summary.bytes);
      json.member("relocations", summary.relocations);
      json.end_object();
    }
    if (batch) json.end_array();
    buffer.push_back('\n');
    context.out.write(std::string_view(buffer.data(), buffer.size()));
  }
}

void run_skeleton(Context& context, Arguments& args) {
  const std::string path(args.take("object file path"));
  SkeletonOptions options;
  static constexpr std::string_view kKeywords[] = {"name", "type", "btf_archive"};
  while (!args.empty()) {
    const auto keyword = args.take_keyword(kKeywords, "skeleton keyword");
    if (keyword == "name") {
      options.name = std::string(args.take("skeleton name"));
    } else if (keyword == "type") {
      options.types.emplace_back(args.take("type name"));
    } else {
      // A directory is an archive of kernels; a file is one kernel named by its file name.
      const std::string archive(args.take("BTF archive directory or file"));
      if (std::filesystem::is_directory(archive)) {
        for (const auto& entry : btf::scan_btf_archive(archive))
          options.btf_archive.emplace_back(entry.release, btf::Btf::load(entry.path));
      } else {
        options.btf_archive.emplace_back(btf::release_of_btf_file(archive), btf::Btf::load(archive));
      }
    }
  }
  const auto file = util::FileBytes::open(path);
  // The whole header is made before any of it is written, so an error leaves no partial output.
  std::string header;
  generate_skeleton(file.bytes(), path, options, [&](std::string_view chunk) { header.append(chunk); });
  context.out.write(header);
}

void run_completion(Context& context, Arguments& args) {
  static constexpr std::string_view shells[] = {"bash"};
  (void)args.take_keyword(shells, "shell");
  args.expect_end();
  context.out.write(bash_completion(context.objects));
}

void run_man(Context& context, Arguments& args) {
  const std::string directory(args.take("directory"));
  args.expect_end();
  for (const std::string& path : write_man_pages(context.objects, directory)) {
    if (!context.options.json) context.out.print("{}\n", path);
  }
}

constexpr Verb kGenVerbs[] = {
    {"min_core_btf", run_min_core_btf, "min_core_btf INPUT OUTPUT OBJECT [OBJECT...] [module MODULE]..."},
    {"skeleton", run_skeleton, "skeleton OBJECT [name NAME] [type TYPE]... [btf_archive ARCHIVE]..."},
    {"disasm", run_gen_disasm, "disasm OBJECT [prog NAME] [opcodes] [linum]"},
    {"completion", run_completion, "completion SHELL"},
    {"man", run_man, "man DIR"},
};

constexpr Object kGenObject = {
    "gen",
    kGenVerbs,
    "       INPUT  := a kernel's BTF: raw, vmlinux, or an ELF with .BTF; or a module's split BTF (.ko,\n"
    "                 /sys/kernel/btf/<module>, <release>/<module>.btf) on its base: -B FILE, else the\n"
    "                 vmlinux beside it (<release>.btf, vmlinux.btf); the output is standalone\n"
    "       MODULE := another module's split BTF on INPUT's vmlinux, its types kept as well\n"
    "       INPUT OUTPUT may be DIR_IN DIR_OUT: DIR_IN a BTF archive (BTFHub's\n"
    "                 <distro>/<version>/<arch>/<release>.btf, btf extract's output, <dir>/vmlinux.btf\n"
    "                 with <dir>/version); one minimal BTF per kernel at the same place in DIR_OUT,\n"
    "                 from the kernel and its modules in DIR_IN (<release>/*.btf, <dir>/*/*.ko)\n"
    "       OUTPUT := where the minimal raw BTF is written (the input's byte order)\n"
    "       OBJECT := a BPF object file (clang -g -target bpf) whose CO-RE relocations the output serves,\n"
    "                 or (skeleton) that the C++ header embeds\n"
    "       NAME   := the skeleton's C++ namespace (default: the object's file name up to its first '.')\n"
    "       TYPE   := a struct, union, enum or typedef of the object's BTF to generate as well\n"
    "       ARCHIVE := kernels' BTF for kernels without their own (a BTF archive directory, or one\n"
    "                 <release>.btf file): the skeleton embeds what the object's CO-RE relocations\n"
    "                 need of each and loads with it where /sys/kernel/btf/vmlinux is missing\n"
    "       disasm: the object's programs before loading (prog dump xlated's notation) with each\n"
    "                 CO-RE relocation, map, global variable, extern and subprogram named\n"
    "       SHELL  := { bash }: completion writes the completion script of the whole grammar\n"
    "       DIR    := where man writes corebpf.8 and one corebpf-OBJECT.8 page per object\n",
    "generate skeletons, minimal BTF, disassembly, completion and man pages",
};

}  // namespace

const Object& gen_object() { return kGenObject; }

}  // namespace corebpf::cli
