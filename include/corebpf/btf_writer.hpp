// [pure] BTF writer: builds BTF type by type (or by copying types out of a parsed Btf) and serializes it
// to the raw format in either byte order. Also writes split BTF that continues a base's ids and
// string offsets, as kernel modules' BTF does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"

namespace corebpf::btf {

// Every add_* returns the new type's id. Type references are checked when serializing, so types
// may refer forward to ids added later. Errors in arguments (an INT of 3 bytes, add_member with
// no struct open...) throw corebpf::Error at once.
class BtfWriter {
 public:
  // Standalone BTF: ids start at 1, the string section at the empty string.
  BtfWriter();
  // Split BTF on top of `base` (kept alive by the writer): ids start at base.type_count(), string
  // offsets after the base's strings, and strings the base already has are referred to, not added.
  explicit BtfWriter(const Btf& base);
  BtfWriter(BtfWriter&&) noexcept;
  BtfWriter& operator=(BtfWriter&&) noexcept;
  ~BtfWriter();

  // The offset of `text` in the (combined) string section, adding it if new. "" is offset 0.
  std::uint32_t add_string(std::string_view text);

  // `bits` 0 means the whole `size` (size * 8 bits). `encoding` is kIntSigned, kIntChar, kIntBool or 0.
  TypeId add_int(std::string_view name, std::uint32_t size, std::uint8_t encoding = 0, std::uint8_t bit_offset = 0,
                 std::uint8_t bits = 0);
  TypeId add_ptr(TypeId target);
  TypeId add_array(TypeId element_type, TypeId index_type, std::uint32_t count);

  // Members follow with add_member until the next add_*. The first bitfield sets the kind_flag
  // encoding (bitfield size in the top 8 bits of the member offset) for the whole struct.
  TypeId add_struct(std::string_view name, std::uint32_t size);
  TypeId add_union(std::string_view name, std::uint32_t size);
  void add_member(std::string_view name, TypeId type, std::uint32_t bit_offset, std::uint8_t bitfield_size = 0);

  // Enumerators follow with add_enumerator. For ENUM, values must lie in [INT32_MIN, UINT32_MAX];
  // for ENUM64 every 64-bit pattern is allowed (pass values above INT64_MAX cast to int64_t).
  TypeId add_enum(std::string_view name, std::uint32_t size = 4, bool is_signed = false);
  TypeId add_enum64(std::string_view name, std::uint32_t size = 8, bool is_signed = false);
  void add_enumerator(std::string_view name, std::int64_t value);

  TypeId add_fwd(std::string_view name, bool is_union);
  TypeId add_typedef(std::string_view name, TypeId type);
  TypeId add_volatile(TypeId type);
  TypeId add_const(TypeId type);
  TypeId add_restrict(TypeId type);
  TypeId add_type_tag(std::string_view value, TypeId type);

  TypeId add_func(std::string_view name, TypeId proto, Linkage linkage);
  // Parameters follow with add_param; add_param("", 0) last makes the function variadic.
  TypeId add_func_proto(TypeId return_type);
  void add_param(std::string_view name, TypeId type);

  TypeId add_var(std::string_view name, TypeId type, Linkage linkage);
  // Variables follow with add_datasec_var.
  TypeId add_datasec(std::string_view name, std::uint32_t size);
  void add_datasec_var(TypeId var_or_func, std::uint32_t offset, std::uint32_t size);

  TypeId add_float(std::string_view name, std::uint32_t size);
  // `component_index` -1 tags the type itself, else the member or parameter of that index.
  TypeId add_decl_tag(std::string_view value, TypeId type, std::int32_t component_index = -1);

  // Copies any type (of any Btf) bit for bit except that names are re-added to this writer's
  // strings and every referenced type id other than 0 (void) goes through `remap`.
  using Remap = std::function<TypeId(TypeId)>;
  TypeId add_type_copy(const Type& type, const Remap& remap);

  // The id the next add_* will return; type_count() - 1 is the last id (void and base included).
  TypeId next_id() const;
  std::uint32_t type_count() const { return next_id(); }
  TypeId first_id() const;
  // Null unless this writes split BTF.
  const Btf* base() const;

  // Raw BTF (header, types, strings). Throws corebpf::Error naming the type when a type refers
  // to an id that does not exist.
  std::vector<std::byte> serialize(Endian endian = native_endian()) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace corebpf::btf
