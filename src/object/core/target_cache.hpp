// Internal: what a core::Target remembers across relocation sessions: its module BTFs (loaded on
// first need) and the candidate types of every (essential name, kind) asked for so far.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "corebpf/core.hpp"
#include "object/core/access_spec.hpp"

namespace corebpf::core {

namespace detail {

struct Candidate {
  std::uint32_t btf_index = 0;  // 0 = vmlinux, i + 1 = module i
  btf::TypeId id = 0;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

}  // namespace detail

struct Target::Cache {
  std::vector<btf::Btf> modules;
  ModuleLoader module_loader;  // emptied once it has run

  // Key: essential name, a NUL, then the kind (ENUM64 folded into ENUM). Values are never erased,
  // so references to them stay valid for the Target's life.
  std::unordered_map<std::string, std::vector<detail::Candidate>, detail::StringHash, std::equal_to<>> candidates;
  std::string key;  // reused lookup buffer

  // Member indexes of large target structs and unions, by (btf index << 32 | type id).
  std::unordered_map<std::uint64_t, detail::MemberIndex> member_indexes;

  const std::vector<btf::Btf>& loaded_modules(const btf::Btf& vmlinux);
  const detail::MemberIndex& member_index(std::uint32_t btf_index, const btf::Btf& btf, const btf::Type& type);
  // Types of `kind` whose CO-RE essential name is `essential`: vmlinux's, or when vmlinux has
  // none, the modules' own types.
  const std::vector<detail::Candidate>& find(const btf::Btf& vmlinux, std::string_view essential, btf::Kind kind);
};

}  // namespace corebpf::core
