// The corebpf command line: bpftool's grammar (unique prefixes everywhere), output formats, and
// failures that exit non-zero with one line on stderr.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "cli/grammar.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::cli::Arguments;
using corebpf::cli::match_keyword;
using corebpf::cli::parse_command_line;
using corebpf::cli::UsageError;
using corebpf::test::shell_quote;

struct Result {
  int status;
  std::string out;
  std::string err;
};

// Runs the built corebpf with `args` (shell syntax), capturing stdout and stderr apart.
Result corebpf(const std::string& args) {
  const fs::path err_file = fs::path(testing::TempDir()) / ("cli_stderr." + std::to_string(::getpid()));
  Result result;
  result.status = corebpf::test::run_command(
      shell_quote(corebpf::test::cli_path().string()) + " " + args + " 2>" + shell_quote(err_file.string()),
      &result.out);
  std::ifstream in(err_file);
  result.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove(err_file);
  return result;
}

fs::path kinds_object() { return corebpf::test::bpf_object("btf_kinds"); }

#define REQUIRE_KINDS_OBJECT()                                                                   \
  do {                                                                                           \
    if (kinds_object().empty()) COREBPF_SKIP_OR_FAIL("tests/bpf/btf_kinds.bpf.o was not built"); \
  } while (0)

// ---- the grammar, driven directly ----

constexpr std::string_view kObjects[] = {"prog", "perf", "map", "btf"};

TEST(Keyword, ExactAndUniquePrefixesMatch) {
  EXPECT_EQ(match_keyword("btf", kObjects, "object"), "btf");
  EXPECT_EQ(match_keyword("b", kObjects, "object"), "btf");
  EXPECT_EQ(match_keyword("pr", kObjects, "object"), "prog");
  EXPECT_EQ(match_keyword("m", kObjects, "object"), "map");
  // An exact match wins over being a prefix of a longer keyword.
  constexpr std::string_view keywords[] = {"id", "idle"};
  EXPECT_EQ(match_keyword("id", keywords, "keyword"), "id");
}

TEST(Keyword, AmbiguousPrefixListsTheCandidates) {
  try {
    match_keyword("p", kObjects, "object");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "ambiguous object 'p': could be prog, perf");
  }
}

TEST(Keyword, UnknownWordListsWhatIsExpected) {
  try {
    match_keyword("x", kObjects, "object");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "unknown object 'x' (expected one of: prog, perf, map, btf)");
  }
  EXPECT_THROW(match_keyword("", kObjects, "object"), UsageError);
  EXPECT_THROW(match_keyword("btff", kObjects, "object"), UsageError);
}

TEST(CommandLine, OptionsMayComeAnywhereUntilDoubleDash) {
  const char* argv[] = {"corebpf", "-d", "btf", "--js", "dump", "-pB", "base.btf", "file", "--", "-j"};
  const auto line = parse_command_line(std::size(argv), argv);
  EXPECT_TRUE(line.options.debug);
  EXPECT_TRUE(line.options.json);
  EXPECT_TRUE(line.options.pretty);
  EXPECT_EQ(line.options.base_btf, "base.btf");
  EXPECT_EQ(line.words, (std::vector<std::string_view>{"btf", "dump", "file", "-j"}));
}

TEST(CommandLine, BadOptionsAreUsageErrors) {
  const char* unknown[] = {"corebpf", "-x"};
  EXPECT_THROW(parse_command_line(2, unknown), UsageError);
  const char* ambiguous_long[] = {"corebpf", "--de"};  // --debug only: fine
  EXPECT_TRUE(parse_command_line(2, ambiguous_long).options.debug);
  const char* missing_value[] = {"corebpf", "btf", "-B"};
  EXPECT_THROW(parse_command_line(3, missing_value), UsageError);
}

TEST(CommandLine, IdsMustBeNumbers) {
  Arguments ok({"42"});
  EXPECT_EQ(ok.take_id("BTF id"), 42u);
  for (std::string_view bad : {"4x", "-1", "", "99999999999"}) {
    Arguments args({bad});
    EXPECT_THROW(args.take_id("BTF id"), UsageError) << bad;
  }
}

// ---- the binary ----

TEST(Cli, PrefixesOfObjectVerbAndKeywords) {
  REQUIRE_KINDS_OBJECT();
  const std::string object = shell_quote(kinds_object().string());
  const Result full = corebpf("btf dump file " + object + " format raw");
  ASSERT_EQ(full.status, 0) << full.err;
  ASSERT_FALSE(full.out.empty());
  for (const std::string& args : {"b d f " + object + " f r", "bt du fi " + object, "btf dump file " + object}) {
    const Result short_form = corebpf(args);
    EXPECT_EQ(short_form.status, 0) << args << ": " << short_form.err;
    EXPECT_EQ(short_form.out, full.out) << args;
  }
}

TEST(Cli, RawDumpIsBpftools) {
  REQUIRE_KINDS_OBJECT();
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  const Result ours = corebpf("btf dump file " + shell_quote(kinds_object().string()));
  ASSERT_EQ(ours.status, 0) << ours.err;
  EXPECT_EQ(corebpf::test::first_difference(ours.out, *corebpf::test::bpftool_dump(kinds_object())), "");
}

TEST(Cli, FormatCWithPrefixes) {
  REQUIRE_KINDS_OBJECT();
  const Result c = corebpf("b d f " + shell_quote(kinds_object().string()) + " f c");
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("struct everything {"), std::string::npos);
  EXPECT_TRUE(c.err.empty()) << c.err;
}

TEST(Cli, JsonOptionTurnsRawIntoJson) {
  REQUIRE_KINDS_OBJECT();
  const std::string object = shell_quote(kinds_object().string());
  const Result compact = corebpf("-j btf dump file " + object);
  ASSERT_EQ(compact.status, 0) << compact.err;
  EXPECT_EQ(compact.out.find('\n'), compact.out.size() - 1) << "compact JSON is one line";
  const auto parsed = nlohmann::json::parse(compact.out);
  EXPECT_EQ(parsed["types"][0]["id"], 1);
  const Result pretty = corebpf("btf dump file " + object + " --pretty");
  const Result explicit_format = corebpf("btf dump file " + object + " format json");
  ASSERT_EQ(pretty.status, 0) << pretty.err;
  EXPECT_GT(std::count(pretty.out.begin(), pretty.out.end(), '\n'), 100);
  EXPECT_EQ(nlohmann::json::parse(pretty.out), parsed);
  EXPECT_EQ(explicit_format.out, compact.out);
}

TEST(Cli, SplitBtfWithBaseKeywordOrOption) {
  const fs::path dir = corebpf::test::kernel_dir("6.1");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("kernel 6.1 not fetched: run scripts/fetch-kernels");
  const std::string module = shell_quote((dir / "modules" / "veth.ko").string());
  const std::string base = shell_quote((dir / "vmlinux.btf").string());
  const Result keyword = corebpf("btf dump file " + module + " base " + base);
  ASSERT_EQ(keyword.status, 0) << keyword.err;
  EXPECT_TRUE(keyword.out.starts_with("[")) << keyword.out.substr(0, 100);
  const Result option = corebpf("-B " + base + " btf dump file " + module);
  EXPECT_EQ(option.out, keyword.out);
  // Without its base, the error says what is missing.
  const Result without = corebpf("btf dump file " + module);
  EXPECT_NE(without.status, 0);
  EXPECT_NE(without.err.find("split BTF"), std::string::npos) << without.err;
}

// Every failure: non-zero status, nothing on stdout, exactly one "corebpf: ..." line on stderr.
void expect_one_line_error(const Result& result, const std::string& expected) {
  EXPECT_NE(result.status, 0);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "corebpf: " + expected + "\n");
}

TEST(Cli, UnknownObject) {
  expect_one_line_error(corebpf("frobnicate list"),
                        "unknown object 'frobnicate' (expected one of: btf, core, gen, prog, map, link, feature, net, "
                        "cgroup, perf, struct_ops, iter, help, version)");
  EXPECT_EQ(corebpf("frobnicate").status, 2);
}

TEST(Cli, UnknownVerbAndKeyword) {
  expect_one_line_error(corebpf("btf x"),
                        "unknown btf command 'x' (expected one of: show, list, dump, diff, extract, help)");
  expect_one_line_error(corebpf("btf dump file /dev/null sideways"),
                        "unknown dump keyword 'sideways' (expected one of: base, format, root)");
  expect_one_line_error(corebpf("btf dump file /dev/null format"), "missing format (one of: raw, c, json)");
  expect_one_line_error(corebpf("btf dump"), "missing BTF source (one of: id, file, prog, map)");
  expect_one_line_error(corebpf("btf dump id twelve"), "BTF id 'twelve' is not a number");
  expect_one_line_error(corebpf("btf list id 1 extra"), "unexpected argument 'extra'");
  expect_one_line_error(corebpf("btf dump file /dev/null root task_struct"), "'root' applies to 'format c' only");
  expect_one_line_error(corebpf("-j btf dump file /dev/null format c"),
                        "format c has no JSON form: drop -j/-p or use format raw");
}

TEST(Cli, MissingFile) {
  const Result result = corebpf("btf dump file /nonexistent/vmlinux");
  EXPECT_EQ(result.status, 1);
  expect_one_line_error(result, "cannot open /nonexistent/vmlinux: No such file or directory");
}

TEST(Cli, FileThatIsNotBtf) {
  const fs::path file = corebpf::test::source_dir() / "CMakeLists.txt";
  const Result result = corebpf("btf dump file " + shell_quote(file.string()));
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(result.err.starts_with("corebpf: " + file.string() + ": ")) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(Cli, HelpAndVersion) {
  for (const char* args : {"", "help", "h", "-h", "--help"}) {
    const Result result = corebpf(args);
    EXPECT_EQ(result.status, 0) << args;
    EXPECT_TRUE(result.out.starts_with("Usage: corebpf [OPTIONS] OBJECT")) << args;
  }
  for (const char* args : {"btf", "btf help", "btf h", "btf -h"}) {
    const Result result = corebpf(args);
    EXPECT_EQ(result.status, 0) << args;
    EXPECT_TRUE(result.out.starts_with("Usage: corebpf btf { show | list } [id BTF_ID]\n")) << args << result.out;
    EXPECT_NE(result.out.find("corebpf btf dump BTF_SRC"), std::string::npos);
  }
  for (const char* args : {"-V", "--version", "version"}) {
    const Result result = corebpf(args);
    EXPECT_EQ(result.status, 0);
    EXPECT_TRUE(result.out.starts_with("corebpf v")) << result.out;
  }
}

TEST(Cli, DebugLogsToStderr) {
  REQUIRE_KINDS_OBJECT();
  const Result result = corebpf("-d btf dump file " + shell_quote(kinds_object().string()));
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.err.find("corebpf: debug: "), std::string::npos) << result.err;
  const Result quiet = corebpf("btf dump file " + shell_quote(kinds_object().string()));
  EXPECT_EQ(quiet.err, "");
}

}  // namespace
