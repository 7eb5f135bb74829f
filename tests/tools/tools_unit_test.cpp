// The tools library's pure parts: bcc's histogram layout, kallsyms and /proc/PID/maps parsing,
// errno names, user-space symbolization of this test's own functions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "histogram.hpp"
#include "metrics.hpp"
#include "output.hpp"
#include "symbols.hpp"

namespace corebpf::tools {
namespace {

std::string printed(const std::function<void(std::FILE*)>& print) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = ::open_memstream(&buffer, &size);
  print(out);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(ToolsHistogram, Log2LayoutIsBccs) {
  std::uint64_t slots[TOOL_HIST_SLOTS] = {};
  slots[0] = 233;
  slots[1] = 742;
  slots[3] = 1000;
  slots[4] = 1;
  const auto text = printed([&](std::FILE* out) { print_log2_hist(out, slots, "usecs"); });
  EXPECT_EQ(text,
            "     usecs               : count     distribution\n"
            "         0 -> 1          : 233      |*********                               |\n"
            "         2 -> 3          : 742      |*****************************           |\n"
            "         4 -> 7          : 0        |                                        |\n"
            "         8 -> 15         : 1000     |****************************************|\n"
            "        16 -> 31         : 1        |                                        |\n");
  std::uint64_t none[4] = {};
  EXPECT_EQ(printed([&](std::FILE* out) { print_log2_hist(out, none, "usecs"); }), "");
}

TEST(ToolsHistogram, LinearLayoutIsBccs) {
  std::uint64_t slots[3] = {5, 0, 10};
  const auto text = printed([&](std::FILE* out) { print_linear_hist(out, slots, 0, 1, "cpu"); });
  EXPECT_EQ(text,
            "     cpu           : count     distribution\n"
            "        0          : 5        |********************                    |\n"
            "        1          : 0        |                                        |\n"
            "        2          : 10       |****************************************|\n");
}

TEST(ToolsHistogram, JsonHasTheSlotsUpToTheLastNonZero) {
  Log2Hist hist;
  hist.slots[2] = 4;
  hist.count = 4;
  hist.sum = 20;
  const auto json = log2_hist_json(hist, "usecs");
  ASSERT_EQ(json["buckets"].size(), 3u);
  EXPECT_EQ(json["buckets"][2], nlohmann::json({{"low", 4}, {"high", 7}, {"count", 4}}));
  EXPECT_EQ(json["sum"], 20);
}

TEST(ToolsSymbols, KallsymsKeepsTextSymbolsSorted) {
  const auto symbols = parse_kallsyms(
      "ffffffff81000100 T second\n"
      "ffffffff81000000 T _text\n"
      "ffffffff82000000 D some_data\n"
      "0000000000000000 T hidden\n"
      "garbage line\n"
      "ffffffffc0000000 t mod_fn\t[loop]\n");
  ASSERT_EQ(symbols.size(), 3u);
  EXPECT_EQ(symbols[0].name, "_text");
  EXPECT_EQ(symbols[1].name, "second");
  EXPECT_EQ(symbols[2].module, "loop");
}

TEST(ToolsSymbols, ProcMapsLines) {
  const auto maps = parse_proc_maps(
      "55d0c0a00000-55d0c0a21000 r-xp 00002000 fd:01 123 /usr/bin/true\n"
      "7ffd1000-7ffd2000 rw-p 00000000 00:00 0 \n"
      "7ffd3000-7ffd4000 r-xp 00000000 00:00 0 [vdso]\n"
      "nonsense\n");
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_TRUE(maps[0].executable);
  EXPECT_EQ(maps[0].offset, 0x2000u);
  EXPECT_EQ(maps[0].path, "/usr/bin/true");
  EXPECT_EQ(maps[1].path, "");
  EXPECT_EQ(maps[2].path, "[vdso]");
}

extern "C" __attribute__((noinline)) int tools_unit_test_marker(int x) { return x * 3 + 1; }

TEST(ToolsSymbols, ResolvesAFunctionOfThisProcess) {
  Symbolizer symbols;
  const auto address = reinterpret_cast<std::uint64_t>(&tools_unit_test_marker);
  EXPECT_EQ(symbols.user(::getpid(), address), "tools_unit_test_marker");
  EXPECT_EQ(symbols.user(::getpid(), address + 2), "tools_unit_test_marker+0x2");
}

TEST(ToolsOutput, ErrnoNames) {
  EXPECT_EQ(errno_name(2), "ENOENT");
  EXPECT_EQ(errno_name(13), "EACCES");
  EXPECT_EQ(errno_name(100000), "E100000");
}

}  // namespace
}  // namespace corebpf::tools
