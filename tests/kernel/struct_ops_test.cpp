// struct_ops against the running kernel: a TCP congestion control written in BPF
// (tests/bpf/struct_ops.bpf.c) is registered, a TCP connection over lo is made to use it (the
// kernel calls its members: counters in .bss), and detaching removes it from the kernel's list.
// Kernels without struct_ops links (before 6.4) skip that test by feature probe; the qemu matrix
// runs these on 6.1 and 6.12 too.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/features.hpp"
#include "corebpf/kernel_description.hpp"
#include "corebpf/object.hpp"
#include "kernel/kernel_test_support.hpp"

namespace corebpf {
namespace {

const std::string legacy_object = COREBPF_BPF_OBJECT_DIR "/struct_ops.bpf.o";
const std::string link_object = COREBPF_BPF_OBJECT_DIR "/struct_ops_link.bpf.o";

std::string available_congestion_controls() {
  std::ifstream file("/proc/sys/net/ipv4/tcp_available_congestion_control");
  std::string text;
  std::getline(file, text);
  return " " + text + " ";
}

bool is_available(const std::string& name) {
  return available_congestion_controls().find(" " + name + " ") != std::string::npos;
}

std::uint64_t bss_counter(Object& object, std::string_view name) {
  const auto* bss = object.spec().find_section_map(".bss");
  EXPECT_NE(bss, nullptr);
  const auto* variable = bss->find_variable(name);
  EXPECT_NE(variable, nullptr);
  std::uint64_t value = 0;
  std::memcpy(&value, object.section_bytes(".bss").data() + variable->offset, sizeof value);
  return value;
}

// A TCP connection over lo whose client uses `congestion_control`; sends 4 MiB to the server and
// reads it all back there. Returns what getsockopt(TCP_CONGESTION) says the client uses.
std::string connect_with(const std::string& congestion_control) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  EXPECT_EQ(::listen(listener, 1), 0);
  EXPECT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);

  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::setsockopt(client, IPPROTO_TCP, TCP_CONGESTION, congestion_control.data(),
                         static_cast<socklen_t>(congestion_control.size())),
            0)
      << std::strerror(errno);
  EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  const int server = ::accept(listener, nullptr, nullptr);
  EXPECT_GE(server, 0);

  char used[16] = {};
  socklen_t used_length = sizeof used;
  EXPECT_EQ(::getsockopt(client, IPPROTO_TCP, TCP_CONGESTION, used, &used_length), 0);

  // Sent in chunks while the server drains, so the window, ACKs and cwnd all come into play.
  std::vector<char> chunk(64 * 1024, 'x');
  std::vector<char> sink(chunk.size());
  for (int i = 0; i < 64; ++i) {
    std::size_t sent = 0;
    while (sent < chunk.size()) {
      const auto n = ::send(client, chunk.data() + sent, chunk.size() - sent, 0);
      EXPECT_GT(n, 0) << std::strerror(errno);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    std::size_t received = 0;
    while (received < sent) {
      const auto n = ::recv(server, sink.data(), sink.size(), 0);
      EXPECT_GT(n, 0) << std::strerror(errno);
      if (n <= 0) break;
      received += static_cast<std::size_t>(n);
    }
  }
  ::close(client);
  ::close(server);
  ::close(listener);
  return std::string(used, ::strnlen(used, sizeof used));
}

TEST(StructOps, ProgramAttachPointsToTheMap) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(kernel::Feature::struct_ops);
  auto object = Object::open(legacy_object);
  object.load();
  try {
    (void)object.program("corebpf_init").attach();
    FAIL() << "a struct_ops program attached on its own";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("attach_struct_ops"), std::string::npos) << e.what();
  }
  // Named by no map member: there is no struct to load it for.
  EXPECT_THROW((void)object.program("corebpf_unused"), Error);
  EXPECT_THROW((void)object.attach_struct_ops(".bss"), Error);
}

void register_and_use(const std::string& path, const std::string& map, const std::string& name) {
  ASSERT_FALSE(is_available(name)) << name << " is registered already";
  auto object = Object::open(path);
  object.load();
  // Loading alone registers nothing.
  EXPECT_FALSE(is_available(name));
  auto link = object.attach_struct_ops(map);
  ASSERT_TRUE(is_available(name)) << available_congestion_controls();

  EXPECT_EQ(connect_with(name), name);
  EXPECT_GT(bss_counter(object, "init_calls"), 0u);
  EXPECT_GT(bss_counter(object, "cong_avoid_calls"), 0u);

  link.detach();
  EXPECT_FALSE(is_available(name)) << available_congestion_controls();
}

TEST(StructOps, TcpCongestionControlInAStructOpsMap) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(kernel::Feature::struct_ops);
  register_and_use(legacy_object, "corebpf_cc", "corebpf_cc");
}

TEST(StructOps, TcpCongestionControlInAStructOpsLink) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(kernel::Feature::struct_ops);
  COREBPF_REQUIRE_FEATURE(kernel::Feature::struct_ops_link);
  register_and_use(link_object, "corebpf_ccl", "corebpf_ccl");
}

TEST(StructOps, DestroyingTheLinkUnregisters) {
  COREBPF_REQUIRE_ROOT();
  COREBPF_REQUIRE_FEATURE(kernel::Feature::struct_ops);
  {
    auto object = Object::open(legacy_object);
    object.load();
    auto link = object.attach_struct_ops("corebpf_cc");
    ASSERT_TRUE(is_available("corebpf_cc"));
  }
  EXPECT_FALSE(is_available("corebpf_cc")) << available_congestion_controls();
}

}  // namespace
}  // namespace corebpf
