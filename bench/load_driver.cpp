// One CO-RE load in a fresh process, for bench/run's peak-RSS and cold-load rows: built twice,
// as load_driver_corebpf (corebpf::Object) and load_driver_libbpf (libbpf), each linking only its
// own library. Usage: load_driver_X OBJECT [attach]. Opens and loads OBJECT (CO-RE relocated
// against /sys/kernel/btf/vmlinux), attaches every program with `attach`, and prints
//   seconds=<wall time of open+load(+attach)> cpu_seconds=<user+system CPU time of that window>
//   peak_rss_kib=<getrusage ru_maxrss>
// The peak is taken while the object is still loaded.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#ifdef LOAD_DRIVER_COREBPF
#include "corebpf/error.hpp"
#include "corebpf/link.hpp"
#include "corebpf/object.hpp"
#else
#include <bpf/libbpf.h>
#endif

namespace {

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OBJECT [attach]\n", argv[0]);
    return 2;
  }
  const bool attach = argc > 2 && std::strcmp(argv[2], "attach") == 0;
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
#ifdef LOAD_DRIVER_COREBPF
  try {
    corebpf::Object object = corebpf::Object::open(argv[1]);
    object.load();
    std::vector<corebpf::Link> links;
    if (attach) {
      for (const auto& program : object.spec().programs()) links.push_back(object.program(program.name()).attach());
    }
#else
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
  bpf_object* object = bpf_object__open_file(argv[1], nullptr);
  if (object == nullptr || bpf_object__load(object) != 0) {
    std::fprintf(stderr, "libbpf: opening or loading %s failed\n", argv[1]);
    return 1;
  }
  std::vector<bpf_link*> links;
  if (attach) {
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, object) {
      bpf_link* link = bpf_program__attach(program);
      if (link == nullptr) {
        std::fprintf(stderr, "libbpf: attaching %s failed\n", bpf_program__name(program));
        return 1;
      }
      links.push_back(link);
    }
  }
  {
#endif
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    std::printf("seconds=%.9f cpu_seconds=%.6f peak_rss_kib=%ld\n", seconds, cpu, usage.ru_maxrss);
#ifdef LOAD_DRIVER_COREBPF
  } catch (const corebpf::Error& error) {
    std::fprintf(stderr, "corebpf: %s\n", error.what());
    return 1;
  }
#else
  }
  for (bpf_link* link : links) bpf_link__destroy(link);
  bpf_object__close(object);
#endif
  return 0;
}
