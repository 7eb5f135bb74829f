// core::Target: the target BTF, its modules and its candidate cache; names of kinds and statuses.
#include <filesystem>
#include <system_error>

#include "corebpf/error.hpp"
#include "object/core/access_spec.hpp"
#include "object/core/target_cache.hpp"
#include "util/log_format.hpp"

namespace corebpf::core {

using btf::Btf;
using btf::Kind;

std::string_view kind_name(ReloKind kind) noexcept {
  static constexpr std::string_view names[] = {"byte_off",    "byte_sz",    "field_exists",   "signed",
                                               "lshift_u64",  "rshift_u64", "local_type_id",  "target_type_id",
                                               "type_exists", "type_size",  "enumval_exists", "enumval_value",
                                               "type_matches"};
  const auto i = static_cast<std::size_t>(kind);
  return i < std::size(names) ? names[i] : "unknown";
}

bool is_field_kind(ReloKind kind) noexcept {
  return static_cast<std::uint32_t>(kind) <= static_cast<std::uint32_t>(ReloKind::field_rshift_u64);
}

bool is_type_kind(ReloKind kind) noexcept {
  switch (kind) {
    case ReloKind::type_id_local:
    case ReloKind::type_id_target:
    case ReloKind::type_exists:
    case ReloKind::type_size:
    case ReloKind::type_matches:
      return true;
    default:
      return false;
  }
}

bool is_enumval_kind(ReloKind kind) noexcept {
  return kind == ReloKind::enumval_exists || kind == ReloKind::enumval_value;
}

std::string_view status_name(Status status) noexcept {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::poisoned:
      return "poisoned";
    case Status::error:
      return "error";
  }
  return "unknown";
}

std::string_view core_essential_name(std::string_view name) noexcept {
  // The flavor separator is "___" with a non-underscore on each side; the last one wins.
  for (std::size_t i = name.size() >= 5 ? name.size() - 5 + 1 : 0; i-- > 0;) {
    if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
      return name.substr(0, i + 1);
  }
  return name;
}

// ---- Target::Cache ----

const std::vector<Btf>& Target::Cache::loaded_modules(const Btf& vmlinux) {
  if (module_loader) {
    auto loader = std::move(module_loader);
    module_loader = nullptr;
    auto more = loader(vmlinux);
    for (auto& m : more) modules.push_back(std::move(m));
  }
  return modules;
}

const detail::MemberIndex& Target::Cache::member_index(std::uint32_t btf_index, const Btf& btf, const btf::Type& type) {
  const std::uint64_t key = (std::uint64_t{btf_index} << 32) | type.id();
  if (auto it = member_indexes.find(key); it != member_indexes.end()) return it->second;
  return member_indexes.emplace(key, detail::MemberIndex::build(btf, type)).first->second;
}

const std::vector<detail::Candidate>& Target::Cache::find(const Btf& vmlinux, std::string_view essential, Kind kind) {
  if (kind == Kind::Enum64) kind = Kind::Enum;
  key.assign(essential);
  key.push_back('\0');
  key.push_back(static_cast<char>(kind));
  if (auto it = candidates.find(std::string_view(key)); it != candidates.end()) return it->second;

  std::vector<detail::Candidate> found;
  // The name index is keyed by the first "___" cut, which is a prefix of the CO-RE essential name
  // and shared by all its flavors; the exact CO-RE name is checked here.
  const std::string_view index_key = btf::essential_name(essential);
  auto collect = [&](const Btf& btf, std::uint32_t index) {
    // CO-RE candidates are types, never functions or variables: only that part of the index.
    for (const btf::TypeId id : btf.find_all_essential(index_key, btf::NameScope::types)) {
      if (id < btf.first_id()) continue;  // a module's base types are vmlinux's, searched already
      const auto t = btf.type(id);
      if (!detail::same_core_kind(t.kind(), kind)) continue;
      const auto name = t.name();
      if (name.empty() || core_essential_name(name) != essential) continue;
      found.push_back({index, id});
    }
  };
  collect(vmlinux, 0);
  if (found.empty()) {
    const auto& mods = loaded_modules(vmlinux);
    for (std::size_t i = 0; i < mods.size(); ++i) collect(mods[i], static_cast<std::uint32_t>(i + 1));
  }
  return candidates.emplace(key, std::move(found)).first->second;
}

// ---- Target ----

Target::Target(Btf vmlinux, std::vector<Btf> modules)
    : vmlinux_(std::move(vmlinux)), cache_(std::make_unique<Cache>()) {
  cache_->modules = std::move(modules);
}

Target::Target(Btf vmlinux, ModuleLoader module_loader)
    : vmlinux_(std::move(vmlinux)), cache_(std::make_unique<Cache>()) {
  cache_->module_loader = std::move(module_loader);
}

Target::~Target() = default;
Target::Target(Target&&) noexcept = default;
Target& Target::operator=(Target&&) noexcept = default;

Target Target::running_kernel() { return running_kernel(Btf::load_vmlinux()); }

Target Target::running_kernel(Btf vmlinux_btf) {
  return Target(std::move(vmlinux_btf), [](const Btf& vmlinux) {
    std::vector<Btf> modules;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/kernel/btf", ec)) {
      if (entry.path().filename() == "vmlinux") continue;
      try {
        modules.push_back(Btf::load(entry.path().string(), {.base = &vmlinux}));
      } catch (const Error& e) {
        // One unreadable module must not stop relocations that other modules can serve.
        util::log(LogLevel::warning, "CO-RE: skipping module BTF {}: {}", entry.path().string(), e.message());
      }
    }
    return modules;
  });
}

Target Target::from_file(const std::string& path) { return Target(Btf::load(path)); }

const Btf& Target::vmlinux() const { return vmlinux_; }

std::span<const Btf> Target::modules() const { return cache_->loaded_modules(vmlinux_); }

const Btf& Target::btf_at(std::size_t index) const {
  return index == 0 ? vmlinux_ : cache_->loaded_modules(vmlinux_).at(index - 1);
}

Target::Cache& Target::cache() const { return *cache_; }

}  // namespace corebpf::core
