// Tracing attach: tracepoints, raw tracepoints, trampolines, iterators, kprobes, perf events.
#include "corebpf/program.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {
[[noreturn]] void not_yet(const Program& program, std::string_view what) {
  util::fail(std::errc::function_not_supported, "program '{}': {} attach is being written", program.name(), what);
}
}  // namespace

Link Program::attach_tracepoint(std::string_view, std::string_view, std::uint64_t) const { not_yet(*this, "tracepoint"); }
Link Program::attach_raw_tracepoint(std::string_view, std::uint64_t) const { not_yet(*this, "raw_tp"); }
Link Program::attach_trace(std::uint64_t) const { not_yet(*this, "trampoline"); }
Link Program::attach_iter(const IterOptions&) const { not_yet(*this, "iter"); }
Link Program::attach_kprobe(std::string_view, const KprobeOptions&) const { not_yet(*this, "kprobe"); }
Link Program::attach_ksyscall(std::string_view, const KprobeOptions&) const { not_yet(*this, "ksyscall"); }
Link Program::attach_kprobe_multi(const KprobeMultiOptions&) const { not_yet(*this, "kprobe.multi"); }
Link Program::attach_perf_event(UniqueFd, std::uint64_t) const { not_yet(*this, "perf_event"); }
UniqueFd Link::open_iterator() const { util::fail(std::errc::function_not_supported, "iterators are being written"); }
std::string Link::read_iterator() const { util::fail(std::errc::function_not_supported, "iterators are being written"); }

}  // namespace corebpf
