// Networking attach against the running kernel: every test runs in a private network namespace
// (unshare(CLONE_NEWNET) of the test thread, undone in TearDown; the namespace and its veth pair
// vanish with their last socket), sends real packets and reads the programs' counters.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/kernel_test_support.hpp"
#include "kernel/netlink.hpp"

namespace corebpf {
namespace {

namespace netlink = kernel::netlink;

constexpr const char* kObjectPath = COREBPF_BPF_OBJECT_DIR "/attach_net.bpf.o";
constexpr std::uint16_t kUdpPort = 7777;
constexpr const char* kSender = "cbt_send";
constexpr const char* kReceiver = "cbt_recv";
constexpr const char* kReceiverAddress = "10.77.0.2";
constexpr const char* kSourceAddress = "10.77.0.9";  // on the subnet, owned by nobody

// Mirrors `struct state` of tests/bpf/attach_net.bpf.c.
struct State {
  std::uint32_t udp_port;
  std::uint32_t connect_from_port;
  std::uint32_t connect_to_port;
  std::uint32_t connect_deny_port;
  std::uint32_t steer_port;
  std::uint32_t padding;
  std::uint64_t xdp_seen;
  std::uint64_t xdp_dropped;
  std::uint64_t tc_ingress;
  std::uint64_t tc_egress;
  std::uint64_t cgroup_ingress;
  std::uint64_t cgroup_egress;
  std::uint64_t connect_rewritten;
  std::uint64_t connect_denied;
  std::uint64_t socket_dropped;
  std::uint64_t sk_msg_seen;
  std::uint64_t sk_msg_dropped;
  std::uint64_t sk_skb_seen;
  std::uint64_t sk_lookup_steered;
  std::uint64_t flow_dissected;
};

// The programs write .bss behind the compiler's back.
std::uint64_t read_counter(const std::uint64_t& counter) { return __atomic_load_n(&counter, __ATOMIC_SEQ_CST); }

void check(const netlink::Reply& reply, const std::string& what) {
  if (!reply) throw std::runtime_error(what + ": " + reply.describe());
}

int interface_index(const char* name) {
  const unsigned index = ::if_nametoindex(name);
  if (index == 0) throw std::runtime_error(std::string("no interface ") + name);
  return static_cast<int>(index);
}

std::uint32_t ipv4(const char* text) {
  in_addr address{};
  ::inet_pton(AF_INET, text, &address);
  return address.s_addr;
}

std::array<std::uint8_t, 6> mac_address(const char* name) {
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  if (::ioctl(socket.get(), SIOCGIFHWADDR, &request) != 0) throw std::runtime_error("SIOCGIFHWADDR failed");
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

std::uint16_t ip_checksum(const std::uint8_t* header, std::size_t size) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += static_cast<std::uint32_t>(header[i] << 8 | header[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// Ethernet + IPv4 + UDP (no checksum) to kReceiverAddress:port.
std::vector<std::byte> udp_frame(const std::array<std::uint8_t, 6>& from, const std::array<std::uint8_t, 6>& to,
                                 std::uint16_t port, std::string_view payload) {
  std::vector<std::uint8_t> frame(14 + 20 + 8 + payload.size());
  std::copy(to.begin(), to.end(), frame.begin());
  std::copy(from.begin(), from.end(), frame.begin() + 6);
  frame[12] = 0x08;  // ETH_P_IP
  frame[13] = 0x00;
  std::uint8_t* ip = frame.data() + 14;
  ip[0] = 0x45;
  const auto total = static_cast<std::uint16_t>(20 + 8 + payload.size());
  ip[2] = static_cast<std::uint8_t>(total >> 8);
  ip[3] = static_cast<std::uint8_t>(total);
  ip[8] = 64;  // TTL
  ip[9] = IPPROTO_UDP;
  const std::uint32_t source = ipv4(kSourceAddress);
  const std::uint32_t destination = ipv4(kReceiverAddress);
  std::memcpy(ip + 12, &source, 4);
  std::memcpy(ip + 16, &destination, 4);
  const std::uint16_t checksum = ip_checksum(ip, 20);
  ip[10] = static_cast<std::uint8_t>(checksum >> 8);
  ip[11] = static_cast<std::uint8_t>(checksum);
  std::uint8_t* udp = ip + 20;
  udp[0] = 0x0f;  // source port 4000
  udp[1] = 0xa0;
  udp[2] = static_cast<std::uint8_t>(port >> 8);
  udp[3] = static_cast<std::uint8_t>(port);
  const auto udp_length = static_cast<std::uint16_t>(8 + payload.size());
  udp[4] = static_cast<std::uint8_t>(udp_length >> 8);
  udp[5] = static_cast<std::uint8_t>(udp_length);
  std::memcpy(udp + 8, payload.data(), payload.size());
  std::vector<std::byte> bytes(frame.size());
  std::memcpy(bytes.data(), frame.data(), frame.size());
  return bytes;
}

UniqueFd udp_socket(std::uint32_t address, std::uint16_t port) {
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = address;
  local.sin_port = htons(port);
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0)
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  return socket;
}

// Datagrams until `last` arrives (each wait bounded, so a lost packet fails instead of hanging).
std::vector<std::string> receive_until(int socket, std::string_view last) {
  std::vector<std::string> received;
  for (;;) {
    pollfd ready{socket, POLLIN, 0};
    if (::poll(&ready, 1, 5000) != 1) {
      received.emplace_back("<timeout>");
      return received;
    }
    std::array<char, 2048> buffer{};
    const ssize_t size = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (size < 0) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    received.emplace_back(buffer.data(), static_cast<std::size_t>(size));
    if (received.back() == last) return received;
  }
}

std::uint32_t attached_program_count(int target, AttachType type) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = static_cast<std::uint32_t>(target);
  attr.query.attach_type = static_cast<std::uint32_t>(type);
  if (kernel::detail::bpf_call(BPF_PROG_QUERY, attr) < 0) {
    throw std::runtime_error(std::string("BPF_PROG_QUERY: ") + std::strerror(errno));
  }
  return attr.query.prog_cnt;
}

// Runs `body` in a forked child; its exit status (0: success).
int run_in_child(const std::function<int()>& body) {
  const pid_t child = ::fork();
  if (child == 0) {
    int status = 99;
    try {
      status = body();
    } catch (...) {
    }
    ::_exit(status);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

std::string cgroup2_root() {
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, type;
    fields >> device >> mount_point >> type;
    if (type == "cgroup2") return mount_point;
  }
  return {};
}

// A fresh cgroup (v2) for this test, removed at the end.
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& root) : path_(root + "/corebpf_attach_net_" + std::to_string(::getpid())) {
    if (::mkdir(path_.c_str(), 0755) != 0) throw std::runtime_error("mkdir " + path_ + ": " + std::strerror(errno));
  }
  ~TestCgroup() {
    // The children that joined it have been reaped; the kernel may take a moment to notice.
    for (int attempt = 0; attempt < 100 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  const std::string& path() const { return path_; }
  // In a child: moves the calling process into the cgroup.
  bool join() const {
    std::ofstream procs(path_ + "/cgroup.procs");
    procs << ::getpid() << std::flush;
    return static_cast<bool>(procs);
  }

 private:
  std::string path_;
};

class AttachNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    original_netns_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(original_netns_) << std::strerror(errno);
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET): " << std::strerror(errno);
    in_private_netns_ = true;
    check(netlink::set_link_up(interface_index("lo")), "bringing lo up");
    object_.emplace(Object::open(kObjectPath));
    // A kind of program this kernel refuses is left out (tests that need it say so); the rest load.
    for (auto& spec : object_->spec().programs()) {
      if (auto reason = kernel::missing_program_support(spec)) {
        refused_[spec.name()] = *reason;
        spec.set_autoload(false);
      }
    }
    object_->load();
    state().udp_port = kUdpPort;
  }

  void TearDown() override {
    object_.reset();
    if (in_private_netns_) {
      ASSERT_EQ(::setns(original_netns_.get(), CLONE_NEWNET), 0) << std::strerror(errno);
    }
  }

  // Why the running kernel cannot run one of `names` (by probe), or empty.
  std::string refused(std::initializer_list<std::string_view> names) const {
    for (const auto name : names)
      if (const auto found = refused_.find(std::string(name)); found != refused_.end()) return found->second;
    return {};
  }

  State& state() { return object_->bss<State>(); }
  Program& program(std::string_view name) { return object_->program(name); }

  // A veth pair, both up, the receiver with kReceiverAddress/24, and a packet socket on the sender.
  void make_veth() {
    check(netlink::create_veth(kSender, kReceiver), "creating the veth pair");
    sender_ = interface_index(kSender);
    receiver_ = interface_index(kReceiver);
    check(netlink::set_link_up(sender_), "setting the sender up");
    check(netlink::set_link_up(receiver_), "setting the receiver up");
    check(netlink::add_ipv4_address(receiver_, ipv4(kReceiverAddress), 24), "adding the receiver's address");
    // Until the link watcher has seen the carrier, the devices have no qdisc and drop what is sent.
    for (int attempt = 0; attempt < 500 && !(netlink::link_running(sender_) && netlink::link_running(receiver_));
         ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(netlink::link_running(sender_) && netlink::link_running(receiver_)) << "the veth pair never came up";
    packet_socket_ = UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(packet_socket_) << std::strerror(errno);
    sockaddr_ll link{};
    link.sll_family = AF_PACKET;
    link.sll_ifindex = sender_;
    ASSERT_EQ(::bind(packet_socket_.get(), reinterpret_cast<const sockaddr*>(&link), sizeof(link)), 0)
        << std::strerror(errno);
    sender_mac_ = mac_address(kSender);
    receiver_mac_ = mac_address(kReceiver);
  }

  void send_frame(std::string_view payload, std::uint16_t port = kUdpPort) {
    const auto frame = udp_frame(sender_mac_, receiver_mac_, port, payload);
    ASSERT_EQ(::send(packet_socket_.get(), frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()))
        << std::strerror(errno);
  }

  // Sends `payloads` then "END" from the sender; what the receiver's UDP socket got.
  std::vector<std::string> exchange(const std::vector<std::string>& payloads) {
    UniqueFd socket = udp_socket(ipv4(kReceiverAddress), kUdpPort);
    for (const auto& payload : payloads) send_frame(payload);
    send_frame("END");
    return receive_until(socket.get(), "END");
  }

  // sk_msg verdicts on a sockmap: a TCP client's sends pass or fail with EACCES.
  void check_sk_msg(bool force_prog_attach);

  UniqueFd original_netns_;
  bool in_private_netns_ = false;
  std::optional<Object> object_;
  std::map<std::string, std::string> refused_;
  int sender_ = 0;
  int receiver_ = 0;
  UniqueFd packet_socket_;
  std::array<std::uint8_t, 6> sender_mac_{};
  std::array<std::uint8_t, 6> receiver_mac_{};
};

using Received = std::vector<std::string>;

// ---- XDP

// Skips a test whose programs the running kernel refuses (decided by probe in SetUp).
#define REQUIRE_NET_PROGRAMS(...)                                                                      \
  do {                                                                                                 \
    if (const auto why = refused({__VA_ARGS__}); !why.empty()) GTEST_SKIP() << test::unsupported(why); \
  } while (0)

TEST_F(AttachNetTest, XdpLinkCountsAndDropsOnVeth) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked");
  COREBPF_REQUIRE_FEATURE(kernel::Feature::xdp_link);
  make_veth();
  const auto& xdp = program("xdp_drop_marked");
  {
    Link link = xdp.attach_xdp(receiver_, {.mode = XdpMode::generic});
    EXPECT_GE(link.fd(), 0);
    EXPECT_EQ(link.info().program_id, xdp.info().id);
    EXPECT_EQ(netlink::query_xdp(receiver_).skb_prog_id, xdp.info().id);
    EXPECT_EQ(exchange({"D1", "A2", "D3"}), (Received{"A2", "END"}));
    EXPECT_EQ(read_counter(state().xdp_seen), 4u);
    EXPECT_EQ(read_counter(state().xdp_dropped), 2u);
  }
  EXPECT_EQ(netlink::query_xdp(receiver_).prog_id, 0u);
  EXPECT_EQ(exchange({"D4"}), (Received{"D4", "END"}));
  EXPECT_EQ(read_counter(state().xdp_seen), 4u);
}

TEST_F(AttachNetTest, XdpNetlinkCountsDropsAndDetaches) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked");
  make_veth();
  const auto& xdp = program("xdp_drop_marked");
  {
    Link link = xdp.attach_xdp(receiver_, {.mode = XdpMode::generic, .force_netlink = true});
    EXPECT_EQ(link.fd(), -1);
    EXPECT_NE(link.description().find(kReceiver), std::string::npos) << link.description();
    const auto attached = netlink::query_xdp(receiver_);
    EXPECT_EQ(attached.attached, XDP_ATTACHED_SKB);
    EXPECT_EQ(attached.skb_prog_id, xdp.info().id);
    EXPECT_EQ(exchange({"D1", "A2", "D3"}), (Received{"A2", "END"}));
    EXPECT_EQ(read_counter(state().xdp_dropped), 2u);
  }
  EXPECT_EQ(netlink::query_xdp(receiver_).prog_id, 0u);
  EXPECT_EQ(exchange({"D4"}), (Received{"D4", "END"}));
  EXPECT_EQ(read_counter(state().xdp_dropped), 2u);
}

TEST_F(AttachNetTest, XdpNetlinkLeavesAReplacementAlone) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked", "xdp_pass");
  make_veth();
  Link link = program("xdp_drop_marked").attach_xdp(receiver_, {.mode = XdpMode::generic, .force_netlink = true});
  // Someone else swaps in their own program: detaching ours must not remove theirs.
  const auto& theirs = program("xdp_pass");
  ASSERT_TRUE(netlink::set_xdp(receiver_, theirs.fd(), XDP_FLAGS_SKB_MODE));
  EXPECT_NO_THROW(link.detach());
  EXPECT_EQ(netlink::query_xdp(receiver_).skb_prog_id, theirs.info().id);
  ASSERT_TRUE(netlink::set_xdp(receiver_, -1, XDP_FLAGS_SKB_MODE));
  // Gone entirely: nothing to do, no error.
  Link gone = program("xdp_drop_marked").attach_xdp(receiver_, {.mode = XdpMode::generic, .force_netlink = true});
  ASSERT_TRUE(netlink::set_xdp(receiver_, -1, XDP_FLAGS_SKB_MODE));
  EXPECT_NO_THROW(gone.detach());
}

TEST_F(AttachNetTest, XdpErrorsNameTheInterfaceAndTheProgramThere) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked", "tc_count_ingress");
  const auto& xdp = program("xdp_drop_marked");
  try {
    (void)xdp.attach_xdp(999999);
    ADD_FAILURE() << "attached to a missing interface";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_device);
    EXPECT_NE(e.message().find("index 999999"), std::string::npos) << e.message();
  }

  make_veth();
  Link first = xdp.attach_xdp(receiver_, {.mode = XdpMode::generic});
  const std::string existing = "id " + std::to_string(xdp.info().id);
  for (const bool netlink_path : {false, true}) {
    try {
      (void)xdp.attach_xdp(receiver_, {.mode = XdpMode::generic, .force_netlink = netlink_path});
      ADD_FAILURE() << "a second XDP program attached (netlink: " << netlink_path << ")";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), std::errc::device_or_resource_busy) << e.message();
      EXPECT_NE(e.message().find(kReceiver), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(existing), std::string::npos) << e.message();
    }
  }

  // The loopback device has no native XDP.
  for (const bool netlink_path : {false, true}) {
    try {
      (void)xdp.attach_xdp(interface_index("lo"), {.mode = XdpMode::driver, .force_netlink = netlink_path});
      ADD_FAILURE() << "driver-mode XDP on lo (netlink: " << netlink_path << ")";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), std::errc::operation_not_supported) << e.message();
      EXPECT_NE(e.message().find("driver (native) mode"), std::string::npos) << e.message();
    }
  }
  EXPECT_EQ(netlink::query_xdp(interface_index("lo")).prog_id, 0u);

  try {
    (void)program("tc_count_ingress").attach_xdp(receiver_);
    ADD_FAILURE() << "a TC program attached as XDP";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_NE(e.message().find("sched_cls"), std::string::npos) << e.message();
  }
}

TEST_F(AttachNetTest, XdpTestRunDropsMarkedDatagrams) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked");
  const auto& xdp = program("xdp_drop_marked");
  const std::array<std::uint8_t, 6> mac{2, 0, 0, 0, 0, 1};
  const auto drop = udp_frame(mac, mac, kUdpPort, "Dx");
  const auto pass = udp_frame(mac, mac, kUdpPort, "Ax");
  const auto run = [&](const std::vector<std::byte>& frame) {
    TestRunOptions options;
    options.data_in = frame;
    return xdp.test_run(options).retval;
  };
  EXPECT_EQ(run(drop), static_cast<std::uint32_t>(XDP_DROP));
  EXPECT_EQ(run(pass), static_cast<std::uint32_t>(XDP_PASS));
  EXPECT_EQ(run(udp_frame(mac, mac, kUdpPort + 1, "Dx")), static_cast<std::uint32_t>(XDP_PASS));
  EXPECT_EQ(read_counter(state().xdp_dropped), 1u);
}

// ---- TC

TEST_F(AttachNetTest, TcxCountsIngressAndEgress) {
  REQUIRE_NET_PROGRAMS("tc_count_ingress", "tc_count_egress");
  COREBPF_REQUIRE_FEATURE(kernel::Feature::tcx_link);
  make_veth();
  {
    Link ingress = program("tc_count_ingress").attach_tc(receiver_);
    Link egress = program("tc_count_egress").attach_tc(sender_, {.egress = true});
    EXPECT_GE(ingress.fd(), 0);
    EXPECT_GE(egress.fd(), 0);
    EXPECT_EQ(attached_program_count(receiver_, AttachType::tcx_ingress), 1u);
    EXPECT_EQ(attached_program_count(sender_, AttachType::tcx_egress), 1u);
    EXPECT_EQ(exchange({"a", "b"}), (Received{"a", "b", "END"}));
    EXPECT_EQ(read_counter(state().tc_ingress), 3u);
    EXPECT_EQ(read_counter(state().tc_egress), 3u);
    // tcx is no qdisc: nothing for tc to show.
    EXPECT_TRUE(netlink::list_filters(receiver_, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)).empty());
  }
  EXPECT_EQ(attached_program_count(receiver_, AttachType::tcx_ingress), 0u);
  EXPECT_EQ(attached_program_count(sender_, AttachType::tcx_egress), 0u);
  (void)exchange({"c"});
  EXPECT_EQ(read_counter(state().tc_ingress), 3u);
}

TEST_F(AttachNetTest, TcNetlinkFiltersCountAndGoAway) {
  REQUIRE_NET_PROGRAMS("tc_count_ingress", "tc_count_egress");
  make_veth();
  const auto& ingress_program = program("tc_count_ingress");
  constexpr std::uint32_t kIngress = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
  {
    Link ingress = ingress_program.attach_tc(receiver_, {.force_netlink = true, .priority = 3, .handle = 7});
    Link egress = program("tc_count_egress").attach_tc(sender_, {.egress = true, .force_netlink = true});
    EXPECT_EQ(ingress.fd(), -1);
    const auto filters = netlink::list_filters(receiver_, kIngress);
    ASSERT_EQ(filters.size(), 1u);
    EXPECT_EQ(filters[0].kind, "bpf");
    EXPECT_EQ(filters[0].priority, 3u);
    EXPECT_EQ(filters[0].handle, 7u);
    EXPECT_EQ(filters[0].prog_id, ingress_program.info().id);
    EXPECT_EQ(exchange({"a", "b"}), (Received{"a", "b", "END"}));
    EXPECT_EQ(read_counter(state().tc_ingress), 3u);
    EXPECT_EQ(read_counter(state().tc_egress), 3u);

    try {
      (void)ingress_program.attach_tc(receiver_, {.force_netlink = true, .priority = 3, .handle = 7});
      ADD_FAILURE() << "a second filter with the same priority and handle";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), std::errc::file_exists) << e.message();
      EXPECT_NE(e.message().find(kReceiver), std::string::npos) << e.message();
    }
  }
  EXPECT_TRUE(netlink::list_filters(receiver_, kIngress).empty());
  EXPECT_TRUE(netlink::list_filters(sender_, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)).empty());
  // The qdiscs were ours, so they went too: a new one can be made.
  EXPECT_TRUE(netlink::add_clsact(receiver_));
  if (::access("/usr/sbin/tc", X_OK) == 0) {
    std::string shown;
    EXPECT_EQ(test::run_command(std::string("/usr/sbin/tc filter show dev ") + kReceiver + " ingress", &shown), 0);
    EXPECT_EQ(shown, "");
    EXPECT_EQ(test::run_command(std::string("/usr/sbin/tc qdisc show dev ") + kSender, &shown), 0);
    EXPECT_EQ(shown.find("clsact"), std::string::npos) << shown;
  }
}

TEST_F(AttachNetTest, TcDirectionFromTheSection) {
  REQUIRE_NET_PROGRAMS("tc_egress_by_section");
  make_veth();
  const auto& by_section = program("tc_egress_by_section");
  for (const bool netlink_path : {false, true}) {
    if (!netlink_path && !kernel::has_tcx_link()) continue;
    const std::uint64_t before = read_counter(state().tc_egress);
    Link link = by_section.attach_tc(sender_, {.force_netlink = netlink_path});
    EXPECT_NE(link.description().find("egress"), std::string::npos) << link.description();
    if (netlink_path) {
      EXPECT_EQ(netlink::list_filters(sender_, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)).size(), 1u);
    } else {
      EXPECT_EQ(attached_program_count(sender_, AttachType::tcx_egress), 1u);
    }
    (void)exchange({"a"});
    EXPECT_EQ(read_counter(state().tc_egress), before + 2);
  }
  // An explicit direction wins over the section.
  Link ingress = by_section.attach_tc(receiver_, {.egress = false, .force_netlink = true});
  EXPECT_EQ(netlink::list_filters(receiver_, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)).size(), 1u);
}

TEST_F(AttachNetTest, TcNetlinkLeavesAQdiscItDidNotMake) {
  REQUIRE_NET_PROGRAMS("tc_count_ingress");
  make_veth();
  ASSERT_TRUE(netlink::add_clsact(receiver_));
  { Link ingress = program("tc_count_ingress").attach_tc(receiver_, {.force_netlink = true}); }
  EXPECT_TRUE(netlink::list_filters(receiver_, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)).empty());
  EXPECT_EQ(netlink::add_clsact(receiver_).error, -EEXIST);
}

TEST_F(AttachNetTest, LinksOutliveTheirInterface) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked", "tc_count_ingress", "tc_count_egress");
  make_veth();
  Link xdp = program("xdp_drop_marked").attach_xdp(receiver_, {.mode = XdpMode::generic, .force_netlink = true});
  Link tc = program("tc_count_ingress").attach_tc(receiver_, {.force_netlink = true});
  Link xdp_link = program("xdp_drop_marked").attach_xdp(sender_, {.mode = XdpMode::generic});
  Link tcx = program("tc_count_egress").attach_tc(sender_, {.egress = true});
  ASSERT_TRUE(netlink::delete_link(receiver_));  // takes its peer along
  // The programs went with the devices: detaching finds nothing to undo and says nothing.
  EXPECT_NO_THROW(xdp.detach());
  EXPECT_NO_THROW(tc.detach());
  EXPECT_NO_THROW(xdp_link.detach());
  EXPECT_NO_THROW(tcx.detach());
}

// ---- Cgroups

class AttachCgroupTest : public AttachNetTest {
 protected:
  void SetUp() override {
    AttachNetTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    root_ = cgroup2_root();
    if (root_.empty()) {
      // A bare machine (the qemu matrix's initramfs): mount the unified hierarchy for the test.
      std::string dir = "/tmp/corebpf_cgroup2_XXXXXX";
      if (::mkdtemp(dir.data()) == nullptr) COREBPF_SKIP_OR_FAIL("no cgroup2 hierarchy and no temporary directory");
      if (::mount("cgroup2", dir.c_str(), "cgroup2", 0, nullptr) != 0) {
        ::rmdir(dir.c_str());
        COREBPF_SKIP_OR_FAIL(std::string("no cgroup2 hierarchy and mounting one failed: ") + std::strerror(errno));
      }
      root_ = mounted_root_ = dir;
    }
    cgroup_.emplace(root_);
  }
  void TearDown() override {
    cgroup_.reset();
    if (!mounted_root_.empty()) {
      ::umount2(mounted_root_.c_str(), MNT_DETACH);
      ::rmdir(mounted_root_.c_str());
    }
    AttachNetTest::TearDown();
  }

  // cgroup_skb ingress and egress on the test cgroup count a child's datagrams on lo.
  void check_cgroup_skb(bool force_prog_attach);

  std::string root_;
  std::string mounted_root_;  // when the test mounted cgroup2 itself
  std::optional<TestCgroup> cgroup_;
};

void AttachCgroupTest::check_cgroup_skb(bool force_prog_attach) {
  {
    CgroupOptions options;
    options.force_prog_attach = force_prog_attach;
    Link ingress = program("cgroup_count_ingress").attach_cgroup(cgroup_->path(), options);
    Link egress = program("cgroup_count_egress").attach_cgroup(cgroup_->path(), options);
    EXPECT_EQ(ingress.fd() >= 0, !force_prog_attach && kernel::has_cgroup_link());
    UniqueFd cgroup(::open(cgroup_->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    EXPECT_EQ(attached_program_count(cgroup.get(), AttachType::cgroup_inet_ingress), 1u);
    EXPECT_EQ(attached_program_count(cgroup.get(), AttachType::cgroup_inet_egress), 1u);
    const int status = run_in_child([&] {
      if (!cgroup_->join()) return 1;
      UniqueFd receiver = udp_socket(htonl(INADDR_LOOPBACK), kUdpPort);
      UniqueFd sender(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      to.sin_port = htons(kUdpPort);
      for (const char* payload : {"one", "two", "END"}) {
        if (::sendto(sender.get(), payload, std::strlen(payload), 0, reinterpret_cast<const sockaddr*>(&to),
                     sizeof(to)) < 0)
          return 2;
      }
      return receive_until(receiver.get(), "END") == Received{"one", "two", "END"} ? 0 : 3;
    });
    EXPECT_EQ(status, 0);
    EXPECT_EQ(read_counter(state().cgroup_egress), 3u);
    EXPECT_EQ(read_counter(state().cgroup_ingress), 3u);
  }
  UniqueFd cgroup(::open(cgroup_->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  EXPECT_EQ(attached_program_count(cgroup.get(), AttachType::cgroup_inet_ingress), 0u);
  EXPECT_EQ(attached_program_count(cgroup.get(), AttachType::cgroup_inet_egress), 0u);
}

TEST_F(AttachCgroupTest, CgroupSkbCountsAChildsDatagrams) {
  REQUIRE_NET_PROGRAMS("cgroup_count_ingress", "cgroup_count_egress");
  check_cgroup_skb(false);
}
TEST_F(AttachCgroupTest, CgroupSkbThroughProgAttach) {
  REQUIRE_NET_PROGRAMS("cgroup_count_ingress", "cgroup_count_egress");
  check_cgroup_skb(true);
}

TEST_F(AttachCgroupTest, Connect4RewritesAndDenies) {
  REQUIRE_NET_PROGRAMS("connect_rewrite");
  state().connect_from_port = 8001;
  state().connect_to_port = 8002;
  state().connect_deny_port = 8003;
  UniqueFd cgroup(::open(cgroup_->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(cgroup);
  // Through BPF_PROG_ATTACH, next to a link on the same hook (both multi-attach).
  Link link = program("connect_rewrite").attach_cgroup(cgroup.get(), {.force_prog_attach = true});
  EXPECT_EQ(link.fd(), -1);
  const auto connect_to = [](std::uint16_t port) {
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    return ::connect(socket.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) == 0 ? 0 : errno;
  };
  const int status = run_in_child([&] {
    if (!cgroup_->join()) return 1;
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = htons(8002);
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) return 2;
    if (::listen(listener.get(), 4) != 0) return 3;
    if (connect_to(8001) != 0) return 4;      // nobody listens on 8001: only the rewrite connects
    if (connect_to(8003) != EPERM) return 5;  // denied by the program
    return 0;
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(read_counter(state().connect_rewritten), 1u);
  EXPECT_EQ(read_counter(state().connect_denied), 1u);
  // Outside the cgroup the program does not run.
  EXPECT_EQ(connect_to(8001), ECONNREFUSED);
  link.detach();
  EXPECT_EQ(attached_program_count(cgroup.get(), AttachType::cgroup_inet4_connect), 0u);
}

TEST_F(AttachCgroupTest, MissingCgroupPathIsNamed) {
  REQUIRE_NET_PROGRAMS("cgroup_count_ingress");
  const std::string missing = cgroup_->path() + "/does_not_exist";
  try {
    (void)program("cgroup_count_ingress").attach_cgroup(missing);
    ADD_FAILURE() << "attached to a missing cgroup";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(e.message().find(missing), std::string::npos) << e.message();
  }
}

// ---- Sockets

TEST_F(AttachNetTest, SocketFilterDropsMarkedDatagrams) {
  REQUIRE_NET_PROGRAMS("socket_drop_marked");
  std::array<int, 2> pair{};
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair.data()), 0);
  UniqueFd sender(pair[0]);
  UniqueFd receiver(pair[1]);
  const auto drain = [&] {
    Received received;
    std::array<char, 64> buffer{};
    ssize_t size = 0;
    while ((size = ::recv(receiver.get(), buffer.data(), buffer.size(), MSG_DONTWAIT)) >= 0) {
      received.emplace_back(buffer.data(), static_cast<std::size_t>(size));
    }
    return received;
  };
  const auto send = [&](std::string_view payload) {
    ASSERT_EQ(::send(sender.get(), payload.data(), payload.size(), 0), static_cast<ssize_t>(payload.size()));
  };
  {
    Link link = program("socket_drop_marked").attach_socket(receiver.get());
    EXPECT_EQ(link.fd(), -1);
    for (const char* payload : {"A1", "D2", "A3"}) send(payload);
    EXPECT_EQ(drain(), (Received{"A1", "A3"}));
    EXPECT_EQ(read_counter(state().socket_dropped), 1u);
  }
  send("D4");
  EXPECT_EQ(drain(), (Received{"D4"}));

  try {
    UniqueFd file(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
    (void)program("socket_drop_marked").attach_socket(file.get());
    ADD_FAILURE() << "attached a filter to a file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::not_a_socket) << e.message();
  }
}

// A connected TCP pair on the loopback device.
struct TcpPair {
  UniqueFd listener;
  UniqueFd client;
  UniqueFd server;
};

TcpPair tcp_pair() {
  TcpPair pair;
  pair.listener = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(pair.listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(pair.listener.get(), 4) != 0 ||
      ::getsockname(pair.listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error(std::string("listener: ") + std::strerror(errno));
  }
  pair.client = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(pair.client.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0)
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  pair.server = UniqueFd(::accept4(pair.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!pair.server) throw std::runtime_error(std::string("accept: ") + std::strerror(errno));
  return pair;
}

void put_socket(const Map& map, std::uint32_t key, int socket) {
  const std::uint64_t value = static_cast<std::uint64_t>(socket);
  map.update(std::as_bytes(std::span(&key, 1)), std::as_bytes(std::span(&value, 1)));
}

std::string receive_some(int socket) {
  pollfd ready{socket, POLLIN, 0};
  if (::poll(&ready, 1, 5000) != 1) return "<timeout>";
  std::array<char, 256> buffer{};
  const ssize_t size = ::recv(socket, buffer.data(), buffer.size(), 0);
  return size < 0 ? "<error>" : std::string(buffer.data(), static_cast<std::size_t>(size));
}

void AttachNetTest::check_sk_msg(bool force_prog_attach) {
  const Map& map = object_->map("sock_map");
  auto pair = tcp_pair();
  {
    // Sockets take the map's programs when they join it, so attach first.
    Link link = program("sk_msg_drop_marked").attach_sockmap(map, {.force_prog_attach = force_prog_attach});
    put_socket(map, 0, pair.client.get());
    ASSERT_EQ(::send(pair.client.get(), "hello", 5, 0), 5);
    EXPECT_EQ(receive_some(pair.server.get()), "hello");
    EXPECT_EQ(::send(pair.client.get(), "Dx", 2, 0), -1);
    EXPECT_EQ(errno, EACCES);
    EXPECT_EQ(read_counter(state().sk_msg_seen), 2u);
    EXPECT_EQ(read_counter(state().sk_msg_dropped), 1u);
    EXPECT_EQ(link.fd() >= 0, !force_prog_attach && kernel::has_sockmap_link());
  }
  if (kernel::has_sockmap_link()) {
    EXPECT_EQ(attached_program_count(map.fd(), AttachType::sk_msg_verdict), 0u);
  }
  // A socket added now gets no program.
  auto other = tcp_pair();
  put_socket(map, 1, other.client.get());
  ASSERT_EQ(::send(other.client.get(), "Dy", 2, 0), 2);
  EXPECT_EQ(receive_some(other.server.get()), "Dy");
  EXPECT_EQ(read_counter(state().sk_msg_seen), 2u);
}

TEST_F(AttachNetTest, SkMsgVerdictOnSockmapPassesAndDrops) {
  REQUIRE_NET_PROGRAMS("sk_msg_drop_marked");
  check_sk_msg(false);
}
TEST_F(AttachNetTest, SkMsgThroughProgAttach) {
  REQUIRE_NET_PROGRAMS("sk_msg_drop_marked");
  check_sk_msg(true);
}

TEST_F(AttachNetTest, SkSkbStreamVerdictSeesReceivedData) {
  REQUIRE_NET_PROGRAMS("sk_skb_count");
  const Map& map = object_->map("sock_map");
  auto pair = tcp_pair();
  Link link = program("sk_skb_count").attach_sockmap(map);
  put_socket(map, 0, pair.server.get());
  ASSERT_EQ(::send(pair.client.get(), "abc", 3, 0), 3);
  EXPECT_EQ(receive_some(pair.server.get()), "abc");
  EXPECT_GE(read_counter(state().sk_skb_seen), 1u);
  if (kernel::has_sockmap_link()) {
    EXPECT_EQ(attached_program_count(map.fd(), AttachType::sk_skb_stream_verdict), 1u);
    link.detach();
    EXPECT_EQ(attached_program_count(map.fd(), AttachType::sk_skb_stream_verdict), 0u);
  }
}

TEST_F(AttachNetTest, SockmapAttachNeedsAHookAndASockmap) {
  REQUIRE_NET_PROGRAMS("sk_skb_no_hook", "sk_msg_drop_marked");
  try {
    (void)program("sk_skb_no_hook").attach_sockmap(object_->map("sock_map"));
    ADD_FAILURE() << "an sk_skb program without a hook attached";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_NE(e.message().find("sk_skb/stream_verdict"), std::string::npos) << e.message();
  }
  {
    // The hook given in the options instead.
    const Map& map = object_->map("sock_map");
    Link link = program("sk_skb_no_hook").attach_sockmap(map, {.type = AttachType::sk_skb_stream_verdict});
    if (kernel::has_sockmap_link()) {
      EXPECT_EQ(attached_program_count(map.fd(), AttachType::sk_skb_stream_verdict), 1u);
    }
  }
  try {
    (void)program("sk_msg_drop_marked").attach_sockmap(object_->map("plain_array"));
    ADD_FAILURE() << "attached to an array map";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument);
    EXPECT_NE(e.message().find("not a sockmap"), std::string::npos) << e.message();
  }
}

// ---- Network namespace hooks

TEST_F(AttachNetTest, SkLookupSteersToAnotherListener) {
  REQUIRE_NET_PROGRAMS("sk_lookup_steer");
  COREBPF_REQUIRE_FEATURE(kernel::Feature::netns_link);
  const auto listen_on = [](std::uint16_t port) {
    UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = htons(port);
    if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
        ::listen(socket.get(), 4) != 0)
      throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
    return socket;
  };
  UniqueFd asked = listen_on(9001);
  UniqueFd steered = listen_on(9002);
  put_socket(object_->map("lookup_sockets"), 0, steered.get());
  state().steer_port = 9001;
  UniqueFd netns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  {
    Link link = program("sk_lookup_steer").attach_netns(netns.get());
    EXPECT_GE(link.fd(), 0);
    EXPECT_EQ(attached_program_count(netns.get(), AttachType::sk_lookup), 1u);
    UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(9001);
    ASSERT_EQ(::connect(client.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0) << std::strerror(errno);
    // connect() returns at the SYN-ACK; the listener queues the connection when the last ACK is
    // processed, which a slow (emulated) CPU may do a moment later.
    pollfd ready{steered.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&ready, 1, 5000), 1) << "the steered listener got no connection within 5 s";
    UniqueFd accepted(::accept4(steered.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(accepted) << "the steered listener got no connection: " << std::strerror(errno);
    UniqueFd not_accepted(::accept4(asked.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_FALSE(not_accepted);
    EXPECT_EQ(read_counter(state().sk_lookup_steered), 1u);
  }
  EXPECT_EQ(attached_program_count(netns.get(), AttachType::sk_lookup), 0u);
}

TEST_F(AttachNetTest, FlowDissectorTestRunAndNetnsAttach) {
  REQUIRE_NET_PROGRAMS("flow_dissect_udp");
  const auto& dissector = program("flow_dissect_udp");
  const std::array<std::uint8_t, 6> mac{2, 0, 0, 0, 0, 1};
  const auto frame = udp_frame(mac, mac, kUdpPort, "x");
  TestRunOptions options;
  options.data_in = frame;
  options.data_out_size = sizeof(bpf_flow_keys);
  const auto result = dissector.test_run(options);
  EXPECT_EQ(result.retval, static_cast<std::uint32_t>(BPF_OK));
  ASSERT_EQ(result.data_out.size(), sizeof(bpf_flow_keys));
  bpf_flow_keys keys{};
  std::memcpy(&keys, result.data_out.data(), sizeof(keys));
  EXPECT_EQ(ntohs(keys.dport), kUdpPort);
  EXPECT_EQ(ntohs(keys.sport), 4000);
  EXPECT_EQ(keys.ip_proto, IPPROTO_UDP);
  EXPECT_EQ(keys.ipv4_dst, ipv4(kReceiverAddress));
  EXPECT_EQ(read_counter(state().flow_dissected), 1u);

  COREBPF_REQUIRE_FEATURE(kernel::Feature::netns_link);
  UniqueFd netns(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  {
    Link link = dissector.attach_netns(netns.get());
    EXPECT_EQ(attached_program_count(netns.get(), AttachType::flow_dissector), 1u);
    // One flow dissector per namespace.
    EXPECT_THROW((void)dissector.attach_netns(netns.get()), Error);
  }
  EXPECT_EQ(attached_program_count(netns.get(), AttachType::flow_dissector), 0u);
}

// ---- Program::attach() and resources

TEST_F(AttachNetTest, SectionAloneNamesNoTarget) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked", "tc_count_ingress", "cgroup_count_ingress", "socket_drop_marked",
                       "sk_msg_drop_marked", "sk_lookup_steer");
  for (const char* name : {"xdp_drop_marked", "tc_count_ingress", "cgroup_count_ingress", "socket_drop_marked",
                           "sk_msg_drop_marked", "sk_lookup_steer"}) {
    try {
      (void)program(name).attach();
      ADD_FAILURE() << name << " attached without a target";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), std::errc::operation_not_supported) << "libbpf's errno for 'attach it by hand'";
      EXPECT_NE(e.message().find("needs a target"), std::string::npos) << e.message();
    }
  }
}

TEST_F(AttachNetTest, AttachAndDetachLeakNoFds) {
  REQUIRE_NET_PROGRAMS("xdp_drop_marked", "tc_count_ingress", "tc_count_egress", "sk_msg_drop_marked",
                       "socket_drop_marked");
  make_veth();
  // Probes run once per process; run them before counting.
  (void)kernel::has_xdp_link();
  (void)kernel::has_tcx_link();
  (void)kernel::has_sockmap_link();
  const std::size_t before = test::open_fd_count();
  for (int round = 0; round < 3; ++round) {
    Link xdp = program("xdp_drop_marked").attach_xdp(receiver_, {.mode = XdpMode::generic, .force_netlink = true});
    Link tc = program("tc_count_ingress").attach_tc(receiver_, {.force_netlink = true});
    Link tcx = program("tc_count_egress").attach_tc(sender_, {.egress = true});
    Link sockmap = program("sk_msg_drop_marked").attach_sockmap(object_->map("sock_map"));
    std::array<int, 2> pair{};
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair.data()), 0);
    UniqueFd a(pair[0]);
    UniqueFd b(pair[1]);
    Link filter = program("socket_drop_marked").attach_socket(b.get());
    Link failed;
    EXPECT_THROW(failed = program("xdp_drop_marked").attach_xdp(receiver_, {.mode = XdpMode::generic}), Error);
  }
  EXPECT_EQ(test::open_fd_count(), before);
  EXPECT_EQ(netlink::query_xdp(receiver_).prog_id, 0u);
  EXPECT_TRUE(netlink::list_filters(receiver_, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)).empty());
}

// Each probe against the version that brought its link type (upstream and Debian kernels).
TEST(AttachNetProbes, LinkProbesMatchTheKernelVersion) {
  COREBPF_REQUIRE_ROOT();
  const std::uint32_t version = kernel::running_kernel_version();
  const auto since = [version](std::uint32_t major, std::uint32_t minor) {
    return version >= ((major << 16) | (minor << 8));
  };
  EXPECT_EQ(kernel::has_cgroup_link(), since(5, 7));
  EXPECT_EQ(kernel::has_netns_link(), since(5, 8));
  EXPECT_EQ(kernel::has_xdp_link(), since(5, 9));
  EXPECT_EQ(kernel::has_tcx_link(), since(6, 6));
  EXPECT_EQ(kernel::has_sockmap_link(), since(6, 10));
}

}  // namespace
}  // namespace corebpf
