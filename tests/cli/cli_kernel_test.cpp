// Commands that ask the kernel (root): `btf list` and `btf dump id` against bpftool and against
// the kernel layer, with a BTF object this test loads itself so the listing holds more than vmlinux.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "corebpf/btf_dump.hpp"
#include "corebpf/btf_writer.hpp"
#include "corebpf/error.hpp"
#include "corebpf/fd.hpp"
#include "corebpf/kernel.hpp"
#include "support/bpftool_oracle.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::UniqueFd;
using corebpf::btf::Btf;
using corebpf::kernel::ObjectType;
using nlohmann::json;

std::string corebpf_cli(const std::string& args, int* status = nullptr) {
  std::string out;
  const int rc = corebpf::test::run_command(corebpf::test::cli_path().string() + " " + args + " 2>&1", &out);
  if (status != nullptr) *status = rc;
  return out;
}

std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* first = reinterpret_cast<const std::byte*>(chars.data());
  return {first, first + chars.size()};
}

// A small BTF loaded with BPF_BTF_LOAD straight from the test (the library cannot load BTF yet),
// held for the test's lifetime.
struct LoadedBtf {
  std::vector<std::byte> bytes;
  UniqueFd fd;
  std::uint32_t id = 0;
};

LoadedBtf load_test_btf() {
  corebpf::btf::BtfWriter w;
  const auto u32 = w.add_int("unsigned int", 4);
  w.add_struct("cli_kernel_test_value", 8);
  w.add_member("count", u32, 0);
  w.add_member("flags", u32, 32);
  w.add_enum("cli_kernel_test_state", 4);
  w.add_enumerator("STATE_IDLE", 0);
  LoadedBtf loaded;
  loaded.bytes = w.serialize();
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.btf = reinterpret_cast<std::uintptr_t>(loaded.bytes.data());
  attr.btf_size = static_cast<std::uint32_t>(loaded.bytes.size());
  loaded.fd.reset(static_cast<int>(::syscall(__NR_bpf, BPF_BTF_LOAD, &attr, sizeof(attr))));
  if (loaded.fd) loaded.id = corebpf::kernel::btf_info(loaded.fd.get()).id;
  return loaded;
}

class KernelCli : public testing::Test {
 protected:
  void SetUp() override {
    COREBPF_REQUIRE_ROOT();
    if (!fs::exists("/sys/kernel/btf/vmlinux")) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux");
  }
};

TEST_F(KernelCli, ListMatchesBpftool) {
  if (!corebpf::test::have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (Debian package) is missing");
  const LoadedBtf loaded = load_test_btf();
  ASSERT_TRUE(loaded.fd) << "BPF_BTF_LOAD: " << std::strerror(errno);

  // Other tests may load and unload objects meanwhile: retry until two listings agree.
  json ours, theirs;
  const auto by_id = [](const json& list) {
    std::map<std::uint32_t, json> entries;
    for (json entry : list) {
      // Same users, whatever order each tool lists them in.
      for (const char* key : {"prog_ids", "map_ids"}) {
        auto ids = entry[key].get<std::vector<std::uint32_t>>();
        std::sort(ids.begin(), ids.end());
        entry[key] = ids;
      }
      entries[entry["id"].get<std::uint32_t>()] = entry;
    }
    return entries;
  };
  for (int attempt = 0; attempt < 5; ++attempt) {
    int status = -1;
    ours = json::parse(corebpf_cli("-j btf list", &status));
    ASSERT_EQ(status, 0);
    std::string bpftool_out;
    ASSERT_EQ(corebpf::test::run_command("bpftool -j btf list", &bpftool_out), 0);
    theirs = json::parse(bpftool_out);
    if (by_id(ours) == by_id(theirs)) break;
  }
  EXPECT_EQ(by_id(ours), by_id(theirs));

  const auto entries = by_id(ours);
  ASSERT_TRUE(entries.count(1));
  EXPECT_EQ(entries.at(1)["name"], "vmlinux");
  EXPECT_EQ(entries.at(1)["kernel"], true);
  EXPECT_EQ(entries.at(1)["size"], fs::file_size("/sys/kernel/btf/vmlinux"));
  ASSERT_TRUE(entries.count(loaded.id));
  EXPECT_EQ(entries.at(loaded.id)["kernel"], false);
  EXPECT_EQ(entries.at(loaded.id)["size"], loaded.bytes.size());
  EXPECT_FALSE(entries.at(loaded.id).contains("name"));
}

TEST_F(KernelCli, ListTextAndSingleId) {
  const LoadedBtf loaded = load_test_btf();
  ASSERT_TRUE(loaded.fd) << "BPF_BTF_LOAD: " << std::strerror(errno);
  int status = -1;
  const std::string text = corebpf_cli("btf list", &status);
  ASSERT_EQ(status, 0) << text;
  EXPECT_TRUE(
      text.starts_with("1: name [vmlinux]  size " + std::to_string(fs::file_size("/sys/kernel/btf/vmlinux")) + "B\n"))
      << text;
  const std::string line = fmt::format("{}: name <anon>  size {}B\n", loaded.id, loaded.bytes.size());
  EXPECT_NE(text.find(line), std::string::npos) << text;
  EXPECT_EQ(corebpf_cli(fmt::format("btf list id {}", loaded.id)), line);
  EXPECT_EQ(corebpf_cli(fmt::format("b s i {}", loaded.id)), line);  // `show`, prefixes
  const json single = json::parse(corebpf_cli(fmt::format("-j btf list id {}", loaded.id)));
  EXPECT_EQ(single["id"], loaded.id);
}

TEST_F(KernelCli, DumpIdMatchesTheFile) {
  int status = -1;
  const std::string by_id = corebpf_cli("btf dump id 1", &status);
  ASSERT_EQ(status, 0) << by_id.substr(0, 200);
  const std::string by_file = corebpf_cli("btf dump file /sys/kernel/btf/vmlinux");
  EXPECT_EQ(corebpf::test::first_difference(by_id, by_file), "");

  const LoadedBtf loaded = load_test_btf();
  ASSERT_TRUE(loaded.fd);
  const std::string ours = corebpf_cli(fmt::format("btf dump id {}", loaded.id));
  const std::string expected = corebpf::btf::to_string(
      [&](const corebpf::btf::Sink& sink) { corebpf::btf::dump_raw(Btf::from_bytes(loaded.bytes), sink); });
  EXPECT_EQ(ours, expected);
  EXPECT_NE(ours.find("STRUCT 'cli_kernel_test_value' size=8 vlen=2"), std::string::npos) << ours;
}

TEST_F(KernelCli, DumpOfMissingIdFailsWithOneLine) {
  int status = 0;
  const std::string out = corebpf_cli("btf dump id 4294967295", &status);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(out, "corebpf: BPF_BTF_GET_FD_BY_ID id 4294967295: No such file or directory\n");
}

TEST_F(KernelCli, KernelLayerFetchesLoadedBtf) {
  const auto btf_ids = corebpf::kernel::list_ids(ObjectType::btf);
  ASSERT_FALSE(btf_ids.empty());
  EXPECT_TRUE(std::is_sorted(btf_ids.begin(), btf_ids.end()));
  EXPECT_EQ(corebpf::kernel::next_id(ObjectType::btf, 0), btf_ids.front());
  EXPECT_EQ(corebpf::kernel::next_id(ObjectType::btf, btf_ids.back()), std::nullopt);

  const Btf vmlinux = corebpf::kernel::load_kernel_btf_by_id(1);
  const auto file_bytes = read_file("/sys/kernel/btf/vmlinux");
  ASSERT_EQ(vmlinux.raw_bytes().size(), file_bytes.size());
  EXPECT_TRUE(std::equal(file_bytes.begin(), file_bytes.end(), vmlinux.raw_bytes().begin()));
  EXPECT_TRUE(vmlinux.find("task_struct"));

  // Module BTF by id comes back split on vmlinux, when the running kernel has modules.
  for (const std::uint32_t id : btf_ids) {
    auto fd = corebpf::kernel::try_open_by_id(ObjectType::btf, id);
    if (!fd) continue;
    const auto info = corebpf::kernel::btf_info(fd->get());
    if (!info.is_kernel || info.name == "vmlinux") continue;
    const Btf module = corebpf::kernel::load_kernel_btf_by_id(id);
    EXPECT_EQ(module.first_id(), vmlinux.type_count()) << info.name;
  }

  try {
    corebpf::kernel::open_by_id(ObjectType::map, 4294967295u);
    FAIL() << "no error";
  } catch (const corebpf::Error& e) {
    EXPECT_EQ(e.errno_value(), ENOENT);
    EXPECT_STREQ(e.what(), "BPF_MAP_GET_FD_BY_ID id 4294967295: No such file or directory");
  }
  EXPECT_EQ(corebpf::kernel::try_open_by_id(ObjectType::link, 4294967295u), std::nullopt);
}

TEST_F(KernelCli, ProgramAndMapInfo) {
  // Whatever is loaded right now: every id listed opens (or has just gone) and reports itself.
  for (const auto type : {ObjectType::program, ObjectType::map, ObjectType::link}) {
    for (const std::uint32_t id : corebpf::kernel::list_ids(type)) {
      auto fd = corebpf::kernel::try_open_by_id(type, id);
      if (!fd) continue;
      switch (type) {
        case ObjectType::program:
          EXPECT_EQ(corebpf::kernel::program_info(fd->get()).id, id);
          break;
        case ObjectType::map:
          EXPECT_EQ(corebpf::kernel::map_info(fd->get()).id, id);
          break;
        case ObjectType::link:
          EXPECT_EQ(corebpf::kernel::link_info(fd->get()).id, id);
          break;
        case ObjectType::btf:
          break;
      }
    }
  }
}

}  // namespace
