// Maps: BTF-defined (.maps), legacy (`maps`), and the internal arrays holding global data.
#include <algorithm>
#include <cctype>

#include "object/byte_reader.hpp"
#include "object/object_parser.hpp"

namespace corebpf {

using namespace elf_constants;

namespace {

constexpr std::size_t kObjectNameMax = 15;  // BPF_OBJ_NAME_LEN without its NUL
constexpr std::size_t kSlotSize = 8;        // a pointer in .maps
// The kernel caps array values at KMALLOC_MAX_SIZE (4 MiB with 4 KiB pages, more with larger
// pages); well above that, a size (of .bss, which the file does not hold) is damage, and we
// would only allocate it to fail at load.
constexpr std::uint64_t kMaxGlobalDataSize = std::uint64_t{64} << 20;
constexpr std::uint32_t kMaxPinning = static_cast<std::uint32_t>(Pinning::by_name);

// The fields a BTF map definition may have, each optional.
struct BtfMapFields {
  std::optional<std::uint32_t> type, max_entries, map_flags, numa_node, key_size, value_size, pinning;
  std::optional<std::uint64_t> map_extra;
  std::optional<btf::TypeId> key, value;
  std::optional<btf::Type> values_target;  // the pointee of `values`: a map struct or a FUNC_PROTO
  std::uint32_t values_offset = 0;
};

class BtfMapReader {
 public:
  BtfMapReader(const ObjectParser& parser, const btf::Btf& btf, std::string_view map)
      : parser_(parser), btf_(btf), map_(map) {}

  BtfMapFields read(const btf::Type& definition) {
    BtfMapFields fields;
    for (const auto member : definition.members()) {
      const auto name = member.name();
      if (name == "type")
        fields.type = number(member);
      else if (name == "max_entries")
        fields.max_entries = number(member);
      else if (name == "map_flags")
        fields.map_flags = number(member);
      else if (name == "numa_node")
        fields.numa_node = number(member);
      else if (name == "key_size")
        fields.key_size = number(member);
      else if (name == "value_size")
        fields.value_size = number(member);
      else if (name == "pinning")
        fields.pinning = number(member);
      else if (name == "map_extra")
        fields.map_extra = number(member);
      else if (name == "key")
        fields.key = pointee(member);
      else if (name == "value")
        fields.value = pointee(member);
      else if (name == "values")
        read_values(member, fields);
      else
        parser_.fail("map '{}': unknown field '{}' in its definition", map_, name);
    }
    return fields;
  }

  // Type sizes the kernel sees; throws naming the map when the type has none.
  std::uint32_t size_of(btf::TypeId id, std::string_view field) {
    std::uint64_t size = 0;
    try {
      size = btf_.size_of(id);
    } catch (const Error& error) {
      parser_.fail("map '{}': the {} type {} has no size: {}", map_, field, id, error.message());
    }
    if (size == 0 || size > UINT32_MAX) parser_.fail("map '{}': the {} type {} has size {}", map_, field, id, size);
    return static_cast<std::uint32_t>(size);
  }

 private:
  // __uint(name, N) is `int (*name)[N]`: the number is the array's length.
  std::uint32_t number(const btf::Member& member) {
    const auto pointer = btf_.resolve(member.type());
    const auto array = pointer.kind() == btf::Kind::Ptr ? btf_.resolve(pointer.type()) : btf::Type();
    if (array.kind() != btf::Kind::Array)
      parser_.fail("map '{}': field '{}' is not __uint(name, value) (a pointer to an array)", map_, member.name());
    return array.array().count;
  }

  // __type(name, T) is `T *name`.
  btf::TypeId pointee(const btf::Member& member) {
    const auto pointer = btf_.resolve(member.type());
    if (pointer.kind() != btf::Kind::Ptr)
      parser_.fail("map '{}': field '{}' is not __type(name, type) (a pointer)", map_, member.name());
    return pointer.type();
  }

  // __array(values, T) is `T *values[]`.
  void read_values(const btf::Member& member, BtfMapFields& fields) {
    const auto array = btf_.resolve(member.type());
    const auto pointer = array.kind() == btf::Kind::Array ? btf_.resolve(array.array().element_type) : btf::Type();
    if (pointer.kind() != btf::Kind::Ptr)
      parser_.fail("map '{}': field 'values' is not __array(values, type) (an array of pointers)", map_);
    const auto target = btf_.resolve(pointer.type());
    if (target.kind() != btf::Kind::Struct && target.kind() != btf::Kind::FuncProto)
      parser_.fail("map '{}': 'values' points to a {}, neither a map definition nor a function", map_,
                   btf::kind_name(target.kind()));
    if (member.bitfield_size() != 0 || member.bit_offset() % 8 != 0)
      parser_.fail("map '{}': field 'values' is not byte-aligned", map_);
    fields.values_target = target;
    fields.values_offset = member.bit_offset() / 8;
  }

  const ObjectParser& parser_;
  const btf::Btf& btf_;
  std::string_view map_;
};

// Applies the fields to a definition, checking that explicit sizes agree with the types.
void build_definition(const ObjectParser& parser, BtfMapReader& reader, std::string_view map,
                      const BtfMapFields& fields, MapDefinition& definition, std::uint32_t& key_type_size,
                      std::uint32_t& value_type_size) {
  definition.type = static_cast<MapType>(fields.type.value_or(0));
  definition.max_entries = fields.max_entries.value_or(0);
  definition.flags = fields.map_flags.value_or(0);
  definition.numa_node = fields.numa_node.value_or(0);
  definition.map_extra = fields.map_extra.value_or(0);
  definition.key_size = fields.key_size.value_or(0);
  definition.value_size = fields.value_size.value_or(0);
  if (fields.key) {
    key_type_size = reader.size_of(*fields.key, "key");
    if (fields.key_size && *fields.key_size != key_type_size)
      parser.fail("map '{}': key_size {} disagrees with the key type's size {}", map, *fields.key_size, key_type_size);
    definition.key_size = key_type_size;
    definition.btf_key_type_id = *fields.key;
  }
  if (fields.value) {
    value_type_size = reader.size_of(*fields.value, "value");
    if (fields.value_size && *fields.value_size != value_type_size)
      parser.fail("map '{}': value_size {} disagrees with the value type's size {}", map, *fields.value_size,
                  value_type_size);
    definition.value_size = value_type_size;
    definition.btf_value_type_id = *fields.value;
  }
}

bool is_map_in_map(MapType type) { return type == MapType::array_of_maps || type == MapType::hash_of_maps; }

}  // namespace

std::string ObjectParser::internal_map_name(std::string_view section) const {
  // The object name prefixes the section unless the section name has its own dots
  // (".rodata.str1.1", ".data.custom"): those stand alone. The prefix gives way first.
  const std::size_t suffix = std::max<std::size_t>(7, section.size());
  const bool stands_alone = section.find('.', 1) != std::string_view::npos;
  const std::size_t prefix =
      stands_alone || suffix >= kObjectNameMax ? 0 : std::min(kObjectNameMax - suffix, spec.name_.size());
  std::string name = spec.name_.substr(0, prefix) + std::string(section);
  if (name.size() > kObjectNameMax) name.resize(kObjectNameMax);
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  return name;
}

void ObjectParser::read_btf_maps() {
  const auto* section = elf.find_section(".maps");
  if (!section) return;
  maps_section = section->index;
  if (section->size == 0) return;
  const auto& btf = require_btf("the .maps section defines maps in BTF");
  const auto datasec = btf.find(".maps", btf::Kind::Datasec);
  if (!datasec) fail("the .maps section has no DATASEC in the object's BTF");

  for (const auto info : datasec->datasec_vars()) {
    const auto var = btf.try_type(info.type());
    if (!var || var->kind() != btf::Kind::Var)
      fail("the .maps DATASEC has an entry of type {} that is not a VAR", info.type());
    const auto name = var->name();
    const auto definition = btf.resolve(var->type());
    if (definition.kind() != btf::Kind::Struct)
      fail("map '{}': its definition is a {}, not a struct", name, btf::kind_name(definition.kind()));
    const Symbol* symbol = find_symbol(section->index, name);
    if (!symbol) fail("map '{}': no symbol of that name in section .maps", name);

    BtfMapReader reader(*this, btf, name);
    const auto fields = reader.read(definition);
    MapSpec map;
    map.name_ = std::string(name);
    map.section_ = ".maps";
    map.origin_ = MapOrigin::btf_defined;
    map.btf_id_ = var->id();
    build_definition(*this, reader, name, fields, map.definition_, map.btf_key_size_, map.btf_value_size_);
    if (fields.pinning) {
      if (*fields.pinning > kMaxPinning)
        fail("map '{}': pinning {} is neither 0 (none) nor 1 (by name)", name, *fields.pinning);
      map.pinning_ = static_cast<Pinning>(*fields.pinning);
    }
    if (fields.values_target) {
      const bool holds_programs = fields.values_target->kind() == btf::Kind::FuncProto;
      if (holds_programs ? map.definition_.type != MapType::prog_array : !is_map_in_map(map.definition_.type))
        fail("map '{}': 'values' of {} cannot go in a map of type {}", name, holds_programs ? "programs" : "maps",
             map_type_name(map.definition_.type));
      if (fields.value || (fields.value_size && *fields.value_size != 4))
        fail("map '{}': a map with 'values' holds 4-byte ids; it takes no value type or other value size", name);
      map.definition_.value_size = 4;
      if (map.definition_.key_size == 0) map.definition_.key_size = 4;
      if (!holds_programs) {
        BtfMapReader inner_reader(*this, btf, name);
        const auto inner_fields = inner_reader.read(*fields.values_target);
        if (inner_fields.values_target) fail("map '{}': its inner map cannot itself have 'values'", name);
        MapDefinition inner;
        std::uint32_t unused_key = 0, unused_value = 0;
        build_definition(*this, inner_reader, name, inner_fields, inner, unused_key, unused_value);
        map.inner_ = inner;
      }
      values_fields[spec.maps_.size()] = {fields.values_offset, holds_programs};
    }
    map_placements.push_back(
        {section->index, symbol->value, std::max<std::uint64_t>(symbol->size, 1), spec.maps_.size()});
    spec.maps_.push_back(std::move(map));
  }
}

void ObjectParser::read_legacy_maps() {
  // struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }: all u32.
  constexpr std::size_t kMinimumRecord = 16;
  constexpr std::size_t kFullRecord = 20;
  const auto* section = elf.find_section("maps");
  if (!section || section->type == kShtNobits) return;
  legacy_maps_section = section->index;
  std::vector<const Symbol*> defined;
  for (const auto& symbol : symbols)
    if (symbol.section == section->index && symbol.type != kSttSection && !symbol.name.empty() &&
        (symbol.type == kSttObject || symbol.bind != kStbLocal))
      defined.push_back(&symbol);
  if (defined.empty()) {
    if (!section->data.empty()) fail("the legacy maps section has {} bytes but no map symbols", section->data.size());
    return;
  }
  std::stable_sort(defined.begin(), defined.end(),
                   [](const Symbol* a, const Symbol* b) { return a->value < b->value; });
  if (section->data.size() % defined.size() != 0)
    fail("the legacy maps section ({} bytes) does not divide into its {} maps", section->data.size(), defined.size());
  const std::size_t record = section->data.size() / defined.size();
  if (record < kMinimumRecord || record % 4 != 0)
    fail("legacy map definitions are {} bytes each; struct bpf_map_def needs at least {}", record, kMinimumRecord);
  object::ByteReader reader(section->data, swap);
  for (const Symbol* symbol : defined) {
    if (symbol->value % record != 0 || symbol->value >= section->data.size())
      fail("legacy map '{}' at offset {} does not start a {}-byte definition", symbol->name, symbol->value, record);
    const std::size_t at = symbol->value;
    for (std::size_t extra = kFullRecord; extra < record; extra += 4)
      if (reader.u32(at + extra) != 0)
        fail("legacy map '{}' sets fields beyond struct bpf_map_def (byte {}), which corebpf does not know",
             symbol->name, extra);
    MapSpec map;
    map.name_ = std::string(symbol->name);
    map.section_ = "maps";
    map.origin_ = MapOrigin::legacy;
    map.definition_.type = static_cast<MapType>(reader.u32(at));
    map.definition_.key_size = reader.u32(at + 4);
    map.definition_.value_size = reader.u32(at + 8);
    map.definition_.max_entries = reader.u32(at + 12);
    map.definition_.flags = record >= kFullRecord ? reader.u32(at + 16) : 0;
    map_placements.push_back({section->index, symbol->value, record, spec.maps_.size()});
    spec.maps_.push_back(std::move(map));
  }
}

void ObjectParser::read_data_sections() {
  auto origin_of = [](std::string_view name) -> std::optional<MapOrigin> {
    auto is = [&](std::string_view base) {
      return name == base || (name.starts_with(base) && name.size() > base.size() && name[base.size()] == '.');
    };
    if (is(".data")) return MapOrigin::data;
    if (is(".rodata")) return MapOrigin::rodata;
    if (is(".bss")) return MapOrigin::bss;
    return std::nullopt;
  };
  for (const auto& section : elf.sections()) {
    if ((section.flags & kShfExecinstr) != 0 || (section.type != kShtProgbits && section.type != kShtNobits)) continue;
    const auto origin = origin_of(section.name);
    if (!origin || section.size == 0) continue;
    if (section.size > kMaxGlobalDataSize)
      fail("section '{}' is {} bytes, more than the {} a global data map can hold", section.name, section.size,
           kMaxGlobalDataSize);
    MapSpec map;
    map.name_ = internal_map_name(section.name);
    map.section_ = std::string(section.name);
    map.origin_ = *origin;
    map.definition_.type = MapType::array;
    map.definition_.key_size = 4;
    map.definition_.value_size = static_cast<std::uint32_t>(section.size);
    map.definition_.max_entries = 1;
    if (*origin == MapOrigin::rodata) map.definition_.flags |= kMapFlagRdonlyProg;
    if (section.type == kShtNobits)
      map.data_.assign(section.size, std::byte{0});
    else
      map.data_.assign(section.data.begin(), section.data.end());

    if (spec.btf_) {
      if (auto datasec = spec.btf_->find(section.name, btf::Kind::Datasec)) {
        map.btf_id_ = datasec->id();
        map.definition_.btf_value_type_id = datasec->id();
        for (const auto info : datasec->datasec_vars()) {
          const auto var = spec.btf_->try_type(info.type());
          if (!var || var->kind() != btf::Kind::Var) continue;
          DatasecVariable variable;
          variable.name = std::string(var->name());
          variable.var_type_id = var->id();
          variable.type_id = var->type();
          variable.is_global = var->linkage() != btf::Linkage::static_;
          // clang leaves global variables' DATASEC offsets at 0 for the linker: the symbol knows.
          const Symbol* symbol = find_symbol(section.index, variable.name);
          variable.offset =
              symbol ? static_cast<std::uint32_t>(std::min<std::uint64_t>(symbol->value, UINT32_MAX)) : info.offset();
          variable.size = info.size() != 0 ? info.size() : static_cast<std::uint32_t>(symbol ? symbol->size : 0);
          if (std::uint64_t{variable.offset} + variable.size > section.size)
            fail("variable '{}' (offset {}, size {}) lies beyond the end of section '{}' ({} bytes)", variable.name,
                 variable.offset, variable.size, section.name, section.size);
          map.variables_.push_back(std::move(variable));
        }
        std::stable_sort(map.variables_.begin(), map.variables_.end(),
                         [](const DatasecVariable& a, const DatasecVariable& b) { return a.offset < b.offset; });
      }
    }
    // A section with only static variables is reachable from programs alone, never mapped by users.
    if (std::any_of(map.variables_.begin(), map.variables_.end(), [](const auto& v) { return v.is_global; }))
      map.definition_.flags |= kMapFlagMmapable;
    data_section_maps[section.index] = spec.maps_.size();
    spec.maps_.push_back(std::move(map));
  }
}

void ObjectParser::read_map_slots(const elf::Section& relocations) {
  constexpr std::size_t kRelocationSize = 16;
  if (relocations.data.size() % kRelocationSize != 0)
    fail("relocation section '{}' size {} is not a multiple of {}", relocations.name, relocations.data.size(),
         kRelocationSize);
  object::ByteReader reader(relocations.data, swap);
  for (std::size_t i = 0; i < relocations.data.size() / kRelocationSize; ++i) {
    const std::uint64_t offset = reader.u64(i * kRelocationSize);
    const std::uint64_t info = reader.u64(i * kRelocationSize + 8);
    const auto symbol_index = static_cast<std::uint32_t>(info >> 32);
    const MapPlacement* placement = map_at(*maps_section, offset);
    if (!placement) fail(".rel.maps: relocation {} at offset {} is not inside any map", i, offset);
    auto& map = spec.maps_[placement->map_index];
    auto field = values_fields.find(placement->map_index);
    const std::uint64_t relative = offset - placement->offset;
    if (field == values_fields.end() || relative < field->second.offset ||
        (relative - field->second.offset) % kSlotSize != 0)
      fail(".rel.maps: relocation at offset {} of map '{}' is not on an element of its 'values'", offset, map.name_);
    const auto slot =
        static_cast<std::uint32_t>(std::min<std::uint64_t>((relative - field->second.offset) / kSlotSize, UINT32_MAX));
    if (slot >= map.definition_.max_entries)
      fail("map '{}': initial value {} lies beyond max_entries {}", map.name_, slot, map.definition_.max_entries);
    if (symbol_index == 0 || symbol_index >= symbols.size())
      fail(".rel.maps: relocation at offset {} refers to symbol {}, outside the symbol table ({} symbols)", offset,
           symbol_index, symbols.size());
    const Symbol& symbol = symbols[symbol_index];
    MapSlot entry;
    entry.index = slot;
    if (field->second.holds_programs) {
      const auto program = program_of_symbol(symbol);
      if (!program)
        fail("map '{}': initial value {} is '{}', which is not a program", map.name_, slot, symbol_name(symbol));
      entry.target_index = *program;
      entry.target = spec.programs_[entry.target_index].name_;
    } else {
      const MapPlacement* inner = symbol.section == *maps_section ? map_at(symbol.section, symbol.value) : nullptr;
      if (!inner || inner->map_index == placement->map_index)
        fail("map '{}': initial value {} is '{}', which is not another map of .maps", map.name_, slot,
             symbol_name(symbol));
      entry.target_index = inner->map_index;
      entry.target = spec.maps_[inner->map_index].name_;
    }
    auto position = std::lower_bound(map.slots_.begin(), map.slots_.end(), slot,
                                     [](const MapSlot& s, std::uint32_t index) { return s.index < index; });
    if (position != map.slots_.end() && position->index == slot)
      fail("map '{}': initial value {} is set twice", map.name_, slot);
    map.slots_.insert(position, std::move(entry));
  }
}

std::optional<std::size_t> ObjectParser::program_of_symbol(const Symbol& symbol) const {
  if (symbol.value % sizeof(Insn) != 0) return std::nullopt;
  const Function* function = function_at(
      symbol.section, static_cast<std::uint32_t>(std::min<std::uint64_t>(symbol.value / sizeof(Insn), UINT32_MAX)));
  if (!function) return std::nullopt;
  const auto entry = std::find_if(entry_functions.begin(), entry_functions.end(),
                                  [&](std::size_t f) { return &functions[f] == function; });
  if (entry == entry_functions.end()) return std::nullopt;
  return static_cast<std::size_t>(entry - entry_functions.begin());
}

// Each variable of .struct_ops / .struct_ops.link is one map: the struct's bytes, found at the
// variable's symbol (clang leaves DATASEC offsets to a linker).
void ObjectParser::read_struct_ops_sections() {
  for (const auto& section : elf.sections()) {
    if (section.name != ".struct_ops" && section.name != ".struct_ops.link") continue;
    if (section.type != kShtProgbits || section.data.empty()) continue;
    const auto& btf = require_btf(fmt::format("section {} defines struct_ops maps in BTF", section.name));
    const auto datasec = btf.find(section.name, btf::Kind::Datasec);
    if (!datasec) fail("section {} has no DATASEC in the object's BTF", section.name);
    auto& placements = struct_ops_sections[section.index];
    for (const auto info : datasec->datasec_vars()) {
      const auto var = btf.try_type(info.type());
      if (!var || var->kind() != btf::Kind::Var)
        fail("the {} DATASEC has an entry of type {} that is not a VAR", section.name, info.type());
      const auto name = var->name();
      const auto type = btf.resolve(var->type());
      if (type.kind() != btf::Kind::Struct || type.name().empty())
        fail("struct_ops map '{}' in {}: its type is a {}, not a named struct", name, section.name,
             btf::kind_name(type.kind()));
      const Symbol* symbol = find_symbol(section.index, name);
      if (!symbol) fail("struct_ops map '{}': no symbol of that name in section {}", name, section.name);
      const std::uint64_t size = type.size();
      if (size == 0 || symbol->value > section.data.size() || size > section.data.size() - symbol->value)
        fail("struct_ops map '{}' (struct {}, {} bytes at offset {}) lies beyond the end of section {} ({} bytes)",
             name, type.name(), size, symbol->value, section.name, section.data.size());
      MapSpec map;
      map.name_ = std::string(name);
      map.section_ = std::string(section.name);
      map.origin_ = MapOrigin::struct_ops;
      map.btf_id_ = var->id();
      map.definition_.type = MapType::struct_ops;
      map.definition_.key_size = 4;
      map.definition_.value_size = static_cast<std::uint32_t>(size);
      map.definition_.max_entries = 1;
      if (section.name == ".struct_ops.link") map.definition_.flags = kMapFlagLink;
      map.struct_ops_type_id_ = type.id();
      map.struct_ops_type_name_ = std::string(type.name());
      const auto* begin = section.data.data() + symbol->value;
      map.data_.assign(begin, begin + size);
      placements.push_back({section.index, symbol->value, size, spec.maps_.size()});
      spec.maps_.push_back(std::move(map));
    }
  }
}

void ObjectParser::read_struct_ops_relocations(const elf::Section& relocations) {
  constexpr std::size_t kRelocationSize = 16;
  constexpr std::size_t kPointerSize = 8;
  if (relocations.data.size() % kRelocationSize != 0)
    fail("relocation section '{}' size {} is not a multiple of {}", relocations.name, relocations.data.size(),
         kRelocationSize);
  const auto& placements = struct_ops_sections.at(relocations.info);
  const auto& btf = *spec.btf_;
  object::ByteReader reader(relocations.data, swap);
  for (std::size_t i = 0; i < relocations.data.size() / kRelocationSize; ++i) {
    const std::uint64_t offset = reader.u64(i * kRelocationSize);
    const auto symbol_index = static_cast<std::uint32_t>(reader.u64(i * kRelocationSize + 8) >> 32);
    const auto placement = std::find_if(placements.begin(), placements.end(), [&](const MapPlacement& p) {
      return offset >= p.offset && offset - p.offset < p.size;
    });
    if (placement == placements.end())
      fail("{}: relocation {} at offset {} is not inside any struct_ops map", relocations.name, i, offset);
    auto& map = spec.maps_[placement->map_index];
    const std::uint64_t relative = offset - placement->offset;
    std::optional<btf::Member> member;
    for (const auto candidate : btf.type(map.struct_ops_type_id_).members())
      if (candidate.bitfield_size() == 0 && candidate.bit_offset() == relative * 8) member = candidate;
    if (!member || btf.resolve(member->type()).kind() != btf::Kind::Ptr)
      fail("struct_ops map '{}': relocation at offset {} of struct {} is not on a function pointer member", map.name_,
           relative, map.struct_ops_type_name_);
    if (symbol_index == 0 || symbol_index >= symbols.size())
      fail("{}: relocation at offset {} refers to symbol {}, outside the symbol table ({} symbols)", relocations.name,
           offset, symbol_index, symbols.size());
    const auto program = program_of_symbol(symbols[symbol_index]);
    if (!program)
      fail("struct_ops map '{}': member '{}' is '{}', which is not a program", map.name_, member->name(),
           symbol_name(symbols[symbol_index]));
    auto& program_spec = spec.programs_[*program];
    if (program_spec.type() != ProgramType::struct_ops)
      fail("struct_ops map '{}': member '{}' is program '{}' of section {}, not a SEC(\"struct_ops/...\") program",
           map.name_, member->name(), program_spec.name_, program_spec.section_);
    if (relative + kPointerSize > map.data_.size())
      fail("struct_ops map '{}': member '{}' runs off the struct", map.name_, member->name());
    std::fill_n(map.data_.begin() + static_cast<std::ptrdiff_t>(relative), kPointerSize, std::byte{0});
    map.struct_ops_members_.push_back(
        {std::string(member->name()), static_cast<std::uint32_t>(relative), program_spec.name_, *program});
  }
  for (const auto& placement : placements) {
    auto& members = spec.maps_[placement.map_index].struct_ops_members_;
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
  }
}

}  // namespace corebpf
