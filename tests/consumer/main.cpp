// A consumer of an installed corebpf: the skeleton of minimal.bpf.c, loaded and attached; three
// getpid() calls must show in .bss and in the typed map. Exit status 0 when they do.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include "minimal.skel.hpp"

int main() {
  try {
    const auto pid = static_cast<std::uint32_t>(::getpid());
    auto skel = minimal::Skeleton::open();
    skel.rodata().filter_pid = static_cast<int>(pid);
    skel.load();
    skel.attach();
    for (int i = 0; i < 3; ++i) ::syscall(SYS_getpid);
    const auto count = skel.maps.counts.lookup(pid);
    std::printf("hits %llu, map %llu\n", static_cast<unsigned long long>(skel.bss().hits),
                static_cast<unsigned long long>(count ? count->calls : 0));
    return skel.bss().hits == 3 && count && count->calls == 3 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minimal: %s\n", e.what());
    return 2;
  }
}
