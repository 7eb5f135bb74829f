// The runtime base of generated skeletons (include/corebpf/skeleton.hpp).
#include "corebpf/skeleton.hpp"

#include <utility>

#include "util/error_format.hpp"

namespace corebpf {

namespace {

bool is_frozen(MapOrigin origin) noexcept { return origin == MapOrigin::rodata || origin == MapOrigin::kconfig; }

}  // namespace

SkeletonBase::SkeletonBase(std::span<const std::byte> elf, std::string_view file_name, ObjectOptions options)
    : object_(
          Object::from_spec(ObjectSpec::from_memory(elf, std::string(file_name), options.open), std::move(options))) {}

SkeletonBase::~SkeletonBase() = default;

std::span<std::byte> SkeletonBase::section_bytes(std::string_view section, std::size_t size, bool write) {
  ObjectSpec& spec = object_.spec();
  MapSpec* map = spec.find_section_map(section);
  if (map == nullptr)
    util::fail(std::errc::no_such_file_or_directory, "object '{}': no section {}", spec.name(), section);
  std::span<std::byte> bytes = map->mutable_data();
  if (object_.loaded()) {
    const bool frozen = is_frozen(map->origin());
    if (write && frozen) {
      util::fail(std::errc::read_only_file_system,
                 "object '{}': {} is frozen once loaded; read it through a const skeleton (std::as_const)", spec.name(),
                 section);
    }
    try {
      const auto live = std::as_const(object_).section_bytes(section);
      bytes = {const_cast<std::byte*>(live.data()), live.size()};
    } catch (const Error& e) {
      // Without mmapable arrays a frozen section still reads as loaded (the spec holds what the
      // map got); a writable one has no live view.
      if (!frozen || e.errno_value() != ENOTSUP) throw;
    }
  }
  if (bytes.size() < size) {
    util::fail(std::errc::invalid_argument, "object '{}': {} holds {} bytes, its skeleton type {}", spec.name(),
               section, bytes.size(), size);
  }
  return bytes;
}

void SkeletonBase::reserve_section(std::string_view section, std::size_t size) {
  ObjectSpec& spec = object_.spec();
  MapSpec* map = spec.find_section_map(section);
  if (map == nullptr)
    util::fail(std::errc::no_such_file_or_directory, "object '{}': no section {}", spec.name(), section);
  if (map->value_size() < size) map->set_value_size(static_cast<std::uint32_t>(size));
}

std::span<std::byte> SkeletonBase::struct_ops_bytes(std::string_view name, std::size_t size) {
  MapSpec& map = object_.spec().map(name);
  auto bytes = map.mutable_data();
  if (map.origin() != MapOrigin::struct_ops || bytes.size() < size) {
    util::fail(std::errc::invalid_argument, "object '{}': map '{}' is not a struct_ops map of {} bytes",
               object_.spec().name(), name, size);
  }
  return bytes;
}

void SkeletonBase::check_view(std::string_view map, std::size_t key_size, std::size_t value_size, bool per_cpu) {
  detail::check_view_sizes(object_.map(map), key_size, value_size, per_cpu);
}

void SkeletonBase::require_loaded(std::string_view what) const {
  if (!object_.loaded())
    util::fail(std::errc::invalid_argument, "object '{}': {} before load()", object_.spec().name(), what);
}

std::optional<Link> SkeletonBase::attach_auto(std::string_view name) {
  require_loaded("attach()");
  const ProgramSpec* spec = object_.spec().find_program(name);
  if (spec == nullptr || !spec->autoload() || !spec->auto_attachable()) return std::nullopt;
  const Program& program = object_.program_handle(name);
  if (!program) return std::nullopt;
  return program.attach();
}

void SkeletonBase::attach_struct_ops() {
  require_loaded("attach()");
  if (!struct_ops_links_.empty()) return;
  std::vector<Link> links;
  for (const MapSpec& map : object_.spec().maps()) {
    if (map.origin() == MapOrigin::struct_ops) links.push_back(object_.attach_struct_ops(map.name()));
  }
  struct_ops_links_ = std::move(links);
}

}  // namespace corebpf
