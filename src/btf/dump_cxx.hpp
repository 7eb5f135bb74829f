// Internal: BTF types as C++ declarations, for generated skeletons (src/skel). The C dumper's
// planner and printer in a C++ dialect, so both headers lay records out by one model: std::
// integer types, enums with their BTF size as underlying type, kernel pointers as std::uint64_t,
// no qualifiers, keyword names with a trailing '_', `__extension__` where ISO C++ lacks a feature
// (anonymous structs, zero-length arrays, __int128), explicit `_padN` byte arrays for every gap,
// and after each record `static_assert`s on its sizeof and each non-bit-field member's offsetof.
// The output needs <cstddef> and <cstdint>.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"

namespace corebpf::btf {

namespace detail {
class CDumper;
bool is_cxx_keyword(std::string_view name);
// `name`, or `name_` for a C++ keyword.
std::string cxx_identifier(std::string_view name);
// std::int32_t... for 1, 2, 4, 8 bytes (__int128 for 16); empty otherwise.
std::string_view cxx_int_spelling(std::uint32_t size, bool is_signed);
}  // namespace detail

class CxxTypeWriter {
 public:
  CxxTypeWriter(const Btf& btf, const Sink& sink);
  ~CxxTypeWriter();
  CxxTypeWriter(const CxxTypeWriter&) = delete;
  CxxTypeWriter& operator=(const CxxTypeWriter&) = delete;

  // Writes the definitions `id` needs to be used by value (itself when it is a named struct,
  // union, enum or typedef), each once. Throws corebpf::Error naming the type when C++ cannot
  // declare it.
  void define(TypeId id);
  // `type name` as a declaration ("std::uint32_t slots[4]"); an anonymous record is written in
  // place. The types it names must have been define()d.
  std::string declaration(TypeId type, std::string_view name);
  // Whether a declaration of `type` needs the `__extension__` prefix.
  bool needs_extension(TypeId type);
  // Writes what is still buffered.
  void flush();

 private:
  CDumpOptions options_;
  std::unique_ptr<detail::CDumper> dumper_;
};

}  // namespace corebpf::btf
