// Networking attach: XDP, TC, cgroups, sockets, sockmaps, network namespaces.
#include "corebpf/map.hpp"
#include "corebpf/program.hpp"
#include "util/error_format.hpp"

namespace corebpf {
namespace {
[[noreturn]] void not_yet(const Program& program, std::string_view what) {
  util::fail(std::errc::function_not_supported, "program '{}': {} attach is being written", program.name(), what);
}
}  // namespace

Link Program::attach_xdp(int, const XdpOptions&) const { not_yet(*this, "xdp"); }
Link Program::attach_tc(int, const TcOptions&) const { not_yet(*this, "tc"); }
Link Program::attach_cgroup(int, const CgroupOptions&) const { not_yet(*this, "cgroup"); }
Link Program::attach_cgroup(const std::string&, const CgroupOptions&) const { not_yet(*this, "cgroup"); }
Link Program::attach_socket(int) const { not_yet(*this, "socket"); }
Link Program::attach_sockmap(const Map&) const { not_yet(*this, "sockmap"); }
Link Program::attach_netns(int) const { not_yet(*this, "netns"); }

}  // namespace corebpf
