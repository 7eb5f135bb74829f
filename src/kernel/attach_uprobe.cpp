// User-space probes: uprobes on a symbol of a binary or library, USDT probes.
#include "corebpf/program.hpp"
#include "util/error_format.hpp"

namespace corebpf {

Link Program::attach_uprobe(const std::string&, const UprobeOptions&) const {
  util::fail(std::errc::function_not_supported, "program '{}': uprobe attach is being written", name_);
}
Link Program::attach_usdt(const std::string&, std::string_view, std::string_view, const UsdtOptions&) const {
  util::fail(std::errc::function_not_supported, "program '{}': usdt attach is being written", name_);
}

}  // namespace corebpf
