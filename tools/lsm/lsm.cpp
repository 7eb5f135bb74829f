// lsm (libbpf-bootstrap): a BPF LSM program on the `bpf` hook that denies bpf(2) (EPERM) to the
// tasks of one cgroup v2 and prints each denial. Needs the BPF LSM active (CONFIG_BPF_LSM and
// "bpf" in the kernel's lsm= list; a kernel without it gets a one-line reason). Run as root:
//
//   corebpf-lsm --cgroup /sys/fs/cgroup/PATH [-j]
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "corebpf/error.hpp"
#include "lsm.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

// A cgroup v2 directory's id (what bpf_get_current_cgroup_id() returns: its kernfs inode number).
std::uint64_t cgroup_id(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) throw corebpf::Error(errno, fmt::format("{}: {}", path, std::strerror(errno)));
  if (static_cast<unsigned long>(fs.f_type) != CGROUP2_SUPER_MAGIC)
    throw corebpf::Error(std::errc::invalid_argument, fmt::format("{}: not a cgroup v2 directory", path));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw corebpf::Error(errno, fmt::format("{}: {}", path, std::strerror(errno)));
  return st.st_ino;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("lsm", [&] {
    tools::Cli cli("lsm", "libbpf-bootstrap's lsm: deny bpf() to the tasks of a cgroup, with a BPF LSM program");
    cli.add_json().add_perf_buffer();
    std::string cgroup;
    cli.app().add_option("--cgroup", cgroup, "the cgroup v2 directory whose tasks may not use bpf()")->required();
    cli.parse(argc, argv);
    const auto& options = cli.options;
    auto skel = lsm::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::require_programs(spec);  // the BPF LSM first: without it no cgroup matters
    const auto id = cgroup_id(cgroup);
    skel.rodata().denied_cgroup_id = id;
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    skel.load();
    skel.attach();

    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto e = tools::event_as<lsm::types::denial_event>(data);
      if (options.json) {
        tools::JsonLines::emit({{"pid", e.pid}, {"comm", tools::text(e.comm)}, {"cmd", e.cmd}, {"cgroup", cgroup}});
        return;
      }
      fmt::print("denied bpf() command {} to pid {} ({}) in {}\n", e.cmd, e.pid, tools::text(e.comm), cgroup);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    tools::ready("lsm", fmt::format("lsm/bpf denying cgroup {} (id {}); {}", cgroup, id, stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (!options.json) fmt::print("{} bpf() calls denied\n", skel.bss().denials);
    return 0;
  });
}
