// Soak (issue 14; ctest label soak, outside CI's default run): COREBPF_SOAK_CYCLES (10,000)
// attach/detach cycles of every attach family the running kernel has (decided by the library's
// probes), and ring and perf buffer consumers under sustained load for COREBPF_SOAK_SECONDS (60)
// with exact accounting. After each family: no fd left open, no link on the family's program, no
// program or map of its object once the object is gone, no tracefs probe event of this process,
// no pin, and RSS did not grow. The figures go to stdout ("soak: ...") and bench/README.md.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/features.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/link.hpp"
#include "corebpf/map_view.hpp"
#include "corebpf/object.hpp"
#include "corebpf/perf_buffer.hpp"
#include "corebpf/ring_buffer.hpp"
#include "kernel/kernel_test_support.hpp"
#include "kernel/netlink.hpp"

namespace corebpf {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strtoull(text, nullptr, 10);
}

std::uint64_t soak_cycles() { return env_number("COREBPF_SOAK_CYCLES", 10000); }
std::uint64_t soak_seconds() { return env_number("COREBPF_SOAK_SECONDS", 60); }

std::map<int, std::string> open_fds() {
  std::map<int, std::string> fds;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = fs::read_symlink(entry.path(), error).string();
    if (target.starts_with("/proc/") && target.ends_with("/fd")) continue;  // the walk's own
    fds[std::stoi(entry.path().filename().string())] = target;
  }
  return fds;
}

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// This process's probe events in tracefs (the library names them corebpf_<pid>_<n>).
std::string tracefs_events() {
  std::string found;
  const std::string mine = "corebpf_" + std::to_string(::getpid()) + "_";
  for (const char* root : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    for (const char* file : {"kprobe_events", "uprobe_events"}) {
      std::ifstream events(std::string(root) + "/" + file);
      std::string line;
      while (std::getline(events, line))
        if (line.find(mine) != std::string::npos) found += " " + line;
    }
  }
  return found;
}

bool id_exists(kernel::ObjectType type, std::uint32_t id) {
  // The id walk takes no reference (opening a map by id could keep it alive a moment longer).
  const auto next = kernel::next_id(type, id - 1);
  return next && *next == id;
}

// Objects are freed after an RCU grace period: waits (boundedly) until none of `ids` exists.
std::string survivors(kernel::ObjectType type, const std::vector<std::uint32_t>& ids) {
  std::string found;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (const auto id : ids) {
    while (id_exists(type, id) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (id_exists(type, id)) found += " " + std::string(kernel::object_type_name(type)) + " " + std::to_string(id);
  }
  return found;
}

// Links (of any process) on one of `programs`.
std::string links_on(const std::set<std::uint32_t>& programs) {
  std::string found;
  for (const auto id : kernel::list_ids(kernel::ObjectType::link)) {
    auto fd = kernel::try_open_by_id(kernel::ObjectType::link, id);
    if (!fd) continue;
    const auto info = kernel::link_info(fd->get());
    if (programs.contains(info.program_id)) found += " link " + std::to_string(id);
  }
  return found;
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

class Soak : public ::testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    ASSERT_TRUE(test::ensure_bpffs());
    // XDP and TC on the loopback of a private network namespace, undone in TearDown.
    original_netns_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(original_netns_) << std::strerror(errno);
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    in_private_netns_ = true;
    loopback_ = static_cast<int>(::if_nametoindex("lo"));
    ASSERT_GT(loopback_, 0);
    pin_root_ = test::bpffs_path("soak");
    fs::create_directories(pin_root_);
  }
  void TearDown() override {
    if (!pin_root_.empty()) fs::remove_all(pin_root_);
    if (in_private_netns_) {
      ASSERT_EQ(::setns(original_netns_.get(), CLONE_NEWNET), 0) << std::strerror(errno);
    }
  }

  // Opens `object_file` with only `program` to load (pins, if any, under pin_root_).
  Object load(const std::string& object_file, std::string_view program) {
    ObjectOptions options;
    options.pin_root = pin_root_;
    Object object = Object::open(std::string(COREBPF_BPF_OBJECT_DIR) + "/" + object_file, options);
    for (auto& spec : object.spec().programs()) spec.set_autoload(spec.name() == program);
    object.load();
    return object;
  }

  // `cycles` times: attach (the links `attach` returns) and detach (they go out of scope). Then
  // checks that the family left nothing behind, and reports its rate.
  void soak(const std::string& family, const std::string& object_file, std::string_view program_name,
            const std::function<std::vector<Link>(Object&, const Program&)>& attach) {
    const auto cycles = soak_cycles();
    const auto fds_before = open_fds();
    std::vector<std::uint32_t> program_ids, map_ids;
    std::set<std::string> pins;
    std::size_t rss_after_warmup = 0, rss_after = 0;
    double seconds = 0;
    {
      Object object = load(object_file, program_name);
      const Program& program = object.program(program_name);
      program_ids.push_back(program.info().id);
      // Maps pinned by name at load are the object's to keep; cycles add none.
      pins = pins_now();
      for (const auto& map : object.spec().maps()) map_ids.push_back(object.map(map.name()).info().id);
      const auto warmup = std::max<std::uint64_t>(cycles / 10, 1);
      const auto start = Clock::now();
      for (std::uint64_t cycle = 0; cycle < cycles; ++cycle) {
        {
          auto links = attach(object, program);
          ASSERT_FALSE(links.empty());
        }
        if (cycle + 1 == warmup) rss_after_warmup = resident_bytes();
      }
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      rss_after = resident_bytes();
      EXPECT_EQ(links_on({program_ids.begin(), program_ids.end()}), "") << family << ": links left attached";
      EXPECT_EQ(pins_now(), pins) << family << ": pins changed in " << pin_root_;
    }
    for (const auto& pin : pins) fs::remove(pin);
    EXPECT_EQ(survivors(kernel::ObjectType::program, program_ids), "") << family << ": a program outlived its object";
    EXPECT_EQ(survivors(kernel::ObjectType::map, map_ids), "") << family << ": a map outlived its object";
    std::string fds_left;
    for (const auto& [fd, target] : open_fds())
      if (!fds_before.contains(fd)) fds_left += " fd " + std::to_string(fd) + " (" + target + ")";
    EXPECT_EQ(fds_left, "") << family << ": fds left open";
    EXPECT_EQ(tracefs_events(), "") << family << ": tracefs probe events left";
    // Allocator noise stays well under this; a leak of 100 bytes per cycle would not.
    const auto growth = static_cast<long long>(rss_after) - static_cast<long long>(rss_after_warmup);
    EXPECT_LT(growth, 1 << 20) << family << ": RSS grew by " << growth << " bytes";
    std::printf("soak: %s: %llu cycles in %.2f s, %.0f cycles/s, RSS %+lld KiB after warm-up\n", family.c_str(),
                static_cast<unsigned long long>(cycles), seconds, static_cast<double>(cycles) / seconds, growth / 1024);
    RecordProperty("cycles_per_second", std::to_string(static_cast<double>(cycles) / seconds));
  }

  std::set<std::string> pins_now() const {
    std::set<std::string> pins;
    for (const auto& entry : fs::recursive_directory_iterator(pin_root_)) pins.insert(entry.path().string());
    return pins;
  }

  template <typename... Links>
  static std::vector<Link> links(Links&&... each) {
    std::vector<Link> result;
    (result.push_back(std::forward<Links>(each)), ...);
    return result;
  }

  UniqueFd original_netns_;
  bool in_private_netns_ = false;
  int loopback_ = 0;
  std::string pin_root_;
};

// ---- Tracing families

TEST_F(Soak, Tracepoint) {
  soak("tracepoint", "fault_injection.bpf.o", "fi_tracepoint",
       [](Object&, const Program& p) { return links(p.attach()); });
}

TEST_F(Soak, RawTracepoint) {
  soak("raw_tp", "fault_injection.bpf.o", "fi_raw_tp", [](Object&, const Program& p) { return links(p.attach()); });
}

TEST_F(Soak, PerfEvent) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = 100000000;
  soak("perf_event (every CPU)", "fault_injection.bpf.o", "fi_perf_event",
       [&](Object&, const Program& p) { return p.attach_perf_event_per_cpu(attr); });
}

TEST_F(Soak, Uprobe) {
  soak("uprobe", "fault_injection.bpf.o", "fi_uprobe", [](Object&, const Program& p) {
    return links(p.attach_uprobe(COREBPF_UPROBE_TARGET_LIB, UprobeOptions{.function = "uprobe_target_lib_sub"}));
  });
}

TEST_F(Soak, UprobeMulti) {
  COREBPF_REQUIRE_FEATURE(kernel::Feature::uprobe_multi);
  soak("uprobe.multi", "fault_injection.bpf.o", "fi_uprobe_multi", [](Object&, const Program& p) {
    UprobeMultiOptions multi;
    multi.symbols = {"uprobe_target_lib_sub"};
    return links(p.attach_uprobe_multi(COREBPF_UPROBE_TARGET_LIB, multi));
  });
}

TEST_F(Soak, Kprobe) {
  COREBPF_REQUIRE_FEATURE(kernel::Feature::kprobes);
  soak("kprobe", "attach_tracing.bpf.o", "on_openat2",
       [](Object&, const Program& p) { return links(p.attach_kprobe("do_sys_openat2")); });
}

TEST_F(Soak, Fentry) {
  COREBPF_REQUIRE_FEATURE(kernel::Feature::trampolines);
  soak("fentry", "attach_tracing_trampoline.bpf.o", "on_openat2_entry",
       [](Object&, const Program& p) { return links(p.attach()); });
}

TEST_F(Soak, Iterator) {
  COREBPF_REQUIRE_FEATURE(kernel::Feature::task_iterator);
  soak("iter/task", "fault_injection.bpf.o", "fi_iter",
       [](Object&, const Program& p) { return links(p.attach_iter()); });
}

// ---- Networking families

TEST_F(Soak, Xdp) {
  const bool link = kernel::has_feature(kernel::Feature::xdp_link);
  soak(link ? "xdp (link)" : "xdp (netlink)", "fault_injection.bpf.o", "fi_xdp",
       [this](Object&, const Program& p) { return links(p.attach_xdp(loopback_)); });
  EXPECT_EQ(kernel::netlink::query_xdp(loopback_).prog_id, 0U);
}

TEST_F(Soak, Tc) {
  const bool tcx = kernel::has_feature(kernel::Feature::tcx_link);
  soak(tcx ? "tcx" : "tc (netlink)", "fault_injection.bpf.o", "fi_tc",
       [this](Object&, const Program& p) { return links(p.attach_tc(loopback_)); });
  for (const std::uint32_t parent : {0xFFFFFFF2U, 0xFFFFFFF3U})  // clsact ingress, egress
    EXPECT_TRUE(kernel::netlink::list_filters(loopback_, parent).empty());
}

TEST_F(Soak, SocketFilter) {
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(socket);
  // The socket outlives the object: a filter left on it would keep the program alive.
  soak("socket filter", "fault_injection.bpf.o", "fi_socket",
       [&](Object&, const Program& p) { return links(p.attach_socket(socket.get())); });
}

TEST_F(Soak, Cgroup) {
  const auto root = cgroup2_root();
  if (root.empty()) COREBPF_SKIP_OR_FAIL("no cgroup2 hierarchy mounted");
  const std::string path = root + "/corebpf_soak_" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path << ": " << std::strerror(errno);
  {
    UniqueFd cgroup(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(cgroup);
    soak(kernel::has_feature(kernel::Feature::cgroup_link) ? "cgroup_skb (link)" : "cgroup_skb (prog attach)",
         "attach_net.bpf.o", "cgroup_count_ingress",
         [&](Object&, const Program& p) { return links(p.attach_cgroup(cgroup.get())); });
  }
  EXPECT_EQ(::rmdir(path.c_str()), 0) << path << ": " << std::strerror(errno);
}

TEST_F(Soak, Sockmap) {
  // The sockmap belongs to the object, so the object's program is attached to its own map.
  soak(kernel::has_feature(kernel::Feature::sockmap_link) ? "sk_msg on a sockmap (link)"
                                                          : "sk_msg on a sockmap (prog attach)",
       "attach_net.bpf.o", "sk_msg_drop_marked",
       [](Object& object, const Program& p) { return links(p.attach_sockmap(object.map("sock_map"))); });
}

// ---- Event streams under sustained load

enum Counter : std::uint32_t { ring_attempts, ring_refused, perf_attempts, perf_failed };

// Runs `program` (a socket filter) with test_run from one thread per CPU until `stop`.
std::vector<std::thread> producers(const Program& program, const std::atomic<bool>& stop,
                                   std::atomic<std::uint64_t>& runs, std::string& failure) {
  std::vector<std::thread> threads;
  const unsigned count = std::max(1U, std::thread::hardware_concurrency() - 1);
  for (unsigned index = 0; index < count; ++index) {
    threads.emplace_back([&program, &stop, &runs, &failure] {
      static const std::array<std::byte, 64> packet{};
      TestRunOptions options;
      options.data_in = packet;
      options.repeat = 256;
      try {
        while (!stop.load(std::memory_order_relaxed)) {
          program.test_run(options);
          runs.fetch_add(options.repeat, std::memory_order_relaxed);
        }
      } catch (const std::exception& e) {
        failure = e.what();
      }
    });
  }
  return threads;
}

std::uint64_t counter(Object& object, Counter which) {
  return MapView<std::uint32_t, std::uint64_t>(object.map("counters")).lookup(which).value();
}

TEST_F(Soak, RingBufferUnderSustainedLoadAccountsForEveryRecord) {
  COREBPF_REQUIRE_FEATURE(kernel::Feature::ringbuf);
  Object object = load("soak.bpf.o", "soak_emit_ring");
  std::uint64_t consumed = 0, wrong_size = 0;
  RingBuffer ring;
  ring.add(object.map("soak_ring"), [&](std::span<const std::byte> record) {
    ++consumed;
    if (record.size() != 64) ++wrong_size;
    return 0;
  });
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> runs{0};
  std::string failure;
  const auto seconds = soak_seconds();
  const auto start = Clock::now();
  auto threads = producers(object.program("soak_emit_ring"), stop, runs, failure);
  while (Clock::now() - start < std::chrono::seconds(seconds)) ring.poll(100);
  stop = true;
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ring.consume();
  ASSERT_EQ(failure, "");
  const auto attempts = counter(object, ring_attempts);
  const auto refused = counter(object, ring_refused);
  EXPECT_EQ(attempts, runs.load()) << "every run counted its attempt";
  EXPECT_EQ(attempts, consumed + refused) << "produced = consumed + lost";
  EXPECT_EQ(wrong_size, 0U);
  EXPECT_GT(consumed, 0U);
  std::printf("soak: ring buffer: %.0f s, %llu produced, %llu consumed (%.0f events/s), %llu lost (%.3f%%)\n", elapsed,
              static_cast<unsigned long long>(attempts), static_cast<unsigned long long>(consumed),
              static_cast<double>(consumed) / elapsed, static_cast<unsigned long long>(refused),
              attempts ? 100.0 * static_cast<double>(refused) / static_cast<double>(attempts) : 0.0);
}

TEST_F(Soak, PerfBufferUnderSustainedLoadAccountsForEveryRecord) {
  Object object = load("soak.bpf.o", "soak_emit_perf");
  std::uint64_t consumed = 0, lost = 0, wrong_size = 0;
  PerfBufferOptions options;
  options.data_pages = 64;
  options.wakeup_watermark_bytes = 64 * 1024;
  PerfBuffer buffer(
      object.map("soak_perf"),
      [&](std::uint32_t, std::span<const std::byte> data) {
        ++consumed;
        if (data.size() < 64) ++wrong_size;
      },
      [&](std::uint32_t, std::uint64_t count) { lost += count; }, options);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> runs{0};
  std::string failure;
  const auto seconds = soak_seconds();
  const auto start = Clock::now();
  const Program& program = object.program("soak_emit_perf");
  auto threads = producers(program, stop, runs, failure);
  while (Clock::now() - start < std::chrono::seconds(seconds)) buffer.poll(100);
  stop = true;
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  buffer.consume();
  ASSERT_EQ(failure, "");
  // The kernel reports samples it dropped in a lost record written before the next sample that
  // fits: one more run on each CPU brings out what a full ring still holds back.
  cpu_set_t original;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(original), &original), 0);
  for (int round = 0; round < 10 && counter(object, perf_attempts) != consumed + lost; ++round) {
    for (const auto cpu : buffer.cpus()) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      if (::sched_setaffinity(0, sizeof(one), &one) != 0) continue;
      static const std::array<std::byte, 64> packet{};
      TestRunOptions once;
      once.data_in = packet;
      program.test_run(once);
      buffer.consume();
    }
  }
  ASSERT_EQ(::sched_setaffinity(0, sizeof(original), &original), 0);
  const auto attempts = counter(object, perf_attempts);
  EXPECT_EQ(counter(object, perf_failed), 0U) << "outputs that failed other than for room";
  EXPECT_EQ(attempts, consumed + lost) << "produced = consumed + reported lost";
  EXPECT_EQ(lost, buffer.lost());
  EXPECT_EQ(wrong_size, 0U);
  EXPECT_GT(consumed, 0U);
  std::printf("soak: perf buffer: %.0f s, %llu produced, %llu consumed (%.0f events/s), %llu lost (%.3f%%)\n", elapsed,
              static_cast<unsigned long long>(attempts), static_cast<unsigned long long>(consumed),
              static_cast<double>(consumed) / elapsed, static_cast<unsigned long long>(lost),
              attempts ? 100.0 * static_cast<double>(lost) / static_cast<double>(attempts) : 0.0);
}

}  // namespace
}  // namespace corebpf
