// Reachability of a linked program's instructions under the verifier's exact values (see
// reachability.hpp for the rule).
#include "object/core/reachability.hpp"

#include <algorithm>
#include <array>
#include <deque>

namespace corebpf::core::detail {
namespace {

constexpr std::size_t kStackSlots = 64;  // 512 bytes of stack, 8-byte slots
constexpr std::size_t kStatesPerInsn = 8;
constexpr std::size_t kBudget = 1'000'000;

struct Value {
  enum class Kind : std::uint8_t { unknown, constant, map_value, frame };
  Kind kind = Kind::unknown;
  std::uint32_t map = 0;
  std::uint64_t v = 0;  // the constant, or the pointer's offset

  static Value constant(std::uint64_t value) { return {Kind::constant, 0, value}; }
  bool known() const { return kind == Kind::constant; }
  bool pointer() const { return kind == Kind::map_value || kind == Kind::frame; }
  bool operator==(const Value&) const = default;
};

Value join(const Value& a, const Value& b) { return a == b ? a : Value{}; }

struct State {
  std::uint32_t pc = 0;
  std::array<Value, 11> regs{};
  std::array<Value, kStackSlots> stack{};
  bool operator==(const State&) const = default;

  static State entry(std::uint32_t pc) {
    State s;
    s.pc = pc;
    s.regs[10] = Value{Value::Kind::frame, 0, 0};
    return s;
  }
};

State join(const State& a, const State& b) {
  State out;
  out.pc = a.pc;
  for (std::size_t i = 0; i < a.regs.size(); ++i) out.regs[i] = join(a.regs[i], b.regs[i]);
  for (std::size_t i = 0; i < a.stack.size(); ++i) out.stack[i] = join(a.stack[i], b.stack[i]);
  return out;
}

std::uint64_t sign_extend(std::uint64_t value, unsigned bits) {
  if (bits >= 64) return value;
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  value &= (sign << 1) - 1;
  return (value ^ sign) - sign;
}

// The stack slot of a frame offset (negative, from r10), when the access covers exactly it.
std::optional<std::size_t> slot_of(std::int64_t offset, unsigned size) {
  if (size != 8 || offset >= 0 || offset < -static_cast<std::int64_t>(kStackSlots * 8) || offset % 8 != 0)
    return std::nullopt;
  return static_cast<std::size_t>((offset + static_cast<std::int64_t>(kStackSlots * 8)) / 8);
}

void forget_stack_range(State& s, std::int64_t offset, unsigned size) {
  const std::int64_t base = static_cast<std::int64_t>(kStackSlots * 8);
  for (std::int64_t byte = offset; byte < offset + static_cast<std::int64_t>(size); ++byte) {
    const std::int64_t at = byte + base;
    if (at >= 0 && at < base) s.stack[static_cast<std::size_t>(at / 8)] = Value{};
  }
}

void forget_stack(State& s) { s.stack.fill(Value{}); }

// ALU on two known values; empty when the result is not exact (division by a variable...).
std::optional<std::uint64_t> alu(std::uint8_t op, bool is64, bool is_signed, std::uint64_t a, std::uint64_t b) {
  if (!is64) {
    a &= 0xffffffffu;
    b &= 0xffffffffu;
  }
  const unsigned width = is64 ? 64 : 32;
  std::uint64_t r = 0;
  switch (op) {
    case 0x00:
      r = a + b;
      break;
    case 0x10:
      r = a - b;
      break;
    case 0x20:
      r = a * b;
      break;
    case 0x30:  // div
      if (b == 0) {
        r = 0;
      } else if (is_signed) {
        const auto sa = static_cast<std::int64_t>(sign_extend(a, width));
        const auto sb = static_cast<std::int64_t>(sign_extend(b, width));
        if (sb == -1) return std::nullopt;
        r = static_cast<std::uint64_t>(sa / sb);
      } else {
        r = a / b;
      }
      break;
    case 0x90:  // mod
      if (b == 0) {
        r = a;
      } else if (is_signed) {
        const auto sa = static_cast<std::int64_t>(sign_extend(a, width));
        const auto sb = static_cast<std::int64_t>(sign_extend(b, width));
        if (sb == -1) return std::nullopt;
        r = static_cast<std::uint64_t>(sa % sb);
      } else {
        r = a % b;
      }
      break;
    case 0x40:
      r = a | b;
      break;
    case 0x50:
      r = a & b;
      break;
    case 0xa0:
      r = a ^ b;
      break;
    case 0x60:
      r = a << (b & (width - 1));
      break;
    case 0x70:
      r = a >> (b & (width - 1));
      break;
    case 0xc0:
      r = static_cast<std::uint64_t>(static_cast<std::int64_t>(sign_extend(a, width)) >> (b & (width - 1)));
      break;
    default:
      return std::nullopt;
  }
  return is64 ? r : (r & 0xffffffffu);
}

enum class Branch { taken, not_taken, both };

Branch compare(std::uint8_t op, bool is64, std::uint64_t a, std::uint64_t b) {
  if (!is64) {
    a &= 0xffffffffu;
    b &= 0xffffffffu;
  }
  const unsigned width = is64 ? 64 : 32;
  const auto sa = static_cast<std::int64_t>(sign_extend(a, width));
  const auto sb = static_cast<std::int64_t>(sign_extend(b, width));
  bool r = false;
  switch (op) {
    case 0x10:
      r = a == b;
      break;
    case 0x20:
      r = a > b;
      break;
    case 0x30:
      r = a >= b;
      break;
    case 0x40:
      r = (a & b) != 0;
      break;
    case 0x50:
      r = a != b;
      break;
    case 0x60:
      r = sa > sb;
      break;
    case 0x70:
      r = sa >= sb;
      break;
    case 0xa0:
      r = a < b;
      break;
    case 0xb0:
      r = a <= b;
      break;
    case 0xc0:
      r = sa < sb;
      break;
    case 0xd0:
      r = sa <= sb;
      break;
    default:
      return Branch::both;
  }
  return r ? Branch::taken : Branch::not_taken;
}

class Walker {
 public:
  explicit Walker(const FlowInput& input)
      : in_(input), reached_(input.insns.size(), false), seen_(input.insns.size()) {}

  FlowResult run() {
    push(State::entry(0));
    for (auto entry : in_.independent_entries) push(State::entry(entry));
    while (!work_.empty() && !exhausted_) {
      State s = std::move(work_.front());
      work_.pop_front();
      walk(std::move(s));
    }
    FlowResult result;
    if (exhausted_) {
      result.reached = whole_graph();
      result.exhausted = true;
    } else {
      result.reached = std::move(reached_);
    }
    return result;
  }

 private:
  struct Seen {
    std::vector<State> states;
    std::optional<State> summary;
  };

  // Queues a state at a jump target or entry unless an equal one was seen there.
  void push(State s) {
    if (s.pc >= in_.insns.size()) return;
    Seen& seen = seen_[s.pc];
    if (std::find(seen.states.begin(), seen.states.end(), s) != seen.states.end()) return;
    if (seen.summary) {
      State joined = join(*seen.summary, s);
      if (joined == *seen.summary) return;
      seen.summary = joined;
      work_.push_back(std::move(joined));
      return;
    }
    if (seen.states.size() < kStatesPerInsn) {
      seen.states.push_back(s);
      work_.push_back(std::move(s));
      return;
    }
    State joined = s;
    for (const auto& other : seen.states) joined = join(joined, other);
    seen.summary = joined;
    work_.push_back(std::move(joined));
  }

  void add_entry(std::uint32_t pc) {
    if (pc >= in_.insns.size()) return;
    if (std::find(entries_.begin(), entries_.end(), pc) != entries_.end()) return;
    entries_.push_back(pc);
    push(State::entry(pc));
  }

  Value operand(const State& s, const Insn& insn, bool is64) const {
    if (insn.code & Insn::kX) return s.regs[insn.src()];
    const auto imm = static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm));
    return Value::constant(is64 ? imm : (imm & 0xffffffffu));
  }

  static bool valid_reg(std::uint8_t r) { return r <= 10; }

  void walk(State s) {
    const auto insns = in_.insns;
    while (true) {
      if (++steps_ > kBudget) {
        exhausted_ = true;
        return;
      }
      const std::uint32_t pc = s.pc;
      if (pc >= insns.size()) return;
      reached_[pc] = true;
      const Insn& insn = insns[pc];
      const std::uint8_t cls = insn.insn_class();
      const std::uint8_t dst = insn.dst();
      const std::uint8_t src = insn.src();
      if (!valid_reg(dst) || !valid_reg(src)) return;  // the verifier rejects it here
      switch (cls) {
        case Insn::kAlu:
        case Insn::kAlu64:
          step_alu(s, insn, cls == Insn::kAlu64);
          s.pc = pc + 1;
          break;
        case Insn::kLd:
          if (insn.is_ld_imm64()) {
            if (pc + 1 < insns.size()) reached_[pc + 1] = true;
            step_ld_imm64(s, insn, pc);
            s.pc = pc + 2;
          } else {  // LD_ABS / LD_IND: r0 set, r1-r5 clobbered
            for (int r = 0; r <= 5; ++r) s.regs[r] = Value{};
            s.pc = pc + 1;
          }
          break;
        case Insn::kLdx:
          step_ldx(s, insn);
          s.pc = pc + 1;
          break;
        case Insn::kSt:
        case Insn::kStx:
          step_store(s, insn, cls == Insn::kSt);
          s.pc = pc + 1;
          break;
        case Insn::kJmp:
        case Insn::kJmp32: {
          const std::uint8_t op = insn.code & 0xf0;
          const bool is64 = cls == Insn::kJmp;
          if (op == Insn::kExit && is64) return;
          if (op == Insn::kCall && is64) {
            step_call(s, insn, pc);
            s.pc = pc + 1;
            break;
          }
          if (op == Insn::kJa) {
            const std::int64_t delta = is64 ? insn.off : insn.imm;
            s.pc = static_cast<std::uint32_t>(static_cast<std::int64_t>(pc) + 1 + delta);
            push(std::move(s));
            return;
          }
          const auto target = static_cast<std::uint32_t>(static_cast<std::int64_t>(pc) + 1 + insn.off);
          const Value lhs = s.regs[dst];
          const Value rhs = operand(s, insn, is64);
          Branch branch = Branch::both;
          if (lhs.known() && rhs.known()) {
            branch = compare(op, is64, lhs.v, rhs.v);
          } else if ((op == 0x10 || op == 0x50) && rhs.known() && rhs.v == 0 && lhs.pointer()) {
            branch = op == 0x10 ? Branch::not_taken : Branch::taken;  // pointers are never null
          }
          if (branch != Branch::not_taken) {
            State taken = s;
            taken.pc = target;
            if (branch == Branch::both && op == 0x10 && is64 && rhs.known()) taken.regs[dst] = rhs;
            push(std::move(taken));
          }
          if (branch == Branch::taken) return;
          if (branch == Branch::both && op == 0x50 && is64 && rhs.known()) s.regs[dst] = rhs;
          s.pc = pc + 1;
          push(std::move(s));
          return;
        }
      }
    }
  }

  void step_alu(State& s, const Insn& insn, bool is64) {
    const std::uint8_t op = insn.code & 0xf0;
    const std::uint8_t dst = insn.dst();
    Value& d = s.regs[dst];
    if (op == 0xd0) {  // byte swaps
      d = Value{};
      return;
    }
    if (op == 0x80) {  // neg
      d = d.known() ? Value::constant(is64 ? -d.v : (-d.v & 0xffffffffu)) : Value{};
      return;
    }
    const Value v = operand(s, insn, is64);
    if (op == Insn::kMov) {
      if (insn.off == 0) {
        if (is64) {
          d = v;
        } else {
          d = v.known() ? Value::constant(v.v & 0xffffffffu) : Value{};
        }
      } else {  // movsx
        if (!v.known()) {
          d = Value{};
        } else {
          const std::uint64_t extended = sign_extend(v.v, static_cast<unsigned>(insn.off));
          d = Value::constant(is64 ? extended : (extended & 0xffffffffu));
        }
      }
      return;
    }
    if (d.known() && v.known()) {
      const auto r = alu(op, is64, insn.off == 1, d.v, v.v);
      d = r ? Value::constant(*r) : Value{};
      return;
    }
    if (is64 && d.pointer() && v.known() && (op == 0x00 || op == 0x10)) {
      d.v = op == 0x00 ? d.v + v.v : d.v - v.v;
      return;
    }
    d = Value{};
  }

  void step_ld_imm64(State& s, const Insn& insn, std::uint32_t pc) {
    const auto insns = in_.insns;
    const std::uint32_t low = static_cast<std::uint32_t>(insn.imm);
    const std::uint32_t high = pc + 1 < insns.size() ? static_cast<std::uint32_t>(insns[pc + 1].imm) : 0;
    Value& d = s.regs[insn.dst()];
    switch (insn.src()) {
      case 0:
        d = Value::constant((std::uint64_t{high} << 32) | low);
        break;
      case Insn::kPseudoMapValue:
      case Insn::kPseudoMapIdxValue:
        d = Value{Value::Kind::map_value, low, high};
        break;
      case Insn::kPseudoFunc:
        add_entry(static_cast<std::uint32_t>(static_cast<std::int64_t>(pc) + 1 + insn.imm));
        d = Value{};
        break;
      default:
        d = Value{};
        break;
    }
  }

  void step_ldx(State& s, const Insn& insn) {
    const std::uint8_t mode = insn.code & 0xe0;
    const unsigned size = insn.access_size();
    const Value base = s.regs[insn.src()];
    Value out;
    if (mode == Insn::kMem || mode == Insn::kMemsx) {
      if (base.kind == Value::Kind::frame) {
        const auto offset = static_cast<std::int64_t>(base.v) + insn.off;
        if (auto slot = slot_of(offset, size)) out = s.stack[*slot];
      } else if (base.kind == Value::Kind::map_value && in_.read_constant) {
        const auto offset = base.v + static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.off));
        if (auto v = in_.read_constant(base.map, offset, size, mode == Insn::kMemsx)) out = Value::constant(*v);
      }
    }
    s.regs[insn.dst()] = out;
  }

  void step_store(State& s, const Insn& insn, bool immediate) {
    const std::uint8_t mode = insn.code & 0xe0;
    const unsigned size = insn.access_size();
    const Value base = s.regs[insn.dst()];
    if (mode == Insn::kAtomic) {
      if (base.kind == Value::Kind::frame) forget_stack_range(s, static_cast<std::int64_t>(base.v) + insn.off, size);
      if (insn.imm & 0x01) s.regs[insn.src()] = Value{};  // BPF_FETCH (and xchg)
      if (insn.imm == 0xf1) s.regs[0] = Value{};          // cmpxchg
      return;
    }
    if (base.kind != Value::Kind::frame) return;
    const auto offset = static_cast<std::int64_t>(base.v) + insn.off;
    if (auto slot = slot_of(offset, size); slot && mode == Insn::kMem) {
      if (immediate) {
        s.stack[*slot] = Value::constant(static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)));
      } else {
        s.stack[*slot] = s.regs[insn.src()];
      }
      return;
    }
    forget_stack_range(s, offset, size);
  }

  void step_call(State& s, const Insn& insn, std::uint32_t pc) {
    bool stack_passed = false;
    for (int r = 1; r <= 5; ++r) stack_passed = stack_passed || s.regs[r].kind == Value::Kind::frame;
    if (insn.src() == Insn::kPseudoCall) {
      // The callee is walked on its own with unknown arguments; the caller continues with r0-r5
      // unknown.
      add_entry(static_cast<std::uint32_t>(static_cast<std::int64_t>(pc) + 1 + insn.imm));
    }
    for (int r = 0; r <= 5; ++r) s.regs[r] = Value{};
    if (stack_passed) forget_stack(s);
  }

  // Every instruction reachable in the control flow graph, both sides of every branch.
  std::vector<bool> whole_graph() const {
    const auto insns = in_.insns;
    std::vector<bool> reached(insns.size(), false);
    std::vector<std::uint32_t> stack{0};
    for (auto e : in_.independent_entries) stack.push_back(e);
    for (auto e : entries_) stack.push_back(e);
    const auto visit = [&](std::int64_t pc) {
      if (pc >= 0 && static_cast<std::size_t>(pc) < insns.size() && !reached[static_cast<std::size_t>(pc)])
        stack.push_back(static_cast<std::uint32_t>(pc));
    };
    while (!stack.empty()) {
      const std::uint32_t pc = stack.back();
      stack.pop_back();
      if (pc >= insns.size() || reached[pc]) continue;
      reached[pc] = true;
      const Insn& insn = insns[pc];
      const std::uint8_t cls = insn.insn_class();
      if (insn.is_ld_imm64()) {
        if (pc + 1 < insns.size()) reached[pc + 1] = true;
        if (insn.src() == Insn::kPseudoFunc) visit(std::int64_t{pc} + 1 + insn.imm);
        visit(std::int64_t{pc} + 2);
        continue;
      }
      if (cls == Insn::kJmp || cls == Insn::kJmp32) {
        const std::uint8_t op = insn.code & 0xf0;
        if (op == Insn::kExit && cls == Insn::kJmp) continue;
        if (op == Insn::kCall && cls == Insn::kJmp) {
          if (insn.src() == Insn::kPseudoCall) visit(std::int64_t{pc} + 1 + insn.imm);
          visit(std::int64_t{pc} + 1);
          continue;
        }
        if (op == Insn::kJa) {
          visit(std::int64_t{pc} + 1 + (cls == Insn::kJmp ? insn.off : insn.imm));
          continue;
        }
        visit(std::int64_t{pc} + 1 + insn.off);
      }
      visit(std::int64_t{pc} + 1);
    }
    return reached;
  }

  const FlowInput& in_;
  std::vector<bool> reached_;
  std::vector<Seen> seen_;
  std::deque<State> work_;
  std::vector<std::uint32_t> entries_;
  std::size_t steps_ = 0;
  bool exhausted_ = false;
};

}  // namespace

FlowResult find_reachable(const FlowInput& input) { return Walker(input).run(); }

}  // namespace corebpf::core::detail
