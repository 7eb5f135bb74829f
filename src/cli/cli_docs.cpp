#include "cli/cli_docs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>

#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

bool is_keyword(std::string_view token) {
  return !token.empty() && std::islower(static_cast<unsigned char>(token.front())) &&
         std::all_of(token.begin(), token.end(), [](char c) {
           return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                  c == '_';
         });
}

bool is_metavariable(std::string_view token) {
  return !token.empty() && std::isupper(static_cast<unsigned char>(token.front())) &&
         std::all_of(token.begin(), token.end(), [](char c) {
           return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                  c == '_';
         });
}

// The words of a usage line, without the grammar's punctuation.
std::vector<std::string_view> tokens(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const auto separator = [](char c) { return std::string_view(" \t{}[]|.,()'\"").find(c) != std::string_view::npos; };
  while (i < text.size()) {
    while (i < text.size() && separator(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !separator(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// Views into `text`, which outlives them (the grammar's tables are static).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// The usage lines of `verb`, each after "corebpf OBJECT ".
std::vector<std::string> usage_lines(const Object& object, std::string_view usage) {
  std::vector<std::string> out;
  const std::string prefix = fmt::format("corebpf {} ", object.name);
  for (const std::string_view line : lines_of(usage)) {
    std::string_view text = trim(line);
    if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
    if (!text.empty()) out.emplace_back(text);
  }
  return out;
}

// The keywords a definition "NAME := { id ID | pinned FILE }" offers (those in its braces).
std::vector<std::string_view> definition_keywords(const Object& object, std::string_view name, bool& takes_files) {
  std::vector<std::string_view> out;
  for (const std::string_view line : lines_of(object.definitions)) {
    // "NAME := ...", the := aligned with the other definitions' ("FORMAT  := { raw | c | json }").
    const std::string_view text = trim(line);
    if (!text.starts_with(name)) continue;
    const std::string_view rest = trim(text.substr(name.size()));
    if (!rest.starts_with(":=")) continue;
    const std::string_view body = trim(rest.substr(2));
    if (!body.starts_with("{")) continue;
    for (const std::string_view token : tokens(body)) {
      if (is_keyword(token)) out.push_back(token);
      if (token == "FILE" || token == "PATH" || token == "DIR") takes_files = true;
    }
  }
  return out;
}

constexpr std::string_view kFileMetavariables[] = {"FILE",   "PATH", "DIR",     "OBJ",    "OBJECT", "INPUT",
                                                   "OUTPUT", "BTF",  "ARCHIVE", "CGROUP", "ROOT",   "LINK_DIR"};

}  // namespace

std::vector<VerbDoc> describe_verbs(const Object& object) {
  std::vector<VerbDoc> out;
  for (const Verb& verb : object.verbs) {
    VerbDoc doc{verb.name, usage_lines(object, verb.usage), {}, false};
    if (doc.usage.empty()) {
      // An alias: the line of the verb whose leading "{ a | b }" names it.
      for (const Verb& other : object.verbs) {
        for (const std::string& line : usage_lines(object, other.usage)) {
          if (!line.starts_with("{")) continue;
          const std::string_view group = std::string_view(line).substr(0, line.find('}'));
          const auto words = tokens(group);
          if (std::find(words.begin(), words.end(), verb.name) != words.end()) doc.usage.push_back(line);
        }
      }
    }
    std::set<std::string_view> seen;
    std::set<std::string_view> verb_names;
    for (const Verb& other : object.verbs) verb_names.insert(other.name);
    for (const std::string& line : doc.usage) {
      bool leading = true;  // the verb's own name (or its alias group) opens the line
      for (const std::string_view token : tokens(line)) {
        if (leading && verb_names.contains(token)) continue;
        leading = false;
        if (token == "corebpf" || token == object.name) continue;
        if (is_keyword(token)) {
          if (seen.insert(token).second) doc.keywords.emplace_back(token);
        } else if (is_metavariable(token)) {
          if (std::find(std::begin(kFileMetavariables), std::end(kFileMetavariables), token) !=
              std::end(kFileMetavariables))
            doc.takes_files = true;
          for (const std::string_view keyword : definition_keywords(object, token, doc.takes_files))
            if (seen.insert(keyword).second) doc.keywords.emplace_back(keyword);
        }
      }
    }
    out.push_back(std::move(doc));
  }
  return out;
}

std::string bash_completion(std::span<const Object> objects) {
  std::vector<std::string_view> object_names;
  for (const Object& object : objects) object_names.push_back(object.name);
  std::vector<std::string_view> options;
  for (const OptionHelp& option : option_help())
    for (const std::string_view word : tokens(option.spelling))
      if (word.starts_with("-")) options.push_back(word);

  std::string script = fmt::format(
      "# bash completion for corebpf(8). Generated from the CLI's grammar by `corebpf gen completion bash`;\n"
      "# do not edit.\n"
      "\n"
      "# The one of the candidates (after the word) that `$1` names: itself, or the only one it is a\n"
      "# prefix of, as the CLI resolves abbreviations.\n"
      "_corebpf_resolve() {{\n"
      "    local word=$1 hit= count=0 candidate\n"
      "    shift\n"
      "    for candidate in \"$@\"; do\n"
      "        if [[ $candidate == \"$word\" ]]; then echo \"$candidate\"; return; fi\n"
      "        if [[ $candidate == \"$word\"* ]]; then hit=$candidate; ((count++)); fi\n"
      "    done\n"
      "    ((count == 1)) && echo \"$hit\"\n"
      "}}\n"
      "\n"
      "_corebpf() {{\n"
      "    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} i word\n"
      "    local -a positional=()\n"
      "    COMPREPLY=()\n"
      "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "        word=${{COMP_WORDS[i]}}\n"
      "        case $word in\n"
      "            -B | --base-btf) ((i++)) ;;\n"
      "            -?*) ;;\n"
      "            *) positional+=(\"$word\") ;;\n"
      "        esac\n"
      "    done\n"
      "    if [[ $prev == -B || $prev == --base-btf ]]; then\n"
      "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "        return\n"
      "    fi\n"
      "    if [[ $cur == -* ]]; then\n"
      "        COMPREPLY=($(compgen -W '{}' -- \"$cur\"))\n"
      "        return\n"
      "    fi\n"
      "    if ((${{#positional[@]}} == 0)); then\n"
      "        COMPREPLY=($(compgen -W '{} help version' -- \"$cur\"))\n"
      "        return\n"
      "    fi\n"
      "    local object verb words= files=0\n"
      "    object=$(_corebpf_resolve \"${{positional[0]}}\" {})\n"
      "    case $object in\n",
      fmt::join(options, " "), fmt::join(object_names, " "), fmt::join(object_names, " "));
  for (const Object& object : objects) {
    const std::vector<VerbDoc> verbs = describe_verbs(object);
    std::vector<std::string_view> verb_names;
    for (const VerbDoc& verb : verbs) verb_names.push_back(verb.name);
    script += fmt::format(
        "        {})\n"
        "            if ((${{#positional[@]}} == 1)); then\n"
        "                COMPREPLY=($(compgen -W '{} help' -- \"$cur\"))\n"
        "                return\n"
        "            fi\n"
        "            verb=$(_corebpf_resolve \"${{positional[1]}}\" {})\n"
        "            case $verb in\n",
        object.name, fmt::join(verb_names, " "), fmt::join(verb_names, " "));
    for (const VerbDoc& verb : verbs) {
      script += fmt::format("                {}) words='{}'; files={} ;;\n", verb.name, fmt::join(verb.keywords, " "),
                            verb.takes_files ? 1 : 0);
    }
    script += "            esac\n            ;;\n";
  }
  script +=
      "        *) return ;;\n"
      "    esac\n"
      "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "    if ((files)); then\n"
      "        compopt -o filenames 2>/dev/null\n"
      "        COMPREPLY+=($(compgen -f -- \"$cur\"))\n"
      "    fi\n"
      "}\n"
      "complete -F _corebpf corebpf\n";
  return script;
}

namespace {

// Text for roff: backslashes and minus signs spelled out, and no line that starts as a request.
std::string roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (const char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string page_name(const Object& object) { return fmt::format("corebpf-{}", object.name); }

void options_section(std::string& page) {
  page += ".SH OPTIONS\n";
  for (const OptionHelp& option : option_help())
    page += fmt::format(".TP\n.B {}\n{}\n", roff(option.spelling), roff(option.meaning));
  page +=
      ".PP\nOptions may appear anywhere on the line, until\n.BR \\-\\- .\n"
      "Objects, commands and keywords may be shortened to any unique prefix.\n";
}

void see_also(std::string& page, std::span<const Object> objects, const Object* self) {
  page += ".SH SEE ALSO\n";
  std::vector<std::string> refs;
  if (self != nullptr) refs.push_back(".BR corebpf (8)");
  for (const Object& object : objects)
    if (&object != self) refs.push_back(fmt::format(".BR {} (8)", roff(page_name(object))));
  refs.push_back(".BR bpftool (8)");
  for (std::size_t i = 0; i < refs.size(); ++i) page += refs[i] + (i + 1 < refs.size() ? ",\n" : "\n");
}

}  // namespace

std::string man_page(std::span<const Object> objects, const Object* object) {
  const std::string title = object == nullptr ? "COREBPF" : upper(page_name(*object));
  std::string page = fmt::format(
      ".\\\" Generated from corebpf's command grammar by `corebpf gen man`; do not edit.\n"
      ".TH {} 8 \"\" \"corebpf {}\" \"System Manager's Manual\"\n"
      ".SH NAME\n",
      title, COREBPF_VERSION);
  if (object == nullptr) {
    page += "corebpf \\- inspect and manage BPF programs, maps, links and BTF; CO\\-RE tools\n";
    page += ".SH SYNOPSIS\n.B corebpf\n[\\fIOPTIONS\\fR] \\fIOBJECT\\fR { \\fICOMMAND\\fR | \\fBhelp\\fR }\n.br\n";
    page += ".B corebpf version\n";
    page +=
        ".SH DESCRIPTION\n"
        "corebpf is a native C++ toolkit for eBPF CO\\-RE with bpftool's grammar. Each OBJECT has its own page:\n";
    page += ".TP\n.I OBJECT\n";
    std::vector<std::string_view> names;
    for (const Object& each : objects) names.push_back(each.name);
    page += fmt::format("{{ {} }}\n", fmt::join(names, " | "));
    for (const Object& each : objects) {
      page += fmt::format(".TP\n.BR {} (8)\n{}\n", roff(page_name(each)),
                          each.summary.empty() ? fmt::format("the {} commands", each.name) : roff(each.summary));
    }
    options_section(page);
    page += ".SH EXIT STATUS\n0 on success, 1 when the command failed, 2 when the command line is wrong.\n";
    see_also(page, objects, nullptr);
    return page;
  }
  page +=
      fmt::format("{} \\- {}\n", roff(page_name(*object)),
                  object->summary.empty() ? fmt::format("corebpf's {} commands", object->name) : roff(object->summary));
  page += ".SH SYNOPSIS\n";
  page += fmt::format(".B corebpf\n[\\fIOPTIONS\\fR] \\fB{}\\fR {{ \\fICOMMAND\\fR | \\fBhelp\\fR }}\n", object->name);
  page += ".SH COMMANDS\n";
  for (const Verb& verb : object->verbs) {
    for (const std::string& line : usage_lines(*object, verb.usage))
      page += fmt::format(".TP\n.B corebpf {} {}\n", object->name, roff(line));
  }
  page += fmt::format(".TP\n.B corebpf {} help\nthis object's usage.\n", object->name);
  if (!object->definitions.empty()) {
    page += ".SH DESCRIPTION\n.nf\n";
    for (const std::string_view line : lines_of(object->definitions)) {
      const std::string_view text = line.starts_with("       ") ? line.substr(7) : line;
      page += roff(text) + "\n";
    }
    page += ".fi\n";
  }
  options_section(page);
  see_also(page, objects, object);
  return page;
}

std::vector<std::string> write_man_pages(std::span<const Object> objects, const std::string& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error)
    util::fail(static_cast<std::errc>(error.value()), "creating man page directory {}: {}", directory, error.message());
  std::vector<std::string> paths;
  const auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = fmt::format("{}/{}.8", directory, name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) util::fail(std::errc::io_error, "writing man page {}", path);
    paths.push_back(path);
  };
  write("corebpf", man_page(objects, nullptr));
  for (const Object& object : objects) write(page_name(object), man_page(objects, &object));
  return paths;
}

}  // namespace corebpf::cli
