// [pure] The CO-RE relocation engine: computes what each relocation recorded by clang in .BTF.ext
// becomes on a target kernel's BTF, and patches the instruction. Pure: no syscalls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/insn.hpp"

namespace corebpf {
class ObjectSpec;
}

namespace corebpf::core {

// Values are enum bpf_core_relo_kind.
enum class ReloKind : std::uint32_t {
  field_byte_offset = 0,
  field_byte_size = 1,
  field_exists = 2,
  field_signed = 3,
  field_lshift_u64 = 4,
  field_rshift_u64 = 5,
  type_id_local = 6,
  type_id_target = 7,
  type_exists = 8,
  type_size = 9,
  enumval_exists = 10,
  enumval_value = 11,
  type_matches = 12,
};
inline constexpr std::uint32_t kMaxReloKind = 12;

// The names `corebpf core explain` prints: byte_off byte_sz field_exists signed lshift_u64
// rshift_u64 local_type_id target_type_id type_exists type_size type_matches enumval_exists
// enumval_value. Unknown values give "unknown".
std::string_view kind_name(ReloKind kind) noexcept;
bool is_field_kind(ReloKind kind) noexcept;
bool is_type_kind(ReloKind kind) noexcept;
bool is_enumval_kind(ReloKind kind) noexcept;

// CO-RE essential name: the name without its flavor suffix, cut at the last "___" that has a
// non-underscore character on both sides (`task_struct___v2` -> `task_struct`, `a___b___c` ->
// `a___b`, `____x` stays whole). Stricter than btf::essential_name, which cuts at the first "___".
std::string_view core_essential_name(std::string_view name) noexcept;

// One bpf_core_relo record of .BTF.ext, with insn_off relative to its program's first instruction.
struct ReloRecord {
  std::uint32_t insn_off = 0;  // bytes
  btf::TypeId type_id = 0;     // in the object's (local) BTF
  std::uint32_t access_str_off = 0;
  ReloKind kind = ReloKind::field_byte_offset;
};

enum class Status { ok, poisoned, error };
std::string_view status_name(Status status) noexcept;

// How a load/store must change size when a field's size differs on the target.
enum class MemResize : std::uint8_t {
  none,         // same size (or not a byte-offset relocation of a whole field)
  zero_extend,  // unsigned integers or pointers: any load size keeps the value
  sign_extend,  // signed integers: only a sign-extending load (BPF_MEMSX) keeps the value
  unsafe,       // anything else: a load/store carrying this relocation is poisoned
};

// What a relocation resolved to. `local_value` is what the object was compiled with (computed
// from the local BTF; patch() replaces it with the instruction's own value where that is not
// validated); `target_value` what the target kernel needs (equal to local when nothing moves).
struct ReloResult {
  std::size_t insn_index = 0;  // instruction index within the program
  ReloKind kind = ReloKind::field_byte_offset;
  btf::TypeId local_type_id = 0;
  std::string local_type_name;  // "struct task_struct"
  std::string access;           // raw access string, "0:1:2"
  std::string spec;             // readable path: "task_struct.real_parent", "enum e::VALUE", "struct foo"
  std::uint64_t local_value = 0;
  std::uint64_t target_value = 0;
  btf::TypeId target_type_id = 0;  // the matching candidate (root type); 0 when none matched
  Status status = Status::ok;
  // Why poisoned or failed, or why the target lacks what an existence check asked about (ok with
  // target_value 0); empty when everything was found.
  std::string message;

  // Whether the instruction must hold `local_value` before patching. Off where the compiler's
  // value may legitimately differ: bitfield offsets/sizes/left shifts (clang picks its own load
  // width), and type ids (linking renumbers them).
  bool validate = true;
  // For byte offsets of whole (non-bitfield) fields: the field's size locally and on the
  // target, which loads and stores carrying the relocation are sized by.
  std::uint32_t local_size = 0;
  std::uint32_t target_size = 0;
  MemResize resize = MemResize::none;
};

// Poisoned instructions become `call 0xbad2310`: the verifier rejects them only when reachable,
// and reports "invalid func unknown#195896080", which the loader maps back to the relocation.
inline constexpr std::int32_t kPoisonHelperId = 0xbad2310;

// A target BTF (the running kernel's or any file) plus module BTFs searched when vmlinux has no
// candidate. Caches candidate lists by essential name and kind, so relocating many objects
// against one target does each lookup once. Thread-compatible (one thread at a time).
class Target {
 public:
  // Module BTFs are split BTF on top of `vmlinux`. A `module_loader` is called at most once, the
  // first time vmlinux has no candidate for a type, to supply them lazily.
  using ModuleLoader = std::function<std::vector<btf::Btf>(const btf::Btf& vmlinux)>;
  explicit Target(btf::Btf vmlinux, std::vector<btf::Btf> modules = {});
  Target(btf::Btf vmlinux, ModuleLoader module_loader);
  ~Target();
  Target(Target&&) noexcept;
  Target& operator=(Target&&) noexcept;

  // /sys/kernel/btf/vmlinux, with the modules of /sys/kernel/btf/* loaded on first need.
  static Target running_kernel();
  // The same with the running kernel's vmlinux BTF already read (the loader shares one copy).
  static Target running_kernel(btf::Btf vmlinux);
  // A BTF file (raw, ELF with .BTF, kernel image...): no modules, as with libbpf's btf_custom_path.
  static Target from_file(const std::string& path);

  const btf::Btf& vmlinux() const;
  // Loads the modules when a loader was given and has not run yet.
  std::span<const btf::Btf> modules() const;
  // 0 is vmlinux, i + 1 is modules()[i].
  const btf::Btf& btf_at(std::size_t index) const;

  struct Cache;
  Cache& cache() const;

 private:
  btf::Btf vmlinux_;
  std::unique_ptr<Cache> cache_;
};

// Relocates the CO-RE records of one object (one local BTF) against a target. Caches, per local
// type, its candidates and, per distinct (type, access string, kind), the outcome on every
// candidate, so repeated relocations of one field cost a hash lookup. Like libbpf, once some
// relocation of a local type matched a subset of its candidates, later relocations of that type
// consider only that subset. Keeps references to `local` and `target`.
class Relocator {
 public:
  Relocator(const btf::Btf& local, const Target& target);
  ~Relocator();
  Relocator(Relocator&&) noexcept;
  Relocator& operator=(Relocator&&) = delete;

  // Computes one relocation (no patching). Never throws for an unsatisfiable or malformed
  // relocation: those come back poisoned, or as Status::error with a message naming the type and
  // access (bad access string, type id out of range, ambiguous candidates...).
  ReloResult compute(const ReloRecord& record);

  const btf::Btf& local() const;
  const Target& target() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One relocation alone (a fresh Relocator): for tests and one-off questions.
ReloResult compute(const btf::Btf& local, const ReloRecord& record, const Target& target);

// Applies a computed result to the program's instructions: ALU immediates, load/store offsets
// and sizes, ld_imm64 values, or the poison call (both slots of an ld_imm64). A load/store whose
// field changes size in a way the load cannot follow is poisoned, and `result` says so (status,
// message). Throws corebpf::Error naming `program` and the instruction when the instruction
// cannot carry the relocation, does not hold the expected local value ("insn #N: expected imm X,
// found Y"), or `result` is an error.
void patch(std::span<Insn> insns, ReloResult& result, std::string_view program);

// The results of one program of an object, in its (linked) instruction order.
struct ProgramRelocations {
  std::string name;
  std::string section;
  std::vector<ReloResult> relocations;
};

// Relocates every program of `object` against `target` (one Relocator for the whole object) and
// patches its linked instructions. A relocation that fails leaves its instruction as compiled and
// comes back with Status::error (check_relocations turns that into an exception); poisoned ones
// are patched into the poison call. Throws corebpf::Error when the object has CO-RE relocations
// but no BTF.
std::vector<ProgramRelocations> relocate(ObjectSpec& object, const Target& target);

// Throws corebpf::Error for the first failed relocation of a program that will be loaded
// (autoload), naming the object, program, instruction, kind, type and field.
void check_relocations(const ObjectSpec& object, std::span<const ProgramRelocations> results);

// The relocation that poisoned instruction `insn_index` of `program`, or null. When that code is
// reachable the verifier rejects the load with "invalid func unknown#195896080" at that
// instruction; the loader uses this to say which field or value the kernel lacks.
const ReloResult* find_poisoned(const ProgramRelocations& program, std::size_t insn_index);

// One line for a relocation: "program 'p': insn #12: byte_off of task_struct.foo (struct
// task_struct, access 0:77): <status and message>".
std::string describe(std::string_view program, const ReloResult& result);

// The C spelling of a type for messages: "struct task_struct", "union (anon)", "enum e", "u32".
std::string type_display_name(const btf::Btf& btf, btf::TypeId id);

}  // namespace corebpf::core
