// libFuzzer: arbitrary bytes as a BPF object, then everything the object model does with what
// opens: every accessor, setters, extern resolution (against the object's own BTF standing in for
// the kernel's) and copies.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"

namespace {

using namespace corebpf;

void exercise(ObjectSpec& spec) {
  std::size_t sink = spec.license().size() + spec.kernel_version().value_or(0);
  for (const auto& program : spec.programs()) {
    sink += program.insns().size() + program.func_info().size() + program.core_relos().size();
    for (const auto& line : program.line_info()) sink += line.file_name.size() + line.line_text.size();
    for (const auto& function : program.functions()) sink += function.insn_count;
    sink += program.attach_btf_name().size() + program.auto_attachable();
  }
  for (auto& map : spec.maps()) {
    sink += map.initial_slots().size() + map.name().size();
    for (const auto& variable : map.variables()) {
      // Write each variable back with its own bytes: sizes and offsets must hold together.
      if (std::uint64_t{variable.offset} + variable.size > map.initial_data().size()) __builtin_trap();
      const auto current = map.initial_data().subspan(variable.offset, variable.size);
      const std::vector<std::byte> copy(current.begin(), current.end());
      map.set_variable(variable.name, copy);
    }
    try {
      map.set_value_size(map.value_size() + 8);
    } catch (const Error&) {
    }
  }
  KernelDescription kernel;
  kernel.kconfig = {{"CONFIG_A", "y"}, {"CONFIG_B", "m"}, {"CONFIG_C", "42"}, {"CONFIG_D", "\"text\""}};
  kernel.kernel_version = 0x060c00;
  kernel.kallsyms = [](std::string_view name) -> std::optional<std::uint64_t> {
    if (name.size() % 2 == 0) return name.size();
    return std::nullopt;
  };
  kernel.vmlinux_btf = spec.btf();
  try {
    spec.resolve_externs(kernel);
  } catch (const Error&) {
  }
  ObjectSpec copy = spec;
  sink += copy.programs().size();
  if (sink == 0x5eed5eed) __builtin_trap();  // keeps the reads from being optimized away
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto spec = ObjectSpec::from_memory({reinterpret_cast<const std::byte*>(data), size}, "fuzz.bpf.o");
    exercise(spec);
  } catch (const corebpf::Error&) {
  }
  return 0;
}
