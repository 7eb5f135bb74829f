// `bpftool btf dump ... format raw`: one `[id] KIND 'name' key=value...` line per type, followed by
// tab-indented lines for members, enumerators, parameters and section variables.
#include <string_view>

#include "btf/dump_names.hpp"
#include "corebpf/btf_dump.hpp"
#include "util/chunk_writer.hpp"
#include "util/error_format.hpp"

namespace corebpf::btf {
namespace {

using detail::int_encoding_name;
using detail::linkage_name;
using detail::shown_name;

template <typename Writer>
void write_type(Writer& out, const Btf& btf, const Type& t) {
  out.format("[{}] {} '{}'", t.id(), kind_name(t.kind()), shown_name(t.name()));
  switch (t.kind()) {
    case Kind::Int: {
      const IntInfo info = t.int_info();
      out.format(" size={} bits_offset={} nr_bits={} encoding={}\n", t.size(), info.bit_offset, info.bits,
                 int_encoding_name(info.encoding));
      break;
    }
    case Kind::Ptr:
    case Kind::Typedef:
    case Kind::Volatile:
    case Kind::Const:
    case Kind::Restrict:
    case Kind::TypeTag:
      out.format(" type_id={}\n", t.type());
      break;
    case Kind::Array: {
      const ArrayInfo a = t.array();
      out.format(" type_id={} index_type_id={} nr_elems={}\n", a.element_type, a.index_type, a.count);
      break;
    }
    case Kind::Struct:
    case Kind::Union:
      out.format(" size={} vlen={}\n", t.size(), t.vlen());
      for (const Member m : t.members()) {
        out.format("\t'{}' type_id={} bits_offset={}", shown_name(m.name()), m.type(), m.bit_offset());
        if (m.bitfield_size() != 0) out.format(" bitfield_size={}", m.bitfield_size());
        out.put('\n');
      }
      break;
    case Kind::Enum:
    case Kind::Enum64: {
      const bool is_signed = t.is_signed_enum();
      out.format(" encoding={} size={} vlen={}\n", is_signed ? "SIGNED" : "UNSIGNED", t.size(), t.vlen());
      const bool wide = t.kind() == Kind::Enum64;
      for (const Enumerator e : t.enumerators()) {
        const std::string_view name = shown_name(e.name());
        if (is_signed) {
          out.format("\t'{}' val={}{}\n", name, e.signed_value(), wide ? "LL" : "");
        } else {
          out.format("\t'{}' val={}{}\n", name, e.unsigned_value(), wide ? "ULL" : "");
        }
      }
      break;
    }
    case Kind::Fwd:
      out.format(" fwd_kind={}\n", t.kind_flag() ? "union" : "struct");
      break;
    case Kind::Func:
      out.format(" type_id={} linkage={}\n", t.type(), linkage_name(t.vlen()));
      break;
    case Kind::FuncProto:
      out.format(" ret_type_id={} vlen={}\n", t.type(), t.vlen());
      for (const Param p : t.params()) out.format("\t'{}' type_id={}\n", shown_name(p.name()), p.type());
      break;
    case Kind::Var:
      out.format(" type_id={}, linkage={}\n", t.type(), linkage_name(static_cast<std::uint32_t>(t.linkage())));
      break;
    case Kind::Datasec:
      out.format(" size={} vlen={}\n", t.size(), t.vlen());
      for (const VarSecinfo v : t.datasec_vars()) {
        const Type var = btf.type(v.type());
        // bpftool spells out kind 0 (a `void` entry) here, unlike in kind_name().
        const std::string_view kind = var.kind() == Kind::Unknown ? "UNKNOWN" : kind_name(var.kind());
        out.format("\ttype_id={} offset={} size={} ({} '{}')\n", v.type(), v.offset(), v.size(), kind,
                   shown_name(var.name()));
      }
      break;
    case Kind::Float:
      out.format(" size={}\n", t.size());
      break;
    case Kind::DeclTag:
      out.format(" type_id={} component_idx={}\n", t.type(), t.component_index());
      break;
    case Kind::Unknown:
      out.put('\n');
      break;
  }
}

}  // namespace

void dump_raw(const Btf& btf, const Sink& sink, std::span<const TypeId> only) {
  util::ChunkWriter out([&sink](std::string_view chunk) { sink(chunk); });
  for (const TypeId id : only)
    if (id != 0 && !btf.try_type(id))
      util::fail(std::errc::invalid_argument, "{}: no type with id {}", btf.source_name(), id);
  for (const TypeId id : only) {
    if (id != 0) write_type(out, btf, btf.type(id));
    out.flush_if_full();
  }
  for (TypeId id = btf.first_id(); only.empty() && id < btf.type_count(); ++id) {
    write_type(out, btf, btf.type(id));
    out.flush_if_full();
  }
  out.flush();
}

std::string to_string(const std::function<void(const Sink&)>& dump) {
  std::string text;
  dump([&text](std::string_view chunk) { text.append(chunk); });
  return text;
}

}  // namespace corebpf::btf
