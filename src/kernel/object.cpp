#include "corebpf/object.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "corebpf/core.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/link.hpp"
#include "kernel/attachment.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/btf_sanitize.hpp"
#include "kernel/prog_load.hpp"
#include "kernel/verifier_log.hpp"
#include "util/error_format.hpp"
#include "util/log_format.hpp"
#include "util/mapped_region.hpp"

namespace corebpf {
namespace {

// How much of a rejected program's verifier log goes into the error message: the end, where
// the verifier says why it stopped.
constexpr std::size_t kLogTailLines = 20;

std::string log_tail(std::string_view log) {
  while (!log.empty() && (log.back() == '\n' || log.back() == '\0')) log.remove_suffix(1);
  std::size_t start = log.size();
  for (std::size_t lines = 0; start > 0 && lines < kLogTailLines;) {
    --start;
    if (log[start] == '\n' && ++lines == kLogTailLines) {
      ++start;
      break;
    }
  }
  return std::string(log.substr(start));
}

bool is_global_data(MapOrigin origin) noexcept {
  return origin == MapOrigin::data || origin == MapOrigin::rodata || origin == MapOrigin::bss ||
         origin == MapOrigin::kconfig;
}

bool is_frozen(MapOrigin origin) noexcept { return origin == MapOrigin::rodata || origin == MapOrigin::kconfig; }

std::size_t page_rounded(std::size_t size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (size + page - 1) / page * page;
}

// libbpf's documented adjustments of a declared map, which objects written for it rely on: a perf
// event array without max_entries gets one slot per possible CPU, and a (user) ring buffer's size
// is rounded up to a power-of-two multiple of the page size. Pinned maps are compared with the
// adjusted definition, the one a load would create.
MapDefinition effective_definition(MapDefinition definition) {
  if (definition.type == MapType::perf_event_array && definition.max_entries == 0) {
    definition.max_entries = possible_cpus();
  } else if ((definition.type == MapType::ringbuf || definition.type == MapType::user_ringbuf) &&
             definition.max_entries != 0) {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t wanted = definition.max_entries;
    const bool valid = wanted % page == 0 && (wanted & (wanted - 1)) == 0;
    if (!valid) {
      std::uint64_t size = page;
      while (size < wanted && size <= std::numeric_limits<std::uint32_t>::max() / 2) size *= 2;
      // Past 2 GiB it stays as declared and the kernel says why.
      if (size >= wanted) definition.max_entries = static_cast<std::uint32_t>(size);
    }
  }
  return definition;
}

std::span<const std::byte> bytes_of(const std::uint32_t& value) {
  return std::as_bytes(std::span<const std::uint32_t, 1>(&value, 1));
}

// What a struct_ops map is in the running kernel: the value type the map holds (struct
// bpf_struct_ops_<name>, wrapping `data`, the struct itself) and, per program a member names,
// that member's index in the kernel's struct (the program's expected_attach_type at load).
struct StructOpsLayout {
  btf::TypeId kernel_struct_id = 0;
  btf::TypeId value_type_id = 0;
  std::uint32_t value_size = 0;
  std::uint32_t data_offset = 0;                      // of `data` in the value
  std::map<std::size_t, std::uint32_t> member_index;  // program index -> kernel member index
  std::vector<std::byte> value;                       // built once the programs are loaded
};

// Unregisters a struct_ops map without BPF_F_LINK: deleting its only element. Holds its own
// duplicate of the map fd so the Link outlives the Object.
class StructOpsRegistration final : public detail::Attachment {
 public:
  StructOpsRegistration(UniqueFd map, std::string description)
      : Attachment(std::move(description)), map_(std::move(map)) {}
  ~StructOpsRegistration() override {
    if (map_ && erase() != 0)
      util::log(LogLevel::warning, "{}: unregistering failed: {}", description(), std::strerror(errno));
  }
  void detach() override {
    if (erase() != 0) util::fail_errno("{}: unregistering", description());
    map_.reset();
  }
  bool disconnect() noexcept override {
    map_.reset();
    return true;
  }

 private:
  long erase() const noexcept {
    const std::uint32_t key = 0;
    bpf_attr attr = kernel::detail::zeroed_attr();
    attr.map_fd = static_cast<std::uint32_t>(map_.get());
    attr.key = reinterpret_cast<std::uintptr_t>(&key);
    return kernel::detail::bpf_call(BPF_MAP_DELETE_ELEM, attr);
  }
  UniqueFd map_;
};

}  // namespace

constexpr const char* kRunningVmlinuxBtf = "/sys/kernel/btf/vmlinux";

// Whether the running kernel shows its BTF (a hidden or empty file means no: the archive serves).
bool running_kernel_has_btf() {
  std::error_code ec;
  return std::filesystem::file_size(kRunningVmlinuxBtf, ec) > 0 && !ec;
}

struct Object::State {
  ObjectSpec spec;
  ObjectOptions options;
  bool loaded = false;
  // Parallel to spec.maps() / spec.programs() from open(): empty handles that load() fills in
  // place, so references taken before load (skeletons bind theirs at open) stay valid.
  std::vector<Map> maps;
  std::vector<Program> programs;
  std::vector<std::string> logs;
  std::vector<util::MappedRegion> regions;  // parallel to maps; empty when not mapped
  UniqueFd btf_fd;
  // The kernel the externs were resolved against, and the BTF fds of the modules they were found
  // in (by index in its module_btfs), held through the program loads that name them.
  const KernelDescription* kernel_description = nullptr;
  std::optional<KernelDescription> own_description;  // when the load needs kernel config values
  std::map<int, UniqueFd> module_btf_fds;
  // Pins this load made, removed again if the load fails.
  std::vector<std::string> new_pins;

  State(ObjectSpec s, ObjectOptions o) : spec(std::move(s)), options(std::move(o)) {
    maps.resize(spec.maps().size());
    programs.resize(spec.programs().size());
  }

  std::string what() const { return fmt::format("object '{}'", spec.name()); }

  void release() noexcept {
    regions.clear();
    for (auto& program : programs) program = Program();
    for (auto& map : maps) map = Map();
    logs.clear();
    btf_fd.reset();
    module_btf_fds.clear();
    struct_ops.clear();
    for (const auto& pin : new_pins) ::unlink(pin.c_str());
    new_pins.clear();
  }

  // Every name this load will look up in the running kernel's BTF (CO-RE roots, typed ksyms and
  // kfuncs, attach targets, struct_ops values), found in one scan of it rather than a scan or an
  // index of the whole BTF per name. Nothing is read when the load needs no kernel BTF.
  void prefetch_kernel_names() const {
    std::vector<std::string> names;  // owned: some are built (btf_trace_..., bpf_struct_ops_...)
    std::vector<btf::NameScope> scopes;
    auto want = [&](std::string name, btf::NameScope scope) {
      names.push_back(std::move(name));
      scopes.push_back(scope);
    };
    const auto& local = spec.btf();
    for (const ProgramSpec& program : spec.programs()) {
      if (!program.autoload()) continue;
      if (local && options.target_btf.empty()) {
        for (const core::ReloRecord& relo : program.core_relos())
          if (const auto type = local->try_type(relo.type_id); type && !type->name().empty())
            want(std::string(core::core_essential_name(type->name())), btf::NameScope::types);
      }
      if (program.type() != ProgramType::struct_ops && program.type() != ProgramType::ext &&
          program.attach_target_is_btf() && program.attach_btf_module().empty()) {
        want(program.attach_btf_name(), program.expected_attach_type() == AttachType::trace_raw_tp
                                            ? btf::NameScope::types
                                            : btf::NameScope::symbols);
      }
    }
    for (const ExternSpec& ext : spec.externs())
      if (ext.kind == ExternKind::ksym_typed || ext.kind == ExternKind::kfunc) want(ext.name, btf::NameScope::symbols);
    for (const MapSpec& map : spec.maps())
      if (map.type() == MapType::struct_ops)
        want("bpf_struct_ops_" + map.struct_ops_type_name(), btf::NameScope::types);
    if (names.empty()) return;
    // A kernel without BTF (its file hidden or empty: the archive serves CO-RE) has nothing to
    // scan; and a prefetch never fails a load: the lookups it serves report their own errors.
    if (!running_kernel_has_btf()) return;
    try {
      const auto& vmlinux = kernel::running_vmlinux_btf();
      if (!vmlinux) return;
      std::vector<btf::NameQuery> queries;
      queries.reserve(names.size());
      for (std::size_t i = 0; i < names.size(); ++i) queries.push_back({names[i], scopes[i]});
      vmlinux->prefetch_names(queries);
    } catch (const Error&) {
    }
  }

  void relocate() {
    const bool has_relocations = std::any_of(spec.programs().begin(), spec.programs().end(),
                                             [](const ProgramSpec& p) { return !p.core_relos().empty(); });
    if (!has_relocations) return;
    const core::Target target = relocation_target();
    relocations = core::relocate(spec, target);
    log_relocations();
    core::check_relocations(spec, relocations);
  }

  // target_btf, else the running kernel's BTF, else (a kernel without BTF) the archive's BTF
  // for this release.
  core::Target relocation_target() const {
    if (!options.target_btf.empty()) return core::Target::from_file(options.target_btf);
    const bool has_archive = !options.btf_archive.empty() || !options.embedded_btf_archive.kernels.empty();
    const bool kernel_has_btf = running_kernel_has_btf();
    if (!has_archive || kernel_has_btf) {
      // The running kernel's vmlinux BTF is read once per process and shared with attach
      // targets, struct_ops and externs.
      const auto& vmlinux = kernel::running_vmlinux_btf();
      return vmlinux ? core::Target::running_kernel(*vmlinux) : core::Target::running_kernel();
    }
    const auto& release = kernel::running_kernel_release();
    btf::Btf btf = options.btf_archive.empty() ? btf::btf_from_archive(options.embedded_btf_archive, release)
                                               : btf::btf_from_archive(options.btf_archive, release);
    util::log(LogLevel::debug, "{}: the kernel has no BTF; relocating against {} from the BTF archive", what(),
              btf.source_name());
    return core::Target(std::move(btf));
  }

  // What the object holds, before anything is loaded: the sections' programs and the maps.
  void log_contents() const {
    if (!log_enabled(LogLevel::debug)) return;
    for (const ProgramSpec& program : spec.programs()) {
      util::log(LogLevel::debug, "{}: program '{}' in section {}: {}, {} insns, {} CO-RE relocation{}{}", what(),
                program.name(), program.section(), program_type_name(program.type()), program.insns().size(),
                program.core_relos().size(), program.core_relos().size() == 1 ? "" : "s",
                program.autoload() ? "" : " (not loaded: autoload off)");
    }
    for (const MapSpec& spec_map : spec.maps()) {
      util::log(LogLevel::debug, "{}: map '{}' in section {}: {}", what(), spec_map.name(), spec_map.section(),
                map_type_name(spec_map.definition().type));
    }
  }

  // What each CO-RE relocation became, for `corebpf -d` and other debug log readers.
  void log_relocations() const {
    if (!log_enabled(LogLevel::debug)) return;
    const std::string against = options.target_btf.empty() ? std::string("the running kernel") : options.target_btf;
    for (const auto& program : relocations) {
      util::log(LogLevel::debug, "{}: program '{}': {} CO-RE relocation{} against {}", what(), program.name,
                program.relocations.size(), program.relocations.size() == 1 ? "" : "s", against);
      for (const auto& r : program.relocations) {
        std::string outcome = r.status == core::Status::ok ? fmt::format("{} -> {}", r.local_value, r.target_value)
                                                           : std::string(core::status_name(r.status));
        if (!r.message.empty()) outcome += fmt::format(" ({})", r.message);
        util::log(LogLevel::debug, "{}: program '{}': CO-RE relocation insn {} {} {}: {}", what(), program.name,
                  r.insn_index, core::kind_name(r.kind), r.spec, outcome);
      }
    }
  }

  void load_btf() {
    if (!spec.btf()) return;
    std::vector<std::string> hidden;
    for (const auto& program : spec.programs())
      for (const auto& function : program.functions())
        if (function.hidden && std::find(hidden.begin(), hidden.end(), function.name) == hidden.end())
          hidden.push_back(function.name);
    auto raw =
        kernel::detail::sanitize_btf(*spec.btf(), spec.maps(), kernel::detail::BtfSupport::running_kernel(), hidden);
    append_line_strings(raw);
    auto outcome = kernel::detail::load_btf(raw);
    if (!outcome.fd) {
      // As libbpf does: the programs and maps still load, only without BTF (no pretty printing,
      // no func/line info in the kernel).
      util::log(LogLevel::debug, "{}: BTF rejected ({}), loading without it:\n{}", what(),
                std::generic_category().message(outcome.error), outcome.log);
      return;
    }
    btf_fd = std::move(outcome.fd);
  }

  // The sanitizer rebuilds the string section from the types alone, so the file names and source
  // lines line_info points at are appended to it here (when it ends the blob, as it does) and
  // line_info offsets are translated through line_strings.
  void append_line_strings(std::vector<std::byte>& raw) {
    line_strings.clear();
    struct Header {
      std::uint16_t magic;
      std::uint8_t version;
      std::uint8_t flags;
      std::uint32_t header_length;
      std::uint32_t type_offset;
      std::uint32_t type_length;
      std::uint32_t string_offset;
      std::uint32_t string_length;
    } header{};
    if (raw.size() < sizeof(header)) return;
    std::memcpy(&header, raw.data(), sizeof(header));
    if (std::size_t{header.header_length} + header.string_offset + header.string_length != raw.size()) return;
    const auto add = [&](std::uint32_t old_offset, std::string_view text) {
      if (line_strings.contains(old_offset)) return;
      line_strings[old_offset] = header.string_length;
      const auto* bytes = reinterpret_cast<const std::byte*>(text.data());
      raw.insert(raw.end(), bytes, bytes + text.size());
      raw.push_back(std::byte{0});
      header.string_length += static_cast<std::uint32_t>(text.size() + 1);
    };
    for (const ProgramSpec& program : spec.programs()) {
      for (const LineInfo& line : program.line_info()) {
        add(line.file_name_offset, line.file_name);
        add(line.line_offset, line.line_text);
      }
    }
    std::memcpy(raw.data(), &header, sizeof(header));
  }

  MapCreateOptions create_options(const MapSpec& spec_map, const MapDefinition& definition, std::string name) const {
    MapCreateOptions create;
    create.name = std::move(name);
    create.type = definition.type;
    create.key_size = definition.key_size;
    create.value_size = definition.value_size;
    create.max_entries = definition.max_entries;
    create.flags = definition.flags;
    if (definition.flags & BPF_F_NUMA_NODE) create.numa_node = definition.numa_node;
    create.map_extra = definition.map_extra;
    if (is_global_data(spec_map.origin()) && !kernel::has_mmapable_arrays()) create.flags &= ~kMapFlagMmapable;
    // The kernel checks BTF ids only together with a value type (a map-in-map has none).
    if (btf_fd && definition.btf_value_type_id != 0) {
      create.btf_fd = btf_fd.get();
      create.btf_key_type_id = definition.btf_key_type_id;
      create.btf_value_type_id = definition.btf_value_type_id;
    }
    return create;
  }

  // A pinned map reused by name must be the map this object describes.
  void check_pinned(const MapSpec& spec_map, const Map& pinned, const std::string& path) const {
    const auto want = effective_definition(spec_map.definition());
    const auto differs = [&](std::string_view property, std::uint64_t have, std::uint64_t wanted) {
      if (have != wanted) {
        util::fail(std::errc::invalid_argument, "{}: map '{}': the map pinned at {} differs in {} ({} there, {} here)",
                   what(), spec_map.name(), path, property, have, wanted);
      }
    };
    differs("type", static_cast<std::uint32_t>(pinned.type()), static_cast<std::uint32_t>(want.type));
    differs("key size", pinned.key_size(), want.key_size);
    differs("value size", pinned.value_size(), want.value_size);
    differs("max entries", pinned.max_entries(), want.max_entries);
    differs("flags", pinned.info().flags, want.flags);
  }

  std::optional<std::string> pin_path(const MapSpec& spec_map) const {
    if (spec_map.pinning() != Pinning::by_name || options.pin_root.empty()) return std::nullopt;
    return options.pin_root + "/" + spec_map.name();
  }

  void create_maps() {
    for (std::size_t index = 0; index < maps.size(); ++index) {
      const MapSpec& spec_map = spec.maps()[index];
      const auto pin = pin_path(spec_map);
      if (pin && std::filesystem::exists(*pin)) {
        Map pinned = Map::open_pinned(*pin);
        check_pinned(spec_map, pinned, *pin);
        util::log(LogLevel::debug, "{}: map '{}' reuses the map pinned at {} (id {})", what(), spec_map.name(), *pin,
                  pinned.info().id);
        maps[index] = std::move(pinned);
        continue;
      }
      maps[index] = create_map(spec_map);
      if (pin) {
        maps[index].pin(*pin);
        new_pins.push_back(*pin);
      }
    }
  }

  // Some map types (sockmap, sockhash, fd arrays, devmaps...) take no BTF for key and value and
  // refuse it with ENOTSUPP; older kernels refuse BTF they cannot check (EINVAL), and a global
  // data section without variables (only clang's private constants) has no DATASEC a keyless
  // array could take. As libbpf does, such a map is created again without BTF: it works the same,
  // only without typed dumps.
  Map create_or_without_btf(MapCreateOptions& create, const std::string& name) const {
    try {
      return Map::create(create);
    } catch (const Error& e) {
      // Only what says "this BTF": not ENOMEM, EPERM or E2BIG, which a retry would only repeat.
      const int error = e.errno_value();
      const bool btf_refused = error == EINVAL || error == EOPNOTSUPP || error == uapi::kEnotsupp;
      if (create.btf_fd < 0 || create.type == MapType::struct_ops || !btf_refused) throw;
      util::log(LogLevel::debug, "{}: map '{}': the kernel refused its BTF ({}); created without", what(), name,
                e.message());
      create.btf_fd = -1;
      create.btf_key_type_id = 0;
      create.btf_value_type_id = 0;
      return Map::create(create);
    }
  }

  // The kernel's side of a struct_ops map, looked up in vmlinux BTF by the struct's name.
  StructOpsLayout struct_ops_layout(const MapSpec& spec_map) const {
    const auto& type_name = spec_map.struct_ops_type_name();
    const auto where = [&] { return fmt::format("{}: struct_ops map '{}'", what(), spec_map.name()); };
    if (!kernel::running_vmlinux_btf())
      util::fail(std::errc::not_supported, "{}: no vmlinux BTF to find struct {} in", where(), type_name);
    const auto& vmlinux = *kernel::running_vmlinux_btf();
    const auto value = vmlinux.find("bpf_struct_ops_" + type_name, btf::Kind::Struct);
    if (!value)
      util::fail(std::errc::not_supported, "{}: the kernel has no struct_ops type '{}' (no struct bpf_struct_ops_{})",
                 where(), type_name, type_name);
    StructOpsLayout layout;
    layout.value_type_id = value->id();
    layout.value_size = value->size();
    for (const auto member : value->members()) {
      if (member.name() != "data") continue;
      layout.kernel_struct_id = vmlinux.resolve(member.type()).id();
      layout.data_offset = member.bit_offset() / 8;
    }
    if (layout.kernel_struct_id == 0)
      util::fail(std::errc::not_supported, "{}: struct bpf_struct_ops_{} has no 'data' member", where(), type_name);
    const auto kernel_struct = vmlinux.type(layout.kernel_struct_id);
    for (const auto& used : spec_map.struct_ops_members()) {
      std::uint32_t index = 0;
      bool found = false;
      for (const auto member : kernel_struct.members()) {
        if (member.name() == used.member) {
          found = true;
          break;
        }
        ++index;
      }
      if (!found)
        util::fail(std::errc::not_supported, "{}: member '{}' (program '{}') is not in the kernel's struct {}", where(),
                   used.member, used.program, type_name);
      layout.member_index[used.program_index] = index;
    }
    return layout;
  }

  // A struct_ops map holds the kernel's value type, named by its vmlinux BTF id; the kernel still
  // wants the object's BTF with it (and no key or value type of its own).
  Map create_struct_ops_map(const MapSpec& spec_map, std::size_t index) {
    auto layout = struct_ops_layout(spec_map);
    if (!btf_fd)
      util::fail(std::errc::not_supported, "{}: struct_ops map '{}' needs the object's BTF, which the kernel refused",
                 what(), spec_map.name());
    MapCreateOptions create;
    create.name = spec_map.name();
    create.type = MapType::struct_ops;
    create.key_size = 4;
    create.value_size = layout.value_size;
    create.max_entries = 1;
    create.flags = spec_map.flags();
    create.btf_fd = btf_fd.get();
    create.btf_vmlinux_value_type_id = layout.value_type_id;
    Map map;
    try {
      map = Map::create(create);
    } catch (const Error& e) {
      throw Error(e.errno_value(), fmt::format("{}: creating struct_ops map '{}' (struct {}): {}", what(),
                                               spec_map.name(), spec_map.struct_ops_type_name(), e.message()));
    }
    util::log(LogLevel::debug, "{}: struct_ops map '{}' created: struct {}, value {}B{} (id {})", what(),
              spec_map.name(), spec_map.struct_ops_type_name(), layout.value_size,
              (spec_map.flags() & kMapFlagLink) ? ", for a link" : "", map.info().id);
    struct_ops[index] = std::move(layout);
    return map;
  }

  // The struct_ops struct and member a program implements: its attach_btf_id and
  // expected_attach_type at load.
  std::optional<std::pair<btf::TypeId, std::uint32_t>> struct_ops_target(std::size_t program_index) const {
    std::optional<std::pair<btf::TypeId, std::uint32_t>> target;
    for (const auto& [map_index, layout] : struct_ops) {
      const auto found = layout.member_index.find(program_index);
      if (found == layout.member_index.end()) continue;
      const std::pair<btf::TypeId, std::uint32_t> here{layout.kernel_struct_id, found->second};
      if (target && *target != here)
        util::fail(std::errc::invalid_argument,
                   "{}: struct_ops program '{}' is used for different members or structs; one program serves one "
                   "member",
                   what(), spec.programs()[program_index].name());
      target = here;
    }
    return target;
  }

  // The kernel struct's bytes, member by member by name from the object's struct (whose layout
  // may differ): function pointers become program fds, other members are copied when their sizes
  // agree. A member the kernel lacks must be zero in the object.
  void build_struct_ops_values() {
    if (struct_ops.empty()) return;  // nothing needs vmlinux BTF (which may be absent)
    const auto& vmlinux = *kernel::running_vmlinux_btf();
    const auto& local = *spec.btf();
    for (auto& [map_index, layout] : struct_ops) {
      const MapSpec& spec_map = spec.maps()[map_index];
      const auto where = [&] { return fmt::format("{}: struct_ops map '{}'", what(), spec_map.name()); };
      layout.value.assign(layout.value_size, std::byte{0});
      const auto data = spec_map.initial_data();
      std::byte* out = layout.value.data() + layout.data_offset;
      const auto kernel_struct = vmlinux.type(layout.kernel_struct_id);
      for (const auto member : local.type(spec_map.struct_ops_type_id()).members()) {
        const auto name = member.name();
        const std::uint32_t offset = member.bit_offset() / 8;
        const auto program = std::find_if(spec_map.struct_ops_members().begin(), spec_map.struct_ops_members().end(),
                                          [&](const StructOpsMember& m) { return m.member == name; });
        std::optional<btf::Member> kernel_member;
        for (const auto candidate : kernel_struct.members())
          if (candidate.name() == name) kernel_member = candidate;
        if (program != spec_map.struct_ops_members().end()) {
          const Program& loaded = programs.at(program->program_index);
          if (!kernel_member)  // struct_ops_layout() found every such member
            util::fail(std::errc::not_supported, "{}: member '{}' is not in the kernel's struct", where(), name);
          if (!loaded)
            util::fail(std::errc::invalid_argument,
                       "{}: member '{}' is program '{}', which is not loaded (autoload off)", where(), name,
                       program->program);
          const std::uint64_t fd = static_cast<std::uint32_t>(loaded.fd());
          std::memcpy(out + kernel_member->bit_offset() / 8, &fd, sizeof fd);
          continue;
        }
        if (member.bitfield_size() != 0 || member.bit_offset() % 8 != 0) {
          util::fail(std::errc::not_supported, "{}: member '{}' is a bit-field, which corebpf cannot carry over",
                     where(), name);
        }
        const auto size = local.size_of(member.type());
        const auto bytes = data.subspan(offset, size);
        const bool zero = std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
        if (zero) continue;
        if (!kernel_member)
          util::fail(std::errc::not_supported, "{}: member '{}' is set but the kernel's struct {} has no such member",
                     where(), name, spec_map.struct_ops_type_name());
        if (kernel_member->bitfield_size() != 0 || vmlinux.size_of(kernel_member->type()) != size)
          util::fail(std::errc::not_supported, "{}: member '{}' is {} bytes here but not in the kernel's struct {}",
                     where(), name, size, spec_map.struct_ops_type_name());
        std::memcpy(out + kernel_member->bit_offset() / 8, bytes.data(), size);
      }
      // A link map takes its value now (nothing runs until the link); a legacy map registers with
      // the kernel on update, which attach_struct_ops() does.
      if (spec_map.flags() & kMapFlagLink) write_struct_ops(map_index);
    }
  }

  void write_struct_ops(std::size_t map_index) {
    auto& layout = struct_ops.at(map_index);
    const std::uint32_t key = 0;
    try {
      maps[map_index].update(bytes_of(key), layout.value);
    } catch (const Error& e) {
      throw Error(e.errno_value(),
                  fmt::format("{}: struct_ops map '{}': writing struct {}: {}", what(), spec.maps()[map_index].name(),
                              spec.maps()[map_index].struct_ops_type_name(), e.message()));
    }
  }

  Map create_map(const MapSpec& spec_map) {
    if (spec_map.origin() == MapOrigin::struct_ops)
      return create_struct_ops_map(spec_map, static_cast<std::size_t>(&spec_map - spec.maps().data()));
    try {
      auto create = create_options(spec_map, effective_definition(spec_map.definition()), spec_map.name());
      Map inner_template;
      if (spec_map.inner()) {
        inner_template =
            Map::create(create_options(spec_map, effective_definition(*spec_map.inner()), spec_map.name() + ".inner"));
        create.inner_map_fd = inner_template.fd();
      }
      Map map = create_or_without_btf(create, spec_map.name());
      util::log(LogLevel::debug, "{}: map '{}' created: {}, key {}B, value {}B, max_entries {}{} (id {})", what(),
                spec_map.name(), map_type_name(create.type), create.key_size, create.value_size, create.max_entries,
                create.btf_fd >= 0 ? ", with BTF" : "", map.info().id);
      if (is_global_data(spec_map.origin())) {
        const auto initial = spec_map.initial_data();
        const bool all_zero =
            std::all_of(initial.begin(), initial.end(), [](std::byte b) { return b == std::byte{0}; });
        if (!initial.empty() && !all_zero) map.update(bytes_of(0), initial);
        if (is_frozen(spec_map.origin())) map.freeze();
      }
      return map;
    } catch (const Error& e) {
      throw Error(e.errno_value(), fmt::format("{}: creating {}", what(), e.message()));
    }
  }

  // ld_imm64 map references by index become references by fd (BPF_PSEUDO_MAP_FD/_VALUE).
  std::vector<Insn> insns_with_map_fds(const ProgramSpec& program) const {
    std::vector<Insn> insns(program.insns().begin(), program.insns().end());
    for (std::size_t i = 0; i + 1 < insns.size(); ++i) {
      Insn& insn = insns[i];
      if (!insn.is_ld_imm64()) continue;
      const auto source = insn.src();
      if (source == Insn::kPseudoMapIdx || source == Insn::kPseudoMapIdxValue) {
        const auto index = static_cast<std::uint32_t>(insn.imm);
        if (index >= maps.size()) {
          util::fail(std::errc::invalid_argument, "{}: program '{}': insn #{} refers to map #{} of {}", what(),
                     program.name(), i, index, maps.size());
        }
        insn.set_src(source == Insn::kPseudoMapIdx ? Insn::kPseudoMapFd : Insn::kPseudoMapValue);
        insn.imm = maps[index].fd();
      }
      ++i;  // the second half of the ld_imm64
    }
    return insns;
  }

  // The fd of the BTF of module `module` (an index in the kernel description's module_btfs).
  int module_btf(int module, const ProgramSpec& program, const ExternSpec& ext) {
    auto& fd = module_btf_fds[module];
    if (fd) return fd.get();
    // Module BTF was read through with_modules() unless the description had it already.
    const auto& names = kernel_description->module_btfs.empty() && kernel_description->with_modules
                            ? kernel_description->with_modules().module_names
                            : kernel_description->module_names;
    const std::string name = static_cast<std::size_t>(module) < names.size() ? names[module] : std::string();
    if (!name.empty()) fd = kernel::module_btf_fd(name);
    if (!fd) {
      util::fail(std::errc::no_such_file_or_directory,
                 "{}: program '{}': '{}' is in the BTF of module {}, which the kernel no longer has loaded", what(),
                 program.name(), ext.name, name.empty() ? fmt::format("#{}", module) : name);
    }
    return fd.get();
  }

  // Kfunc calls and typed ksyms found in a module's BTF name that BTF: a call by its slot in the
  // load's fd_array (slot 0 is vmlinux), an ld_imm64 by the fd in its second half.
  std::vector<int> link_module_externs(const ProgramSpec& program, std::vector<Insn>& insns) {
    std::vector<int> fd_array;
    for (const auto& use : program.extern_uses()) {
      const ExternSpec& ext = spec.externs()[use.extern_index];
      if (!ext.resolved || ext.target_module < 0) continue;
      const int fd = module_btf(ext.target_module, program, ext);
      Insn& insn = insns[use.insn_index];
      if (!insn.is_call()) {
        insns[use.insn_index + 1].imm = fd;
        continue;
      }
      if (fd_array.empty()) fd_array.push_back(0);
      auto slot = std::find(fd_array.begin() + 1, fd_array.end(), fd);
      if (slot == fd_array.end()) slot = fd_array.insert(fd_array.end(), fd);
      insn.off = static_cast<std::int16_t>(slot - fd_array.begin());
    }
    return fd_array;
  }

  // fentry/fexit/fmod_ret/tp_btf/lsm/iter: the target's BTF id, in vmlinux or in a module (whose
  // BTF fd the load takes too). ESRCH when it is nowhere, as libbpf says it.
  kernel::KernelBtfType attach_btf_target(const ProgramSpec& program) const {
    const std::string name = program.attach_btf_name();
    const auto module = program.attach_btf_module();
    const auto kind = program.expected_attach_type() == AttachType::trace_raw_tp ? btf::Kind::Typedef : btf::Kind::Func;
    if (module.empty() && !kernel::running_vmlinux_btf()) {
      util::fail(std::errc::not_supported, "{}: program '{}': no vmlinux BTF to find attach target '{}' in", what(),
                 program.name(), name);
    }
    auto found = kernel::find_kernel_btf_type(name, kind, module);
    if (!found) {
      util::fail(std::errc::no_such_process, "{}: program '{}': attach target '{}' is not in {}", what(),
                 program.name(), name,
                 module.empty() ? std::string("vmlinux or module BTF") : fmt::format("module {}'s BTF", module));
    }
    return std::move(*found);
  }

  // freplace: the target program's fd and the BTF id of the replaced function in its BTF.
  std::pair<int, std::uint32_t> replaced_function(const ProgramSpec& program) const {
    const auto target = options.freplace_targets.find(program.name());
    if (target == options.freplace_targets.end()) {
      util::fail(std::errc::invalid_argument,
                 "{}: freplace program '{}' needs the program it replaces (ObjectOptions::freplace_targets)", what(),
                 program.name());
    }
    const auto info = kernel::program_info(target->second);
    if (info.btf_id == 0) {
      util::fail(std::errc::invalid_argument, "{}: freplace program '{}': target program '{}' has no BTF", what(),
                 program.name(), info.name);
    }
    const auto btf = kernel::load_kernel_btf_by_id(info.btf_id);
    const auto function = btf.find(program.attach_target(), btf::Kind::Func);
    if (!function) {
      util::fail(std::errc::no_such_file_or_directory,
                 "{}: freplace program '{}': target program '{}' has no function '{}'", what(), program.name(),
                 info.name, program.attach_target());
    }
    return {target->second, function->id()};
  }

  // Throws what the kernel's refusal of `program` is: an UnsupportedError when the probes say
  // the kernel refuses every such program (EPERM as root before any verification), else a
  // VerifierError with the log read: the reason, the instruction and its source line.
  [[noreturn]] void reject(const ProgramSpec& program, const kernel::detail::LoadOutcome& outcome,
                           std::size_t program_index) const {
    // The first line says why and where, in the verifier's words: what a user reads first. EPERM
    // as root before any verification: the probes tell "this kernel refuses all such programs"
    // from a program's own fault (a helper it may not call).
    std::string reason(kernel::detail::verifier_reason(outcome.log));
    std::optional<kernel::ProgramSupportGap> gap;
    if (outcome.error == EPERM && kernel::has_bpf_privileges()) {
      gap = kernel::program_support_gap(program);
      if (gap) reason = fmt::format("{} (EPERM before verification, as for a minimal probe)", gap->reason);
    }
    std::string message = fmt::format("{}: program '{}': the kernel rejected it: {}{}", what(), program.name(),
                                      std::generic_category().message(outcome.error),
                                      reason.empty() ? std::string() : fmt::format(": {}", reason));
    VerifierError::Details details;
    details.program = program.name();
    details.reason = std::string(kernel::detail::verifier_reason(outcome.log));
    details.log = outcome.log;
    details.instruction = kernel::detail::failing_instruction(outcome.log);
    if (details.instruction) {
      message += fmt::format(" at insn #{}", *details.instruction);
      details.source_line = kernel::detail::source_location(
          kernel::detail::line_for_instruction(program.line_info(), *details.instruction));
      if (!details.source_line.empty()) message += fmt::format(" ({})", details.source_line);
      if (program_index < relocations.size()) {
        if (const auto* poisoned = core::find_poisoned(relocations[program_index], *details.instruction)) {
          message += "\n" + core::describe(program.name(), *poisoned);
        }
      }
    }
    if (!outcome.log.empty()) message += "\nverifier log (end):\n" + log_tail(outcome.log);
    if (gap) {
      throw UnsupportedError(
          outcome.error, std::move(message),
          UnsupportedError::Details{gap->feature, gap->minimum_version, kernel::running_kernel_release()});
    }
    throw VerifierError(outcome.error, std::move(message), std::move(details));
  }

  void load_programs() {
    const auto count = spec.programs().size();
    programs.resize(count);
    logs.resize(count);
    for (std::size_t index = 0; index < count; ++index) {
      const ProgramSpec& program = spec.programs()[index];
      if (!program.autoload()) continue;
      auto insns = insns_with_map_fds(program);
      const auto fd_array = link_module_externs(program, insns);
      std::vector<kernel::detail::KernelFuncInfo> func_info;
      std::vector<kernel::detail::KernelLineInfo> line_info;
      kernel::detail::ProgramLoadRequest request;
      kernel::KernelBtfType attach_target;  // holds a module's BTF fd through the load
      request.type = program.type();
      request.insns = insns;
      request.fd_array = fd_array;
      request.name = program.name();
      request.license = spec.license();
      request.expected_attach_type = program.expected_attach_type();
      request.kernel_version = spec.kernel_version().value_or(0);
      if (program.sleepable()) request.flags |= BPF_F_SLEEPABLE;
      if (program.xdp_frags()) request.flags |= BPF_F_XDP_HAS_FRAGS;
      const auto level = options.program_log_levels.find(program.name());
      request.log_level = level != options.program_log_levels.end() ? level->second : options.log_level;
      if (btf_fd) {
        request.btf_fd = btf_fd.get();
        for (const auto& info : program.func_info()) func_info.push_back({info.insn_index, info.type_id});
        const auto translated = [&](std::uint32_t offset) {
          const auto found = line_strings.find(offset);
          return found == line_strings.end() ? std::optional<std::uint32_t>() : found->second;
        };
        for (const auto& line : program.line_info()) {
          const auto file_name = translated(line.file_name_offset);
          const auto text = translated(line.line_offset);
          if (!file_name || !text) {
            line_info.clear();  // the strings could not be placed: no line info rather than a wrong one
            break;
          }
          line_info.push_back({line.insn_index, *file_name, *text, (line.line << 10) | line.column});
        }
        request.func_info = func_info;
        request.line_info = line_info;
      }
      if (program.type() == ProgramType::struct_ops) {
        const auto target = struct_ops_target(index);
        if (!target) {
          // As libbpf does: with no struct and member to load it for, it cannot load.
          util::log(LogLevel::debug, "{}: struct_ops program '{}' is in no struct_ops map: not loaded", what(),
                    program.name());
          continue;
        }
        request.attach_btf_id = target->first;
        request.expected_attach_type = static_cast<AttachType>(target->second);
      } else if (program.type() == ProgramType::ext) {
        std::tie(request.attach_prog_fd, request.attach_btf_id) = replaced_function(program);
      } else if (program.attach_target_is_btf()) {
        attach_target = attach_btf_target(program);
        request.attach_btf_id = attach_target.id;
        if (attach_target.module_btf) request.attach_btf_obj_fd = attach_target.module_btf.get();
      }
      auto outcome = kernel::detail::load_program(request);
      if (!outcome.fd) reject(program, outcome, index);
      logs[index] = std::move(outcome.log);
      if (log_enabled(LogLevel::debug)) {
        util::log(LogLevel::debug, "{}: program '{}' ({}, section {}) loaded: {} insns (id {})", what(), program.name(),
                  program_type_name(program.type()), program.section(), insns.size(),
                  kernel::program_info(outcome.fd.get()).id);
      }
      programs[index] = Program(std::move(outcome.fd), program.name(), program.definition(), program.section());
    }
  }

  void fill_slots() {
    for (std::size_t index = 0; index < spec.maps().size(); ++index) {
      const MapSpec& spec_map = spec.maps()[index];
      for (const MapSlot& slot : spec_map.initial_slots()) {
        try {
          if (spec_map.type() == MapType::prog_array) {
            const Program& target = programs.at(slot.target_index);
            if (!target) continue;  // a program not loaded leaves its slot empty
            const auto fd = static_cast<std::uint32_t>(target.fd());
            maps[index].update(bytes_of(slot.index), bytes_of(fd));
          } else {
            maps[index].set_inner(bytes_of(slot.index), maps.at(slot.target_index));
          }
        } catch (const Error& e) {
          throw Error(e.errno_value(), fmt::format("{}: map '{}': filling slot {} with '{}': {}", what(),
                                                   spec_map.name(), slot.index, slot.target, e.message()));
        }
      }
    }
  }

  void map_global_data() {
    regions.resize(maps.size());
    for (std::size_t index = 0; index < maps.size(); ++index) {
      const MapSpec& spec_map = spec.maps()[index];
      if (!is_global_data(spec_map.origin()) || !(maps[index].info().flags & kMapFlagMmapable)) continue;
      const int protection = is_frozen(spec_map.origin()) ? PROT_READ : PROT_READ | PROT_WRITE;
      const std::size_t size = page_rounded(maps[index].value_size());
      void* address = ::mmap(nullptr, size, protection, MAP_SHARED, maps[index].fd(), 0);
      if (address == MAP_FAILED) util::fail_errno("{}: map '{}': mmap of its global data", what(), spec_map.name());
      regions[index] = util::MappedRegion(address, size);
    }
  }

  std::vector<core::ProgramRelocations> relocations;
  std::map<std::size_t, StructOpsLayout> struct_ops;    // by map index
  std::map<std::uint32_t, std::uint32_t> line_strings;  // object BTF string offset -> loaded BTF's
};

Object::Object(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
Object::Object(Object&&) noexcept = default;
Object& Object::operator=(Object&&) noexcept = default;
Object::~Object() = default;

Object Object::open(const std::string& path, ObjectOptions options) {
  auto spec = ObjectSpec::open(path, options.open);
  return from_spec(std::move(spec), std::move(options));
}

Object Object::from_spec(ObjectSpec spec, ObjectOptions options) {
  return Object(std::make_unique<State>(std::move(spec), std::move(options)));
}

ObjectSpec& Object::spec() noexcept { return state_->spec; }
const ObjectSpec& Object::spec() const noexcept { return state_->spec; }
const ObjectOptions& Object::options() const noexcept { return state_->options; }
bool Object::loaded() const noexcept { return state_->loaded; }

void Object::load() {
  State& state = *state_;
  if (state.loaded) util::fail(std::errc::invalid_argument, "{}: already loaded", state.what());
  state.spec.require_native_endian();
  state.log_contents();
  try {
    kernel::raise_memlock_if_needed();
    state.prefetch_kernel_names();
    state.relocate();
    if (!state.spec.externs().empty()) {
      // The kernel config is read only for an object that asks for a CONFIG_* value, and only
      // those values are kept. Module BTF is read only for a typed ksym or kfunc that vmlinux
      // lacks (with_modules).
      std::vector<std::string_view> config_names;
      for (const auto& e : state.spec.externs())
        if (e.kind == ExternKind::kconfig && e.name.starts_with("CONFIG_")) config_names.push_back(e.name);
      std::sort(config_names.begin(), config_names.end());
      state.kernel_description = &kernel::running_kernel_description_without_kconfig();
      if (!config_names.empty()) {
        state.own_description = *state.kernel_description;
        state.own_description->kconfig = kernel::running_kconfig(config_names);
        state.kernel_description = &*state.own_description;
      }
      state.spec.resolve_externs(*state.kernel_description);
    }
    state.load_btf();
    state.create_maps();
    state.load_programs();
    state.fill_slots();
    state.build_struct_ops_values();
    state.map_global_data();
  } catch (const Error& e) {
    state.release();
    if (e.errno_value() == EPERM && !kernel::has_bpf_privileges()) {
      throw Error(EPERM, fmt::format("{} (loading BPF objects needs root, or CAP_BPF with CAP_PERFMON for "
                                     "tracing and CAP_NET_ADMIN for networking programs)",
                                     e.message()));
    }
    throw;
  } catch (...) {
    state.release();
    throw;
  }
  state.loaded = true;
}

Program& Object::program(std::string_view name) {
  State& state = *state_;
  const auto programs = state.spec.programs();
  for (std::size_t index = 0; index < programs.size(); ++index) {
    if (programs[index].name() != name) continue;
    if (!state.loaded || !state.programs[index]) {
      util::fail(std::errc::no_such_file_or_directory, "{}: program '{}' is not loaded", state.what(), name);
    }
    return state.programs[index];
  }
  util::fail(std::errc::no_such_file_or_directory, "{}: no program '{}'", state.what(), name);
}

Program& Object::program_handle(std::string_view name) {
  State& state = *state_;
  const auto programs = state.spec.programs();
  for (std::size_t index = 0; index < programs.size(); ++index) {
    if (programs[index].name() == name) return state.programs[index];
  }
  util::fail(std::errc::no_such_file_or_directory, "{}: no program '{}'", state.what(), name);
}

Map& Object::map_handle(std::string_view name) {
  State& state = *state_;
  const auto maps = state.spec.maps();
  for (std::size_t index = 0; index < maps.size(); ++index) {
    if (maps[index].name() == name) return state.maps[index];
  }
  util::fail(std::errc::no_such_file_or_directory, "{}: no map '{}'", state.what(), name);
}

Map& Object::map(std::string_view name) {
  State& state = *state_;
  const auto maps = state.spec.maps();
  for (std::size_t index = 0; index < maps.size(); ++index) {
    if (maps[index].name() != name) continue;
    if (!state.loaded) util::fail(std::errc::no_such_file_or_directory, "{}: map '{}': not loaded", state.what(), name);
    return state.maps[index];
  }
  util::fail(std::errc::no_such_file_or_directory, "{}: no map '{}'", state.what(), name);
}

const std::string& Object::verifier_log(std::string_view program) const {
  const State& state = *state_;
  const auto programs = state.spec.programs();
  for (std::size_t index = 0; index < programs.size(); ++index) {
    if (programs[index].name() == program && state.loaded) return state.logs[index];
  }
  util::fail(std::errc::no_such_file_or_directory, "{}: no loaded program '{}'", state.what(), program);
}

std::span<const std::byte> Object::section_bytes(std::string_view section) const {
  const State& state = *state_;
  const auto maps = state.spec.maps();
  for (std::size_t index = 0; index < maps.size(); ++index) {
    if (maps[index].section() != section || !is_global_data(maps[index].origin())) continue;
    if (!state.loaded) util::fail(std::errc::invalid_argument, "{}: {}: not loaded yet", state.what(), section);
    const auto& region = state.regions[index];
    if (!region) {
      util::fail(std::errc::not_supported, "{}: {}: map '{}' is not mmapable on this kernel", state.what(), section,
                 maps[index].name());
    }
    return {region.data(), state.maps[index].value_size()};
  }
  util::fail(std::errc::no_such_file_or_directory, "{}: no global data section {}", state.what(), section);
}

std::span<std::byte> Object::section_bytes(std::string_view section) {
  const auto bytes = std::as_const(*this).section_bytes(section);
  for (const MapSpec& spec_map : state_->spec.maps()) {
    if (spec_map.section() == section && is_frozen(spec_map.origin())) {
      util::fail(std::errc::read_only_file_system, "{}: {} is frozen: read it through the const view", state_->what(),
                 section);
    }
  }
  return {const_cast<std::byte*>(bytes.data()), bytes.size()};
}

void Object::check_view_size(std::string_view section, std::size_t actual, std::size_t wanted) const {
  if (wanted > actual) {
    util::fail(std::errc::invalid_argument, "{}: {} holds {} bytes, too few for a view of {} bytes", state_->what(),
               section, actual, wanted);
  }
}

Link Object::attach_struct_ops(std::string_view map_name) {
  State& state = *state_;
  Map& map = this->map(map_name);
  const auto index = static_cast<std::size_t>(std::find_if(state.spec.maps().begin(), state.spec.maps().end(),
                                                           [&](const MapSpec& m) { return m.name() == map_name; }) -
                                              state.spec.maps().begin());
  const MapSpec& spec_map = state.spec.maps()[index];
  const auto layout = state.struct_ops.find(index);
  if (layout == state.struct_ops.end())
    util::fail(std::errc::invalid_argument, "{}: map '{}' is a {} map, not a struct_ops map", state.what(), map_name,
               map_type_name(spec_map.type()));
  const std::string description =
      fmt::format("struct_ops map '{}' (struct {})", map_name, spec_map.struct_ops_type_name());
  if (spec_map.flags() & kMapFlagLink) {
    // link_create.map_fd (newer than the system header): the pinned layout.
    uapi::bpf_attr attr = kernel::detail::zeroed_pinned_attr();
    attr.link_create.map_fd = static_cast<std::uint32_t>(map.fd());
    attr.link_create.attach_type = static_cast<std::uint32_t>(AttachType::struct_ops);
    auto fd = kernel::detail::bpf_fd_call(BPF_LINK_CREATE, attr, description);
    return Link(std::make_unique<detail::BpfLinkAttachment>(std::move(fd), description));
  }
  UniqueFd duplicate(::fcntl(map.fd(), F_DUPFD_CLOEXEC, 0));
  if (!duplicate) util::fail_errno("{}: {}: duplicating the map fd", state.what(), description);
  state.write_struct_ops(index);
  return Link(std::make_unique<StructOpsRegistration>(std::move(duplicate), description));
}

}  // namespace corebpf
