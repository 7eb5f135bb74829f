// The C dumper (vmlinux.h): declarations in dependency order whose every size, member offset and
// enumerator value under `clang -target bpf` equals the BTF's.
//
// Layouts: the BTF gives offsets and sizes but no alignment, packing or padding. Each struct and
// union is laid out by a model of clang's record layout (the SysV rules the BPF target uses); where
// the natural layout misses the BTF, the planner adds what C needs (aligned members, padding
// bit-fields, `packed`, an aligned record) and the model verifies the result before it is printed.
//
// The same planner writes C++ for skeletons (CxxTypeWriter, dump_cxx.hpp): the dialect changes
// only the spelling (std:: integers, enums with an underlying type, pointers as std::uint64_t,
// `__extension__` on what ISO C++ lacks, keyword names escaped, explicit padding members) and adds
// static_asserts on every record's size and member offsets.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <bit>

#include "btf/c_names.hpp"
#include "btf/dump_cxx.hpp"
#include "corebpf/btf_dump.hpp"
#include "util/error_format.hpp"

namespace corebpf::btf {

namespace detail {

bool is_cxx_keyword(std::string_view name) {
  static constexpr std::array<std::string_view, 97> kKeywords = {
      "alignas",     "alignof",   "and",        "and_eq",    "asm",      "auto",         "bitand",
      "bitor",       "bool",      "break",      "case",      "catch",    "char",         "char8_t",
      "char16_t",    "char32_t",  "class",      "compl",     "concept",  "const",        "consteval",
      "constexpr",   "constinit", "const_cast", "continue",  "co_await", "co_return",    "co_yield",
      "decltype",    "default",   "delete",     "do",        "double",   "dynamic_cast", "else",
      "enum",        "explicit",  "export",     "extern",    "false",    "float",        "for",
      "friend",      "goto",      "if",         "inline",    "int",      "long",         "mutable",
      "namespace",   "new",       "noexcept",   "not",       "not_eq",   "nullptr",      "operator",
      "or",          "or_eq",     "private",    "protected", "public",   "register",     "reinterpret_cast",
      "requires",    "return",    "short",      "signed",    "sizeof",   "static",       "static_assert",
      "static_cast", "struct",    "switch",     "template",  "this",     "thread_local", "throw",
      "true",        "try",       "typedef",    "typeid",    "typename", "union",        "unsigned",
      "using",       "virtual",   "void",       "volatile",  "wchar_t",  "while",        "xor",
      "xor_eq",      "final",     "override",   "import",    "module",   "offsetof"};
  return std::find(kKeywords.begin(), kKeywords.end(), name) != kKeywords.end();
}

std::string_view cxx_int_spelling(std::uint32_t size, bool is_signed) {
  switch (size) {
    case 1:
      return is_signed ? "std::int8_t" : "std::uint8_t";
    case 2:
      return is_signed ? "std::int16_t" : "std::uint16_t";
    case 4:
      return is_signed ? "std::int32_t" : "std::uint32_t";
    case 8:
      return is_signed ? "std::int64_t" : "std::uint64_t";
    case 16:
      return is_signed ? "__int128" : "unsigned __int128";
    default:
      return {};
  }
}

std::string cxx_identifier(std::string_view name) {
  std::string out(name);
  if (is_cxx_keyword(name)) out += '_';
  return out;
}

}  // namespace detail

namespace {

using detail::CBaseSpelling;
using detail::CNames;

constexpr int kMaxDepth = 512;  // nested definitions, typedef chains, declarators
constexpr int kMaxDeclOps = 32;
constexpr int kMaxTypeTags = 4;
constexpr std::size_t kFlushSize = std::size_t{64} * 1024;
constexpr std::uint64_t kMaxBitfieldPadding = std::uint64_t{64} * 8;  // longer gaps take a byte array
constexpr TypeId kManyReferrers = ~TypeId{0};

// Per-type progress of the emission.
enum : std::uint8_t {
  kDeclared = 1,    // a forward declaration or the definition is out
  kDefined = 2,     // the definition is out (anonymous records: their dependencies are)
  kInProgress = 4,  // its dependencies are being emitted
  kAlignBusy = 8,   // its alignment is being computed
  kEnumChecked = 16,
  kEnumInline = 32,  // an anonymous enum printed where its one user is
};

constexpr std::uint8_t kConst = 1, kVolatile = 2, kRestrict = 4;

// Trivial on purpose: declarations are printed by the hundred thousand, so an array of them
// on the stack must cost nothing to set up.
struct Qualifiers {
  std::uint8_t quals;
  std::uint8_t tag_count;
  TypeId tags[kMaxTypeTags];
  void add_tag(TypeId id) {
    if (tag_count < kMaxTypeTags) tags[tag_count++] = id;
  }
  bool empty() const { return quals == 0 && tag_count == 0; }
};

enum class OpKind : std::uint8_t { pointer, array, function };

struct DeclOp {
  OpKind kind;
  Qualifiers quals;  // of the pointer itself
  TypeId id;         // the ARRAY or FUNC_PROTO
};

// A member as the layout model sees it, with the planner's decisions.
struct Field {
  std::uint64_t offset = 0;    // bits, from the BTF
  std::uint64_t size = 0;      // bytes of the member's type
  std::uint32_t align = 1;     // bytes, of the type as the header declares it
  std::uint32_t width = 0;     // bit-field width; 0 for other members
  bool named = false;          // unnamed bit-fields don't align the record
  bool may_align = false;      // an aligned attribute can go on it
  bool anonymous = false;      // an anonymous struct or union member
  bool packed_attr = false;    // declared with __attribute__((packed))
  std::uint64_t pad_from = 0;  // padding bit-fields fill [pad_from, offset of the member)
  std::uint64_t pad_bits = 0;
  std::uint32_t align_attr = 0;
};

struct RecordPlan {
  bool packed = false;
  std::uint32_t align_attr = 0;
  std::uint64_t tail_from = 0;
  std::uint64_t tail_bits = 0;
  std::uint32_t align = 1;  // of the record as declared
};

std::uint64_t round_up(std::uint64_t value, std::uint64_t align) { return (value + align - 1) / align * align; }

// The smallest alignment above `above` that moves `from` to exactly `to` (both bytes), or 0.
// The smallest, because an alignment guessed too low only leaves a gap for the enclosing record
// to explain, while one guessed too high misplaces the record wherever it is used.
std::uint64_t alignment_reaching(std::uint64_t from, std::uint64_t to, std::uint64_t above) {
  for (std::uint64_t align = above * 2; align != 0 && align <= (std::uint64_t{1} << 28); align *= 2) {
    const std::uint64_t reached = round_up(from, align);
    if (reached == to) return align;
    if (reached > to) break;
  }
  return 0;
}

}  // namespace

namespace detail {

class CDumper {
 public:
  CDumper(const Btf& btf, const Sink& sink, const CDumpOptions& options, bool cxx = false)
      : btf_(btf), type_(btf), names_(btf), sink_(sink), options_(options), cxx_(cxx) {
    const auto count = btf.type_count();
    state_.assign(count, 0);
    align_log2_.assign(count, 0);
    scratch_.resize(kMaxDepth + 8);
    inline_budget_ = std::uint64_t{count} * 4 + 100000;
    index_referrers();
  }

  void run();

  // ---- the C++ dialect (CxxTypeWriter) ----
  void cxx_define(TypeId id) {
    require(id, true, 0);
    print_declarations();
    maybe_flush();
  }
  std::string cxx_declaration(TypeId type, std::string_view name) {
    flush();
    append_declaration(type, name, 0, 0, 0);
    std::string text(out_.data(), out_.size());
    out_.clear();
    return text;
  }
  bool cxx_needs_extension(TypeId type) { return needs_extension(type, 0); }
  void cxx_flush() {
    print_declarations();
    flush();
  }

 private:
  // ---- errors ----
  [[noreturn]] void fail(TypeId id, std::string_view why) const {
    const Type t = type_(id);
    util::fail(std::errc::invalid_argument, "{}: type [{}] {} '{}': {}", btf_.source_name(), id, kind_name(t.kind()),
               t.name(), why);
  }
  void check_depth(TypeId id, int depth) const {
    if (depth > kMaxDepth) fail(id, "types nest too deeply or refer to themselves; C cannot express it");
  }

  // ---- output ----
  void put(std::string_view s) { out_.append(s.data(), s.data() + s.size()); }
  void put(char c) { out_.push_back(c); }
  void put_uint(std::uint64_t v) {
    fmt::format_int f(v);
    out_.append(f.data(), f.data() + f.size());
  }
  void put_int(std::int64_t v) {
    fmt::format_int f(v);
    out_.append(f.data(), f.data() + f.size());
  }
  void tabs(int n) {
    for (int i = 0; i < n; ++i) out_.push_back('\t');
  }
  void maybe_flush() {
    if (out_.size() >= kFlushSize) flush();
  }
  void flush() {
    if (out_.size() != 0) sink_(std::string_view(out_.data(), out_.size()));
    out_.clear();
  }

  // ---- type chains ----
  // Past typedefs and modifiers (with_typedefs) or modifiers only.
  Type skip(TypeId id, bool with_typedefs) const {
    Type t = type_(id);
    for (int steps = 0; t.is_modifier() || (with_typedefs && t.kind() == Kind::Typedef); ++steps) {
      if (steps == kMaxDepth) fail(id, "typedef or modifier chain is cyclic or too long");
      t = type_(t.type());
    }
    return t;
  }
  Type resolve(TypeId id) const { return skip(id, true); }
  Type skip_modifiers(TypeId id) const { return skip(id, false); }

  // ---- analysis ----
  void index_referrers();
  bool is_inline_enum(TypeId id);
  bool is_anonymous_record(TypeId id) const {
    const Type t = type_(id);
    return t.is_struct_or_union() && t.name_offset() == 0;
  }
  const CBaseSpelling& base_spelling(TypeId id) const {
    const auto& s = names_.base_spelling(id);
    if (s.text.empty()) fail(id, "no C type has this size");
    return s;
  }
  std::uint32_t enum_size(const Type& t) const {
    const auto size = t.size();
    if (size != 1 && size != 2 && size != 4 && size != 8) fail(t.id(), "an enum of this size has no C spelling");
    return size;
  }

  // ---- layout ----
  struct Measure {
    std::uint64_t size;
    std::uint32_t align;
  };
  Measure measure(TypeId id, int depth);
  std::uint32_t record_align(TypeId id, int depth);
  RecordPlan plan_record(const Type& t, int depth);
  bool plan_struct_natural(std::vector<Field>& fields, std::uint64_t size, RecordPlan& plan) const;
  bool plan_struct_packed(std::vector<Field>& fields, std::uint64_t size, RecordPlan& plan, const char*& why) const;
  bool plan_union(std::vector<Field>& fields, std::uint64_t size, RecordPlan& plan, bool packed,
                  const char*& why) const;
  bool model_matches(const std::vector<Field>& fields, std::uint64_t size, bool is_union, RecordPlan& plan) const;

  // ---- dependencies ----
  void require(TypeId id, bool complete, int depth);
  void require_members(TypeId id, int depth);
  void define_record(TypeId id, int depth);
  void define_typedef(TypeId id, int depth);
  void define_enum(TypeId id);
  void define_float_typedef(TypeId id);
  void declare(TypeId id);
  void print_declarations(TypeId defining = 0);
  void emit_top_level(TypeId id);
  void emit_root(std::string_view name);
  void emit_root_id(TypeId id);
  void emit_kfuncs();

  // ---- printing ----
  void append_declaration(TypeId type, std::string_view name, std::uint32_t name_suffix, int indent, int depth);
  void append_base(TypeId id, const Qualifiers& quals, int indent, int depth);
  void append_record(const Type& t, int indent, int depth);
  void append_enum_body(const Type& t, int indent);
  void append_params(const Type& proto, int indent, int depth);
  void append_padding(std::uint64_t from, std::uint64_t bits, int indent);
  void append_type_tag(TypeId tag);
  void append_pointer_qualifiers(const Qualifiers& q);
  void append_tag_name(TypeId id) {
    names_.append_name(out_, id);
    if (cxx_ && names_.suffix(id) == 0 && is_cxx_keyword(names_.name(id))) put('_');
  }

  // ---- C++ dialect ----
  std::string_view cxx_base_spelling(TypeId id) const;
  bool needs_extension(TypeId type, int depth) const;
  void append_record_asserts(TypeId id, std::string_view spelled);
  void append_member_asserts(const Type& t, std::string_view spelled, std::uint64_t base_bits, int depth);
  void append_member_name(std::string_view name) {
    put(name);
    if (cxx_ && is_cxx_keyword(name)) put('_');
  }

  const Btf& btf_;
  detail::TypeAt type_;
  CNames names_;
  const Sink& sink_;
  const CDumpOptions& options_;
  fmt::memory_buffer out_;
  std::vector<std::uint8_t> state_;
  std::vector<std::uint8_t> align_log2_;     // records: 1 + log2 of the alignment as declared; 0 = not known yet
  std::vector<TypeId> referrer_;             // the one type referring to each type, or kManyReferrers
  std::vector<std::vector<Field>> scratch_;  // per nesting depth
  std::vector<TypeId> pending_declarations_;
  std::uint64_t inline_budget_ = 0;
  std::uint64_t padding_arrays_ = 0;  // numbers the byte arrays that pad long gaps
  bool has_type_tags_ = false;
  bool cxx_ = false;
};

}  // namespace detail

namespace {
using detail::CDumper;
using detail::is_cxx_keyword;
}  // namespace

namespace detail {

// ---- analysis ----

void CDumper::index_referrers() {
  const auto count = btf_.type_count();
  referrer_.assign(count, 0);
  auto refer = [&](TypeId from, TypeId to) {
    if (to == 0 || to >= count) return;
    referrer_[to] = referrer_[to] == 0 ? from : kManyReferrers;
  };
  for (TypeId id = 1; id < count; ++id) {
    const Type t = type_(id);
    switch (t.kind()) {
      case Kind::Struct:
      case Kind::Union:
        for (auto m : t.members()) refer(id, m.type());
        break;
      case Kind::TypeTag:
        has_type_tags_ = true;
        refer(id, t.type());
        break;
      case Kind::Ptr:
      case Kind::Typedef:
      case Kind::Const:
      case Kind::Volatile:
      case Kind::Restrict:
      case Kind::Func:
      case Kind::Var:
        refer(id, t.type());
        break;
      case Kind::Array:
        refer(id, t.array().element_type);
        break;
      case Kind::FuncProto:
        refer(id, t.type());
        for (auto p : t.params()) refer(id, p.type());
        break;
      case Kind::Datasec:
        for (auto v : t.datasec_vars()) refer(id, v.type());
        break;
      default:
        break;
    }
  }
}

// An anonymous enum is printed in place only when exactly one declaration prints it: its single
// chain of users (through anonymous records, pointers, arrays, modifiers) ends in a named record
// or a typedef. Otherwise it is defined on its own (so its enumerators are declared once) and
// users see an integer of its size.
bool CDumper::is_inline_enum(TypeId id) {
  if ((state_[id] & kEnumChecked) != 0) return (state_[id] & kEnumInline) != 0;
  bool inline_it = false;
  TypeId current = id;
  for (int step = 0; step < kMaxDepth; ++step) {
    const TypeId user = referrer_[current];
    if (user == 0 || user == kManyReferrers) break;
    const Type u = type_(user);
    const Kind kind = u.kind();
    if (kind == Kind::Typedef || (u.is_struct_or_union() && u.name_offset() != 0)) {
      inline_it = true;
      break;
    }
    if (u.is_struct_or_union() || kind == Kind::Ptr || kind == Kind::Array || u.is_modifier()) {
      current = user;
      continue;
    }
    break;
  }
  state_[id] |= kEnumChecked | (inline_it ? kEnumInline : 0);
  return inline_it;
}

// ---- layout ----

// sizeof and alignment of a type as the header declares it.
CDumper::Measure CDumper::measure(TypeId id, int depth) {
  check_depth(id, depth);
  std::uint64_t count = 1;
  TypeId current = id;
  for (int steps = 0; steps < kMaxDepth; ++steps) {
    const Type t = resolve(current);
    std::uint64_t size = t.size();
    std::uint32_t align;
    switch (t.kind()) {
      case Kind::Int:
        if (cxx_)
          cxx_base_spelling(t.id());
        else
          base_spelling(t.id());
        align = std::min<std::uint32_t>(std::bit_floor(std::max<std::uint32_t>(size, 1)), 16);
        break;
      case Kind::Float: {
        if (cxx_) {
          cxx_base_spelling(t.id());
          align = static_cast<std::uint32_t>(size);
          break;
        }
        const auto& s = base_spelling(t.id());
        align = !s.needs_typedef                      ? size
                : s.typedef_target == "unsigned int"  ? 4
                : s.typedef_target == "unsigned char" ? 1
                                                      : size;
        break;
      }
      case Kind::Enum:
      case Kind::Enum64: {
        const Type def = type_(names_.definition_of(t.id()));
        if (def.vlen() == 0) fail(t.id(), "an enum without enumerators is used by value");
        align = enum_size(def);
        size = align;
        break;
      }
      case Kind::Ptr:
        size = align = 8;
        break;
      case Kind::Array:
        count *= t.array().count;
        if (count > UINT32_MAX) fail(id, "the array is larger than 4 GiB");
        current = t.array().element_type;
        continue;
      case Kind::Struct:
      case Kind::Union:
        align = record_align(t.id(), depth + 1);
        break;
      case Kind::Fwd: {
        const TypeId def = names_.definition_of(t.id());
        if (def == t.id()) fail(t.id(), "a forward-declared type is used by value");
        size = type_(def).size();
        align = record_align(def, depth + 1);
        break;
      }
      default:
        fail(id, fmt::format("a {} cannot be a member or element", kind_name(t.kind())));
    }
    if (size != 0 && count > UINT32_MAX / size) fail(id, "the type is larger than 4 GiB");
    return {size * count, align};
  }
  fail(id, "array chain is cyclic or too long");
}

std::uint32_t CDumper::record_align(TypeId id, int depth) {
  if (align_log2_[id] != 0) return std::uint32_t{1} << (align_log2_[id] - 1);
  if ((state_[id] & kAlignBusy) != 0) fail(id, "the type contains itself by value; C cannot express it");
  state_[id] |= kAlignBusy;
  const RecordPlan plan = plan_record(type_(id), depth);
  state_[id] &= ~kAlignBusy;
  align_log2_[id] = static_cast<std::uint8_t>(std::countr_zero(plan.align) + 1);
  return plan.align;
}

// Fills scratch_[depth] with the members and decides how to declare the record.
RecordPlan CDumper::plan_record(const Type& t, int depth) {
  check_depth(t.id(), depth);
  auto& fields = scratch_[depth];
  fields.clear();
  const bool is_union = t.kind() == Kind::Union;
  for (auto m : t.members()) {
    Field f;
    f.offset = m.bit_offset();
    f.width = m.bitfield_size();
    const Type resolved = resolve(m.type());
    if (f.width == 0 && resolved.kind() == Kind::Int) {
      // Old encoding: the bit-field's width and shift live in the INT itself.
      const auto info = resolved.int_info();
      if (info.bits != resolved.size() * 8 || info.bit_offset != 0) {
        if (info.bits == 0) fail(t.id(), fmt::format("member '{}' is an INT of zero bits", m.name()));
        f.width = info.bits;
        f.offset += info.bit_offset;
      }
    }
    const Measure measured = measure(m.type(), depth + 1);
    f.size = measured.size;
    f.align = measured.align;
    f.named = f.width == 0 || !m.name().empty();
    f.may_align = !m.name().empty() && f.width == 0;
    f.anonymous = m.name().empty() && f.width == 0 && is_anonymous_record(skip_modifiers(m.type()).id());
    if (f.width != 0) {
      if (!(resolved.kind() == Kind::Int || resolved.is_enum()))
        fail(t.id(), fmt::format("bit-field '{}' is not of an integer type", m.name()));
      if (f.width > f.size * 8)
        fail(t.id(), fmt::format("bit-field '{}' is wider ({} bits) than its type", m.name(), f.width));
    }
    fields.push_back(f);
  }

  const std::uint64_t size = t.size();
  RecordPlan plan;
  const char* why = "members overlap or lie outside the record";
  if (is_union) {
    if (plan_union(fields, size, plan, false, why) && model_matches(fields, size, true, plan)) return plan;
    plan = RecordPlan{};
    if (plan_union(fields, size, plan, true, why) && model_matches(fields, size, true, plan)) return plan;
  } else {
    if (plan_struct_natural(fields, size, plan) && model_matches(fields, size, false, plan)) {
      // One packed member is the kernel's `type field __packed;`; more say the whole record was.
      const auto packed_members =
          std::count_if(fields.begin(), fields.end(), [](const Field& f) { return f.packed_attr; });
      if (packed_members < 2) return plan;
      RecordPlan whole;
      if (plan_struct_packed(fields, size, whole, why) && model_matches(fields, size, false, whole)) return whole;
      plan_struct_natural(fields, size, plan);
      return plan;
    }
    plan = RecordPlan{};
    if (plan_struct_packed(fields, size, plan, why) && model_matches(fields, size, false, plan)) return plan;
  }
  fail(t.id(), fmt::format("its layout cannot be declared in C ({})", why));
}

// Natural placement, explaining gaps with aligned members or padding and a larger size with an
// aligned record. False when only `packed` can produce the layout.
bool CDumper::plan_struct_natural(std::vector<Field>& fields, std::uint64_t size, RecordPlan& plan) const {
  std::uint64_t cur = 0;  // bits
  std::uint64_t align = 1;
  for (auto& f : fields) {
    f.pad_bits = f.align_attr = 0;
    f.packed_attr = false;
    if (f.width != 0) {
      const std::uint64_t unit_align = f.align * 8ull, unit = f.size * 8;
      const std::uint64_t natural = (cur % unit_align) + f.width > unit ? round_up(cur, unit_align) : cur;
      if (f.offset != natural) {
        if (f.offset < cur || (f.offset % unit_align) + f.width > unit) return false;
        f.pad_from = cur;
        f.pad_bits = f.offset - cur;
      }
      cur = f.offset + f.width;
      if (f.named) align = std::max<std::uint64_t>(align, f.align);
      continue;
    }
    if (f.offset % 8 != 0) return false;
    const std::uint64_t at = f.offset / 8, cur_bytes = (cur + 7) / 8;
    const std::uint64_t natural = round_up(cur_bytes, f.align);
    std::uint64_t member_align = f.align;
    if (at != natural && at % f.align != 0) {
      // Misaligned: a packed member (the kernel's `__packed` on one field) leaves the rest of
      // the record, and its alignment, natural.
      if (at < cur_bytes || !f.may_align) return false;
      f.packed_attr = true;
      member_align = 1;
      if (at > cur_bytes) {
        f.pad_from = cur;
        f.pad_bits = at * 8 - cur;
      }
    } else if (at != natural) {
      if (at < natural) return false;
      const std::uint64_t over = alignment_reaching(cur_bytes, at, f.align);
      // On an anonymous member the attribute aligns (and could grow) the member's type.
      const bool may_align = f.may_align || (f.anonymous && over != 0 && f.size % over == 0);
      if (over != 0 && may_align && size % over == 0) {
        f.align_attr = static_cast<std::uint32_t>(over);
        member_align = over;
      } else {
        f.pad_from = cur;
        f.pad_bits = at * 8 - cur;
      }
    }
    cur = (at + f.size) * 8;
    if (f.named) align = std::max(align, member_align);
  }
  const std::uint64_t end = (cur + 7) / 8;
  const std::uint64_t natural_size = round_up(end, align);
  if (natural_size == size) return true;
  if (size < natural_size || size % align != 0) return false;
  if (const std::uint64_t over = alignment_reaching(end, size, align); over != 0) {
    plan.align_attr = static_cast<std::uint32_t>(over);
  } else {
    plan.tail_from = cur;
    plan.tail_bits = size * 8 - cur;
  }
  return true;
}

// Packed: members go exactly where the BTF puts them, gaps are padding.
bool CDumper::plan_struct_packed(std::vector<Field>& fields, std::uint64_t size, RecordPlan& plan,
                                 const char*& why) const {
  plan.packed = true;
  std::uint64_t cur = 0;
  for (auto& f : fields) {
    f.pad_bits = f.align_attr = 0;
    f.packed_attr = false;
    if (f.width == 0 && f.offset % 8 != 0) {
      why = "a member that is not a bit-field starts inside a byte";
      return false;
    }
    if (f.offset < cur) {
      why = "members overlap";
      return false;
    }
    // A member that is not a bit-field starts at the next byte anyway.
    if (f.offset > (f.width != 0 ? cur : round_up(cur, 8))) {
      f.pad_from = cur;
      f.pad_bits = f.offset - cur;
    }
    cur = f.offset + (f.width != 0 ? f.width : f.size * 8);
  }
  const std::uint64_t end = (cur + 7) / 8;
  if (end > size) {
    why = "members end beyond the record's size";
    return false;
  }
  if (end < size) {
    if (const std::uint64_t over = alignment_reaching(end, size, 1); over != 0) {
      plan.align_attr = static_cast<std::uint32_t>(over);
    } else {
      plan.tail_from = cur;
      plan.tail_bits = size * 8 - cur;
    }
  }
  return true;
}

bool CDumper::plan_union(std::vector<Field>& fields, std::uint64_t size, RecordPlan& plan, bool packed,
                         const char*& why) const {
  plan.packed = packed;
  std::uint64_t largest = 0, align = 1;
  for (auto& f : fields) {
    f.pad_bits = f.align_attr = 0;
    f.packed_attr = false;
    if (f.offset != 0) {
      why = "a union member does not start at offset 0";
      return false;
    }
    largest = std::max<std::uint64_t>(largest, f.width != 0 ? (f.width + 7) / 8 : f.size);
    if (f.named && !packed) align = std::max<std::uint64_t>(align, f.align);
  }
  const std::uint64_t natural_size = round_up(largest, align);
  if (natural_size == size) return true;
  if (size < natural_size || size % align != 0) {
    why = "members are larger than the union";
    return false;
  }
  if (const std::uint64_t over = alignment_reaching(largest, size, align); over != 0) {
    plan.align_attr = static_cast<std::uint32_t>(over);
  } else {
    plan.tail_from = 0;
    plan.tail_bits = size * 8;
  }
  return true;
}

// clang's record layout for what will be printed; true when it reproduces the BTF exactly.
// Sets plan.align to the alignment the declared record gets.
bool CDumper::model_matches(const std::vector<Field>& fields, std::uint64_t size, bool is_union,
                            RecordPlan& plan) const {
  std::uint64_t cur = 0, align = 1, largest = 0;
  for (const auto& f : fields) {
    std::uint64_t at;
    if (is_union) {
      at = 0;
      largest = std::max<std::uint64_t>(largest, f.width != 0 ? (f.width + 7) / 8 : f.size);
      if (f.named) align = std::max<std::uint64_t>(align, plan.packed ? 1 : f.align);
    } else if (f.width != 0) {
      cur += f.pad_bits;  // padding bit-fields never straddle their unit, so they sit exactly here
      const std::uint64_t unit_align = f.align * 8ull, unit = f.size * 8;
      if (!plan.packed && (cur % unit_align) + f.width > unit) cur = round_up(cur, unit_align);
      at = cur;
      cur += f.width;
      if (f.named && !plan.packed) align = std::max<std::uint64_t>(align, f.align);
    } else {
      cur += f.pad_bits;
      std::uint64_t member_align = plan.packed || f.packed_attr ? 1 : f.align;
      if (f.align_attr != 0) member_align = std::max<std::uint64_t>(member_align, f.align_attr);
      at = round_up((cur + 7) / 8, member_align) * 8;
      cur = at + f.size * 8;
      if (f.named) align = std::max(align, member_align);
    }
    if (at != f.offset) return false;
  }
  std::uint64_t end;
  if (is_union) {
    end = std::max(largest, plan.tail_bits / 8);
  } else {
    cur += plan.tail_bits;
    end = (cur + 7) / 8;
  }
  if (plan.align_attr != 0) align = std::max<std::uint64_t>(align, plan.align_attr);
  if (round_up(end, align) != size) return false;
  plan.align = static_cast<std::uint32_t>(align);
  return true;
}

// ---- dependencies ----

// Emits what a declaration using `id` needs first: definitions of what it holds by value
// (`complete`), forward declarations of what it points to, every typedef it names.
void CDumper::require(TypeId id, bool complete, int depth) {
  check_depth(id, depth);
  if (id == 0) return;
  const Type t = type_(id);
  switch (t.kind()) {
    case Kind::Int:
      if (cxx_)
        cxx_base_spelling(id);
      else
        base_spelling(id);
      return;
    case Kind::Float:
      if (cxx_)
        cxx_base_spelling(id);
      else if (base_spelling(id).needs_typedef)
        define_float_typedef(id);
      return;
    case Kind::Ptr:
      if (!cxx_) require(t.type(), false, depth + 1);  // C++: a kernel pointer is a std::uint64_t
      return;
    case Kind::Array:
      require(t.array().element_type, true, depth + 1);
      return;
    case Kind::Const:
    case Kind::Volatile:
    case Kind::Restrict:
    case Kind::TypeTag:
      require(t.type(), complete, depth + 1);
      return;
    case Kind::Typedef:
      define_typedef(id, depth + 1);
      if (complete) require(t.type(), true, depth + 1);
      return;
    case Kind::Struct:
    case Kind::Union:
      if (t.name_offset() == 0)
        require_members(id, depth + 1);
      else if (complete)
        define_record(id, depth + 1);
      else
        declare(id);
      return;
    case Kind::Enum:
    case Kind::Enum64: {
      const TypeId def = names_.definition_of(id);
      const Type d = type_(def);
      if (d.vlen() == 0) {
        if (complete) fail(id, "an enum without enumerators is used by value");
        if (d.name_offset() != 0) declare(def);
        return;
      }
      enum_size(d);
      if (d.name_offset() != 0 || !is_inline_enum(def)) define_enum(def);
      return;
    }
    case Kind::Fwd: {
      const TypeId def = names_.definition_of(id);
      if (def != id) return require(def, complete, depth + 1);
      if (complete) fail(id, "a forward-declared type is used by value");
      declare(id);
      return;
    }
    case Kind::FuncProto:
      if (cxx_) fail(id, "a function type is used by value; a skeleton cannot declare it");
      require(t.type(), false, depth + 1);
      for (auto p : t.params())
        if (p.type() != 0) require(p.type(), false, depth + 1);
      return;
    default:
      fail(id, "this kind is not a C type");
  }
}

void CDumper::require_members(TypeId id, int depth) {
  auto& state = state_[id];
  if ((state & kDefined) != 0) return;
  if ((state & kInProgress) != 0) fail(id, "an anonymous type refers to itself; C cannot express it");
  state |= kInProgress;
  for (auto m : type_(id).members()) require(m.type(), true, depth + 1);
  state_[id] = static_cast<std::uint8_t>((state_[id] | kDefined) & ~kInProgress);
}

void CDumper::define_record(TypeId id, int depth) {
  if ((state_[id] & kDefined) != 0) return;
  if ((state_[id] & kInProgress) != 0) fail(id, "the type contains itself by value; C cannot express it");
  state_[id] |= kInProgress;
  const Type t = type_(id);
  for (auto m : t.members()) require(m.type(), true, depth + 1);
  print_declarations(id);
  append_record(t, 0, depth);
  put(";\n");
  if (cxx_) {
    fmt::memory_buffer spelled;
    const std::string_view keyword = t.kind() == Kind::Struct ? "struct " : "union ";
    spelled.append(keyword.data(), keyword.data() + keyword.size());
    names_.append_name(spelled, id);
    if (names_.suffix(id) == 0 && is_cxx_keyword(names_.name(id))) spelled.push_back('_');
    append_record_asserts(id, std::string_view(spelled.data(), spelled.size()));
  }
  put('\n');
  state_[id] = static_cast<std::uint8_t>((state_[id] | kDefined | kDeclared) & ~kInProgress);
}

void CDumper::define_typedef(TypeId id, int depth) {
  if ((state_[id] & kDefined) != 0) return;
  if ((state_[id] & kInProgress) != 0) fail(id, "the typedef refers to itself; C cannot express it");
  const Type t = type_(id);
  if (t.name_offset() == 0) fail(id, "a typedef without a name");
  state_[id] |= kInProgress;
  require(t.type(), false, depth + 1);
  print_declarations();
  if (cxx_ && needs_extension(t.type(), depth)) put("__extension__ ");
  put("typedef ");
  std::string escaped;
  std::string_view name = names_.name(id);
  if (cxx_ && names_.suffix(id) == 0 && is_cxx_keyword(name)) {
    escaped = detail::cxx_identifier(name);
    name = escaped;
  }
  append_declaration(t.type(), name, names_.suffix(id), 0, depth);
  put(";\n");
  if (cxx_) {
    const Type target = resolve(id);
    fmt::memory_buffer spelled;
    spelled.append(name.data(), name.data() + name.size());
    if (const auto n = names_.suffix(id); n != 0) fmt::format_to(std::back_inserter(spelled), "___{}", n);
    const std::string_view text(spelled.data(), spelled.size());
    if (target.is_struct_or_union() && target.name_offset() == 0) {
      append_record_asserts(target.id(), text);
    } else if (target.kind() != Kind::FuncProto && target.kind() != Kind::Unknown &&
               !(target.is_enum() && type_(names_.definition_of(target.id())).vlen() == 0) &&
               target.kind() != Kind::Fwd) {
      put("static_assert(sizeof(");
      put(text);
      put(") == ");
      put_uint(measure(id, depth + 1).size);
      put(");\n");
    }
  }
  put('\n');
  state_[id] = static_cast<std::uint8_t>((state_[id] | kDefined | kDeclared) & ~kInProgress);
}

void CDumper::define_enum(TypeId id) {
  if ((state_[id] & kDefined) != 0) return;
  print_declarations();
  const Type t = type_(id);
  append_enum_body(t, 0);
  put(";\n");
  if (cxx_ && t.name_offset() != 0) {
    put("static_assert(sizeof(enum ");
    append_tag_name(id);
    put(") == ");
    put_uint(t.size());
    put(");\n");
  }
  put('\n');
  state_[id] |= kDefined | kDeclared;
}

void CDumper::define_float_typedef(TypeId id) {
  if ((state_[id] & kDefined) != 0) return;
  const auto& s = base_spelling(id);
  print_declarations();
  put("typedef ");
  put(s.typedef_target);
  put(' ');
  put(s.text);
  put(s.typedef_suffix);
  put(";\n\n");
  state_[id] |= kDefined;
}

// Forward declarations wait until the next definition is printed: the definition being
// started needs none of its own, and a type defined later may need it.
void CDumper::declare(TypeId id) {
  if ((state_[id] & kDeclared) != 0) return;
  state_[id] |= kDeclared;
  pending_declarations_.push_back(id);
}

void CDumper::print_declarations(TypeId defining) {
  for (TypeId id : pending_declarations_) {
    if (id == defining) continue;
    const Type t = type_(id);
    if (t.kind() == Kind::Union || t.is_union_fwd())
      put("union ");
    else if (t.is_enum())
      put("enum ");
    else
      put("struct ");
    append_tag_name(id);
    if (cxx_ && t.is_enum()) {
      // An opaque enum declaration needs its underlying type in C++.
      put(" : ");
      put(detail::cxx_int_spelling(t.size() == 0 ? 4 : enum_size(t), t.kind_flag()));
    }
    put(";\n\n");
  }
  pending_declarations_.clear();
}

void CDumper::emit_top_level(TypeId id) {
  const Type t = type_(id);
  switch (t.kind()) {
    case Kind::Struct:
    case Kind::Union:
      if (t.name_offset() != 0) define_record(id, 0);
      break;
    case Kind::Enum:
    case Kind::Enum64:
      if (t.vlen() == 0) {
        if (t.name_offset() != 0 && names_.definition_of(id) == id) declare(id);
      } else if (t.name_offset() != 0 || !is_inline_enum(id)) {
        enum_size(t);
        define_enum(id);
      }
      break;
    case Kind::Typedef:
      define_typedef(id, 0);
      break;
    case Kind::Fwd:
      if (names_.definition_of(id) == id) declare(id);
      break;
    default:
      break;
  }
}

void CDumper::emit_root(std::string_view name) {
  bool found = false;
  for (TypeId id : btf_.find_all(name, btf::NameScope::types)) {
    const Type t = type_(id);
    switch (t.kind()) {
      case Kind::Struct:
      case Kind::Union:
      case Kind::Enum:
      case Kind::Enum64:
      case Kind::Typedef:
      case Kind::Fwd:
        require(id, t.kind() != Kind::Fwd && !(t.is_enum() && t.vlen() == 0), 0);
        found = true;
        maybe_flush();
        break;
      default:
        break;
    }
  }
  if (!found)
    util::fail(std::errc::invalid_argument, "{}: no struct, union, enum or typedef named '{}'", btf_.source_name(),
               name);
}

// A root named by id (a map's key or value type): defined even when anonymous, as
// `struct { ... };`; a type with no definition of its own (int, pointer) brings what it needs.
void CDumper::emit_root_id(TypeId id) {
  if (id == 0) return;  // void: a map without a key type
  if (!btf_.try_type(id)) util::fail(std::errc::invalid_argument, "{}: no type with id {}", btf_.source_name(), id);
  const Type t = type_(id);
  switch (t.kind()) {
    case Kind::Struct:
    case Kind::Union:
      define_record(id, 0);
      break;
    case Kind::Enum:
    case Kind::Enum64:
      if (t.vlen() != 0) {
        enum_size(t);
        define_enum(id);
      }
      break;
    case Kind::Typedef:
      define_typedef(id, 0);
      break;
    default:
      require(id, true, 0);
      break;
  }
  maybe_flush();
}

void CDumper::emit_kfuncs() {
  const auto& kfuncs = names_.kfuncs();
  if (kfuncs.empty()) return;
  // Weak, as bpftool prints them: code that checks bpf_ksym_exists() compiles (it insists on
  // __weak), and a kfunc the running kernel lacks is no load failure unless it is called.
  put("#ifndef BPF_NO_KFUNC_PROTOTYPES\n#ifndef __ksym\n#define __ksym "
      "__attribute__((section(\".ksyms\")))\n#endif\n#ifndef __weak\n#define __weak "
      "__attribute__((weak))\n#endif\n\n");
  for (TypeId id : kfuncs) {
    const Type f = type_(id);
    require(f.type(), false, 0);
    print_declarations();
    put("extern ");
    append_declaration(f.type(), f.name(), 0, 0, 0);
    put(" __weak __ksym;\n");
    maybe_flush();
  }
  put("\n#endif /* BPF_NO_KFUNC_PROTOTYPES */\n\n");
}

void CDumper::run() {
  if (btf_.pointer_size() != 8)
    util::fail(std::errc::invalid_argument,
               "{}: pointers are {} bytes in this BTF; BPF programs have 8-byte pointers, so no C header for "
               "-target bpf can reproduce its layouts",
               btf_.source_name(), btf_.pointer_size());
  const auto& guard = options_.header_guard;
  if (!guard.empty()) {
    put("#ifndef ");
    put(guard);
    put("\n#define ");
    put(guard);
    put("\n\n");
  }
  put("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
      "#endif\n\n");
  if (has_type_tags_)
    put("#ifndef __corebpf_type_tag\n"
        "#if __has_attribute(btf_type_tag)\n"
        "#define __corebpf_type_tag(tag) __attribute__((btf_type_tag(tag)))\n"
        "#else\n"
        "#define __corebpf_type_tag(tag)\n"
        "#endif\n"
        "#endif\n\n");
  const bool whole = options_.roots.empty() && options_.root_ids.empty();
  if (whole) {
    const auto count = btf_.type_count();
    for (TypeId id = 1; id < count; ++id) {
      emit_top_level(id);
      maybe_flush();
    }
  } else {
    for (const auto& root : options_.roots) emit_root(root);
    for (const TypeId id : options_.root_ids) emit_root_id(id);
  }
  print_declarations();
  put("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n");
  // Prototypes need most of the kernel's types; a header of chosen roots leaves them out.
  if (options_.kfunc_prototypes && whole) emit_kfuncs();
  if (!guard.empty()) {
    put("#endif /* ");
    put(guard);
    put(" */\n");
  }
  flush();
}

// ---- printing ----

// `type name` in C declarator syntax: pointers prefix, arrays and parameter lists suffix, and
// parentheses where a suffix applies to a pointer.
void CDumper::append_declaration(TypeId type, std::string_view name, std::uint32_t name_suffix, int indent, int depth) {
  check_depth(type, depth);
  DeclOp ops[kMaxDeclOps];
  int count = 0;
  Qualifiers pending{};
  TypeId current = type;
  for (int steps = 0;; ++steps) {
    if (steps > kMaxDepth) fail(type, "modifier chain is cyclic or too long");
    const Type t = type_(current);
    const Kind kind = t.kind();
    if (cxx_ && kind == Kind::Ptr) break;  // a kernel pointer: std::uint64_t
    if (cxx_ && (t.is_modifier() || kind == Kind::TypeTag)) {
      // Skeleton types are plain trivially copyable data: no const or volatile members.
    } else if (kind == Kind::Const) {
      pending.quals |= kConst;
    } else if (kind == Kind::Volatile) {
      pending.quals |= kVolatile;
    } else if (kind == Kind::Restrict) {
      pending.quals |= kRestrict;  // only a pointer keeps it; on anything else C rejects it
    } else if (kind == Kind::TypeTag) {
      pending.add_tag(current);
    } else if (kind == Kind::Ptr || kind == Kind::Array || kind == Kind::FuncProto) {
      if (count == kMaxDeclOps) fail(type, "declarator is too deeply nested");
      if (kind == Kind::Ptr) {
        ops[count++] = {OpKind::pointer, pending, current};
        pending = Qualifiers{};
      } else if (kind == Kind::Array) {
        ops[count++] = {OpKind::array, Qualifiers{}, current};  // qualifiers of an array qualify its elements
      } else {
        ops[count++] = {OpKind::function, Qualifiers{}, current};
        pending = Qualifiers{};  // qualified function types are undefined in C
      }
      current = kind == Kind::Array ? t.array().element_type : t.type();
      continue;
    } else {
      break;
    }
    current = t.type();
  }

  append_base(current, pending, indent, depth);
  if (count == 0 && name.empty()) return;
  put(' ');
  auto parenthesized = [&](int i) {
    return i > 0 && ops[i].kind != OpKind::pointer && ops[i - 1].kind == OpKind::pointer;
  };
  for (int i = count - 1; i >= 0; --i) {
    if (ops[i].kind == OpKind::pointer) {
      put('*');
      if (!ops[i].quals.empty()) {
        append_pointer_qualifiers(ops[i].quals);
        bool more = !name.empty();
        for (int j = i - 1; j >= 0 && !more; --j) more = ops[j].kind == OpKind::pointer || parenthesized(j);
        if (more) put(' ');
      }
    } else if (parenthesized(i)) {
      put('(');
    }
  }
  put(name);
  if (name_suffix != 0) {
    put("___");
    put_uint(name_suffix);
  }
  for (int i = 0; i < count; ++i) {
    if (ops[i].kind == OpKind::pointer) continue;
    if (parenthesized(i)) put(')');
    const Type t = type_(ops[i].id);
    if (ops[i].kind == OpKind::array) {
      put('[');
      put_uint(t.array().count);
      put(']');
    } else {
      append_params(t, indent, depth + 1);
    }
  }
}

void CDumper::append_pointer_qualifiers(const Qualifiers& q) {
  bool first = true;
  auto word = [&](std::string_view w) {
    if (!first) put(' ');
    put(w);
    first = false;
  };
  if ((q.quals & kConst) != 0) word("const");
  if ((q.quals & kVolatile) != 0) word("volatile");
  if ((q.quals & kRestrict) != 0) word("restrict");
  for (int i = 0; i < q.tag_count; ++i) {
    if (!first) put(' ');
    append_type_tag(q.tags[i]);
    first = false;
  }
}

void CDumper::append_type_tag(TypeId tag) {
  put("__corebpf_type_tag(\"");
  for (char c : type_(tag).name()) {
    if (c == '"' || c == '\\') put('\\');
    put(c);
  }
  put("\")");
}

void CDumper::append_base(TypeId id, const Qualifiers& quals, int indent, int depth) {
  if ((quals.quals & kConst) != 0) put("const ");
  if ((quals.quals & kVolatile) != 0) put("volatile ");
  const Type t = type_(id);
  switch (t.kind()) {
    case Kind::Unknown:
      if (id != 0) fail(id, "unknown kind");
      put("void");
      break;
    case Kind::Int:
    case Kind::Float:
      put(cxx_ ? cxx_base_spelling(id) : base_spelling(id).text);
      break;
    case Kind::Ptr:
      if (!cxx_) fail(id, "this kind is not a C type");
      put("std::uint64_t");
      break;
    case Kind::Struct:
    case Kind::Union:
      if (t.name_offset() != 0) {
        put(t.kind() == Kind::Struct ? "struct " : "union ");
        append_tag_name(id);
      } else {
        if (inline_budget_-- == 0) fail(id, "anonymous types expand to an unreasonably large header");
        append_record(t, indent, depth + 1);
      }
      break;
    case Kind::Enum:
    case Kind::Enum64: {
      const TypeId def = names_.definition_of(id);
      const Type d = type_(def);
      if (d.name_offset() != 0) {
        put("enum ");
        append_tag_name(def);
      } else if (is_inline_enum(def)) {
        append_enum_body(d, indent);
      } else {
        bool is_signed = d.kind_flag();
        put(cxx_ ? detail::cxx_int_spelling(enum_size(d), is_signed) : detail::c_int_spelling(enum_size(d), is_signed));
      }
      break;
    }
    case Kind::Fwd: {
      const TypeId def = names_.definition_of(id);
      const Type d = type_(def);
      put(d.kind() == Kind::Union || d.is_union_fwd() ? "union " : "struct ");
      append_tag_name(def);
      break;
    }
    case Kind::Typedef:
      append_tag_name(id);
      break;
    default:
      fail(id, "this kind is not a C type");
  }
  for (int i = 0; i < quals.tag_count; ++i) {
    put(' ');
    append_type_tag(quals.tags[i]);
  }
}

void CDumper::append_params(const Type& proto, int indent, int depth) {
  put('(');
  const auto params = proto.params();
  if (params.empty()) put("void");
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto p = params[i];
    if (p.type() == 0 && i + 1 == params.size()) {
      if (i != 0) put(", ...");  // C needs a named parameter before "..."; `()` says as much
      break;
    }
    if (i != 0) put(", ");
    // A parameter named like a typedef would hide it from the parameters after it.
    std::string_view name = p.name();
    if (!name.empty() && names_.is_ordinary_identifier(name)) name = {};
    append_declaration(p.type(), name, 0, indent, depth + 1);
  }
  put(')');
}

void CDumper::append_record(const Type& t, int indent, int depth) {
  const RecordPlan plan = plan_record(t, depth);
  const auto& fields = scratch_[depth];
  put(t.kind() == Kind::Union ? "union " : "struct ");
  if (t.name_offset() != 0) {
    append_tag_name(t.id());
    put(' ');
  }
  put("{\n");
  std::uint32_t index = 0;
  const bool is_union = t.kind() == Kind::Union;
  std::uint64_t end_bits = 0;  // C++: where the members so far end, for explicit padding
  std::uint32_t explicit_pads = 0;
  auto explicit_padding = [&](std::uint64_t to_bytes) {
    const std::uint64_t from_bytes = (end_bits + 7) / 8;
    if (to_bytes <= from_bytes) return;
    tabs(indent + 1);
    put("std::uint8_t _pad");
    put_uint(explicit_pads++);
    put('[');
    put_uint(to_bytes - from_bytes);
    put("];\n");
  };
  for (auto m : t.members()) {
    const Field& f = fields[index];
    if (f.pad_bits != 0) append_padding(f.pad_from, f.pad_bits, indent + 1);
    // C++ names the gaps the C layout leaves implicit, so every byte of a value is a member.
    if (cxx_ && !is_union && f.pad_bits == 0 && f.width == 0 && !plan.packed) explicit_padding(f.offset / 8);
    tabs(indent + 1);
    std::string_view name = m.name();
    std::string synthetic;
    const bool anonymous_record = is_anonymous_record(skip_modifiers(m.type()).id());
    if (name.empty() && f.width == 0 && !anonymous_record) {
      // C has no unnamed member of a named type; a made-up name keeps the layout.
      synthetic = fmt::format("__unnamed_{}", index);
      name = synthetic;
    } else if (cxx_ && is_cxx_keyword(name)) {
      synthetic = detail::cxx_identifier(name);
      name = synthetic;
    }
    if (cxx_ && f.width != 0) {
      // A bit-field of an enum type is declared with the enum's integer type (C++ compilers
      // warn about enum bit-fields narrower than the enum's values).
      const Type r = resolve(m.type());
      put(r.kind() == Kind::Int ? cxx_base_spelling(r.id()) : detail::cxx_int_spelling(r.size(), r.kind_flag()));
      if (!name.empty()) {
        put(' ');
        put(name);
      }
    } else {
      if (cxx_ && ((f.width == 0 && anonymous_record) || needs_extension(m.type(), depth + 1))) put("__extension__ ");
      append_declaration(m.type(), name, 0, indent + 1, depth + 1);
    }
    if (cxx_) end_bits = std::max(end_bits, f.offset + (f.width != 0 ? f.width : f.size * 8));
    if (f.width != 0) {
      put(name.empty() ? ":" : ": ");
      put_uint(f.width);
    }
    if (f.packed_attr) put(" __attribute__((packed))");
    if (f.align_attr != 0) {
      put(" __attribute__((aligned(");
      put_uint(f.align_attr);
      put(")))");
    }
    put(";\n");
    ++index;
  }
  // (Not after a zero-length array: ISO C++ compilers want it last.)
  if (cxx_ && !is_union && plan.tail_bits == 0 && !plan.packed && !(index != 0 && fields[index - 1].size == 0))
    explicit_padding(t.size());
  if (plan.tail_bits != 0) {
    if (t.kind() == Kind::Union && plan.tail_bits > kMaxBitfieldPadding) {
      append_padding(0, plan.tail_bits, indent + 1);  // one array member
    } else if (t.kind() == Kind::Union) {
      tabs(indent + 1);
      put("struct {\n");
      append_padding(0, plan.tail_bits, indent + 2);
      tabs(indent + 1);
      put("};\n");
    } else {
      append_padding(plan.tail_from, plan.tail_bits, indent + 1);
    }
  }
  tabs(indent);
  put('}');
  if (plan.packed) put(" __attribute__((packed))");
  if (plan.align_attr != 0) {
    put(" __attribute__((aligned(");
    put_uint(plan.align_attr);
    put(")))");
  }
}

// Unnamed bit-fields, each inside one unit of its type so that none moves to the next unit;
// unnamed bit-fields don't change the record's alignment.
void CDumper::append_padding(std::uint64_t from, std::uint64_t bits, int indent) {
  std::uint64_t cur = from;
  const std::uint64_t end = from + bits;
  if (bits > kMaxBitfieldPadding) {
    // A long run of bit-fields would make the header grow with the sizes the BTF claims; a
    // byte array (alignment 1, so it sits exactly here) takes the whole bytes.
    if (cur % 8 != 0) {
      tabs(indent);
      put("unsigned char :");
      put_uint(8 - cur % 8);
      put(";\n");
      cur += 8 - cur % 8;
    }
    tabs(indent);
    put("unsigned char __corebpf_pad");
    put_uint(padding_arrays_++);
    put('[');
    put_uint((end - cur) / 8);
    put("];\n");
    cur += (end - cur) / 8 * 8;
  }
  while (cur < end) {
    const std::uint64_t width = std::min<std::uint64_t>(end - cur, 64 - cur % 64);
    std::uint64_t unit = 8;
    while ((cur % unit) + width > unit) unit *= 2;
    tabs(indent);
    put(unit == 8 ? "unsigned char" : unit == 16 ? "unsigned short" : unit == 32 ? "unsigned int" : "unsigned long");
    put(" :");
    put_uint(width);
    put(";\n");
    cur += width;
  }
}

void CDumper::append_enum_body(const Type& t, int indent) {
  put("enum ");
  if (t.name_offset() != 0) {
    append_tag_name(t.id());
    put(' ');
  }
  if (cxx_) {
    // C++: the BTF size is the underlying type; each value is written as that type holds it.
    bool is_signed = t.kind_flag();
    for (std::uint32_t i = 0; i < t.vlen() && !is_signed; ++i) {
      const auto value = detail::c_enum_value(t, t.enumerators()[i]);
      is_signed = value.is_signed && value.signed_value < 0;
    }
    const std::uint32_t size = enum_size(t);
    put(": ");
    put(detail::cxx_int_spelling(size, is_signed));
    put(" {\n");
    const auto enumerators = t.enumerators();
    for (std::uint32_t i = 0; i < enumerators.size(); ++i) {
      const auto e = enumerators[i];
      tabs(indent + 1);
      const auto before = out_.size();
      names_.append_enumerator(out_, t.id(), i, e.name());
      if (is_cxx_keyword(std::string_view(out_.data() + before, out_.size() - before))) put('_');
      put(" = ");
      const auto value = detail::c_enum_value(t, e);
      const unsigned shift = 64 - 8 * size;
      std::uint64_t bits = value.unsigned_value;
      if (size < 8) bits &= ~std::uint64_t{0} >> shift;
      if (is_signed) {
        // The bit pattern read back as the signed type of `size` bytes.
        std::int64_t v = static_cast<std::int64_t>(bits << shift) >> shift;
        if (v == INT64_MIN)
          put("(-9223372036854775807LL - 1)");
        else
          put_int(v);
      } else {
        put_uint(bits);
        if (bits > static_cast<std::uint64_t>(INT64_MAX)) put("ULL");
      }
      put(",\n");
    }
    tabs(indent);
    put('}');
    return;
  }
  put("{\n");
  const auto enumerators = t.enumerators();
  bool needs_wide = false;
  for (std::uint32_t i = 0; i < enumerators.size(); ++i) {
    const auto e = enumerators[i];
    tabs(indent + 1);
    names_.append_enumerator(out_, t.id(), i, e.name());
    put(" = ");
    const auto value = detail::c_enum_value(t, e);
    if (value.is_signed) {
      const std::int64_t v = value.signed_value;
      if (v == INT64_MIN)
        put("(-9223372036854775807LL - 1)");
      else
        put_int(v);
      needs_wide |= v < INT32_MIN || v > INT32_MAX;
    } else {
      const std::uint64_t v = value.unsigned_value;
      put_uint(v);
      if (v > static_cast<std::uint64_t>(INT64_MAX)) put("ULL");
      needs_wide |= v > UINT32_MAX;
    }
    put(",\n");
  }
  tabs(indent);
  put('}');
  // The BTF size is the enum's size: 1, 2 and 8 bytes need a mode, and so does a 4-byte enum
  // whose values would otherwise widen it.
  switch (enum_size(t)) {
    case 1:
      put(" __attribute__((mode(QI)))");
      break;
    case 2:
      put(" __attribute__((mode(HI)))");
      break;
    case 4:
      if (needs_wide) put(" __attribute__((mode(SI)))");
      break;
    case 8:
      put(" __attribute__((mode(DI)))");
      break;
  }
}

// ---- C++ dialect ----

std::string_view CDumper::cxx_base_spelling(TypeId id) const {
  const Type t = type_(id);
  const std::uint32_t size = t.size();
  if (t.kind() == Kind::Float) {
    if (size == 4) return "float";
    if (size == 8) return "double";
    if (size == 16) return "long double";
    fail(id, "no C++ floating type has this size");
  }
  const auto info = t.int_info();
  if ((info.encoding & kIntBool) != 0 && size == 1) return "bool";
  if (size == 1 && ((info.encoding & kIntChar) != 0 || t.name() == "char")) return "char";
  const auto text = cxx_int_spelling(size, (info.encoding & kIntSigned) != 0);
  if (text.empty()) fail(id, "no C++ integer type has this size");
  return text;
}

// ISO C++ has no zero-length arrays and no __int128: a declaration with either is prefixed with
// `__extension__`, which g++ and clang++ accept silently under -Wpedantic.
bool CDumper::needs_extension(TypeId type, int depth) const {
  TypeId current = type;
  for (int steps = 0; steps < kMaxDepth; ++steps) {
    const Type t = type_(current);
    if (t.is_modifier() || t.kind() == Kind::TypeTag) {
      current = t.type();
    } else if (t.kind() == Kind::Array) {
      if (t.array().count == 0) return true;
      current = t.array().element_type;
    } else {
      return t.kind() == Kind::Int && t.size() == 16;
    }
  }
  check_depth(type, depth + kMaxDepth + 1);
  return false;
}

void CDumper::append_record_asserts(TypeId id, std::string_view spelled) {
  const Type t = type_(id);
  put("static_assert(sizeof(");
  put(spelled);
  put(") == ");
  put_uint(t.size());
  put(");\n");
  append_member_asserts(t, spelled, 0, 0);
}

// offsetof of every named member that is not a bit-field, through anonymous members.
void CDumper::append_member_asserts(const Type& t, std::string_view spelled, std::uint64_t base_bits, int depth) {
  check_depth(t.id(), depth);
  for (auto m : t.members()) {
    if (m.bitfield_size() != 0) continue;
    const Type resolved = resolve(m.type());
    if (resolved.kind() == Kind::Int) {
      const auto info = resolved.int_info();
      if (info.bits != resolved.size() * 8 || info.bit_offset != 0) continue;  // an old-style bit-field
    }
    const std::uint64_t bits = base_bits + m.bit_offset();
    if (m.name().empty()) {
      const Type inner = skip_modifiers(m.type());
      if (is_anonymous_record(inner.id())) append_member_asserts(inner, spelled, bits, depth + 1);
      continue;
    }
    put("static_assert(offsetof(");
    put(spelled);
    put(", ");
    append_member_name(m.name());
    put(") == ");
    put_uint(bits / 8);
    put(");\n");
  }
}

}  // namespace detail

CxxTypeWriter::CxxTypeWriter(const Btf& btf, const Sink& sink)
    : dumper_(std::make_unique<detail::CDumper>(btf, sink, options_, true)) {}
CxxTypeWriter::~CxxTypeWriter() = default;
void CxxTypeWriter::define(TypeId id) { dumper_->cxx_define(id); }
std::string CxxTypeWriter::declaration(TypeId type, std::string_view name) {
  return dumper_->cxx_declaration(type, name);
}
bool CxxTypeWriter::needs_extension(TypeId type) { return dumper_->cxx_needs_extension(type); }
void CxxTypeWriter::flush() { dumper_->cxx_flush(); }

void dump_c(const Btf& btf, const Sink& sink, const CDumpOptions& options) {
  CDumper dumper(btf, sink, options);
  dumper.run();
}

}  // namespace corebpf::btf
