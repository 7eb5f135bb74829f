// corebpf: bpftool's grammar over libcorebpf. Exit status 0 on success, 1 when the command failed,
// 2 when the command line is wrong; either failure prints one line on stderr.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "cli/grammar.hpp"
#include "cli/output.hpp"
#include "corebpf/error.hpp"
#include "corebpf/log.hpp"

namespace {

using namespace corebpf::cli;

int report(std::string_view message, int status) {
  std::fflush(stdout);
  fmt::print(stderr, "corebpf: {}\n", message);
  return status;
}

int run(int argc, char** argv) {
  const Object objects[] = {btf_object(),    core_object(), gen_object(),        prog_object(),
                            map_object(),    link_object(), feature_object(),    net_object(),
                            cgroup_object(), perf_object(), struct_ops_object(), iter_object()};
  ParsedLine line = parse_command_line(argc, argv);
  if (line.options.debug) {
    corebpf::set_log_handler(
        [](corebpf::LogLevel level, std::string_view message) {
          static constexpr std::string_view levels[] = {"debug", "info", "warning", "error"};
          fmt::print(stderr, "corebpf: {}: {}\n", levels[static_cast<int>(level)], message);
        },
        corebpf::LogLevel::debug);
  }
  Output out;
  Context context{line.options, out, objects};
  if (line.options.version) {
    line.words = {"version"};
  } else if (line.options.help) {
    // `-h` alone is the main help; after an object it is that object's help.
    line.words.resize(std::min<std::size_t>(line.words.size(), 1));
    if (!line.words.empty()) line.words.emplace_back("help");
  }
  Arguments args(std::move(line.words));
  dispatch(objects, context, args);
  out.flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    return report(e.what(), 2);
  } catch (const corebpf::Error& e) {
    return report(e.message(), 1);
  } catch (const std::bad_alloc&) {
    return report("out of memory", 1);
  } catch (const std::exception& e) {
    return report(e.what(), 1);
  }
}
