// The CO-RE relocation engine: computes what each relocation recorded by clang in .BTF.ext
// becomes on a target kernel's BTF, and patches the instruction. Pure: no syscalls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/insn.hpp"

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

// The names `corebpf core explain` prints: byte_off byte_sz field_exists signed lshift_u64
// rshift_u64 local_type_id target_type_id type_exists type_size type_matches enumval_exists
// enumval_value.
std::string_view kind_name(ReloKind kind) noexcept;

// One bpf_core_relo record of .BTF.ext, with insn_off relative to its program's first instruction.
struct ReloRecord {
  std::uint32_t insn_off = 0;  // bytes
  btf::TypeId type_id = 0;     // in the object's (local) BTF
  std::uint32_t access_str_off = 0;
  ReloKind kind = ReloKind::field_byte_offset;
};

enum class Status { ok, poisoned, error };
std::string_view status_name(Status status) noexcept;

// What a relocation resolved to. `local_value` is what the object was compiled with;
// `target_value` what the target kernel needs (equal to local when nothing moves).
struct ReloResult {
  std::size_t insn_index = 0;  // instruction index within the program
  ReloKind kind = ReloKind::field_byte_offset;
  btf::TypeId local_type_id = 0;
  std::string local_type_name;  // "struct task_struct"
  std::string access;           // raw access string, "0:1:2"
  std::string spec;             // readable path, "task_struct.real_parent"
  std::uint64_t local_value = 0;
  std::uint64_t target_value = 0;
  btf::TypeId target_type_id = 0;  // 0 when no candidate matched
  Status status = Status::ok;
  std::string message;  // why poisoned or failed; empty when ok
};

// Poisoned instructions become `call 0xbad2310`: the verifier rejects them only when reachable,
// and reports "invalid func unknown#195896080", which the loader maps back to the relocation.
inline constexpr std::int32_t kPoisonHelperId = 0xbad2310;

// A target BTF (the running kernel's or any file) plus, optionally, module BTFs searched when
// vmlinux has no candidate. Caches candidate lists by essential name and kind, so relocating many
// objects against one target does each lookup once. Thread-compatible (one thread at a time).
class Target {
 public:
  explicit Target(btf::Btf vmlinux, std::vector<btf::Btf> modules = {});
  ~Target();
  Target(Target&&) noexcept;
  Target& operator=(Target&&) noexcept;

  const btf::Btf& vmlinux() const;
  std::span<const btf::Btf> modules() const;

  struct Cache;
  Cache& cache() const;

 private:
  btf::Btf vmlinux_;
  std::vector<btf::Btf> modules_;
  std::unique_ptr<Cache> cache_;
};

// Computes one relocation (no patching). Never throws for unsatisfiable relocations: those come
// back poisoned or as errors with a message; throws corebpf::Error only for malformed input
// (bad access string, type id out of range) naming the relocation.
ReloResult compute(const btf::Btf& local, const ReloRecord& record, const Target& target);

// Applies a computed result to the program's instructions: ALU immediates, load/store offsets
// and sizes, ld_imm64 values, or the poison call. Throws corebpf::Error naming `program`, the
// instruction and the relocation when the instruction cannot carry the relocation.
void patch(std::span<Insn> insns, const ReloResult& result, std::string_view program);

}  // namespace corebpf::core
