// A made-up kernel for resolving the externs of tests/bpf/object_externs.bpf.c: kconfig values,
// kallsyms, a vmlinux BTF and one module's split BTF built with BtfWriter.
#pragma once

#include "corebpf/btf_writer.hpp"
#include "corebpf/object_spec.hpp"

namespace corebpf::test {

inline constexpr std::uint64_t kProgActiveAddress = 0xffffffff81234568ull;

struct FakeKernel {
  KernelDescription description;
  btf::TypeId typed_counter = 0;
  btf::TypeId task_acquire = 0;
  btf::TypeId module_kfunc = 0;
};

// `task_acquire_params`: 1 matches the object's prototype, anything else does not.
inline FakeKernel fake_kernel(int task_acquire_params = 1) {
  FakeKernel kernel;
  btf::BtfWriter vmlinux;
  const auto int_type = vmlinux.add_int("int", 4, btf::kIntSigned);
  const auto task = vmlinux.add_struct("task_struct", 16);
  vmlinux.add_member("pid", int_type, 0);
  const auto task_ptr = vmlinux.add_ptr(task);
  kernel.typed_counter = vmlinux.add_var("typed_counter", int_type, btf::Linkage::global);
  const auto proto = vmlinux.add_func_proto(task_ptr);
  for (int i = 0; i < task_acquire_params; ++i) vmlinux.add_param("p", task_ptr);
  kernel.task_acquire = vmlinux.add_func("bpf_task_acquire", proto, btf::Linkage::global);
  auto base = btf::Btf::from_vector(vmlinux.serialize(), {}, "fake vmlinux");

  btf::BtfWriter module(base);
  const auto module_proto = module.add_func_proto(int_type);
  module.add_param("value", int_type);
  kernel.module_kfunc = module.add_func("module_kfunc", module_proto, btf::Linkage::global);
  btf::LoadOptions split;
  split.base = &base;
  auto module_btf = btf::Btf::from_vector(module.serialize(), split, "fake module");

  auto& d = kernel.description;
  d.kconfig = {
      {"CONFIG_TRI_YES", "y"},   {"CONFIG_TRI_MODULE", "m"},       {"CONFIG_TRI_NO", "n"},
      {"CONFIG_BOOL_YES", "y"},  {"CONFIG_BOOL_NO", "n"},          {"CONFIG_CHAR_MODULE", "m"},
      {"CONFIG_U8", "200"},      {"CONFIG_S16", "-300"},           {"CONFIG_HZ", "250"},
      {"CONFIG_NEGATIVE", "-5"}, {"CONFIG_HEX", "0xdeadbeefcafe"}, {"CONFIG_STRING", "\"hello world\""},
  };
  d.kernel_version = (6u << 16) | (1u << 8) | 42u;
  d.has_syscall_wrapper = [] { return true; };
  d.has_bpf_cookie = [] { return false; };
  d.kallsyms = [](std::string_view name) -> std::optional<std::uint64_t> {
    if (name == "bpf_prog_active") return kProgActiveAddress;
    return std::nullopt;
  };
  d.vmlinux_btf = base;
  d.module_btfs.push_back(module_btf);
  return kernel;
}

}  // namespace corebpf::test
