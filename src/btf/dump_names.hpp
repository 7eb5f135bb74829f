// Internal: the words the raw and JSON dumps share with bpftool ("(anon)", "SIGNED", "extern"...).
#pragma once

#include <cstdint>
#include <string_view>

#include "corebpf/btf.hpp"

namespace corebpf::btf::detail {

inline std::string_view shown_name(std::string_view name) { return name.empty() ? std::string_view("(anon)") : name; }

inline std::string_view int_encoding_name(std::uint8_t encoding) {
  switch (encoding) {
    case 0:
      return "(none)";
    case kIntSigned:
      return "SIGNED";
    case kIntChar:
      return "CHAR";
    case kIntBool:
      return "BOOL";
    default:
      return "UNKN";
  }
}

// FUNC linkage (kept in vlen) and VAR linkage share the numbering static=0, global=1, extern=2.
inline std::string_view linkage_name(std::uint32_t linkage) {
  switch (linkage) {
    case 0:
      return "static";
    case 1:
      return "global";
    case 2:
      return "extern";
    default:
      return "(unknown)";
  }
}

}  // namespace corebpf::btf::detail
