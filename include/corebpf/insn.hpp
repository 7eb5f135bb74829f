// [pure] BPF instructions and the opcode constants the object model and CO-RE engine patch.
#pragma once

#include <cstdint>

namespace corebpf {

// One 8-byte BPF instruction, laid out as the kernel's struct bpf_insn (little-endian host).
struct Insn {
  std::uint8_t code = 0;
  std::uint8_t regs = 0;  // dst in the low nibble, src in the high nibble
  std::int16_t off = 0;
  std::int32_t imm = 0;

  std::uint8_t dst() const noexcept { return regs & 0x0f; }
  std::uint8_t src() const noexcept { return regs >> 4; }
  void set_dst(std::uint8_t reg) noexcept { regs = static_cast<std::uint8_t>((regs & 0xf0) | (reg & 0x0f)); }
  void set_src(std::uint8_t reg) noexcept { regs = static_cast<std::uint8_t>((regs & 0x0f) | (reg << 4)); }
  std::uint8_t insn_class() const noexcept { return code & 0x07; }
  // ld_imm64 takes two slots; the second holds the upper 32 bits of the immediate.
  bool is_ld_imm64() const noexcept { return code == (kLd | kDw | kImm); }
  bool is_call() const noexcept { return code == (kJmp | kCall); }
  bool is_exit() const noexcept { return code == (kJmp | kExit); }
  // Bytes a load or store moves (its size field: 1, 2, 4 or 8).
  unsigned access_size() const noexcept {
    switch (code & kDw) {
      case kB:
        return 1;
      case kH:
        return 2;
      case kW:
        return 4;
      default:
        return 8;
    }
  }

  // Classes.
  static constexpr std::uint8_t kLd = 0x00, kLdx = 0x01, kSt = 0x02, kStx = 0x03, kAlu = 0x04, kJmp = 0x05,
                                kJmp32 = 0x06, kAlu64 = 0x07;
  // Sizes (load/store).
  static constexpr std::uint8_t kW = 0x00, kH = 0x08, kB = 0x10, kDw = 0x18;
  // Modes (load/store).
  static constexpr std::uint8_t kImm = 0x00, kAbs = 0x20, kInd = 0x40, kMem = 0x60, kMemsx = 0x80, kAtomic = 0xc0;
  // ALU/JMP operations and source.
  static constexpr std::uint8_t kK = 0x00, kX = 0x08;
  static constexpr std::uint8_t kMov = 0xb0, kAdd = 0x00, kJa = 0x00, kCall = 0x80, kExit = 0x90;

  // src_reg values of special instructions.
  static constexpr std::uint8_t kPseudoMapFd = 1, kPseudoMapValue = 2, kPseudoBtfId = 3, kPseudoFunc = 4,
                                kPseudoMapIdx = 5, kPseudoMapIdxValue = 6;
  static constexpr std::uint8_t kPseudoCall = 1, kPseudoKfuncCall = 2;
};
static_assert(sizeof(Insn) == 8);

}  // namespace corebpf
