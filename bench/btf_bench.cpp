// corebpf's BTF reader against libbpf (the peer) on the running kernel's BTF:
//   parse/*        load and validate /sys/kernel/btf/vmlinux;
//   parse_index/*  the same and look one name up (for corebpf that builds its name index; libbpf
//                  has none and scans);
//   lookup/*       one exact name+kind lookup per iteration, cycling through 10,000 names sampled
//                  from the BTF itself (structs, typedefs, enums, ints). libbpf's lookup is a linear
//                  scan, so Google Benchmark runs it for fewer iterations; times are per lookup.
#include <benchmark/benchmark.h>
#include <bpf/btf.h>
#include <linux/btf.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"

namespace {

using corebpf::btf::Btf;
using corebpf::btf::Kind;

const char* const kVmlinux = "/sys/kernel/btf/vmlinux";
constexpr std::size_t kSampleSize = 10000;

struct NamedType {
  std::string name;
  Kind kind;
};

int libbpf_kind(Kind kind) { return static_cast<int>(kind); }  // Kind values are BTF_KIND_* numbers

// The same names every run: a fixed seed over the BTF's own named structs, typedefs, enums and ints.
const std::vector<NamedType>& sample_names() {
  static const std::vector<NamedType> sample = [] {
    auto btf = Btf::load(kVmlinux);
    std::vector<NamedType> candidates;
    for (corebpf::btf::TypeId id = 1; id < btf.type_count(); ++id) {
      auto type = btf.type(id);
      const auto kind = type.kind();
      if (type.name().empty()) continue;
      if (kind == Kind::Struct || kind == Kind::Typedef || kind == Kind::Enum || kind == Kind::Int)
        candidates.push_back({std::string(type.name()), kind});
    }
    std::mt19937_64 rng(20240601);
    std::vector<NamedType> picked;
    picked.reserve(kSampleSize);
    for (std::size_t i = 0; i < kSampleSize; ++i) picked.push_back(candidates[rng() % candidates.size()]);
    return picked;
  }();
  return sample;
}

void parse_corebpf(benchmark::State& state) {
  for (auto _ : state) {
    auto btf = Btf::load(kVmlinux);
    benchmark::DoNotOptimize(btf.type_count());
  }
}

void parse_libbpf(benchmark::State& state) {
  for (auto _ : state) {
    struct btf* btf = btf__parse(kVmlinux, nullptr);
    if (btf == nullptr) {
      state.SkipWithError("btf__parse failed");
      break;
    }
    benchmark::DoNotOptimize(btf__type_cnt(btf));
    btf__free(btf);
  }
}

void parse_index_corebpf(benchmark::State& state) {
  for (auto _ : state) {
    auto btf = Btf::load(kVmlinux);
    auto task = btf.find("task_struct", Kind::Struct);
    if (!task) state.SkipWithError("task_struct not found");
    benchmark::DoNotOptimize(task);
  }
}

void parse_index_libbpf(benchmark::State& state) {
  for (auto _ : state) {
    struct btf* btf = btf__parse(kVmlinux, nullptr);
    if (btf == nullptr) {
      state.SkipWithError("btf__parse failed");
      break;
    }
    const int id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
    if (id <= 0) state.SkipWithError("task_struct not found");
    benchmark::DoNotOptimize(id);
    btf__free(btf);
  }
}

void lookup_corebpf(benchmark::State& state) {
  const auto& names = sample_names();
  auto btf = Btf::load(kVmlinux);
  btf.find("task_struct");  // builds the name index outside the timed loop
  std::size_t next = 0;
  for (auto _ : state) {
    const auto& wanted = names[next];
    next = next + 1 == names.size() ? 0 : next + 1;
    auto found = btf.find(wanted.name, wanted.kind);
    if (!found) state.SkipWithError(("not found: " + wanted.name).c_str());
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}

void lookup_libbpf(benchmark::State& state) {
  const auto& names = sample_names();
  struct btf* btf = btf__parse(kVmlinux, nullptr);
  if (btf == nullptr) {
    state.SkipWithError("btf__parse failed");
    return;
  }
  std::size_t next = 0;
  for (auto _ : state) {
    const auto& wanted = names[next];
    next = next + 1 == names.size() ? 0 : next + 1;
    const int id = btf__find_by_name_kind(btf, wanted.name.c_str(), libbpf_kind(wanted.kind));
    if (id <= 0) state.SkipWithError(("not found: " + wanted.name).c_str());
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
  btf__free(btf);
}

BENCHMARK(parse_corebpf)->Name("parse/corebpf")->Unit(benchmark::kMillisecond);
BENCHMARK(parse_libbpf)->Name("parse/libbpf")->Unit(benchmark::kMillisecond);
BENCHMARK(parse_index_corebpf)->Name("parse_index/corebpf")->Unit(benchmark::kMillisecond);
BENCHMARK(parse_index_libbpf)->Name("parse_index/libbpf")->Unit(benchmark::kMillisecond);
BENCHMARK(lookup_corebpf)->Name("lookup/corebpf")->Unit(benchmark::kNanosecond);
BENCHMARK(lookup_libbpf)->Name("lookup/libbpf")->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  try {
    sample_names();  // fail early and clearly when the BTF cannot be read
  } catch (const corebpf::Error& e) {
    std::fprintf(stderr, "btf_bench: %s\n", e.what());
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
