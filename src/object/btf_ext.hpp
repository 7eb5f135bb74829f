// Internal: the .BTF.ext section (func_info, line_info, CO-RE relocations), per ELF section,
// converted to host order.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/core.hpp"

namespace corebpf::object {

// Offsets are bytes from the start of the ELF section, as .BTF.ext records them.
struct ExtFuncInfo {
  std::uint32_t insn_off;
  btf::TypeId type_id;
};

struct ExtLineInfo {
  std::uint32_t insn_off;
  std::uint32_t file_name_off;
  std::uint32_t line_off;
  std::uint32_t line_col;  // line << 10 | column
};

struct ExtSection {
  std::vector<ExtFuncInfo> func_info;
  std::vector<ExtLineInfo> line_info;
  std::vector<core::ReloRecord> core_relos;
};

struct BtfExt {
  std::map<std::string, ExtSection, std::less<>> sections;
};

// Parses `bytes`; section names are looked up in `btf`. Throws corebpf::Error naming `file`.
// `swap` when the object's byte order is not the host's.
BtfExt parse_btf_ext(std::span<const std::byte> bytes, bool swap, const btf::Btf& btf, const std::string& file);

}  // namespace corebpf::object
