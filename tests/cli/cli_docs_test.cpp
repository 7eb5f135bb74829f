// The bash completion and the man pages generated from the CLI's grammar (`corebpf gen completion
// bash`, `corebpf gen man DIR`): the completion offers every object, each object's commands and
// their keywords, every page renders without a warning from groff or man, and every command the
// grammar has is described by its object's help (so neither can miss one).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::test::shell_quote;

struct Outcome {
  int status = -1;
  std::string out;
};

Outcome run(const std::string& command) {
  Outcome r;
  r.status = corebpf::test::run_command(command, &r.out);
  return r;
}

std::string cli() { return shell_quote(corebpf::test::cli_path().string()); }

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

class CliDocs : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("corebpf_cli_docs_{}", ::getpid());
    fs::create_directories(dir_);
    script_ = (dir_ / "corebpf.bash").string();
    const Outcome r = run(fmt::format("{} gen completion bash > {}", cli(), shell_quote(script_)));
    ASSERT_EQ(r.status, 0) << r.out;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // What the completion offers for the command line `words` (the last one being completed).
  std::vector<std::string> complete(const std::vector<std::string>& words) {
    std::string array = "corebpf";
    for (const std::string& word : words) array += " " + shell_quote(word);
    const std::string program =
        fmt::format("source {}; COMP_WORDS=({}); COMP_CWORD={}; _corebpf; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                    shell_quote(script_), array, words.size());
    const Outcome r = run("bash -c " + shell_quote(program) + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    return words_of(r.out);
  }

  static bool offers(const std::vector<std::string>& offered, const std::string& word) {
    return std::find(offered.begin(), offered.end(), word) != offered.end();
  }

  fs::path dir_;
  std::string script_;
};

TEST_F(CliDocs, CompletionOffersEveryObjectAndCommandDescribedByItsHelp) {
  const std::vector<std::string> objects = complete({""});
  ASSERT_GE(objects.size(), 9u);
  const std::string main_help = run(cli() + " help").out;
  for (const std::string object : {"btf", "core", "gen", "prog", "map", "link", "feature", "net", "cgroup"})
    EXPECT_TRUE(offers(objects, object)) << object;
  EXPECT_TRUE(offers(objects, "help"));
  for (const std::string& object : objects) {
    if (object == "help" || object == "version") continue;
    EXPECT_NE(main_help.find(" " + object + " "), std::string::npos) << object << " missing from the main help";
    const std::vector<std::string> verbs = complete({object, ""});
    EXPECT_GE(verbs.size(), 2u) << object;  // at least one command and help
    const Outcome help = run(fmt::format("{} {} help", cli(), object));
    ASSERT_EQ(help.status, 0) << help.out;
    for (const std::string& verb : verbs) {
      // A command of the grammar without a usage line of its own or in an alias group
      // ("{ show | list }") is one the help, the man page and the user never learn about.
      const bool described = help.out.find(fmt::format("corebpf {} {}", object, verb)) != std::string::npos ||
                             help.out.find(fmt::format("{{ {} |", verb)) != std::string::npos ||
                             help.out.find(fmt::format("| {} }}", verb)) != std::string::npos ||
                             help.out.find(fmt::format("| {} |", verb)) != std::string::npos;
      EXPECT_TRUE(described) << "corebpf " << object << " " << verb << " has no help text:\n" << help.out;
    }
    // Abbreviations resolve as the CLI resolves them.
    const std::vector<std::string> abbreviated = complete({object.substr(0, object.size() - 1), ""});
    if (complete({object.substr(0, object.size() - 1)}).size() == 1) {
      EXPECT_EQ(abbreviated, verbs) << object;
    }
  }
}

TEST_F(CliDocs, CompletionOffersKeywordsAndOptions) {
  EXPECT_EQ(complete({"pro"}), std::vector<std::string>{"prog"});
  const auto prog_show = complete({"prog", "show", ""});
  for (const std::string keyword : {"id", "pinned", "name", "tag"}) EXPECT_TRUE(offers(prog_show, keyword)) << keyword;
  const auto dump = complete({"prog", "dump", ""});
  for (const std::string keyword : {"xlated", "jited", "linum", "opcodes"})
    EXPECT_TRUE(offers(dump, keyword)) << keyword;
  EXPECT_EQ(complete({"pr", "dump", "xlated", "id", "1", "li"}), std::vector<std::string>{"linum"});
  EXPECT_EQ(complete({"btf", "dump", "file", "x", "format", "j"}), std::vector<std::string>{"json"});
  const auto options = complete({"--js"});
  EXPECT_EQ(options, std::vector<std::string>{"--json"});
  EXPECT_TRUE(offers(complete({"-j", ""}), "map"));  // options do not count as words
  // FILE arguments complete file names.
  const std::string file = (dir_ / "some_object.bpf.o").string();
  std::ofstream(file) << "";
  EXPECT_TRUE(offers(complete({"gen", "disasm", (dir_ / "some_").string()}), file));
}

TEST_F(CliDocs, ManPagesRenderWithoutWarnings) {
  const fs::path man = dir_ / "man8";
  const Outcome r = run(fmt::format("{} gen man {}", cli(), shell_quote(man.string())));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::vector<std::string> objects = complete({""});
  std::set<std::string> expected = {"corebpf.8"};
  for (const std::string& object : objects)
    if (object != "help" && object != "version") expected.insert("corebpf-" + object + ".8");
  std::set<std::string> written;
  for (const auto& entry : fs::directory_iterator(man)) written.insert(entry.path().filename().string());
  EXPECT_EQ(written, expected);
  if (run("command -v groff >/dev/null").status != 0)
    GTEST_FAIL() << "groff missing (scripts/setup installs groff-base)";
  for (const std::string& page : written) {
    const std::string path = shell_quote((man / page).string());
    const Outcome groff = run(fmt::format("groff -man -Tutf8 -ww -z {} 2>&1", path));
    EXPECT_EQ(groff.status, 0) << page;
    EXPECT_EQ(groff.out, "") << page;
    const Outcome rendered = run(fmt::format("MANWIDTH=80 man --warnings -l {} 2>&1 >/dev/null", path));
    EXPECT_EQ(rendered.out, "") << page;
    const Outcome text = run(fmt::format("MANWIDTH=100 man -l {} 2>/dev/null | col -b", path));
    EXPECT_NE(text.out.find("SYNOPSIS"), std::string::npos) << page;
  }
  // Each page shows its object's usage lines.
  const std::string prog =
      run(fmt::format("MANWIDTH=200 man -l {} 2>/dev/null | col -b", shell_quote((man / "corebpf-prog.8").string())))
          .out;
  EXPECT_NE(prog.find("corebpf prog dump xlated PROG"), std::string::npos) << prog;
  EXPECT_NE(prog.find("PROG := { id PROG_ID | pinned FILE"), std::string::npos) << prog;
}

}  // namespace
