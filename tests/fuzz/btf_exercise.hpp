// Shared by the BTF fuzz targets: touch every accessor of every type and every query, the way a
// dumper or the CO-RE engine would. Only corebpf::Error may escape a query; anything else (a
// crash, a sanitizer report, a hang, another exception) is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"

namespace corebpf::fuzz {

// Keeps the compiler from discarding what the accessors return.
inline volatile std::uint64_t g_sink;
inline void consume(std::uint64_t value) { g_sink = g_sink + value; }
inline void consume(std::string_view text) { g_sink = g_sink + text.size() + (text.empty() ? 0 : text.front()); }

template <typename Query>
void may_throw(Query&& query) {
  try {
    query();
  } catch (const corebpf::Error&) {
  }
}

inline void exercise_type(const btf::Btf& btf, const btf::Type& t) {
  consume(t.id());
  consume(static_cast<std::uint64_t>(t.kind()));
  consume(t.name());
  consume(t.name_offset());
  consume(t.vlen());
  consume(t.kind_flag());
  consume(t.raw_info());
  consume(t.size());
  consume(t.type());
  consume(t.is_struct_or_union() + t.is_enum() + t.is_modifier() + t.is_signed_enum() + t.is_union_fwd());
  const auto info = t.int_info();
  consume(info.encoding + info.bit_offset + info.bits);
  const auto array = t.array();
  consume(array.element_type + array.index_type + array.count);
  for (auto m : t.members()) {
    consume(m.name());
    consume(m.type() + m.bit_offset() + m.bitfield_size() + m.raw_offset() + m.name_offset());
  }
  for (auto e : t.enumerators()) {
    consume(e.name());
    consume(e.unsigned_value() + static_cast<std::uint64_t>(e.signed_value()) + e.is_signed() + e.name_offset());
  }
  for (auto p : t.params()) {
    consume(p.name());
    consume(p.type() + p.name_offset());
  }
  for (auto v : t.datasec_vars()) consume(v.type() + v.offset() + v.size());
  consume(static_cast<std::uint64_t>(t.linkage()));
  consume(static_cast<std::uint64_t>(t.component_index()));
  consume(t.extra_bytes().size());

  may_throw([&] { consume(btf.resolve(t.id()).id()); });
  may_throw([&] { consume(btf.skip_modifiers(t.id()).id()); });
  may_throw([&] { consume(btf.size_of(t.id())); });
  may_throw([&] { consume(btf.alignment_of(t.id())); });
  consume(btf.decl_tags(t.id()).size());
  consume(btf.decl_tags(t.id(), -1).size() + btf.decl_tags(t.id(), 0).size());
  // Type ids a type refers to must be valid (the parser checked them).
  for (auto m : t.members()) consume(btf.type(m.type()).id());
  for (auto p : t.params()) consume(btf.type(p.type()).id());
  for (auto v : t.datasec_vars()) consume(btf.type(v.type()).id());
}

inline void exercise_queries(const btf::Btf& btf) {
  consume(btf.type_count() + btf.first_id() + btf.pointer_size() + btf.string_section_size());
  consume(btf.raw_bytes().size());
  consume(static_cast<std::uint64_t>(btf.endian()));
  consume(btf.source_name());
  for (std::string_view name : {"int", "task_struct", "", "long int", "sample_pair___v2"}) {
    if (auto t = btf.find(name)) consume(t->id());
    if (auto t = btf.find(name, btf::Kind::Struct)) consume(t->id());
    consume(btf.find_all(name).size() + btf.find_all_essential(btf::essential_name(name)).size());
  }
  // Every type by its own name too, for the first few hundred (quadratic beyond that when
  // everything shares one name).
  const btf::TypeId limit = std::min<btf::TypeId>(btf.type_count(), btf.first_id() + 256);
  for (btf::TypeId id = btf.first_id(); id < limit; ++id) {
    const auto name = btf.type(id).name();
    if (auto t = btf.find(name, btf.type(id).kind())) consume(t->id());
    consume(btf.find_all_essential(btf::essential_name(name)).size());
  }
  for (std::uint32_t offset : {0u, 1u, 7u, btf.string_section_size(), 0xffffffffu}) consume(btf.string_at(offset));
  if (!btf.try_type(btf.type_count())) consume(1);
  may_throw([&] { consume(btf.type(btf.type_count()).id()); });
}

// Copying every type into the writer and serializing must work for any BTF the reader accepts,
// and the result must parse back with the same kinds and names.
inline void exercise_writer(const btf::Btf& btf) try {
  const auto base = btf.base();
  btf::BtfWriter writer = base ? btf::BtfWriter(*base) : btf::BtfWriter();
  for (btf::TypeId id = btf.first_id(); id < btf.type_count(); ++id)
    writer.add_type_copy(btf.type(id), [](btf::TypeId ref) { return ref; });
  const auto bytes = writer.serialize(btf.endian() == btf::Endian::little ? btf::Endian::big : btf::Endian::little);
  const auto again = btf::Btf::from_bytes(bytes, {.base = base ? &*base : nullptr}, "rewritten");
  if (again.type_count() != btf.type_count()) __builtin_trap();
  for (btf::TypeId id = btf.first_id(); id < btf.type_count(); ++id) {
    const auto a = btf.type(id), b = again.type(id);
    if (a.kind() != b.kind() || a.name() != b.name() || a.raw_info() != b.raw_info() || a.size() != b.size())
      __builtin_trap();
  }
} catch (const corebpf::Error&) {
  __builtin_trap();  // the writer refused (or wrote unparseable) BTF the reader had accepted
}

inline void exercise_dumpers(const btf::Btf& btf) {
  const btf::Sink discard = [](std::string_view text) { consume(text); };
  may_throw([&] { btf::dump_raw(btf, discard); });
  may_throw([&] { btf::dump_json(btf, discard, false); });
  may_throw([&] { btf::dump_c(btf, discard); });
}

inline void exercise(const btf::Btf& btf) {
  for (btf::TypeId id = 0; id < btf.type_count(); ++id) exercise_type(btf, btf.type(id));
  exercise_queries(btf);
  exercise_writer(btf);
  exercise_dumpers(btf);
}

}  // namespace corebpf::fuzz
