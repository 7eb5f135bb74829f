// Loading a whole object, corebpf against libbpf (the peer), in one process: bench/bpf's
// many_programs.bpf.o (50 tracepoint programs with CO-RE reads of task_struct, three maps, global
// data) relocated against the running kernel and loaded, and optionally every program attached.
//
//   load/corebpf         corebpf::Object::open + load
//   load/libbpf          bpf_object__open_file + bpf_object__load
//   load_attach/corebpf  the same, then Program::attach() of all 50 programs
//   load_attach/libbpf   the same, then bpf_program__attach() of all 50 programs
//
// Manual time, in the process's CPU time (user and kernel: the verifier runs in the loading
// thread, and CPU time is the steadier figure on a machine shared with builds). The object is
// closed (programs unloaded, links destroyed) outside the window. Each library keeps what it keeps
// between objects in one process: corebpf parses the kernel's BTF once per process, libbpf once per
// bpf_object__load; bench/run's load_driver rows time one load in a fresh process for both.
#include <benchmark/benchmark.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/link.hpp"
#include "corebpf/object.hpp"

namespace {

const char* object_path() {
  if (const char* path = std::getenv("COREBPF_BENCH_LOAD_OBJECT")) return path;
  return LOAD_BENCH_OBJECT;
}

double cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

int quiet(enum libbpf_print_level, const char*, va_list) { return 0; }

void load_corebpf(benchmark::State& state, bool attach) {
  std::size_t programs = 0;
  for (auto _ : state) {
    const double start = cpu_seconds();
    try {
      corebpf::Object object = corebpf::Object::open(object_path());
      object.load();
      std::vector<corebpf::Link> links;
      if (attach) {
        for (const auto& program : object.spec().programs()) links.push_back(object.program(program.name()).attach());
      }
      state.SetIterationTime(cpu_seconds() - start);
      programs = object.spec().programs().size();
    } catch (const corebpf::Error& error) {
      state.SkipWithError(error.what());
      return;
    }
  }
  state.counters["programs"] = static_cast<double>(programs);
}

void load_libbpf(benchmark::State& state, bool attach) {
  libbpf_set_print(quiet);
  std::size_t programs = 0;
  for (auto _ : state) {
    const double start = cpu_seconds();
    bpf_object* object = bpf_object__open_file(object_path(), nullptr);
    if (object == nullptr || bpf_object__load(object) != 0) {
      bpf_object__close(object);
      state.SkipWithError("libbpf: open or load failed (root?)");
      return;
    }
    std::vector<bpf_link*> links;
    bpf_program* program = nullptr;
    programs = 0;
    bool failed = false;
    bpf_object__for_each_program(program, object) {
      ++programs;
      if (!attach) continue;
      bpf_link* link = bpf_program__attach(program);
      if (link == nullptr) failed = true;
      links.push_back(link);
    }
    state.SetIterationTime(cpu_seconds() - start);
    for (bpf_link* link : links) bpf_link__destroy(link);
    bpf_object__close(object);
    if (failed) {
      state.SkipWithError("libbpf: bpf_program__attach failed");
      return;
    }
  }
  state.counters["programs"] = static_cast<double>(programs);
}

}  // namespace

BENCHMARK_CAPTURE(load_corebpf, plain, false)->Name("load/corebpf")->UseManualTime()->MinTime(2);
BENCHMARK_CAPTURE(load_libbpf, plain, false)->Name("load/libbpf")->UseManualTime()->MinTime(2);
// Detaching 50 tracepoint programs waits for RCU grace periods (wall time, not CPU): few iterations.
BENCHMARK_CAPTURE(load_corebpf, attach, true)->Name("load_attach/corebpf")->UseManualTime()->Iterations(10);
BENCHMARK_CAPTURE(load_libbpf, attach, true)->Name("load_attach/libbpf")->UseManualTime()->Iterations(10);

BENCHMARK_MAIN();
