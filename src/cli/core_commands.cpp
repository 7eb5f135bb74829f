// `corebpf core ...`: CO-RE diagnostics. `core explain OBJ [btf PATH]` shows, for every program
// and relocation of an object, what it becomes on a kernel (the running one by default); `core
// check OBJ... [kernels DIR|FILE...]` predicts, program by program, whether objects load on a set
// of kernels and why not.
#include <sys/utsname.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/target_input.hpp"
#include "corebpf/btf_archive.hpp"
#include "corebpf/core.hpp"
#include "corebpf/core_check.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/log.hpp"
#include "corebpf/object_spec.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"
#include "util/json_writer.hpp"
#include "util/log_format.hpp"

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
  static constexpr std::string_view keywords[] = {"btf", "module"};
  const std::string object_path(args.take("object file path"));
  std::string btf_path;
  std::vector<std::string> modules;
  while (!args.empty()) {
    if (args.take_keyword(keywords, "explain keyword") == "btf") {
      if (!btf_path.empty()) throw UsageError("'btf' given twice");
      btf_path = std::string(args.take("target BTF file path"));
    } else {
      modules.emplace_back(args.take("module BTF file path"));
    }
  }
  if (!modules.empty() && btf_path.empty())
    throw UsageError("'module' needs 'btf FILE': the running kernel's modules are read from /sys/kernel/btf");

  ObjectSpec object = ObjectSpec::open(object_path);
  const bool running = btf_path.empty() || btf_path == kRunningKernelBtf;
  // A file is the whole kernel, as libbpf's btf_custom_path: no modules unless named (or the file
  // is a module's split BTF, whose base is then the vmlinux).
  const core::Target target =
      running ? core::Target::running_kernel() : load_target(btf_path, context.options.base_btf, modules);
  const auto results = core::relocate(object, target);
  if (context.options.json) {
    write_json(context, results);
  } else {
    write_text(context, object_path, running ? kRunningKernelBtf : std::string_view(btf_path), results);
  }
}

// ---- core check ----

std::map<std::string, std::string, std::less<>> read_config(const std::string& path) {
  if (path.empty()) return {};
  const auto bytes = util::FileBytes::open(path);
  return kernel::parse_kconfig(
      std::string_view(reinterpret_cast<const char*>(bytes.bytes().data()), bytes.bytes().size()));
}

core::CheckKernel archived_kernel(const btf::ArchiveEntry& entry) {
  return core::describe_kernel(entry.release, entry.release, btf::Btf::load(entry.path), read_config(entry.config));
}

// The running kernel as the loader sees it (config, kallsyms, vmlinux BTF); none without
// /sys/kernel/btf/vmlinux.
std::optional<core::CheckKernel> running_kernel() {
  std::error_code ec;
  if (std::filesystem::file_size(kRunningKernelBtf, ec) == 0 || ec) return std::nullopt;
  core::CheckKernel kernel;
  utsname names{};
  ::uname(&names);
  kernel.name = std::string(names.release) + " (running)";
  kernel.description = kernel::running_kernel_description();
  kernel.kallsyms_known = true;
  return kernel;
}

std::vector<core::CheckKernel> load_kernels(const std::vector<std::string>& sources) {
  std::vector<btf::ArchiveEntry> entries;
  for (const auto& source : sources) {
    std::error_code ec;
    if (std::filesystem::is_directory(source, ec)) {
      auto found = btf::scan_btf_archive(source);
      if (found.empty()) util::fail(std::errc::no_such_file_or_directory, "{}: no kernel BTF files in it", source);
      entries.insert(entries.end(), found.begin(), found.end());
    } else {
      btf::ArchiveEntry entry;
      entry.path = source;
      entry.release = btf::release_of_btf_file(source);
      entries.push_back(std::move(entry));
    }
  }
  // BTF parsing dominates for many kernels: spread it like the checks.
  std::vector<std::optional<core::CheckKernel>> loaded(entries.size());
  std::vector<std::string> errors(entries.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < entries.size(); i = next++) {
      try {
        loaded[i] = archived_kernel(entries[i]);
      } catch (const Error& e) {
        errors[i] = e.message();
      }
    }
  };
  {
    const unsigned threads =
        std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), static_cast<unsigned>(entries.size())));
    std::vector<std::jthread> pool;
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back(work);
  }
  std::vector<core::CheckKernel> kernels;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!errors[i].empty()) throw Error(EINVAL, errors[i]);
    kernels.push_back(std::move(*loaded[i]));
  }
  return kernels;
}

void write_finding_json(util::JsonWriter& json, const core::Finding& f) {
  json.begin_object();
  json.member("kind", core::finding_kind_name(f.kind));
  json.member("fatal", f.fatal);
  json.member("guarded", f.guarded);
  json.key("insn");
  if (f.insn) {
    json.value(*f.insn);
  } else {
    json.null();
  }
  json.member("text", f.text);
  json.end_object();
}

void write_check_json(Context& context, std::span<const core::CheckKernel> kernels, std::span<const ObjectSpec> objects,
                      const std::vector<std::vector<core::ObjectCheck>>& results) {
  fmt::memory_buffer buffer;
  util::JsonWriter json(buffer, context.options.pretty);
  json.begin_object();
  json.key("kernels");
  json.begin_array();
  for (const auto& k : kernels) json.value(k.name);
  json.end_array();
  json.key("objects");
  json.begin_array();
  for (std::size_t o = 0; o < objects.size(); ++o) {
    json.begin_object();
    json.member("object", objects[o].source());
    json.key("programs");
    json.begin_array();
    for (std::size_t p = 0; p < objects[o].programs().size(); ++p) {
      json.begin_object();
      json.member("name", objects[o].programs()[p].name());
      json.member("section", objects[o].programs()[p].section());
      json.key("kernels");
      json.begin_array();
      for (std::size_t k = 0; k < kernels.size(); ++k) {
        const auto& program = results[k][o].programs[p];
        json.begin_object();
        json.member("kernel", kernels[k].name);
        json.member("verdict", core::verdict_name(program.verdict));
        json.key("findings");
        json.begin_array();
        for (const auto& f : program.findings) write_finding_json(json, f);
        json.end_array();
        json.end_object();
      }
      json.end_array();
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

void write_check_text(Context& context, std::span<const core::CheckKernel> kernels, std::span<const ObjectSpec> objects,
                      const std::vector<std::vector<core::ObjectCheck>>& results) {
  Output& out = context.out;
  // The matrix: one row per object and program, one column per kernel.
  std::size_t row_width = 0;
  for (const auto& object : objects)
    for (const auto& program : object.programs())
      row_width = std::max(
          row_width, std::filesystem::path(object.source()).filename().string().size() + 1 + program.name().size());
  out.print("{:<{}}", "", row_width);
  for (const auto& k : kernels) out.print("  {}", k.name);
  out.write("\n");
  for (std::size_t o = 0; o < objects.size(); ++o) {
    const std::string file = std::filesystem::path(objects[o].source()).filename().string();
    for (std::size_t p = 0; p < objects[o].programs().size(); ++p) {
      out.print("{:<{}}", file + " " + objects[o].programs()[p].name(), row_width);
      for (std::size_t k = 0; k < kernels.size(); ++k)
        out.print("  {:<{}}", core::verdict_short_name(results[k][o].programs[p].verdict), kernels[k].name.size());
      out.write("\n");
    }
  }
  // The reasons, per cell that is not a plain "loads".
  bool header = false;
  for (std::size_t o = 0; o < objects.size(); ++o) {
    const std::string file = std::filesystem::path(objects[o].source()).filename().string();
    for (std::size_t k = 0; k < kernels.size(); ++k) {
      const auto& result = results[k][o];
      for (const auto& program : result.programs) {
        bool any = false;
        for (const auto& f : program.findings) any = any || f.fatal || f.guarded;
        if (!any && program.verdict == core::Verdict::loads) {
          for (const auto& f : program.findings) any = any || f.kind == core::FindingKind::note;
          if (!any) continue;
        }
        if (!header) {
          out.write("\n");
          header = true;
        }
        out.print("{} {} on {}: {}\n", file, program.name, kernels[k].name, core::verdict_name(program.verdict));
        for (const auto& f : program.findings) {
          const std::string_view mark = f.fatal ? "fails" : f.guarded ? "guarded" : "note";
          if (f.insn) {
            out.print("  {:<7} insn {}: {}\n", mark, *f.insn, f.text);
          } else {
            out.print("  {:<7} {}\n", mark, f.text);
          }
        }
      }
    }
  }
}

void run_check(Context& context, Arguments& args) {
  std::vector<ObjectSpec> objects;
  std::vector<std::string> sources;
  bool kernels_given = false;
  do {
    const std::string_view word = args.take("object file path");
    if (word == "kernels") {
      kernels_given = true;
      break;
    }
    objects.push_back(ObjectSpec::open(std::string(word)));
  } while (!args.empty());
  if (objects.empty()) throw UsageError("core check: missing object file path");
  if (kernels_given) {
    do {
      sources.emplace_back(args.take("kernel BTF directory or file"));
    } while (!args.empty());
  } else if (const char* env = std::getenv("COREBPF_KERNELS"); env != nullptr && *env != '\0') {
    std::string_view list(env);
    while (!list.empty()) {
      const auto colon = list.find(':');
      if (colon != 0) sources.emplace_back(list.substr(0, colon));
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
  }
  args.expect_end();

  std::vector<core::CheckKernel> kernels;
  if (auto running = running_kernel()) kernels.push_back(std::move(*running));
  auto archived = load_kernels(sources);
  for (auto& k : archived) kernels.push_back(std::move(k));
  if (kernels.empty())
    util::fail(std::errc::no_such_file_or_directory,
               "core check: no kernels: {} is missing and neither `kernels DIR|FILE` nor COREBPF_KERNELS names any",
               kRunningKernelBtf);

  const auto start = std::chrono::steady_clock::now();
  const auto results = core::check_all(objects, kernels);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  util::log(LogLevel::info, "core check: {} object(s) x {} kernel(s) in {:.3f} s", objects.size(), kernels.size(),
            seconds);
  if (context.options.json) {
    write_check_json(context, kernels, objects, results);
  } else {
    write_check_text(context, kernels, objects, results);
  }
}

constexpr Verb kCoreVerbs[] = {
    {"explain", run_explain, "explain OBJ [btf FILE [module MODULE]...]"},
    {"check", run_check, "check OBJ... [kernels KERNELS...]"},
};

constexpr Object kCoreObject = {
    "core",
    kCoreVerbs,
    "       OBJ  := a BPF object file (clang -g -target bpf)\n"
    "       FILE := the target kernel's BTF: raw, vmlinux, or an ELF with .BTF (default: the running\n"
    "               kernel's /sys/kernel/btf/vmlinux, with its modules' BTF); a module's split BTF on its\n"
    "               base (-B FILE, else the vmlinux beside it) is that kernel with that module\n"
    "       MODULE := a module's split BTF on FILE, searched when FILE has no candidate (as the loader)\n"
    "       KERNELS := BTF files or directories of them (BTFHub's <distro>/<version>/<arch>/<release>.btf,\n"
    "               `btf extract` output, <dir>/vmlinux.btf with <dir>/version); default: COREBPF_KERNELS\n"
    "               (colon-separated). The running kernel is always checked too.\n",
};

}  // namespace

const Object& core_object() { return kCoreObject; }

}  // namespace corebpf::cli
