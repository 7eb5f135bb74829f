// Skeleton::open()+load() against libbpf's generated __open_and_load() for the same object
// (bench/bpf/many_programs.bpf.o: 50 CO-RE programs), for bench/run. Built once per library:
// skel_driver_corebpf (many_programs.skel.hpp from `corebpf gen skeleton`), skel_driver_libbpf
// (Debian's bpftool 7.1 skeleton on libbpf 1.1) and, when the peers are present,
// skel_driver_libbpf17 (bpftool 7.7.0 on libbpf 1.7). Usage: skel_driver_X [N]: N open+load+
// destroy cycles in this process; prints the first cycle's wall and CPU time (what a fresh
// process pays) and the mean of the others (in-process, warm):
//   first_seconds=... first_cpu_seconds=... warm_seconds=... warm_cpu_seconds=...
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#ifdef SKEL_DRIVER_COREBPF
#include "corebpf/error.hpp"
#include "many_programs.skel.hpp"
#else
#include <bpf/libbpf.h>

#include "many_programs.skel.h"
#endif

namespace {

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// One open+load+destroy; false when it failed.
bool cycle() {
#ifdef SKEL_DRIVER_COREBPF
  try {
    auto skel = many_programs::Skeleton::open();
    skel.load();
  } catch (const corebpf::Error& error) {
    std::fprintf(stderr, "corebpf: %s\n", error.what());
    return false;
  }
  return true;
#else
  many_programs* skel = many_programs__open_and_load();
  if (skel == nullptr) {
    std::fprintf(stderr, "libbpf: many_programs__open_and_load failed\n");
    return false;
  }
  many_programs__destroy(skel);
  return true;
#endif
}

}  // namespace

int main(int argc, char** argv) {
#ifndef SKEL_DRIVER_COREBPF
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
#endif
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 1;
  double first_wall = 0, first_cpu = 0, warm_wall = 0, warm_cpu = 0;
  for (int i = 0; i < cycles; ++i) {
    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    if (!cycle()) return 1;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    if (i == 0) {
      first_wall = wall;
      first_cpu = cpu;
    } else {
      warm_wall += wall;
      warm_cpu += cpu;
    }
  }
  const int warm = cycles > 1 ? cycles - 1 : 1;
  std::printf("first_seconds=%.9f first_cpu_seconds=%.6f warm_seconds=%.9f warm_cpu_seconds=%.6f\n", first_wall,
              first_cpu, warm_wall / warm, warm_cpu / warm);
  return 0;
}
