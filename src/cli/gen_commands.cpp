// `corebpf gen ...`: generated artifacts. `gen min_core_btf INPUT OUTPUT OBJ...` writes the part of
// a kernel's BTF that the objects' CO-RE relocations need (what BTFHub ships per kernel);
// `gen skeleton OBJ [name NAME] [type TYPE]...` writes an object's C++ skeleton header to stdout.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "corebpf/btf.hpp"
#include "corebpf/fd.hpp"
#include "corebpf/min_core_btf.hpp"
#include "corebpf/object_spec.hpp"
#include "corebpf/skeleton_gen.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"
#include "util/json_writer.hpp"
#include "util/log_format.hpp"

namespace corebpf::cli {
namespace {

void write_file(const std::string& path, std::span<const std::byte> bytes) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) util::fail_errno("{}: cannot create the output file", path);
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      util::fail_errno("{}: writing the output file", path);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

void run_min_core_btf(Context& context, Arguments& args) {
  const std::string input_path(args.take("input BTF file path"));
  const std::string output_path(args.take("output BTF file path"));
  std::vector<ObjectSpec> objects;
  do {
    objects.push_back(ObjectSpec::open(std::string(args.take("object file path"))));
  } while (!args.empty());

  const btf::Btf input = btf::Btf::load(input_path);
  const core::MinCoreBtf result = core::min_core_btf(input, objects);
  write_file(output_path, result.bytes);
  const std::size_t type_count = result.input_ids.size() - 1;
  util::log(LogLevel::info, "{}: {} of {} types, {} bytes, for {} relocations", output_path, type_count,
            input.type_count() - 1, result.bytes.size(), result.relocation_count);
  if (context.options.json) {
    fmt::memory_buffer buffer;
    util::JsonWriter json(buffer, context.options.pretty);
    json.begin_object();
    json.member("output", output_path);
    json.member("types", type_count);
    json.member("bytes", result.bytes.size());
    json.member("relocations", result.relocation_count);
    json.end_object();
    buffer.push_back('\n');
    context.out.write(std::string_view(buffer.data(), buffer.size()));
  }
}

void run_skeleton(Context& context, Arguments& args) {
  const std::string path(args.take("object file path"));
  SkeletonOptions options;
  static constexpr std::string_view kKeywords[] = {"name", "type"};
  while (!args.empty()) {
    const auto keyword = args.take_keyword(kKeywords, "skeleton keyword");
    if (keyword == "name")
      options.name = std::string(args.take("skeleton name"));
    else
      options.types.emplace_back(args.take("type name"));
  }
  const auto file = util::FileBytes::open(path);
  // The whole header is made before any of it is written, so an error leaves no partial output.
  std::string header;
  generate_skeleton(file.bytes(), path, options, [&](std::string_view chunk) { header.append(chunk); });
  context.out.write(header);
}

constexpr Verb kGenVerbs[] = {
    {"min_core_btf", run_min_core_btf, "min_core_btf INPUT OUTPUT OBJECT [OBJECT...]"},
    {"skeleton", run_skeleton, "skeleton OBJECT [name NAME] [type TYPE]..."},
};

constexpr Object kGenObject = {
    "gen",
    kGenVerbs,
    "       INPUT  := a kernel's BTF: raw, vmlinux, or an ELF with .BTF\n"
    "       OUTPUT := where the minimal raw BTF is written (the input's byte order)\n"
    "       OBJECT := a BPF object file (clang -g -target bpf) whose CO-RE relocations the output serves,\n"
    "                 or (skeleton) that the C++ header embeds\n"
    "       NAME   := the skeleton's C++ namespace (default: the object's file name up to its first '.')\n"
    "       TYPE   := a struct, union, enum or typedef of the object's BTF to generate as well\n",
};

}  // namespace

const Object& gen_object() { return kGenObject; }

}  // namespace corebpf::cli
