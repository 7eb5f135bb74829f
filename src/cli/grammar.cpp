#include "cli/grammar.hpp"

#include <fmt/format.h>

#include <charconv>

namespace corebpf::cli {
namespace {

constexpr std::string_view kHelp = "help";
constexpr std::string_view kVersion = "version";

struct LongOption {
  std::string_view name;
  bool GlobalOptions::*flag;
};
constexpr LongOption kLongOptions[] = {
    {"--json", &GlobalOptions::json},       {"--pretty", &GlobalOptions::pretty}, {"--debug", &GlobalOptions::debug},
    {"--version", &GlobalOptions::version}, {"--help", &GlobalOptions::help},     {"--bpffs", &GlobalOptions::bpffs},
};

bool GlobalOptions::*short_option(char letter) {
  switch (letter) {
    case 'j':
      return &GlobalOptions::json;
    case 'p':
      return &GlobalOptions::pretty;
    case 'd':
      return &GlobalOptions::debug;
    case 'V':
      return &GlobalOptions::version;
    case 'h':
      return &GlobalOptions::help;
    case 'f':
      return &GlobalOptions::bpffs;
    default:
      return nullptr;
  }
}

constexpr std::string_view kBaseBtfOption = "--base-btf";

// The word after option argv[i], which it consumes.
std::string_view option_value(int argc, const char* const* argv, int& i, std::string_view option) {
  if (i + 1 >= argc) throw UsageError(fmt::format("option '{}' needs a value", option));
  return argv[++i];
}

}  // namespace

std::string_view match_keyword(std::string_view word, std::span<const std::string_view> keywords,
                               std::string_view what) {
  std::vector<std::string_view> candidates;
  for (const std::string_view keyword : keywords) {
    if (keyword == word) return keyword;
    if (!word.empty() && keyword.starts_with(word)) candidates.push_back(keyword);
  }
  if (candidates.size() == 1) return candidates.front();
  if (candidates.empty())
    throw UsageError(fmt::format("unknown {} '{}' (expected {})", what, word,
                                 keywords.size() == 1 ? fmt::format("'{}'", keywords.front())
                                                      : fmt::format("one of: {}", fmt::join(keywords, ", "))));
  throw UsageError(fmt::format("ambiguous {} '{}': could be {}", what, word, fmt::join(candidates, ", ")));
}

ParsedLine parse_command_line(int argc, const char* const* argv) {
  ParsedLine line;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      line.words.push_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg.starts_with("--")) {
      const std::size_t equals = arg.find('=');
      std::vector<std::string_view> names;
      for (const LongOption& option : kLongOptions) names.push_back(option.name);
      names.push_back(kBaseBtfOption);
      const std::string_view name = match_keyword(arg.substr(0, equals), names, "option");
      if (name == kBaseBtfOption) {
        line.options.base_btf = equals != std::string_view::npos ? std::string(arg.substr(equals + 1))
                                                                 : std::string(option_value(argc, argv, i, name));
        continue;
      }
      if (equals != std::string_view::npos) throw UsageError(fmt::format("option '{}' takes no value", name));
      for (const LongOption& option : kLongOptions)
        if (option.name == name) line.options.*option.flag = true;
    } else {
      for (std::size_t k = 1; k < arg.size(); ++k) {
        if (arg[k] == 'B') {
          line.options.base_btf =
              k + 1 < arg.size() ? std::string(arg.substr(k + 1)) : std::string(option_value(argc, argv, i, "-B"));
          break;
        }
        const auto flag = short_option(arg[k]);
        if (flag == nullptr) throw UsageError(fmt::format("unknown option '-{}'", arg[k]));
        line.options.*flag = true;
      }
    }
  }
  if (line.options.pretty) line.options.json = true;
  return line;
}

std::string_view Arguments::take(std::string_view what) {
  if (empty()) throw UsageError(fmt::format("missing {}", what));
  return words_[next_++];
}

std::string_view Arguments::take_keyword(std::span<const std::string_view> keywords, std::string_view what) {
  if (empty()) throw UsageError(fmt::format("missing {} (one of: {})", what, fmt::join(keywords, ", ")));
  return match_keyword(words_[next_++], keywords, what);
}

std::uint32_t Arguments::take_id(std::string_view what) {
  const std::string_view word = take(what);
  std::uint32_t id = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), id);
  if (ec != std::errc() || end != word.data() + word.size())
    throw UsageError(fmt::format("{} '{}' is not a number", what, word));
  return id;
}

void Arguments::expect_end() const {
  if (!empty()) throw UsageError(fmt::format("unexpected argument '{}'", peek()));
}

void dispatch(std::span<const Object> objects, Context& context, Arguments& args) {
  if (args.empty()) {
    print_main_help(objects, context.out);
    return;
  }
  std::vector<std::string_view> object_names;
  for (const Object& object : objects) object_names.push_back(object.name);
  object_names.push_back(kHelp);
  object_names.push_back(kVersion);
  const std::string_view object_name = args.take_keyword(object_names, "object");
  if (object_name == kHelp) {
    print_main_help(objects, context.out);
    return;
  }
  if (object_name == kVersion) {
    args.expect_end();
    context.out.print("corebpf v{}\n", COREBPF_VERSION);
    return;
  }
  const Object* object = nullptr;
  for (const Object& candidate : objects)
    if (candidate.name == object_name) object = &candidate;

  if (args.empty()) {
    print_object_help(*object, context.out);
    return;
  }
  std::vector<std::string_view> verb_names;
  const std::string_view word = args.peek();
  for (const Verb& verb : object->verbs) {
    if (verb.name != word && word.size() < verb.min_prefix && verb.name.starts_with(word)) continue;
    verb_names.push_back(verb.name);
  }
  verb_names.push_back(kHelp);
  const std::string_view verb_name = args.take_keyword(verb_names, fmt::format("{} command", object->name));
  if (verb_name == kHelp) {
    print_object_help(*object, context.out);
    return;
  }
  for (const Verb& verb : object->verbs) {
    if (verb.name == verb_name) {
      verb.run(context, args);
      return;
    }
  }
}

std::span<const OptionHelp> option_help() {
  static constexpr OptionHelp options[] = {
      {"-j, --json", "JSON output"},
      {"-p, --pretty", "JSON output, indented (implies --json)"},
      {"-d, --debug", "the library's debug messages on stderr (the verifier's log included)"},
      {"-B, --base-btf FILE", "the base BTF of split BTF (a kernel module's), as bpftool takes it"},
      {"-V, --version", "the version"},
      {"-h, --help", "the help of the object named, or the main help"},
  };
  return options;
}

void print_main_help(std::span<const Object> objects, Output& out) {
  std::vector<std::string_view> names;
  for (const Object& object : objects) names.push_back(object.name);
  out.print(
      "Usage: corebpf [OPTIONS] OBJECT {{ COMMAND | help }}\n"
      "       corebpf version\n"
      "\n"
      "       OBJECT := {{ {} }}\n"
      "       OPTIONS := {{ {{-j|--json}} [{{-p|--pretty}}] | {{-d|--debug}} | {{-B|--base-btf}} FILE |\n"
      "                    {{-f|--bpffs}} | {{-V|--version}} | {{-h|--help}} }}\n"
      "\n"
      "Objects, commands and keywords may be shortened to any unique prefix.\n",
      fmt::join(names, " | "));
}

void print_object_help(const Object& object, Output& out) {
  std::string_view lead = "Usage:";
  for (const Verb& verb : object.verbs) {
    if (verb.usage.empty()) continue;
    out.print("{} corebpf {} {}\n", lead, object.name, verb.usage);
    lead = "      ";
  }
  out.print("{} corebpf {} help\n", lead, object.name);
  if (!object.definitions.empty()) out.print("\n{}", object.definitions);
}

}  // namespace corebpf::cli
