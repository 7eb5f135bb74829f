// libFuzzer: arbitrary bytes as a CLI command line (words split at NUL and newline): the global
// options parser, then the positional words through the object selectors (`id ID`, `pinned FILE`,
// `name NAME`, `tag TAG`) of programs, maps and links and keyword matching. Bad input must end in
// a UsageError or corebpf::Error, never anything else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/grammar.hpp"
#include "cli/object_select.hpp"
#include "corebpf/error.hpp"

namespace {

using namespace corebpf;

void selectors(const std::vector<std::string_view>& words) {
  for (const auto type : {kernel::ObjectType::program, kernel::ObjectType::map, kernel::ObjectType::link}) {
    cli::Arguments args(words);
    try {
      while (auto selector = cli::take_optional_selector(args, type)) {
        const auto text = cli::describe_selector(type, *selector);
        if (text.empty()) __builtin_trap();
      }
      args.expect_end();
    } catch (const cli::UsageError&) {
    } catch (const Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> storage{"corebpf"};
  std::string word;
  for (const char c : text) {
    if (c == '\0' || c == '\n') {
      storage.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  storage.push_back(word);
  if (storage.size() > 64) return 0;
  std::vector<const char*> argv;
  for (const auto& each : storage) argv.push_back(each.c_str());
  try {
    const auto line = cli::parse_command_line(static_cast<int>(argv.size()), argv.data());
    if (line.words.size() + 1 > argv.size()) __builtin_trap();
    selectors(line.words);
  } catch (const cli::UsageError&) {
  } catch (const Error&) {
  }
  static constexpr std::string_view keywords[] = {"show", "list", "dump", "pin", "attach", "detach", "di", "diff"};
  for (const auto& each : storage) {
    try {
      const auto match = cli::match_keyword(each, keywords, "verb");
      if (match.empty()) __builtin_trap();
    } catch (const cli::UsageError&) {
    }
  }
  return 0;
}
