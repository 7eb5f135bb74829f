// The BTF data formatter: values laid out as C lays them out, shown through the BTF clang wrote
// for tests/bpf/cli_maps.bpf.c (text and bpftool's "formatted" JSON), and malformed types or
// short buffers rejected with the type named instead of read past.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/btf_data.hpp"
#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"

namespace {

using corebpf::btf::Btf;
using corebpf::btf::BtfWriter;
using corebpf::btf::format_data;
using corebpf::btf::format_data_json;
using corebpf::btf::Kind;
using corebpf::btf::TypeId;
using nlohmann::json;

// The same declaration as cli_maps.bpf.c: x86-64 and BPF lay it out alike.
enum cli_state { CLI_IDLE = 0, CLI_RUNNING = 1, CLI_STOPPED = 7 };
struct cli_inner {
  unsigned short port;
  signed char delta;
};
struct cli_value {
  int pid;
  char comm[16];
  unsigned int flags : 3;
  unsigned int level : 5;
  int offset : 4;
  enum cli_state state;
  struct cli_inner inner;
  union {
    unsigned int as_u32;
    unsigned char as_bytes[4];
  } u;
  unsigned long long counts[2];
  void* ptr;
  bool ok;
};

template <typename T>
std::vector<std::byte> bytes_of(const T& value) {
  std::vector<std::byte> bytes(sizeof(T));
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

class DataFormat : public testing::Test {
 protected:
  void SetUp() override {
    btf_ = Btf::load(COREBPF_BPF_OBJECT_DIR "/cli_maps.bpf.o");
    const auto type = btf_->find("cli_value", Kind::Struct);
    ASSERT_TRUE(type);
    value_type_ = type->id();
    ASSERT_EQ(btf_->size_of(value_type_), sizeof(cli_value));
  }

  static cli_value sample() {
    cli_value v{};
    v.pid = 12;
    std::strcpy(v.comm, "bash");
    v.flags = 3;
    v.level = 17;
    v.offset = -2;
    v.state = CLI_RUNNING;
    v.inner = {8080, -1};
    v.u.as_u32 = 0x01020304;
    v.counts[0] = 1;
    v.counts[1] = 2;
    v.ptr = reinterpret_cast<void*>(0xffff888000001000ULL);
    v.ok = true;
    return v;
  }

  std::optional<Btf> btf_;
  TypeId value_type_ = 0;
};

TEST_F(DataFormat, TextShowsEveryShape) {
  EXPECT_EQ(format_data(*btf_, value_type_, bytes_of(sample())),
            "{.pid = 12, .comm = \"bash\", .flags = 0x3, .level = 0x11, .offset = -2, .state = CLI_RUNNING, "
            ".inner = {.port = 8080, .delta = -1}, .u = {.as_u32 = 16909060, .as_bytes = [4, 3, 2, 1]}, "
            ".counts = [1, 2], .ptr = 0xffff888000001000, .ok = true}");
}

TEST_F(DataFormat, JsonHasBpftoolShapes) {
  const json expected = json::parse(R"({"pid": 12, "comm": "bash", "flags": "0x3", "level": "0x11", "offset": "0xe",
      "state": "CLI_RUNNING", "inner": {"port": 8080, "delta": -1},
      "u": {"as_u32": 16909060, "as_bytes": [4, 3, 2, 1]}, "counts": [1, 2],
      "ptr": 18446612682070036480, "ok": true})");
  EXPECT_EQ(json::parse(format_data_json(*btf_, value_type_, bytes_of(sample()))), expected);
  // Pretty output is the same document.
  const std::string pretty = format_data_json(*btf_, value_type_, bytes_of(sample()), true);
  EXPECT_NE(pretty.find("\n    \"pid\": 12"), std::string::npos) << pretty;
  EXPECT_EQ(json::parse(pretty), expected);
}

TEST_F(DataFormat, UnprintableCharsAndUnknownEnumValuesShowNumbers) {
  cli_value v = sample();
  std::memset(v.comm, 0x7f, sizeof(v.comm));  // no NUL, not printable: an array of numbers
  v.state = static_cast<cli_state>(5);
  const std::string text = format_data(*btf_, value_type_, bytes_of(v));
  EXPECT_NE(text.find(".comm = [127, 127,"), std::string::npos) << text;
  EXPECT_NE(text.find(".state = 5,"), std::string::npos) << text;
  const json j = json::parse(format_data_json(*btf_, value_type_, bytes_of(v)));
  EXPECT_EQ(j["comm"].size(), 16u);
  EXPECT_EQ(j["state"], 5);
}

TEST_F(DataFormat, SizeMismatchNamesTheType) {
  auto bytes = bytes_of(sample());
  bytes.pop_back();
  try {
    format_data(*btf_, value_type_, bytes);
    FAIL() << "a short value was formatted";
  } catch (const corebpf::Error& e) {
    EXPECT_NE(std::string(e.what()).find("struct cli_value"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(sizeof(cli_value))), std::string::npos) << e.what();
  }
  EXPECT_THROW(format_data_json(*btf_, value_type_, {}), corebpf::Error);
}

TEST_F(DataFormat, TypedefsAndScalars) {
  const auto u32 = btf_->find("__u32", Kind::Typedef);
  ASSERT_TRUE(u32);
  const std::uint32_t x = 4000000000u;
  EXPECT_EQ(format_data(*btf_, u32->id(), bytes_of(x)), "4000000000");
  EXPECT_EQ(format_data_json(*btf_, u32->id(), bytes_of(x)), "4000000000");
}

// Hand-made BTF: what clang never writes but a kernel or a fuzzer may hand us.
Btf build(const std::function<void(BtfWriter&)>& add) {
  BtfWriter w;
  add(w);
  return Btf::from_vector(w.serialize());
}

TEST(DataFormatBtf, MemberOutsideItsStructIsAnError) {
  // A struct of 4 bytes whose member claims bytes 4..8.
  const Btf btf = build([](BtfWriter& w) {
    const auto u32 = w.add_int("unsigned int", 4);
    w.add_struct("bad", 4);
    w.add_member("past_end", u32, 32);
  });
  const std::vector<std::byte> bytes(4);
  try {
    format_data(btf, 2, bytes);
    FAIL() << "read past the struct";
  } catch (const corebpf::Error& e) {
    EXPECT_NE(std::string(e.what()).find("struct bad"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("past_end"), std::string::npos) << e.what();
  }
}

TEST(DataFormatBtf, CharEncodingBoolFloatEnum64AndDatasec) {
  const Btf btf = build([](BtfWriter& w) {
    const auto ch = w.add_int("char", 1, corebpf::btf::kIntChar);     // 1
    const auto flag = w.add_int("_Bool", 1, corebpf::btf::kIntBool);  // 2
    const auto dbl = w.add_float("double", 8);                        // 3
    const auto big = w.add_enum64("big", 8);                          // 4
    w.add_enumerator("BIG_HUGE", static_cast<std::int64_t>(0x100000000LL));
    const auto var_a = w.add_var("letter", ch, corebpf::btf::Linkage::global);  // 5
    const auto var_b = w.add_var("ratio", dbl, corebpf::btf::Linkage::global);  // 6
    w.add_datasec(".data", 16);                                                 // 7
    w.add_datasec_var(var_a, 0, 1);
    w.add_datasec_var(var_b, 8, 8);
    (void)flag;
    (void)big;
  });
  EXPECT_EQ(format_data(btf, 1, bytes_of('x')), "'x'");
  EXPECT_EQ(format_data_json(btf, 1, bytes_of('x')), "\"x\"");
  EXPECT_EQ(format_data(btf, 2, bytes_of(std::uint8_t{1})), "true");
  EXPECT_EQ(format_data_json(btf, 3, bytes_of(1.5)), "1.5");
  EXPECT_EQ(format_data(btf, 4, bytes_of(std::uint64_t{0x100000000ULL})), "BIG_HUGE");
  struct {
    char letter;
    char pad[7];
    double ratio;
  } section{'q', {}, 0.25};
  EXPECT_EQ(format_data(btf, 7, bytes_of(section)), "{.letter = 'q', .ratio = 0.25}");
  EXPECT_EQ(json::parse(format_data_json(btf, 7, bytes_of(section))),
            json::parse(R"({".data": [{"letter": "q"}, {"ratio": 0.25}]})"));
  // A variable placed past the section's bytes.
  EXPECT_THROW(format_data(btf, 7, std::vector<std::byte>(8)), corebpf::Error);
}

TEST(DataFormatBtf, ValuelessTypesAreErrors) {
  const Btf btf = build([](BtfWriter& w) {
    w.add_fwd("opaque", false);                             // 1
    const auto proto = w.add_func_proto(0);                 // 2
    w.add_func("f", proto, corebpf::btf::Linkage::global);  // 3
  });
  EXPECT_THROW(format_data(btf, 1, {}), corebpf::Error);
  EXPECT_THROW(format_data(btf, 3, {}), corebpf::Error);
  EXPECT_THROW(format_data(btf, 0, {}), corebpf::Error);   // void
  EXPECT_THROW(format_data(btf, 99, {}), corebpf::Error);  // no such type
}

TEST(DataFormatBtf, OverlappingUnionsHitTheBudgetNotTheClock) {
  // Each level is a union of two copies of the level below, all of zero size: 2^depth values
  // for zero bytes. The walk stops at its budget (or the depth limit) with an error.
  const Btf btf = build([](BtfWriter& w) {
    TypeId inner = w.add_struct("leaf", 0);
    for (int level = 0; level < 40; ++level) {
      const TypeId u = w.add_union("", 0);
      w.add_member("a", inner, 0);
      w.add_member("b", inner, 0);
      inner = u;
    }
  });
  EXPECT_THROW(format_data(btf, btf.type_count() - 1, {}), corebpf::Error);
}

}  // namespace
