// The JSON dump: parsed, it equals what `bpftool -j btf dump` says, and it stays valid JSON
// whatever bytes a name holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "corebpf/btf.hpp"
#include "corebpf/btf_dump.hpp"
#include "corebpf/btf_writer.hpp"
#include "support/bpftool_oracle.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::btf::Btf;
using corebpf::btf::BtfWriter;
using corebpf::btf::Sink;
using nlohmann::json;

json json_dump(const Btf& btf, bool pretty = false) {
  return json::parse(corebpf::btf::to_string([&](const Sink& sink) { corebpf::btf::dump_json(btf, sink, pretty); }));
}

// bpftool 7.1 widens an unsigned 32-bit enumerator as if it were signed (0xffffffff comes out as
// 18446744073709551615 in JSON while its raw dump says 4294967295); we print the real value.
void undo_bpftool_enum_widening(json& dump) {
  for (json& type : dump["types"]) {
    if (type["kind"] != "ENUM" || type["encoding"] != "UNSIGNED") continue;
    for (json& value : type["values"])
      if (value["val"].is_number_unsigned() && value["val"].get<std::uint64_t>() > 0xffffffffu)
        value["val"] = value["val"].get<std::uint64_t>() & 0xffffffffu;
  }
}

void expect_same_as_bpftool(const fs::path& file, const fs::path& base = {}) {
  SCOPED_TRACE(file.string());
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  std::optional<Btf> base_btf;
  if (!base.empty()) base_btf = Btf::load(base.string());
  const Btf btf = Btf::load(file.string(), {.base = base_btf ? &*base_btf : nullptr});
  const auto theirs_text = corebpf::test::bpftool_dump(file, base, /*json=*/true);
  ASSERT_TRUE(theirs_text) << "bpftool could not dump " << file;
  json theirs = json::parse(*theirs_text);
  undo_bpftool_enum_widening(theirs);
  const json ours = json_dump(btf);
  ASSERT_EQ(ours["types"].size(), theirs["types"].size());
  for (std::size_t i = 0; i < ours["types"].size(); ++i) {
    if (ours["types"][i] != theirs["types"][i]) {
      ADD_FAILURE() << "first difference:\n  ours:    " << ours["types"][i].dump()
                    << "\n  bpftool: " << theirs["types"][i].dump();
      return;
    }
  }
  EXPECT_EQ(ours, theirs);
}

TEST(JsonDump, MatchesBpftoolOnRunningKernel) {
  if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  expect_same_as_bpftool("/sys/kernel/btf/vmlinux");
}

TEST(JsonDump, MatchesBpftoolOnTestObjects) {
  for (const char* name : {"btf_kinds", "btf_kinds_clang14"}) {
    const fs::path object = corebpf::test::bpf_object(name);
    if (object.empty()) COREBPF_SKIP_OR_FAIL(std::string("tests/bpf/") + name + ".bpf.o was not built");
    expect_same_as_bpftool(object);
  }
}

TEST(JsonDump, MatchesBpftoolOnSplitModuleBtf) {
  const fs::path dir = corebpf::test::kernel_dir("6.1");
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("kernel 6.1 not fetched: run scripts/fetch-kernels");
  const fs::path module = dir / "modules" / "veth.ko";
  if (!fs::exists(module)) COREBPF_SKIP_OR_FAIL("no " + module.string());
  expect_same_as_bpftool(module, dir / "vmlinux.btf");
}

TEST(JsonDump, PrettyAndCompactAgree) {
  const fs::path object = corebpf::test::bpf_object("btf_kinds");
  if (object.empty()) COREBPF_SKIP_OR_FAIL("tests/bpf/btf_kinds.bpf.o was not built");
  const Btf btf = Btf::load(object.string());
  const std::string pretty =
      corebpf::btf::to_string([&](const Sink& sink) { corebpf::btf::dump_json(btf, sink, true); });
  EXPECT_NE(pretty.find("\n    \"types\": [\n        {\n            \"id\": 1,"), std::string::npos);
  EXPECT_EQ(json::parse(pretty), json_dump(btf, false));
}

TEST(JsonDump, ValuesKeepTheirSignedness) {
  BtfWriter w;
  w.add_enum("u32", 4, false);
  w.add_enumerator("ALL_ONES", 0xffffffffLL);
  w.add_enum("s32", 4, true);
  w.add_enumerator("MINUS_FIVE", -5);
  w.add_enum64("u64", 8, false);
  w.add_enumerator("TOP", static_cast<std::int64_t>(0xfedcba9876543210ULL));
  const json dump = json_dump(Btf::from_bytes(w.serialize()));
  EXPECT_EQ(dump["types"][0]["values"][0]["val"].get<std::uint64_t>(), 0xffffffffu);
  EXPECT_EQ(dump["types"][1]["values"][0]["val"].get<std::int64_t>(), -5);
  EXPECT_EQ(dump["types"][2]["values"][0]["val"].get<std::uint64_t>(), 0xfedcba9876543210ULL);
}

TEST(JsonDump, EscapesEveryNameIntoValidJson) {
  BtfWriter w;
  const std::string tricky =
      "q\"uote\\back\nline\ttab\x01"
      "ctl \xc3\xa9 \xe2\x82\xac";
  w.add_int(tricky, 4);
  w.add_int("bad \xff utf8 \xc3", 4);  // a stray byte and a truncated sequence
  w.add_struct("", 4);                 // anonymous
  const std::string text = corebpf::btf::to_string(
      [&](const Sink& sink) { corebpf::btf::dump_json(Btf::from_bytes(w.serialize()), sink, false); });
  EXPECT_NE(text.find(R"("q\"uote\\back\nline\ttab\u0001ctl)"), std::string::npos) << text;
  const json dump = json::parse(text);  // throws on invalid JSON or UTF-8
  EXPECT_EQ(dump["types"][0]["name"], tricky);
  EXPECT_EQ(dump["types"][1]["name"], "bad \xef\xbf\xbd utf8 \xef\xbf\xbd");
  EXPECT_EQ(dump["types"][2]["name"], "(anon)");
  EXPECT_EQ(dump["types"][2]["members"], json::array());
}

}  // namespace
