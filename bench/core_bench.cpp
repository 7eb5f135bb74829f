// CO-RE relocation speed, corebpf against libbpf (the peer), on an object with thousands of
// distinct relocations over hundreds of the running kernel's structs (tests/object/core's
// core_many.bpf.o, written by data/many_relocations.py), relocated against /sys/kernel/btf/vmlinux.
// Every figure is for the whole object; bench/run divides by the relocation count.
//
//   relocate/corebpf       open the object (ELF, BTF, .BTF.ext, linking) and relocate every
//                          program (candidate search, matching, patching) against a target BTF
//                          parsed beforehand, with fresh target caches each iteration: the
//                          candidate lists and member indexes are rebuilt every time; the BTF's
//                          name index, built with the BTF (see btf_bench's parse_index), is not.
//   relocate_warm/corebpf  relocation alone with the target's caches warm, as for the second and
//                          later objects relocated against one target.
//   relocate/libbpf        the same work in libbpf 1.1, which has no public "relocate only" call:
//                          bpf_object__open_file with btf_custom_path (the target parsed before
//                          the window, as ours is) and bpf_object__load, as root. CO-RE runs in
//                          load before any program is loaded; a print callback at debug level
//                          that only takes timestamps (it formats nothing) times the span from
//                          libbpf's "sec '...': found N CO-RE relocations" to its last "relo #"
//                          line, i.e. candidate search, matching and patching of every relocation,
//                          in the thread's CPU time, as Google Benchmark's CPU time is for ours.
//                          The object is opened beforehand, so libbpf's window is the narrower one.
//                          Programs are then loaded (untimed) and the object closed.
// The other peer, `bpftool gen min_core_btf` (libbpf's relocation calculation over the same
// object), is timed as a whole process by bench/run next to `corebpf gen min_core_btf`.
#include <benchmark/benchmark.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "corebpf/btf.hpp"
#include "corebpf/core.hpp"
#include "corebpf/error.hpp"
#include "corebpf/object_spec.hpp"

namespace {

using corebpf::ObjectSpec;
using corebpf::btf::Btf;

const char* const kVmlinux = "/sys/kernel/btf/vmlinux";

std::string object_path() {
  if (const char* path = std::getenv("COREBPF_BENCH_CORE_OBJECT")) return path;
  return COREBPF_BENCH_CORE_OBJECT;
}

std::size_t count_relocations(const ObjectSpec& object) {
  std::size_t count = 0;
  for (const auto& program : object.programs()) count += program.core_relos().size();
  return count;
}

const Btf& vmlinux() {
  static const Btf btf = [] {
    Btf parsed = Btf::load(kVmlinux);
    parsed.find("task_struct", corebpf::btf::Kind::Struct);  // builds the name index
    return parsed;
  }();
  return btf;
}

void check_all_relocated(benchmark::State& state, const std::vector<corebpf::core::ProgramRelocations>& results) {
  for (const auto& program : results)
    for (const auto& r : program.relocations)
      if (r.status != corebpf::core::Status::ok) {
        state.SkipWithError(corebpf::core::describe(program.name, r).c_str());
        return;
      }
}

void relocate_corebpf(benchmark::State& state) {
  const std::string path = object_path();
  std::size_t relocations = 0;
  for (auto _ : state) {
    ObjectSpec object = ObjectSpec::open(path);
    const corebpf::core::Target target(vmlinux());
    const auto results = corebpf::core::relocate(object, target);
    relocations = count_relocations(object);
    benchmark::DoNotOptimize(results.data());
    if (state.iterations() == 0) check_all_relocated(state, results);
  }
  state.counters["relocations"] = static_cast<double>(relocations);
}

void relocate_warm_corebpf(benchmark::State& state) {
  const ObjectSpec object = ObjectSpec::open(object_path());
  const corebpf::core::Target target(vmlinux());
  {
    ObjectSpec copy = object;
    check_all_relocated(state, corebpf::core::relocate(copy, target));
  }
  for (auto _ : state) {
    corebpf::core::Relocator relocator(*object.btf(), target);
    for (const auto& program : object.programs())
      for (const auto& record : program.core_relos()) benchmark::DoNotOptimize(relocator.compute(record));
  }
  state.counters["relocations"] = static_cast<double>(count_relocations(object));
}

// The calling thread's CPU time: what libbpf spends between two of its debug lines, whatever else
// the machine runs.
double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// libbpf's debug lines, timestamped without being formatted.
struct LibbpfWindow {
  double start = 0;
  double end = 0;
  bool started = false;
  int relocation_lines = 0;
};
LibbpfWindow window;

int timestamp_libbpf_lines(enum libbpf_print_level level, const char* format, va_list) {
  if (level != LIBBPF_DEBUG) return 0;
  const double now = thread_cpu_seconds();
  if (!window.started && std::strstr(format, "CO-RE relocations") != nullptr) {
    window.started = true;
    window.start = now;
  } else if (window.started && std::strstr(format, "relo #") != nullptr) {
    window.end = now;
    ++window.relocation_lines;
  }
  return 0;
}

void relocate_libbpf(benchmark::State& state) {
  if (::geteuid() != 0) {
    state.SkipWithError("libbpf relocates only in bpf_object__load, which needs root");
    return;
  }
  const std::string path = object_path();
  const std::size_t relocations = count_relocations(ObjectSpec::open(path));
  const auto previous = libbpf_set_print(timestamp_libbpf_lines);
  for (auto _ : state) {
    LIBBPF_OPTS(bpf_object_open_opts, options, .btf_custom_path = kVmlinux);
    bpf_object* object = bpf_object__open_file(path.c_str(), &options);
    if (object == nullptr) {
      state.SkipWithError("bpf_object__open_file failed");
      break;
    }
    window = LibbpfWindow{};
    const int err = bpf_object__load(object);
    bpf_object__close(object);
    if (err != 0 || !window.started || window.relocation_lines == 0) {
      state.SkipWithError(err != 0 ? "bpf_object__load failed" : "no CO-RE debug lines from libbpf");
      break;
    }
    state.SetIterationTime(window.end - window.start);
  }
  libbpf_set_print(previous);
  state.counters["relocations"] = static_cast<double>(relocations);
}

BENCHMARK(relocate_corebpf)->Name("relocate/corebpf")->Unit(benchmark::kMillisecond);
BENCHMARK(relocate_warm_corebpf)->Name("relocate_warm/corebpf")->Unit(benchmark::kMillisecond);
BENCHMARK(relocate_libbpf)->Name("relocate/libbpf")->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);

}  // namespace

int main(int argc, char** argv) {
  try {
    vmlinux();
    if (count_relocations(ObjectSpec::open(object_path())) == 0) {
      std::fprintf(stderr, "core_bench: %s has no CO-RE relocations\n", object_path().c_str());
      return 1;
    }
  } catch (const corebpf::Error& e) {
    std::fprintf(stderr, "core_bench: %s\n", e.what());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
