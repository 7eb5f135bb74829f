// corebpf-skeleton-bootstrap: `corebpf gen skeleton` for building the corebpf command itself. The
// command embeds BPF objects of its own (the pids iterator) through generated skeletons, so their
// headers must exist before it does; this small program makes them with the same generator.
//
//   corebpf-skeleton-bootstrap gen skeleton OBJECT [name NAME] [type TYPE]... > OBJECT.skel.hpp
//
// The leading "gen skeleton" makes its command line the CLI's, so corebpf_add_bpf() can run it
// in the CLI's place.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "corebpf/error.hpp"
#include "corebpf/skeleton_gen.hpp"
#include "util/file_bytes.hpp"

int main(int argc, char** argv) {
  if (argc < 4 || std::string_view(argv[1]) != "gen" || std::string_view(argv[2]) != "skeleton") {
    fmt::print(stderr, "usage: {} gen skeleton OBJECT [name NAME] [type TYPE]...\n", argv[0]);
    return 2;
  }
  try {
    const std::string path = argv[3];
    corebpf::SkeletonOptions options;
    for (int i = 4; i < argc; i += 2) {
      const std::string_view keyword = argv[i];
      if (i + 1 >= argc || (keyword != "name" && keyword != "type")) {
        fmt::print(stderr, "corebpf-skeleton-bootstrap: unexpected '{}' (name NAME or type TYPE)\n", keyword);
        return 2;
      }
      if (keyword == "name") {
        options.name = argv[i + 1];
      } else {
        options.types.emplace_back(argv[i + 1]);
      }
    }
    const auto file = corebpf::util::FileBytes::open(path);
    std::string header;
    corebpf::generate_skeleton(file.bytes(), path, options, [&](std::string_view chunk) { header.append(chunk); });
    if (std::fwrite(header.data(), 1, header.size(), stdout) != header.size() || std::fflush(stdout) != 0) {
      fmt::print(stderr, "corebpf-skeleton-bootstrap: writing the skeleton of {} failed\n", path);
      return 1;
    }
    return 0;
  } catch (const corebpf::Error& e) {
    fmt::print(stderr, "corebpf-skeleton-bootstrap: {}\n", e.message());
  } catch (const std::exception& e) {
    fmt::print(stderr, "corebpf-skeleton-bootstrap: {}\n", e.what());
  }
  return 1;
}
