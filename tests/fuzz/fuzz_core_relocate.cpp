// libFuzzer: a BPF object and a target BTF through the CO-RE engine. The input is
// [u32 little-endian length N][N bytes: the object][the rest: the target BTF, raw or ELF]. An
// object that opens is relocated whole (compute, patch, messages); bytes that do not open as an
// object are read as a local BTF instead, and every (type, access string, kind) it can name is
// computed against the target. Malformed input must end in corebpf::Error, never in a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"

namespace {

using namespace corebpf;

std::size_t sink = 0;

void relocate_object(ObjectSpec& object, const core::Target& target) {
  const auto results = core::relocate(object, target);
  for (const auto& program : results) {
    for (const auto& r : program.relocations) {
      sink += core::describe(program.name, r).size();
      if (r.status == core::Status::poisoned && core::find_poisoned(program, r.insn_index) == nullptr) __builtin_trap();
    }
  }
  try {
    core::check_relocations(object, results);
  } catch (const Error&) {
  }
}

// Offsets of the strings of a raw BTF blob's string section (at most `limit`).
std::vector<std::uint32_t> string_offsets(const btf::Btf& btf, std::size_t limit) {
  std::vector<std::uint32_t> offsets{0};
  const auto raw = btf.raw_bytes();
  if (raw.size() < 24 || btf.endian() != btf::native_endian()) return offsets;
  std::uint32_t hdr_len, str_off, str_len;
  std::memcpy(&hdr_len, raw.data() + 4, 4);
  std::memcpy(&str_off, raw.data() + 16, 4);
  std::memcpy(&str_len, raw.data() + 20, 4);
  const std::uint64_t begin = std::uint64_t{hdr_len} + str_off;
  if (begin + str_len > raw.size()) return offsets;
  for (std::uint32_t i = 1; i < str_len && offsets.size() < limit; ++i)
    if (raw[begin + i - 1] == std::byte{0}) offsets.push_back(i);
  return offsets;
}

void relocate_types(const btf::Btf& local, const core::Target& target) {
  core::Relocator relocator(local, target);
  const auto strings = string_offsets(local, 16);
  const std::uint32_t types = std::min<std::uint32_t>(local.type_count(), 64);
  std::vector<Insn> insns(4);
  for (btf::TypeId id = 0; id < types + 1; ++id) {
    for (const std::uint32_t access : strings) {
      for (std::uint32_t kind = 0; kind <= core::kMaxReloKind + 1; ++kind) {
        auto r = relocator.compute({0, id, access, static_cast<core::ReloKind>(kind)});
        sink += r.message.size() + r.spec.size();
        if (r.status == core::Status::error) continue;
        // Every instruction class the engine may meet.
        for (const std::uint8_t code : {std::uint8_t{Insn::kAlu64 | Insn::kMov}, std::uint8_t{Insn::kLdx | Insn::kW},
                                        std::uint8_t{Insn::kLd | Insn::kDw | Insn::kImm}}) {
          insns.assign(4, Insn{});
          insns[0].code = code;
          auto copy = r;
          copy.validate = false;
          try {
            core::patch(insns, copy, "fuzz");
          } catch (const Error&) {
          }
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  std::uint32_t object_size;
  std::memcpy(&object_size, data, 4);
  object_size = static_cast<std::uint32_t>(std::min<std::size_t>(object_size, size - 4));
  const std::span<const std::byte> object_bytes(reinterpret_cast<const std::byte*>(data) + 4, object_size);
  const std::span<const std::byte> target_bytes(reinterpret_cast<const std::byte*>(data) + 4 + object_size,
                                                size - 4 - object_size);
  std::optional<core::Target> target;
  try {
    target.emplace(btf::Btf::from_bytes(target_bytes, {}, "target"));
  } catch (const Error&) {
    return 0;
  }
  try {
    auto object = ObjectSpec::from_memory(object_bytes, "fuzz.bpf.o");
    relocate_object(object, *target);
    return 0;
  } catch (const Error&) {
  }
  try {
    relocate_types(btf::Btf::from_bytes(object_bytes, {}, "local"), *target);
  } catch (const Error&) {
  }
  if (sink == 0x5eed5eed) __builtin_trap();
  return 0;
}
