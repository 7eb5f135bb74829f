// Patching instructions with computed CO-RE results.
#include <fmt/format.h>

#include <limits>

#include "object/core/patch.hpp"
#include "util/error_format.hpp"

namespace corebpf::core {
namespace {

int size_code(std::uint32_t bytes) {
  switch (bytes) {
    case 1:
      return Insn::kB;
    case 2:
      return Insn::kH;
    case 4:
      return Insn::kW;
    case 8:
      return Insn::kDw;
    default:
      return -1;
  }
}

void poison(Insn& insn) {
  insn.code = Insn::kJmp | Insn::kCall;
  insn.regs = 0;
  insn.off = 0;
  insn.imm = kPoisonHelperId;
}

// Why an instruction cannot take a relocation; patch() adds the program and relocation.
struct Unpatchable {
  std::string reason;
};

class Patcher {
 public:
  Patcher(std::span<Insn> insns, ReloResult& result) : insns_(insns), r_(result) {}

  void run() {
    if (r_.status == Status::error) fail("the relocation failed: {}", r_.message);
    if (r_.insn_index >= insns_.size())
      fail("instruction #{} is past the program's end ({} instructions)", r_.insn_index, insns_.size());
    Insn& insn = insns_[r_.insn_index];
    if (insn.is_ld_imm64() && r_.insn_index + 1 >= insns_.size())
      fail("ld_imm64 at instruction #{} has no second slot", r_.insn_index);
    if (r_.status == Status::poisoned) return poison_insn();
    switch (insn.insn_class()) {
      case Insn::kAlu:
      case Insn::kAlu64:
        return patch_alu(insn);
      case Insn::kLdx:
      case Insn::kSt:
      case Insn::kStx:
        return patch_memory(insn);
      case Insn::kLd:
        return patch_ld_imm64(insn);
      default:
        fail("insn #{} (code {:#04x}) cannot carry a CO-RE relocation", r_.insn_index, insn.code);
    }
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
    throw Unpatchable{fmt::format(format, std::forward<Args>(args)...)};
  }

  // A validated value must be what the compiler put in the instruction; an unvalidated one
  // (bitfields, type ids) is whatever the compiler chose, which is what the program held.
  void check_local(std::uint64_t found, std::string_view what) {
    if (!r_.validate) {
      r_.local_value = found;
      return;
    }
    if (found != r_.local_value)
      fail("insn #{}: expected {} {}, found {}", r_.insn_index, what, static_cast<std::int64_t>(r_.local_value),
           static_cast<std::int64_t>(found));
  }

  void poison_insn() {
    Insn& insn = insns_[r_.insn_index];
    // Both slots of an ld_imm64, so the verifier never sees half of one.
    if (insn.is_ld_imm64()) poison(insns_[r_.insn_index + 1]);
    poison(insn);
  }

  void patch_alu(Insn& insn) {
    if ((insn.code & Insn::kX) != 0)
      fail("insn #{} is an ALU instruction with a register operand, not an immediate", r_.insn_index);
    // The immediate is sign-extended to 64 bits by the instruction, so it is compared that way.
    const auto found = static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm));
    check_local(found, "imm");
    const std::uint64_t v = r_.target_value;
    const bool fits =
        v <= std::numeric_limits<std::uint32_t>::max() ||
        (static_cast<std::int64_t>(v) < 0 && static_cast<std::int64_t>(v) >= std::numeric_limits<std::int32_t>::min());
    if (!fits) fail("insn #{}: value {} does not fit a 32-bit immediate", r_.insn_index, v);
    insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  }

  void patch_memory(Insn& insn) {
    const std::uint8_t mode = insn.code & 0xe0;
    check_local(static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.off)), "offset");
    if (r_.target_value > static_cast<std::uint64_t>(std::numeric_limits<std::int16_t>::max()))
      fail("insn #{}: offset {} does not fit a load/store offset", r_.insn_index, r_.target_value);
    const bool resizing = r_.local_size != r_.target_size;
    if (resizing) {
      const bool sign_extending = insn.insn_class() == Insn::kLdx && mode == Insn::kMemsx;
      // Zero-extending loads and stores keep unsigned values and pointers; signed values survive
      // only a sign-extending load.
      const bool safe = r_.resize == MemResize::zero_extend || (r_.resize == MemResize::sign_extend && sign_extending);
      if (!safe || mode == Insn::kAtomic) {
        r_.status = Status::poisoned;
        r_.message = fmt::format(
            "{}: the field is {} bytes locally and {} on the target, and insn #{} cannot be resized without "
            "changing the value (use pointers, unsigned integers, or fields of matching type and size)",
            r_.spec, r_.local_size, r_.target_size, r_.insn_index);
        return poison_insn();
      }
    }
    insn.off = static_cast<std::int16_t>(r_.target_value);
    if (!resizing) return;
    const std::uint32_t current = insn.access_size();
    if (current != r_.local_size)
      fail("insn #{}: accesses {} bytes, but the field is {} bytes", r_.insn_index, current, r_.local_size);
    const int code = size_code(r_.target_size);
    if (code < 0) fail("insn #{}: no load/store of {} bytes for the target's field", r_.insn_index, r_.target_size);
    // A sign-extending load of 8 bytes is a plain load.
    const std::uint8_t new_mode = mode == Insn::kMemsx && r_.target_size == 8 ? Insn::kMem : mode;
    insn.code = static_cast<std::uint8_t>(new_mode | code | insn.insn_class());
  }

  void patch_ld_imm64(Insn& insn) {
    Insn& high = insns_[r_.insn_index + 1];
    if (!insn.is_ld_imm64() || insn.src() != 0 || insn.off != 0 || high.code != 0 || high.regs != 0 || high.off != 0)
      fail("insn #{} is not a plain ld_imm64 (code {:#04x}, src {})", r_.insn_index, insn.code, insn.src());
    const std::uint64_t found =
        static_cast<std::uint32_t>(insn.imm) | (std::uint64_t{static_cast<std::uint32_t>(high.imm)} << 32);
    check_local(found, "imm");
    insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(r_.target_value));
    high.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(r_.target_value >> 32));
  }

  std::span<Insn> insns_;
  ReloResult& r_;
};

}  // namespace

std::string try_patch(std::span<Insn> insns, ReloResult& result) {
  try {
    Patcher(insns, result).run();
  } catch (const Unpatchable& e) {
    return e.reason;
  }
  return {};
}

void patch(std::span<Insn> insns, ReloResult& result, std::string_view program) {
  const std::string reason = try_patch(insns, result);
  if (!reason.empty())
    util::fail(std::errc::invalid_argument, "program '{}': CO-RE {} of {}: {}", program, kind_name(result.kind),
               result.spec.empty() ? result.local_type_name : result.spec, reason);
}

}  // namespace corebpf::core
