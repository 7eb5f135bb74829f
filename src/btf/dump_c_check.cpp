// The layout check file for dump_c's headers. It names types and enumerators through CNames,
// exactly as the header does.
#include "btf/dump_c_check.hpp"

#include <fmt/format.h>

#include "btf/c_names.hpp"
#include "corebpf/error.hpp"

namespace corebpf::btf::detail {

namespace {

constexpr int kMaxNesting = 64;
constexpr std::size_t kFlushSize = std::size_t{64} * 1024;

class CheckWriter {
 public:
  CheckWriter(const Btf& btf, const Sink& sink) : btf_(btf), names_(btf), sink_(sink) {}

  void run(std::string_view header) {
    fmt::format_to(std::back_inserter(out_), "#include \"{}\"\n\n", header);
    for (TypeId id = 1; id < btf_.type_count(); ++id) {
      const Type t = btf_.type(id);
      switch (t.kind()) {
        case Kind::Struct:
        case Kind::Union:
          if (t.name_offset() != 0 && names_.name_is_unique(id)) check_record(t);
          break;
        case Kind::Enum:
        case Kind::Enum64:
          check_enum(t);
          break;
        case Kind::Typedef:
          if (names_.name_is_unique(id)) check_typedef(t);
          break;
        default:
          break;
      }
      if (out_.size() >= kFlushSize) flush();
    }
    flush();
  }

 private:
  void flush() {
    if (out_.size() != 0) sink_(std::string_view(out_.data(), out_.size()));
    out_.clear();
  }

  void check_record(const Type& t) {
    const char* tag = t.kind() == Kind::Struct ? "struct" : "union";
    fmt::format_to(std::back_inserter(out_), "_Static_assert(sizeof({} {}) == {}, \"\");\n", tag, t.name(), t.size());
    check_members(t, tag, t.name(), 0, 0);
  }

  // Members of anonymous members are members of the outer record for offsetof.
  void check_members(const Type& record, const char* tag, std::string_view outer, std::uint64_t base_bits, int depth) {
    if (depth > kMaxNesting) return;
    for (auto m : record.members()) {
      if (m.bitfield_size() != 0) continue;
      const Type resolved = btf_.resolve(m.type());
      if (resolved.kind() == Kind::Int) {
        const auto info = resolved.int_info();
        if (info.bits != resolved.size() * 8 || info.bit_offset != 0) continue;  // old bit-field encoding
      }
      const std::uint64_t bits = base_bits + m.bit_offset();
      if (bits % 8 != 0) continue;
      if (m.name().empty()) {
        const Type inner = btf_.skip_modifiers(m.type());
        if (inner.is_struct_or_union() && inner.name_offset() == 0) check_members(inner, tag, outer, bits, depth + 1);
        continue;
      }
      fmt::format_to(std::back_inserter(out_), "_Static_assert(__builtin_offsetof({} {}, {}) == {}, \"\");\n", tag,
                     outer, m.name(), bits / 8);
    }
  }

  void check_enum(const Type& t) {
    if (t.vlen() == 0) return;
    if (t.name_offset() != 0 && names_.name_is_unique(t.id()))
      fmt::format_to(std::back_inserter(out_), "_Static_assert(sizeof(enum {}) == {}, \"\");\n", t.name(), t.size());
    const auto enumerators = t.enumerators();
    for (std::uint32_t i = 0; i < enumerators.size(); ++i) {
      const auto e = enumerators[i];
      const auto value = c_enum_value(t, e);
      if (value.is_signed) {
        out_.append(std::string_view("_Static_assert((long long)"));
        names_.append_enumerator(out_, t.id(), i, e.name());
        if (value.signed_value == INT64_MIN)
          out_.append(std::string_view(" == (-9223372036854775807LL - 1), \"\");\n"));
        else
          fmt::format_to(std::back_inserter(out_), " == {}LL, \"\");\n", value.signed_value);
      } else {
        out_.append(std::string_view("_Static_assert((unsigned long long)"));
        names_.append_enumerator(out_, t.id(), i, e.name());
        fmt::format_to(std::back_inserter(out_), " == {}ULL, \"\");\n", value.unsigned_value);
      }
    }
  }

  void check_typedef(const Type& t) {
    // Only typedefs of complete object types have a size to compare.
    std::uint64_t size;
    try {
      const Type target = btf_.resolve(t.id());
      if (target.kind() == Kind::FuncProto || target.is_void()) return;
      if (target.is_enum() && btf_.type(names_.definition_of(target.id())).vlen() == 0) return;
      size = btf_.size_of(t.id());
    } catch (const Error&) {
      return;
    }
    out_.append(std::string_view("_Static_assert(sizeof("));
    names_.append_name(out_, t.id());
    fmt::format_to(std::back_inserter(out_), ") == {}, \"\");\n", size);
  }

  const Btf& btf_;
  CNames names_;
  const Sink& sink_;
  fmt::memory_buffer out_;
};

}  // namespace

void dump_c_layout_check(const Btf& btf, const Sink& sink, std::string_view header) {
  CheckWriter writer(btf, sink);
  writer.run(header);
}

}  // namespace corebpf::btf::detail
