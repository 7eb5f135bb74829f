// `link show` of each kind of link the running kernel allows (raw tracepoint, perf event, iterator,
// XDP and tcx on lo of a private network namespace, cgroup, netfilter), text and JSON, compared
// field by field with bpftool 7.1 where it reports the same and with bpftool 7.7 (the peer, when
// there) for the kinds 7.1 does not know; and `net list`'s netfilter section.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "corebpf/features.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/link.hpp"
#include "corebpf/object.hpp"
#include "corebpf/program.hpp"
#include "kernel/kernel_test_support.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"
#include "uapi/uapi.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::Link;
using corebpf::Object;
using corebpf::UniqueFd;
using corebpf::kernel::Feature;
using nlohmann::json;

const std::string kObject = std::string(COREBPF_BPF_OBJECT_DIR) + "/cli_links.bpf.o";
const std::string kPeer = "/work/shared/peers/bpftool-7.7.0";

struct Outcome {
  int status = -1;
  std::string out;
};

Outcome run(const std::string& command) {
  Outcome r;
  r.status = corebpf::test::run_command(command + " 2>&1", &r.out);
  return r;
}

Outcome corebpf(const std::string& args) { return run(corebpf::test::cli_path().string() + " " + args); }

Object load_only(std::initializer_list<const char*> programs) {
  auto object = Object::open(kObject);
  for (auto& program : object.spec().programs()) {
    bool wanted = false;
    for (const char* name : programs) wanted = wanted || program.name() == name;
    program.set_autoload(wanted);
  }
  object.load();
  return object;
}

json our_link(std::uint32_t id) {
  const Outcome r = corebpf(fmt::format("-j link show id {}", id));
  EXPECT_EQ(r.status, 0) << r.out;
  return r.status == 0 ? json::parse(r.out) : json::object();
}

// bpftool's view of link `id` (`bpftool` is a command: Debian's 7.1 or the 7.7 peer); null when
// that bpftool is not there.
json their_link(const std::string& bpftool, std::uint32_t id) {
  const Outcome r = run(fmt::format("{} -j link show id {}", bpftool, id));
  if (r.status != 0) return nullptr;
  return json::parse(r.out);
}

// Every field both report is the same; `expected` are fields ours must have (with these values).
// bpftool's own additions (pinned paths, pids, its name of the program's type) are not compared.
void expect_same_fields(const json& ours, const json& theirs, const std::string& who) {
  // A kind that bpftool does not know it shows as a number: nothing to compare.
  if (theirs.is_null() || !theirs["type"].is_string()) return;
  static const std::set<std::string> theirs_only = {"pinned", "pids", "prog_type", "prog_name"};
  std::size_t compared = 0;
  for (const auto& [key, value] : theirs.items()) {
    if (theirs_only.contains(key) || !ours.contains(key)) continue;
    EXPECT_EQ(ours[key], value) << who << ": field " << key << "\nours:   " << ours << "\ntheirs: " << theirs;
    ++compared;
  }
  EXPECT_GE(compared, 3u) << who << " and corebpf share too few fields: " << ours << " / " << theirs;
}

void check_link(std::uint32_t id, const json& expected) {
  const json ours = our_link(id);
  EXPECT_EQ(ours["id"], id) << ours;
  for (const auto& [key, value] : expected.items()) EXPECT_EQ(ours.value(key, json()), value) << key << " in " << ours;
  // Text: "ID: TYPE  prog PROG" then the kind's fields.
  const Outcome text = corebpf(fmt::format("link show id {}", id));
  EXPECT_EQ(text.out.rfind(fmt::format("{}: {}  prog {}\n", id, ours["type"].get<std::string>(),
                                       ours["prog_id"].get<std::uint32_t>()),
                           0),
            0u)
      << text.out;
  for (const auto& [key, value] : expected.items()) {
    if (key == "type" || key == "prog_id") continue;
    const std::string shown = value.is_string() ? value.get<std::string>() : value.dump();
    EXPECT_NE(text.out.find(key + " " + shown), std::string::npos) << key << " in " << text.out;
  }
  if (corebpf::test::have_bpftool()) expect_same_fields(ours, their_link("bpftool", id), "bpftool 7.1");
  if (fs::exists(kPeer)) expect_same_fields(ours, their_link(kPeer, id), "bpftool 7.7");
}

std::uint32_t prog_id(Object& object, const char* name) { return object.program(name).info().id; }

// Runs `body` on a thread of its own in a new network namespace: the commands it starts inherit it.
template <typename Body>
void in_private_netns(Body body) {
  std::string failure;
  std::thread thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      failure = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    body();
  });
  thread.join();
  ASSERT_EQ(failure, "");
}

class CliLink : public testing::Test {
 protected:
  void SetUp() override { COREBPF_REQUIRE_ROOT(); }
};

TEST_F(CliLink, RawTracepoint) {
  COREBPF_REQUIRE_FEATURE(Feature::bpf_link);
  COREBPF_REQUIRE_PROGRAMS(kObject, "link_raw_tp");
  auto object = load_only({"link_raw_tp"});
  const Link link = object.program("link_raw_tp").attach();
  const auto info = link.info();
  ASSERT_NE(info.as<corebpf::kernel::RawTracepointLinkInfo>(), nullptr);
  check_link(info.id,
             {{"type", "raw_tracepoint"}, {"prog_id", prog_id(object, "link_raw_tp")}, {"tp_name", "sys_enter"}});
}

TEST_F(CliLink, TracepointPerfEvent) {
  COREBPF_REQUIRE_FEATURE(Feature::perf_link);
  COREBPF_REQUIRE_PROGRAMS(kObject, "link_tracepoint");
  auto object = load_only({"link_tracepoint"});
  const Link link = object.program("link_tracepoint").attach();
  const auto info = link.info();
  const auto* perf = info.as<corebpf::kernel::PerfEventLinkInfo>();
  ASSERT_NE(perf, nullptr);
  json expected = {{"type", "perf_event"}, {"prog_id", prog_id(object, "link_tracepoint")}};
  // Kernels before 6.6 tell a perf event link's type only.
  if (perf->kind != corebpf::kernel::PerfEventLinkInfo::Kind::unspec) {
    EXPECT_EQ(perf->kind, corebpf::kernel::PerfEventLinkInfo::Kind::tracepoint);
    expected["tracepoint"] = "sys_enter_getppid";
  }
  check_link(info.id, expected);
}

TEST_F(CliLink, Iterator) {
  COREBPF_REQUIRE_PROGRAMS(kObject, "link_iter");
  auto object = load_only({"link_iter"});
  const Link link = object.program("link_iter").attach();
  const auto info = link.info();
  const auto* iter = info.as<corebpf::kernel::IterLinkInfo>();
  ASSERT_NE(iter, nullptr);
  EXPECT_FALSE(iter->map_id);
  check_link(info.id, {{"type", "iter"}, {"prog_id", prog_id(object, "link_iter")}, {"target_name", "task"}});
}

TEST_F(CliLink, XdpAndTcxInPrivateNetns) {
  COREBPF_REQUIRE_FEATURE(Feature::xdp_link);
  COREBPF_REQUIRE_PROGRAMS(kObject, "link_xdp", "link_tc");
  auto object = load_only({"link_xdp", "link_tc"});
  const bool tcx = corebpf::kernel::has_tcx_link();
  in_private_netns([&] {
    const Link xdp = object.program("link_xdp").attach_xdp(1);
    const auto info = xdp.info();
    const auto* details = info.as<corebpf::kernel::XdpLinkInfo>();
    ASSERT_NE(details, nullptr);
    EXPECT_EQ(details->ifindex, 1u);
    check_link(info.id, {{"type", "xdp"}, {"prog_id", prog_id(object, "link_xdp")}, {"ifindex", 1}, {"devname", "lo"}});
    if (!tcx) return;  // has_tcx_link(): the probe; the kernel before 6.6 attaches tc through netlink
    const Link tc = object.program("link_tc").attach_tc(1, {.egress = true});
    const auto tc_info = tc.info();
    ASSERT_NE(tc_info.as<corebpf::kernel::TcxLinkInfo>(), nullptr);
    check_link(tc_info.id, {{"type", "tcx"},
                            {"prog_id", prog_id(object, "link_tc")},
                            {"ifindex", 1},
                            {"devname", "lo"},
                            {"attach_type", "tcx_egress"}});
  });
}

TEST_F(CliLink, Cgroup) {
  COREBPF_REQUIRE_FEATURE(Feature::cgroup_link);
  COREBPF_REQUIRE_PROGRAMS(kObject, "link_cgroup");
  std::string root;
  std::ifstream mounts("/proc/self/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string device, mount_point, type;
    fields >> device >> mount_point >> type;
    if (type == "cgroup2") root = mount_point;
  }
  // The qemu guests' initramfs has no cgroup2 mounted: mount one of our own.
  std::string mounted;
  if (root.empty()) {
    std::string dir = "/tmp/corebpf_cli_link_cgroup2_XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) COREBPF_SKIP_OR_FAIL("no cgroup2 hierarchy and no temporary directory");
    if (::mount("cgroup2", dir.c_str(), "cgroup2", 0, nullptr) != 0) {
      ::rmdir(dir.c_str());
      COREBPF_SKIP_OR_FAIL(std::string("no cgroup2 hierarchy and mounting one failed: ") + std::strerror(errno));
    }
    root = mounted = dir;
  }
  const std::string path = fmt::format("{}/corebpf_cli_link_{}", root, ::getpid());
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path << ": " << std::strerror(errno);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  {
    auto object = load_only({"link_cgroup"});
    const Link link = object.program("link_cgroup").attach_cgroup(path);
    const auto info = link.info();
    const auto* cgroup = info.as<corebpf::kernel::CgroupLinkInfo>();
    ASSERT_NE(cgroup, nullptr);
    EXPECT_EQ(cgroup->cgroup_id, st.st_ino);  // a cgroup's id is its directory's inode on cgroup2
    check_link(info.id, {{"type", "cgroup"},
                         {"prog_id", prog_id(object, "link_cgroup")},
                         {"cgroup_id", st.st_ino},
                         {"attach_type", "cgroup_inet_egress"}});
  }
  ::rmdir(path.c_str());
  if (!mounted.empty()) {
    ::umount2(mounted.c_str(), MNT_DETACH);
    ::rmdir(mounted.c_str());
  }
}

// A netfilter link (6.4) made with BPF_LINK_CREATE: the library has no attach function for it yet.
UniqueFd netfilter_link(int prog_fd, std::uint32_t pf, std::uint32_t hooknum, std::int32_t priority) {
  corebpf::uapi::bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.link_create.prog_fd = static_cast<std::uint32_t>(prog_fd);
  attr.link_create.attach_type = corebpf::uapi::BPF_NETFILTER;
  attr.link_create.netfilter.pf = pf;
  attr.link_create.netfilter.hooknum = hooknum;
  attr.link_create.netfilter.priority = priority;
  return UniqueFd(static_cast<int>(::syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr))));
}

TEST_F(CliLink, NetfilterInLinkShowAndNetList) {
  COREBPF_REQUIRE_PROGRAMS(kObject, "link_netfilter");
  auto object = load_only({"link_netfilter"});
  in_private_netns([&] {
    // NFPROTO_IPV4, NF_INET_LOCAL_IN, priority -100.
    const UniqueFd link = netfilter_link(object.program("link_netfilter").fd(), 2, 1, -100);
    ASSERT_TRUE(link) << "BPF_LINK_CREATE netfilter: " << std::strerror(errno);
    const auto info = corebpf::kernel::link_info(link.get());
    const auto* hook = info.as<corebpf::kernel::NetfilterLinkInfo>();
    ASSERT_NE(hook, nullptr);
    EXPECT_EQ(hook->pf, 2u);
    EXPECT_EQ(hook->hooknum, 1u);
    EXPECT_EQ(hook->priority, -100);
    const std::uint32_t prog = prog_id(object, "link_netfilter");
    check_link(info.id,
               {{"type", "netfilter"}, {"prog_id", prog}, {"pf", 2}, {"hook", 1}, {"prio", -100}, {"flags", 0}});

    const Outcome listing = corebpf("-j net list");
    ASSERT_EQ(listing.status, 0) << listing.out;
    const json ours = json::parse(listing.out);
    const json entry = json::parse(fmt::format(R"({{"pf":2,"hook":1,"prio":-100,"flags":0,"id":{}}})", prog));
    const json& hooks = ours[0]["netfilter"];
    EXPECT_NE(std::find(hooks.begin(), hooks.end(), entry), hooks.end()) << listing.out;
    const Outcome text = corebpf("net list");
    EXPECT_NE(text.out.find(fmt::format("\tip input prio -100\n\t\tprog_id {}  link_id {}\n", prog, info.id)),
              std::string::npos)
        << text.out;
    // bpftool 7.7 lists the same hooks (7.1 knows no netfilter links).
    if (fs::exists(kPeer)) {
      const Outcome theirs = run(kPeer + " -j net list");
      ASSERT_EQ(theirs.status, 0) << theirs.out;
      EXPECT_EQ(json::parse(theirs.out)[0]["netfilter"], hooks) << run(kPeer + " net list").out;
    }
  });
}

}  // namespace
