// map-walk: a typed walk of BPF maps through a skeleton. Counts system calls for a while, then
// prints the busiest (process, syscall) pairs from the `calls` hash map (struct key, struct value:
// a MapView range-for) and the per-CPU totals from `total` (a PerCpuMapView). Run as root:
//
//   map-walk [--seconds S] [--pid PID] [--top N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "corebpf/error.hpp"
#include "map-walk.skel.hpp"

int main(int argc, char** argv) {
  double seconds = 1;
  int pid = 0;
  std::size_t top = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--seconds") {
      seconds = std::stod(argv[i + 1]);
    } else if (arg == "--pid") {
      pid = std::stoi(argv[i + 1]);
    } else if (arg == "--top") {
      top = std::stoul(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--pid PID] [--top N]\n", argv[0]);
      return 2;
    }
  }
  try {
    auto skel = map_walk::Skeleton::open();
    skel.rodata().only_pid = pid;
    skel.load();
    skel.attach();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    skel.detach();

    // Each element is a std::pair<map_walk::types::call_key, map_walk::types::call_stats>.
    std::vector<std::pair<map_walk::types::call_key, map_walk::types::call_stats>> rows;
    for (const auto& [key, stats] : skel.maps.calls) rows.emplace_back(key, stats);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
    std::printf("%-8s %-16s %-8s %s\n", "PID", "COMM", "SYSCALL", "COUNT");
    for (std::size_t i = 0; i < rows.size() && i < top; ++i) {
      const auto& [key, stats] = rows[i];
      std::printf("%-8u %-16.*s %-8u %llu\n", key.pid, static_cast<int>(strnlen(stats.comm, sizeof(stats.comm))),
                  stats.comm, key.syscall, static_cast<unsigned long long>(stats.count));
    }
    std::uint64_t sum = 0;
    const auto per_cpu = skel.maps.total.lookup(0);
    for (std::size_t cpu = 0; per_cpu && cpu < per_cpu->size(); ++cpu) sum += (*per_cpu)[cpu];
    std::printf("%zu (pid, syscall) pairs, %llu calls over %zu CPUs\n", rows.size(),
                static_cast<unsigned long long>(sum), per_cpu ? per_cpu->size() : 0);
    return 0;
  } catch (const corebpf::Error& error) {
    std::fprintf(stderr, "map-walk: %s\n", error.what());
    return 1;
  }
}
