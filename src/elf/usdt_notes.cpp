#include "elf/usdt_notes.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include "util/error_format.hpp"

namespace corebpf::elf {
namespace {

constexpr std::uint32_t nt_stapsdt = 3;
constexpr std::string_view stapsdt_owner = "stapsdt";

std::uint64_t align4(std::uint64_t value) { return (value + 3) & ~std::uint64_t{3}; }

template <typename T>
T load(std::span<const std::byte> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The next NUL-terminated string of `desc` from `offset`, which moves past it.
std::string next_string(std::span<const std::byte> desc, std::size_t& offset, std::string_view file_name,
                        std::string_view what) {
  const char* begin = reinterpret_cast<const char*>(desc.data()) + offset;
  const std::size_t room = desc.size() - offset;
  const void* nul = room == 0 ? nullptr : std::memchr(begin, 0, room);
  if (nul == nullptr)
    util::fail(std::errc::invalid_argument, "{}: a .note.stapsdt note's {} is not NUL-terminated", file_name, what);
  std::string text(begin, static_cast<const char*>(nul));
  offset += text.size() + 1;
  return text;
}

struct Register {
  std::string_view names[4];  // 64-, 32-, 16-, 8-bit names
  std::uint16_t pt_regs_offset;
};

// struct pt_regs of x86-64 (arch/x86/include/uapi/asm/ptrace.h), which is what the BPF side reads:
// the offset of each 64-bit register, reached also through its narrower names.
constexpr std::array<Register, 17> x86_64_registers{{
    {{"r15", "r15d", "r15w", "r15b"}, 0},
    {{"r14", "r14d", "r14w", "r14b"}, 8},
    {{"r13", "r13d", "r13w", "r13b"}, 16},
    {{"r12", "r12d", "r12w", "r12b"}, 24},
    {{"rbp", "ebp", "bp", "bpl"}, 32},
    {{"rbx", "ebx", "bx", "bl"}, 40},
    {{"r11", "r11d", "r11w", "r11b"}, 48},
    {{"r10", "r10d", "r10w", "r10b"}, 56},
    {{"r9", "r9d", "r9w", "r9b"}, 64},
    {{"r8", "r8d", "r8w", "r8b"}, 72},
    {{"rax", "eax", "ax", "al"}, 80},
    {{"rcx", "ecx", "cx", "cl"}, 88},
    {{"rdx", "edx", "dx", "dl"}, 96},
    {{"rsi", "esi", "si", "sil"}, 104},
    {{"rdi", "edi", "di", "dil"}, 112},
    {{"rip", "eip", "ip", ""}, 128},
    {{"rsp", "esp", "sp", "spl"}, 152},
}};

[[noreturn]] void bad_spec(std::string_view spec, std::string_view why) {
  util::fail(std::errc::invalid_argument, "USDT argument '{}': {}", spec, why);
}

std::uint16_t register_offset(std::string_view spec, std::string_view name) {
  for (const auto& reg : x86_64_registers)
    for (const auto alias : reg.names)
      if (!alias.empty() && alias == name) return reg.pt_regs_offset;
  bad_spec(spec, fmt::format("unknown x86-64 register '%{}'", name));
}

// A decimal or 0x hexadecimal integer with an optional sign, the whole of `text`.
std::int64_t parse_integer(std::string_view spec, std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  std::uint64_t magnitude = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    bad_spec(spec, fmt::format("'{}' is not a number", text));
  // Two's complement wrap is what a 64-bit immediate means either way.
  return static_cast<std::int64_t>(negative ? ~magnitude + 1 : magnitude);
}

UsdtArgument parse_one(std::string_view spec) {
  UsdtArgument argument;
  std::string_view operand = spec;
  if (const auto at = spec.find('@'); at != std::string_view::npos) {
    const std::string_view size = spec.substr(0, at);
    operand = spec.substr(at + 1);
    int bytes = 0;
    std::string_view digits = size;
    if (!digits.empty() && digits.front() == '-') {
      argument.is_signed = true;
      digits.remove_prefix(1);
    }
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bytes);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8))
      bad_spec(spec, fmt::format("size '{}' is not 1, 2, 4 or 8 bytes (signed with '-')", size));
    argument.size = static_cast<std::uint8_t>(bytes);
  }
  if (operand.empty()) bad_spec(spec, "no operand");

  if (operand.front() == '$') {
    argument.kind = UsdtArgKind::constant;
    argument.value = parse_integer(spec, operand.substr(1));
    return argument;
  }
  if (operand.front() == '%') {
    argument.kind = UsdtArgKind::reg;
    argument.reg = std::string(operand.substr(1));
    argument.reg_offset = register_offset(spec, argument.reg);
    return argument;
  }
  const auto open = operand.find('(');
  if (open == std::string_view::npos || operand.back() != ')')
    bad_spec(spec, "operand is not $constant, %register or offset(%register)");
  const std::string_view inside = operand.substr(open + 1, operand.size() - open - 2);
  if (inside.find(',') != std::string_view::npos)
    bad_spec(spec, "indexed memory operands (base, index, scale) cannot be read from pt_regs");
  if (inside.size() < 2 || inside.front() != '%') bad_spec(spec, "memory operand has no %register");
  argument.kind = UsdtArgKind::reg_deref;
  argument.reg = std::string(inside.substr(1));
  argument.reg_offset = register_offset(spec, argument.reg);
  const std::string_view offset = operand.substr(0, open);
  argument.value = offset.empty() ? 0 : parse_integer(spec, offset);
  return argument;
}

}  // namespace

std::vector<UsdtArgument> parse_usdt_arguments(std::string_view specs) {
  std::vector<UsdtArgument> arguments;
  std::size_t position = 0;
  while (position < specs.size()) {
    const auto start = specs.find_first_not_of(" \t", position);
    if (start == std::string_view::npos) break;
    auto end = specs.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = specs.size();
    if (arguments.size() == usdt_max_arguments)
      util::fail(std::errc::invalid_argument, "USDT arguments '{}': more than {} arguments", specs, usdt_max_arguments);
    arguments.push_back(parse_one(specs.substr(start, end - start)));
    position = end;
  }
  return arguments;
}

std::vector<UsdtNote> parse_stapsdt_notes(std::span<const std::byte> notes, std::string_view file_name,
                                          std::optional<std::uint64_t> base_section_address) {
  std::vector<UsdtNote> result;
  std::size_t offset = 0;
  constexpr std::size_t header_size = 3 * sizeof(std::uint32_t);
  while (offset + header_size <= notes.size()) {
    const auto name_size = load<std::uint32_t>(notes, offset);
    const auto desc_size = load<std::uint32_t>(notes, offset + 4);
    const auto type = load<std::uint32_t>(notes, offset + 8);
    const std::uint64_t name_at = offset + header_size;
    const std::uint64_t desc_at = name_at + align4(name_size);
    const std::uint64_t next = desc_at + align4(desc_size);
    if (desc_at + desc_size > notes.size())
      util::fail(std::errc::invalid_argument,
                 "{}: .note.stapsdt note at offset {} (name {} bytes, description {} bytes) runs past the section "
                 "({} bytes)",
                 file_name, offset, name_size, desc_size, notes.size());
    const std::string_view owner(reinterpret_cast<const char*>(notes.data()) + name_at,
                                 name_size > 0 ? name_size - 1 : 0);
    if (type == nt_stapsdt && owner == stapsdt_owner) {
      const auto desc = notes.subspan(desc_at, desc_size);
      if (desc.size() < 3 * sizeof(std::uint64_t))
        util::fail(std::errc::invalid_argument, "{}: .note.stapsdt note at offset {} is too short ({} bytes)",
                   file_name, offset, desc.size());
      UsdtNote note;
      note.address = load<std::uint64_t>(desc, 0);
      const auto recorded_base = load<std::uint64_t>(desc, 8);
      note.semaphore = load<std::uint64_t>(desc, 16);
      std::size_t text = 3 * sizeof(std::uint64_t);
      note.provider = next_string(desc, text, file_name, "provider");
      note.name = next_string(desc, text, file_name, "name");
      note.arguments = next_string(desc, text, file_name, "argument spec");
      if (base_section_address && recorded_base != 0) {
        // Unsigned wrap-around makes the shift right whichever way the file moved.
        const std::uint64_t shift = *base_section_address - recorded_base;
        note.address += shift;
        if (note.semaphore != 0) note.semaphore += shift;
      }
      result.push_back(std::move(note));
    }
    offset = next;
  }
  return result;
}

std::vector<UsdtNote> read_usdt_notes(const ElfFile& file) {
  const Section* notes = file.find_section(".note.stapsdt");
  if (notes == nullptr || notes->data.empty()) return {};
  std::optional<std::uint64_t> base;
  if (const Section* base_section = file.find_section(".stapsdt.base")) base = base_section->addr;
  return parse_stapsdt_notes(notes->data, file.name(), base);
}

}  // namespace corebpf::elf
