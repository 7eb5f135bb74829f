// [pure] Values in memory shown through their BTF type: map keys and values, global variables. Two
// forms: C-like text (`{.pid = 12, .comm = "bash", .flags = 0x3}`) and the JSON bpftool prints
// as "formatted" in `map dump -j` (objects by member name, arrays, enumerators by name).
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "corebpf/btf.hpp"

namespace corebpf::btf {

// `bytes` must hold exactly one value of `type` (typedefs and modifiers are looked through).
// Every read is checked against `bytes`; a size mismatch, a member or element that lies outside
// its container, or a type that has no value (void, a function, a forward declaration) throws
// corebpf::Error (EINVAL) naming the type.
//
// Text: structs and unions as {.member = value, ...} (anonymous members without a name),
// arrays as [a, b], char arrays holding a NUL-terminated printable string as "text", enums by
// enumerator name (the number when none matches), bitfields and pointers in hex, bools as
// true/false, floats in decimal.
std::string format_data(const Btf& btf, TypeId type, std::span<const std::byte> bytes);

// JSON, as bpftool's "formatted" member: integers as numbers (128-bit ones as "0x..." strings), bitfields as "0x..."
// strings of their bits, pointers as unsigned numbers, enums as their enumerator's name, char arrays holding a string
// as a string, bools as true/false, DATASECs as
// {"section": [{"variable": value}, ...]}. Pretty output indents by 4 spaces.
std::string format_data_json(const Btf& btf, TypeId type, std::span<const std::byte> bytes, bool pretty = false);

}  // namespace corebpf::btf
