// [pure] `corebpf btf diff`: type-level differences between two kernels' BTF, matched by name: structs
// and unions whose members were added, removed, moved, resized or retyped (members of anonymous
// structs and unions count as their container's, at their absolute offsets), enums whose values
// changed, functions whose signatures changed, and named types that appeared or went away. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"

namespace corebpf::btf {

enum class ChangeKind : std::uint8_t {
  type_added,
  type_removed,
  kind_changed,  // struct became union, enum became typedef...
  size_changed,  // struct/union/enum size
  member_added,
  member_removed,
  member_moved,    // its offset changed
  member_resized,  // its size (bits) changed, type name the same
  member_retyped,  // its type changed
  value_added,     // enumerator
  value_removed,
  value_changed,
  signature_changed,  // FUNC
};
// "added", "removed", "kind changed", "size changed", "member added", ... "signature changed".
std::string_view change_kind_name(ChangeKind kind) noexcept;

struct TypeChange {
  std::string type;  // "struct task_struct", "enum bpf_func_id", "func do_sys_open"
  ChangeKind kind = ChangeKind::type_added;
  std::string item;  // the member or enumerator; empty for the type itself
  std::string from;  // what it was in A ("int at byte 16"), empty when added
  std::string to;    // what it is in B, empty when removed
};

struct DiffOptions {
  // Only these names (struct, union, enum, typedef or function names; CO-RE flavors cut);
  // empty: every named struct, union, enum and function.
  std::vector<std::string> roots;
  bool functions = true;  // with no roots: compare function signatures too
};

// Changes from `a` to `b`, sorted by type then member/value.
std::vector<TypeChange> diff(const Btf& a, const Btf& b, const DiffOptions& options = {});

// The C spelling of a type reference for messages: "int", "struct list_head *", "char[16]".
std::string type_text(const Btf& btf, TypeId id);

}  // namespace corebpf::btf
