// ObjectSpec: opening, lookups, and the changes users make before load.
#include <algorithm>
#include <utility>

#include "object/object_parser.hpp"

namespace corebpf {

namespace {

// "hello" for ".../hello.bpf.o": the file name up to its first dot.
std::string default_object_name(std::string_view source) {
  if (auto slash = source.rfind('/'); slash != std::string_view::npos) source.remove_prefix(slash + 1);
  if (auto dot = source.find('.'); dot != std::string_view::npos) source = source.substr(0, dot);
  return source.empty() ? std::string("object") : std::string(source);
}

}  // namespace

ObjectSpec::ObjectSpec() = default;
ObjectSpec::ObjectSpec(const ObjectSpec&) = default;
ObjectSpec& ObjectSpec::operator=(const ObjectSpec&) = default;
ObjectSpec::ObjectSpec(ObjectSpec&&) noexcept = default;
ObjectSpec& ObjectSpec::operator=(ObjectSpec&&) noexcept = default;
ObjectSpec::~ObjectSpec() = default;

ObjectSpec ObjectSpec::open(const std::string& path, const OpenOptions& options) {
  auto elf = elf::ElfFile::open(path);
  ObjectSpec spec;
  spec.source_ = path;
  spec.name_ = options.object_name.empty() ? default_object_name(path) : options.object_name;
  ObjectParser(elf, options, spec).parse();
  return spec;
}

ObjectSpec ObjectSpec::from_memory(std::span<const std::byte> bytes, std::string name, const OpenOptions& options) {
  auto elf = elf::ElfFile::from_memory(bytes, name);
  ObjectSpec spec;
  spec.name_ = options.object_name.empty() ? default_object_name(name) : options.object_name;
  spec.source_ = std::move(name);
  ObjectParser(elf, options, spec).parse();
  return spec;
}

void ObjectSpec::require_native_endian() const {
  if (is_native_endian()) return;
  util::fail(std::errc::executable_format_error,
             "{} is a {}-endian BPF object and this machine is {}-endian: it can be inspected but not loaded "
             "(compile it with -target bpf, or bpfel/bpfeb to match)",
             source_, endian_ == btf::Endian::little ? "little" : "big",
             endian_ == btf::Endian::little ? "big" : "little");
}

const ProgramSpec* ObjectSpec::find_program(std::string_view name) const noexcept {
  for (const auto& program : programs_)
    if (program.name() == name) return &program;
  return nullptr;
}

ProgramSpec* ObjectSpec::find_program(std::string_view name) noexcept {
  return const_cast<ProgramSpec*>(std::as_const(*this).find_program(name));
}

const ProgramSpec& ObjectSpec::program(std::string_view name) const {
  if (const auto* program = find_program(name)) return *program;
  util::fail(std::errc::no_such_file_or_directory, "{}: no program '{}'", source_, name);
}

ProgramSpec& ObjectSpec::program(std::string_view name) {
  return const_cast<ProgramSpec&>(std::as_const(*this).program(name));
}

const MapSpec* ObjectSpec::find_map(std::string_view name) const noexcept {
  for (const auto& map : maps_)
    if (map.name() == name) return &map;
  return nullptr;
}

MapSpec* ObjectSpec::find_map(std::string_view name) noexcept {
  return const_cast<MapSpec*>(std::as_const(*this).find_map(name));
}

const MapSpec& ObjectSpec::map(std::string_view name) const {
  if (const auto* map = find_map(name)) return *map;
  util::fail(std::errc::no_such_file_or_directory, "{}: no map '{}'", source_, name);
}

MapSpec& ObjectSpec::map(std::string_view name) { return const_cast<MapSpec&>(std::as_const(*this).map(name)); }

MapSpec* ObjectSpec::find_section_map(std::string_view section) noexcept {
  for (auto& map : maps_)
    if (map.is_internal() && map.section() == section) return &map;
  return nullptr;
}

MapSpec& ObjectSpec::global_owner(std::string_view name, const DatasecVariable** variable) {
  MapSpec* owner = nullptr;
  for (auto& map : maps_) {
    if (!map.is_internal() || map.origin() == MapOrigin::kconfig) continue;
    const auto* found = map.find_variable(name);
    if (!found) continue;
    if (owner)
      util::fail(std::errc::invalid_argument,
                 "{}: global variable '{}' is in both {} and {}; set it through that map's set_variable", source_, name,
                 owner->section(), map.section());
    owner = &map;
    *variable = found;
  }
  if (!owner) util::fail(std::errc::no_such_file_or_directory, "{}: no global variable '{}'", source_, name);
  return *owner;
}

void ObjectSpec::set_global(std::string_view name, std::span<const std::byte> bytes) {
  const DatasecVariable* variable = nullptr;
  global_owner(name, &variable).set_variable(name, bytes);
}

std::span<const std::byte> ObjectSpec::global(std::string_view name) const {
  const DatasecVariable* variable = nullptr;
  const auto& owner = const_cast<ObjectSpec&>(*this).global_owner(name, &variable);
  return owner.initial_data().subspan(variable->offset, variable->size);
}

void ObjectSpec::check_global_size(std::string_view name, std::size_t actual, std::size_t wanted) const {
  if (actual != wanted)
    util::fail(std::errc::invalid_argument, "{}: global variable '{}' is {} bytes, not {}", source_, name, actual,
               wanted);
}

// ---- MapSpec ----

const DatasecVariable* MapSpec::find_variable(std::string_view name) const noexcept {
  for (const auto& variable : variables_)
    if (variable.name == name) return &variable;
  return nullptr;
}

void MapSpec::set_variable(std::string_view name, std::span<const std::byte> bytes) {
  const auto* variable = find_variable(name);
  if (!variable) util::fail(std::errc::no_such_file_or_directory, "map '{}': no variable '{}'", name_, name);
  if (bytes.size() != variable->size)
    util::fail(std::errc::invalid_argument, "map '{}': variable '{}' is {} bytes, not {}", name_, name, variable->size,
               bytes.size());
  if (std::uint64_t{variable->offset} + variable->size > data_.size())
    util::fail(std::errc::invalid_argument, "map '{}': variable '{}' lies beyond the map's {}-byte value", name_, name,
               data_.size());
  std::copy(bytes.begin(), bytes.end(), data_.begin() + variable->offset);
}

void MapSpec::set_type(MapType type) {
  if (is_internal())
    util::fail(std::errc::invalid_argument, "map '{}' holds the global data of section {}: it stays an array", name_,
               section_);
  definition_.type = type;
}

void MapSpec::set_key_size(std::uint32_t size) {
  if (is_internal())
    util::fail(std::errc::invalid_argument, "map '{}' holds the global data of section {}: its key stays 4 bytes",
               name_, section_);
  definition_.key_size = size;
  if (btf_key_size_ != 0 && size != btf_key_size_) definition_.btf_key_type_id = 0;
}

void MapSpec::set_value_size(std::uint32_t size) {
  if (is_internal()) {
    for (const auto& variable : variables_)
      if (std::uint64_t{variable.offset} + variable.size > size)
        util::fail(std::errc::invalid_argument,
                   "map '{}': a value of {} bytes would cut variable '{}' (offset {}, {} bytes)", name_, size,
                   variable.name, variable.offset, variable.size);
    if (size == 0) util::fail(std::errc::invalid_argument, "map '{}': a global data map needs a value", name_);
    data_.resize(size, std::byte{0});
    // The DATASEC describes the section's size; a resized value no longer matches it.
    if (size != definition_.value_size) definition_.btf_value_type_id = 0;
    definition_.value_size = size;
    return;
  }
  definition_.value_size = size;
  if (btf_value_size_ != 0 && size != btf_value_size_) definition_.btf_value_type_id = 0;
}

void MapSpec::set_max_entries(std::uint32_t max_entries) {
  if (is_internal())
    util::fail(std::errc::invalid_argument, "map '{}' holds the global data of section {}: it keeps one entry", name_,
               section_);
  definition_.max_entries = max_entries;
}

}  // namespace corebpf
