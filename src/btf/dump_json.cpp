// `bpftool -j btf dump ... format raw`: {"types":[...]} with one object per type, the same keys as
// the raw lines. Streamed: a vmlinux dump is ~18 MB of JSON and never exists whole in memory.
#include <string_view>

#include "btf/dump_names.hpp"
#include "corebpf/btf_dump.hpp"
#include "util/chunk_writer.hpp"
#include "util/error_format.hpp"
#include "util/json_writer.hpp"

namespace corebpf::btf {
namespace {

using detail::int_encoding_name;
using detail::linkage_name;
using detail::shown_name;

void write_type(util::JsonWriter& json, const Type& t) {
  json.begin_object();
  json.member("id", t.id());
  json.member("kind", kind_name(t.kind()));
  json.member("name", shown_name(t.name()));
  switch (t.kind()) {
    case Kind::Int: {
      const IntInfo info = t.int_info();
      json.member("size", t.size());
      json.member("bits_offset", info.bit_offset);
      json.member("nr_bits", info.bits);
      json.member("encoding", int_encoding_name(info.encoding));
      break;
    }
    case Kind::Ptr:
    case Kind::Typedef:
    case Kind::Volatile:
    case Kind::Const:
    case Kind::Restrict:
    case Kind::TypeTag:
      json.member("type_id", t.type());
      break;
    case Kind::Array: {
      const ArrayInfo a = t.array();
      json.member("type_id", a.element_type);
      json.member("index_type_id", a.index_type);
      json.member("nr_elems", a.count);
      break;
    }
    case Kind::Struct:
    case Kind::Union:
      json.member("size", t.size());
      json.member("vlen", t.vlen());
      json.key("members");
      json.begin_array();
      for (const Member m : t.members()) {
        json.begin_object();
        json.member("name", shown_name(m.name()));
        json.member("type_id", m.type());
        json.member("bits_offset", m.bit_offset());
        if (m.bitfield_size() != 0) json.member("bitfield_size", m.bitfield_size());
        json.end_object();
      }
      json.end_array();
      break;
    case Kind::Enum:
    case Kind::Enum64: {
      const bool is_signed = t.is_signed_enum();
      json.member("encoding", is_signed ? "SIGNED" : "UNSIGNED");
      json.member("size", t.size());
      json.member("vlen", t.vlen());
      json.key("values");
      json.begin_array();
      for (const Enumerator e : t.enumerators()) {
        json.begin_object();
        json.member("name", shown_name(e.name()));
        if (is_signed) {
          json.member("val", e.signed_value());
        } else {
          json.member("val", e.unsigned_value());
        }
        json.end_object();
      }
      json.end_array();
      break;
    }
    case Kind::Fwd:
      json.member("fwd_kind", t.kind_flag() ? "union" : "struct");
      break;
    case Kind::Func:
      json.member("type_id", t.type());
      json.member("linkage", linkage_name(t.vlen()));
      break;
    case Kind::FuncProto:
      json.member("ret_type_id", t.type());
      json.member("vlen", t.vlen());
      json.key("params");
      json.begin_array();
      for (const Param p : t.params()) {
        json.begin_object();
        json.member("name", shown_name(p.name()));
        json.member("type_id", p.type());
        json.end_object();
      }
      json.end_array();
      break;
    case Kind::Var:
      json.member("type_id", t.type());
      json.member("linkage", linkage_name(static_cast<std::uint32_t>(t.linkage())));
      break;
    case Kind::Datasec:
      json.member("size", t.size());
      json.member("vlen", t.vlen());
      json.key("vars");
      json.begin_array();
      for (const VarSecinfo v : t.datasec_vars()) {
        json.begin_object();
        json.member("type_id", v.type());
        json.member("offset", v.offset());
        json.member("size", v.size());
        json.end_object();
      }
      json.end_array();
      break;
    case Kind::Float:
      json.member("size", t.size());
      break;
    case Kind::DeclTag:
      json.member("type_id", t.type());
      json.member("component_idx", t.component_index());
      break;
    case Kind::Unknown:
      break;
  }
  json.end_object();
}

}  // namespace

void dump_json(const Btf& btf, const Sink& sink, bool pretty, std::span<const TypeId> only) {
  for (const TypeId id : only)
    if (id != 0 && !btf.try_type(id))
      util::fail(std::errc::invalid_argument, "{}: no type with id {}", btf.source_name(), id);
  util::ChunkWriter out([&sink](std::string_view chunk) { sink(chunk); });
  util::JsonWriter json(out.buffer(), pretty);
  json.begin_object();
  json.key("types");
  json.begin_array();
  for (const TypeId id : only) {
    if (id != 0) write_type(json, btf.type(id));
    out.flush_if_full();
  }
  for (TypeId id = btf.first_id(); only.empty() && id < btf.type_count(); ++id) {
    write_type(json, btf.type(id));
    out.flush_if_full();
  }
  json.end_array();
  json.end_object();
  out.put('\n');
  out.flush();
}

}  // namespace corebpf::btf
