// `corebpf core ...`: CO-RE diagnostics. `core explain OBJ [btf PATH]` shows, for every program
// and relocation of an object, what it becomes on a kernel (the running one by default).
#include <algorithm>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "corebpf/core.hpp"
#include "corebpf/object_spec.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {
namespace {

constexpr std::string_view kRunningKernelBtf = "/sys/kernel/btf/vmlinux";

bool has_target_value(const core::ReloResult& r) { return r.status == core::Status::ok; }

void write_json(Context& context, std::span<const core::ProgramRelocations> programs) {
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, context.options.pretty);
  json.begin_object();
  json.key("programs");
  json.begin_array();
  for (const auto& program : programs) {
    json.begin_object();
    json.member("name", program.name);
    json.member("section", program.section);
    json.key("relocations");
    json.begin_array();
    for (const auto& r : program.relocations) {
      json.begin_object();
      json.member("insn", r.insn_index);
      json.member("kind", core::kind_name(r.kind));
      json.member("type", r.local_type_name);
      json.member("access", r.access);
      json.member("spec", r.spec);
      json.member("local", r.local_value);
      json.key("target");
      if (has_target_value(r)) {
        json.value(r.target_value);
      } else {
        json.null();
      }
      json.member("status", core::status_name(r.status));
      json.member("message", r.message);
      json.end_object();
    }
    json.end_array();
    json.end_object();
  }
  json.end_array();
  json.end_object();
  buffer.push_back('\n');
  context.out.write(std::string_view(buffer.data(), buffer.size()));
}

void write_text(Context& context, std::string_view object_path, std::string_view target_name,
                std::span<const core::ProgramRelocations> programs) {
  Output& out = context.out;
  out.print("{}: CO-RE relocations against {}\n", object_path, target_name);
  for (const auto& program : programs) {
    out.print("\nprogram {} ({}): {} relocation{}\n", program.name, program.section, program.relocations.size(),
              program.relocations.size() == 1 ? "" : "s");
    std::size_t spec_width = 0;
    std::size_t type_width = 0;
    for (const auto& r : program.relocations) {
      spec_width = std::max(spec_width, r.spec.size());
      type_width = std::max(type_width, r.local_type_name.size() + r.access.size() + 1);
    }
    for (const auto& r : program.relocations) {
      const std::string type_access = fmt::format("{} {}", r.local_type_name, r.access);
      std::string change;
      if (r.status == core::Status::ok) {
        change = r.local_value == r.target_value ? fmt::format("{}", r.local_value)
                                                 : fmt::format("{} -> {}", r.local_value, r.target_value);
      } else {
        change = fmt::format("{} -> {}", r.local_value, core::status_name(r.status));
      }
      out.print("  insn {:<5} {:<14} {:<{}}  {:<{}}  {}", r.insn_index, core::kind_name(r.kind), r.spec, spec_width,
                type_access, type_width, change);
      if (!r.message.empty()) out.print("  ({})", r.message);
      out.write("\n");
    }
  }
}

void run_explain(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"btf"};
  const std::string object_path(args.take("object file path"));
  std::string btf_path;
  if (!args.empty()) {
    args.take_keyword(keywords, "explain keyword");
    btf_path = std::string(args.take("target BTF file path"));
  }
  args.expect_end();

  ObjectSpec object = ObjectSpec::open(object_path);
  const bool running = btf_path.empty() || btf_path == kRunningKernelBtf;
  const core::Target target = running ? core::Target::running_kernel() : core::Target::from_file(btf_path);
  const auto results = core::relocate(object, target);
  if (context.options.json) {
    write_json(context, results);
  } else {
    write_text(context, object_path, running ? kRunningKernelBtf : std::string_view(btf_path), results);
  }
}

constexpr Verb kCoreVerbs[] = {
    {"explain", run_explain, "explain OBJ [btf FILE]"},
};

constexpr Object kCoreObject = {
    "core",
    kCoreVerbs,
    "       OBJ  := a BPF object file (clang -g -target bpf)\n"
    "       FILE := the target kernel's BTF: raw, vmlinux, or an ELF with .BTF (default: the running\n"
    "               kernel's /sys/kernel/btf/vmlinux, with its modules' BTF)\n",
};

}  // namespace

const Object& core_object() { return kCoreObject; }

}  // namespace corebpf::cli
