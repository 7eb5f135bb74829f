// bpftool's command-line grammar: `corebpf [OPTIONS] OBJECT VERB ARGS...`, where OBJECT, VERB and
// every keyword may be shortened to any unique prefix (`corebpf btf d f PATH f c`). Each object is
// a table of verbs; adding an object (prog, map, link...) means adding a table to main.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli/output.hpp"

namespace corebpf::cli {

// A command line that does not follow the grammar (as opposed to a command that failed).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `word` itself when it is one of `keywords`, else the only keyword it is a prefix of. Throws
// UsageError naming `what` ("object", "format"...) and the candidates when there is none or more
// than one.
std::string_view match_keyword(std::string_view word, std::span<const std::string_view> keywords,
                               std::string_view what);

struct GlobalOptions {
  bool json = false;
  bool pretty = false;  // implies json
  bool debug = false;
  bool version = false;
  bool help = false;
  bool bpffs = false;    // -f/--bpffs: show where prog/map/link objects are pinned
  std::string base_btf;  // -B/--base-btf FILE: base for split BTF, as bpftool takes it
};

// Separates the global options (anywhere on the line, as bpftool's getopt allows, until "--")
// from the positional words. Short flags combine (`-jp`); long options take unique prefixes;
// -B/--base-btf takes the next word (or `-BFILE`, `--base-btf=FILE`).
struct ParsedLine {
  GlobalOptions options;
  std::vector<std::string_view> words;
};
ParsedLine parse_command_line(int argc, const char* const* argv);

// The positional words still to be consumed by a verb.
class Arguments {
 public:
  explicit Arguments(std::vector<std::string_view> words) : words_(std::move(words)) {}

  bool empty() const { return next_ >= words_.size(); }
  std::string_view peek() const { return empty() ? std::string_view() : words_[next_]; }
  // The next word; UsageError "missing <what>" when there is none.
  std::string_view take(std::string_view what);
  // The next word resolved by match_keyword.
  std::string_view take_keyword(std::span<const std::string_view> keywords, std::string_view what);
  // The next word as a decimal id.
  std::uint32_t take_id(std::string_view what);
  // UsageError when words are left over.
  void expect_end() const;

 private:
  std::vector<std::string_view> words_;
  std::size_t next_ = 0;
};

struct Context;

struct Verb {
  std::string_view name;
  void (*run)(Context& context, Arguments& args);
  // Usage lines after "corebpf OBJECT ", e.g. "dump file PATH [format FORMAT]"; empty for an alias
  // already described by another verb's line.
  std::string_view usage;
  // The shortest prefix that selects this verb: a verb added beside one bpftool users abbreviate
  // (`btf d` is dump; diff needs `di`) must not make their prefix ambiguous.
  std::size_t min_prefix = 1;
};

struct Object {
  std::string_view name;
  std::span<const Verb> verbs;
  // Definitions of the metavariables the usage lines use ("FORMAT := { raw | c | json }").
  std::string_view definitions;
  // One line for the man page's NAME ("inspect, load and pin BPF programs"); empty: a generic one.
  std::string_view summary = {};
};

struct Context {
  GlobalOptions options;
  Output& out;
  // Every object of the grammar, for the commands that describe it (gen completion, gen man).
  std::span<const Object> objects{};
};

// Resolves OBJECT and VERB from `args` and runs the verb. "help" (or nothing) after an object
// prints that object's help; "help" or nothing at all prints the main help.
void dispatch(std::span<const Object> objects, Context& context, Arguments& args);

void print_main_help(std::span<const Object> objects, Output& out);
// The global options as the main help lists them, one "{-j|--json}: meaning" pair each.
struct OptionHelp {
  std::string_view spelling;  // "-j, --json"
  std::string_view meaning;
};
std::span<const OptionHelp> option_help();
void print_object_help(const Object& object, Output& out);

}  // namespace corebpf::cli
