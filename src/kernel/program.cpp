#include "corebpf/program.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kernel/bpf_syscall.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {

using corebpf::kernel::detail::zeroed_attr;

}  // namespace

Program::Program(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {
  if (!fd_) return;
  kernel::ProgramInfo info;
  try {
    info = kernel::program_info(fd_.get());
  } catch (const Error& e) {
    if (name_.empty()) throw;
    throw Error(e.errno_value(), fmt::format("program '{}': {}", name_, e.message()));
  }
  if (name_.empty()) name_ = info.name;
  type_ = static_cast<ProgramType>(info.type);
}

Program::Program(UniqueFd fd, std::string name, ProgramDefinition definition, std::string section)
    : Program(std::move(fd), std::move(name)) {
  definition_ = std::move(definition);
  section_ = std::move(section);
}

Program Program::open_pinned(const std::string& path) {
  bpf_attr attr = zeroed_attr();
  attr.pathname = reinterpret_cast<std::uintptr_t>(path.c_str());
  UniqueFd fd = kernel::detail::bpf_fd_call(BPF_OBJ_GET, attr, fmt::format("of pinned program {}", path));
  bpf_prog_info info{};
  try {
    kernel::detail::object_info(fd.get(), &info, sizeof(info), path);
  } catch (const Error& e) {
    util::fail(std::errc::invalid_argument, "{} is not a BPF program: {}", path, e.message());
  }
  // A map pinned there reads as map info with no program type; its info has no insns either.
  if (info.type == BPF_PROG_TYPE_UNSPEC) util::fail(std::errc::invalid_argument, "{} is not a BPF program", path);
  return Program(std::move(fd));
}

Program Program::open_by_id(std::uint32_t id) { return Program(kernel::open_by_id(kernel::ObjectType::program, id)); }

kernel::ProgramInfo Program::info() const {
  try {
    return kernel::program_info(fd_.get());
  } catch (const Error& e) {
    throw Error(e.errno_value(), fmt::format("program '{}': {}", name_, e.message()));
  }
}

void Program::pin(const std::string& path) const {
  bpf_attr attr = zeroed_attr();
  attr.pathname = reinterpret_cast<std::uintptr_t>(path.c_str());
  attr.bpf_fd = static_cast<std::uint32_t>(fd_.get());
  if (kernel::detail::bpf_call(BPF_OBJ_PIN, attr) < 0) util::fail_errno("pinning program '{}' at {}", name_, path);
}

void Program::unpin(const std::string& path) {
  if (::unlink(path.c_str()) != 0) util::fail_errno("unpinning {}", path);
}

TestRunResult Program::test_run(const TestRunOptions& options) const {
  TestRunResult result;
  result.data_out.resize(options.data_out_size);
  result.ctx_out.resize(options.ctx_out_size);
  bpf_attr attr = zeroed_attr();
  attr.test.prog_fd = static_cast<std::uint32_t>(fd_.get());
  attr.test.data_in = reinterpret_cast<std::uintptr_t>(options.data_in.data());
  attr.test.data_size_in = static_cast<std::uint32_t>(options.data_in.size());
  if (!result.data_out.empty()) {
    attr.test.data_out = reinterpret_cast<std::uintptr_t>(result.data_out.data());
    attr.test.data_size_out = static_cast<std::uint32_t>(result.data_out.size());
  }
  attr.test.ctx_in = reinterpret_cast<std::uintptr_t>(options.ctx_in.data());
  attr.test.ctx_size_in = static_cast<std::uint32_t>(options.ctx_in.size());
  if (!result.ctx_out.empty()) {
    attr.test.ctx_out = reinterpret_cast<std::uintptr_t>(result.ctx_out.data());
    attr.test.ctx_size_out = static_cast<std::uint32_t>(result.ctx_out.size());
  }
  attr.test.repeat = options.repeat;
  attr.test.flags = options.flags;
  attr.test.cpu = options.cpu;
  if (kernel::detail::bpf_call(BPF_PROG_TEST_RUN, attr) < 0) {
    if (errno == ENOSPC)
      util::fail(std::errc::no_buffer_space, "test run of program '{}': output needs {} bytes of data, {} of ctx",
                 name_, attr.test.data_size_out, attr.test.ctx_size_out);
    util::fail_errno("test run of program '{}'", name_);
  }
  result.retval = attr.test.retval;
  result.duration_ns = attr.test.duration;
  result.data_out.resize(std::min<std::size_t>(result.data_out.size(), attr.test.data_size_out));
  result.ctx_out.resize(std::min<std::size_t>(result.ctx_out.size(), attr.test.ctx_size_out));
  return result;
}

}  // namespace corebpf
