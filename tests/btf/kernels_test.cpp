// Real kernels' BTF: Debian's 6.1 and 6.12 (fetched by scripts/fetch-kernels) and the running
// kernel, as raw BTF, as the compressed kernel image, and as split BTF of their modules.
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using corebpf::Error;
using corebpf::btf::Btf;
using corebpf::btf::Kind;
using corebpf::btf::LoadOptions;

std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {reinterpret_cast<std::byte*>(chars.data()), reinterpret_cast<std::byte*>(chars.data() + chars.size())};
}

void write_file(const fs::path& path, std::span<const std::byte> bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Types bpftool lists for `file` (split on `base` when given): the ids it prints, counted.
long bpftool_type_count(const fs::path& file, const fs::path& base = {}) {
  std::string command = "bpftool";
  if (!base.empty()) command += " -B '" + base.string() + "'";
  command += " btf dump file '" + file.string() + "'";
  std::string output;
  if (corebpf::test::run_command(command + " format raw 2>/dev/null", &output) != 0) return -1;
  std::istringstream lines(output);
  long count = 0;
  for (std::string line; std::getline(lines, line);) count += line.starts_with('[');
  return count;
}

bool have_bpftool() { return corebpf::test::run_command("bpftool version >/dev/null 2>&1") == 0; }

#define REQUIRE_BPFTOOL()                                                                            \
  do {                                                                                               \
    if (!have_bpftool()) COREBPF_SKIP_OR_FAIL("bpftool (the oracle) is missing: run scripts/setup"); \
  } while (0)

std::vector<fs::path> files_in(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> result;
  if (!fs::is_directory(dir)) return result;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().string().ends_with(suffix)) result.push_back(entry.path());
  std::sort(result.begin(), result.end());
  return result;
}

// A temporary directory removed with the test.
class ScratchDir {
 public:
  ScratchDir() : path_(fs::temp_directory_path() / ("corebpf-kernels-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Checks that `module` is proper split BTF on `base`: ids continue the base's and its references
// into the base resolve, by id and by name, to the base's types. Returns how many struct or union
// members of the module have a base type.
int expect_split_on_base(const Btf& module, const Btf& base, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(module.first_id(), base.type_count());
  EXPECT_GT(module.type_count(), module.first_id());
  EXPECT_TRUE(module.base());
  if (module.base()) {
    EXPECT_EQ(module.base()->type_count(), base.type_count());
  }
  int base_references = 0;
  int base_members = 0;
  auto check_base_reference = [&](corebpf::btf::TypeId id) {
    if (id == 0 || id >= module.first_id()) return;
    ++base_references;
    auto in_module = module.type(id);
    auto in_base = base.type(id);
    EXPECT_EQ(in_module.kind(), in_base.kind()) << id;
    EXPECT_EQ(in_module.name(), in_base.name()) << id;
    if (in_base.name().empty()) return;
    auto found = module.find(in_base.name(), in_base.kind());
    EXPECT_TRUE(found && found->id() < module.first_id()) << in_base.name();
  };
  for (auto id = module.first_id(); id < module.type_count(); ++id) {
    auto type = module.type(id);
    switch (type.kind()) {
      case Kind::Struct:
      case Kind::Union:
        for (auto member : type.members()) {
          base_members += member.type() < module.first_id();
          check_base_reference(member.type());
        }
        break;
      case Kind::FuncProto:
        check_base_reference(type.type());
        for (auto param : type.params()) check_base_reference(param.type());
        break;
      case Kind::Array:
        check_base_reference(type.array().element_type);
        break;
      case Kind::Ptr:
      case Kind::Typedef:
      case Kind::Const:
      case Kind::Volatile:
      case Kind::Var:
        check_base_reference(type.type());
        break;
      default:
        break;
    }
  }
  EXPECT_GT(base_references, 0) << "nothing in the module refers to a base type";
  // The base's well-known types are visible through the module.
  auto task = module.find("task_struct", Kind::Struct);
  EXPECT_TRUE(task && task->id() == base.find("task_struct", Kind::Struct)->id());
  return base_members;
}

struct KernelCase {
  const char* series;
  std::uint32_t task_struct_size;  // measured with bpftool on the fetched BTF
  const char* image_compression;
};

class FetchedKernel : public testing::TestWithParam<KernelCase> {
 protected:
  void SetUp() override {
    dir_ = corebpf::test::kernel_dir(GetParam().series);
    if (dir_.empty())
      COREBPF_SKIP_OR_FAIL(std::string("kernel ") + GetParam().series +
                           " not fetched: run scripts/fetch-kernels build/kernels");
  }
  fs::path dir_;
};

TEST_P(FetchedKernel, VmlinuxBtfHasWellKnownTypes) {
  auto btf = Btf::load((dir_ / "vmlinux.btf").string());
  EXPECT_EQ(btf.first_id(), 1u);
  EXPECT_FALSE(btf.base());
  auto task = btf.find("task_struct", Kind::Struct);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->size(), GetParam().task_struct_size);
  EXPECT_EQ(btf.size_of(task->id()), GetParam().task_struct_size);
  EXPECT_EQ(btf.pointer_size(), 8u);
  EXPECT_EQ(btf.size_of(btf.find("int", Kind::Int)->id()), 4u);
  EXPECT_EQ(btf.size_of(btf.find("u64", Kind::Typedef)->id()), 8u);
  auto list_head = btf.find("list_head", Kind::Struct);
  ASSERT_TRUE(list_head);
  EXPECT_EQ(list_head->size(), 16u);
  REQUIRE_BPFTOOL();
  EXPECT_EQ(bpftool_type_count(dir_ / "vmlinux.btf"), long(btf.type_count()) - 1);
}

TEST_P(FetchedKernel, KernelImageGivesTheSameBtf) {
  auto raw = Btf::load((dir_ / "vmlinux.btf").string());
  auto from_image = Btf::load((dir_ / "vmlinuz").string());
  EXPECT_EQ(from_image.type_count(), raw.type_count());
  EXPECT_TRUE(std::ranges::equal(from_image.raw_bytes(), raw.raw_bytes()));
  EXPECT_EQ(from_image.find("task_struct", Kind::Struct)->size(), GetParam().task_struct_size);
}

TEST_P(FetchedKernel, ModulesAreSplitBtfOnTheirKernel) {
  const auto base_path = dir_ / "vmlinux.btf";
  auto base = Btf::load(base_path.string());
  const auto modules = files_in(dir_ / "modules", ".ko");
  ASSERT_GE(modules.size(), 3u) << "scripts/fetch-kernels keeps several modules";
  REQUIRE_BPFTOOL();
  int base_members = 0;
  for (const auto& ko : modules) {
    auto module = Btf::load(ko.string(), LoadOptions{.base = &base});
    base_members += expect_split_on_base(module, base, ko.filename().string());
    EXPECT_EQ(bpftool_type_count(ko, base_path), long(module.type_count() - module.first_id())) << ko;
  }
  EXPECT_GT(base_members, 0) << "no module struct has a member whose type is in the base";
}

// Modules as distributions ship them (.ko.xz, .ko.zst, .ko.gz) load like the plain .ko.
TEST_P(FetchedKernel, CompressedModulesMatchTheirUncompressedCopies) {
  auto base = Btf::load((dir_ / "vmlinux.btf").string());
  const auto plain_path = dir_ / "modules" / "veth.ko";
  ASSERT_TRUE(fs::exists(plain_path));
  auto plain = Btf::load(plain_path.string(), LoadOptions{.base = &base});

  ScratchDir scratch;
  std::vector<fs::path> compressed = files_in(dir_ / "modules-compressed", ".ko.xz");
  const std::pair<const char*, const char*> tools[] = {{"xz", "xz"}, {"zstd", "zst"}, {"gzip", "gz"}};
  for (const auto& [tool, suffix] : tools) {
    const auto made = scratch.path() / (std::string("veth.ko.") + suffix);
    const auto command = std::string(tool) + " -c -q '" + plain_path.string() + "' > '" + made.string() + "'";
    if (corebpf::test::run_command(command) != 0)
      COREBPF_SKIP_OR_FAIL(std::string(tool) + " failed: run scripts/setup");
    compressed.push_back(made);
  }
  for (const auto& packed : compressed) {
    auto module = Btf::load(packed.string(), LoadOptions{.base = &base});
    const auto uncompressed = packed.parent_path() == scratch.path() ? plain_path : dir_ / "modules" / packed.stem();
    auto reference = Btf::load(uncompressed.string(), LoadOptions{.base = &base});
    EXPECT_TRUE(std::ranges::equal(module.raw_bytes(), reference.raw_bytes())) << packed;
    expect_split_on_base(module, base, packed.filename().string());
  }
  EXPECT_GE(compressed.size(), 3u);
  EXPECT_GT(plain.type_count(), plain.first_id());
}

// The payload is found through the setup header, so damage there or in the payload is reported
// as such, naming the file.
TEST_P(FetchedKernel, DamagedKernelImageIsAClearError) {
  const auto image = read_file(dir_ / "vmlinuz");
  ASSERT_GT(image.size(), 0x250u);
  ScratchDir scratch;
  const auto damaged_path = scratch.path() / "vmlinuz-damaged";
  auto expect_error = [&](const std::vector<std::byte>& bytes, const std::string& expected) {
    write_file(damaged_path, bytes);
    try {
      Btf::load(damaged_path.string());
      ADD_FAILURE() << "no error; expected: " << expected;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(damaged_path.string()), std::string::npos) << e.what();
    }
  };
  auto le32 = [&](std::size_t offset) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(image[offset + i]);
    return v;
  };
  const std::size_t setup_sects = std::to_integer<std::size_t>(image[0x1f1]);
  const std::size_t payload = (setup_sects + 1) * 512 + le32(0x248);
  const std::size_t payload_length = le32(0x24c);

  // Cut in half: the header promises more than the file holds.
  expect_error({image.begin(), image.begin() + static_cast<std::ptrdiff_t>(image.size() / 2)}, "lies outside");

  // Damage inside the compressed payload. Legacy lz4 has no checksums, so only damage to its
  // framing is sure to be noticed: make its first block size absurd.
  auto corrupt = image;
  const std::string payload_is = std::string("kernel image payload is ") + GetParam().image_compression + " but ";
  if (std::string(GetParam().image_compression).starts_with("lz4")) {
    for (std::size_t i = 4; i < 8; ++i) corrupt[payload + i] = std::byte{0xff};
    expect_error(corrupt, payload_is + "corrupt at byte 4");
  } else {
    for (std::size_t i = 0; i < 64; ++i) corrupt[payload + payload_length / 2 + i] ^= std::byte{0x5a};
    expect_error(corrupt, payload_is);
  }

  // A payload that is not compressed data at all.
  auto unknown = image;
  for (std::size_t i = 0; i < 8; ++i) unknown[payload + i] = std::byte{0x42};
  expect_error(unknown, "kernel image payload has a compression corebpf cannot read (magic 42424242)");
}

INSTANTIATE_TEST_SUITE_P(Debian, FetchedKernel,
                         testing::Values(KernelCase{"6.1", 9728, "lz4 (legacy format)"},
                                         KernelCase{"6.12", 9792, "zstd"}),
                         [](const auto& info) {
                           std::string name = std::string("v") + info.param.series;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

constexpr const char* kRunningVmlinux = "/sys/kernel/btf/vmlinux";

TEST(RunningKernel, VmlinuxBtfMatchesBpftool) {
  if (!fs::exists(kRunningVmlinux)) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux (kernel without BTF)");
  auto btf = Btf::load(kRunningVmlinux);
  auto task = btf.find("task_struct", Kind::Struct);
  ASSERT_TRUE(task);
  utsname uts{};
  ::uname(&uts);
  // The size measured with bpftool on this machine's kernel; other kernels only get the oracle check.
  if (std::string(uts.release) == "6.18.44-fc-v769") {
    EXPECT_EQ(task->size(), 3264u);
  }
  REQUIRE_BPFTOOL();
  std::string output;
  ASSERT_EQ(
      corebpf::test::run_command(std::string("bpftool btf dump file ") + kRunningVmlinux + " format raw", &output), 0);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(output, match, std::regex(R"(\[(\d+)\] STRUCT 'task_struct' size=(\d+))")));
  EXPECT_EQ(task->id(), std::stoul(match[1]));
  EXPECT_EQ(task->size(), std::stoul(match[2]));
  EXPECT_EQ(bpftool_type_count(kRunningVmlinux), long(btf.type_count()) - 1);
}

// Every module BTF the running kernel exposes is split BTF on vmlinux. A kernel with everything
// built in exposes none; then the fixture asserts that only vmlinux is there (the fetched
// kernels' modules cover split BTF either way).
TEST(RunningKernel, ModulesAreSplitBtf) {
  if (!fs::exists(kRunningVmlinux)) COREBPF_SKIP_OR_FAIL("no /sys/kernel/btf/vmlinux (kernel without BTF)");
  auto base = Btf::load(kRunningVmlinux);
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator("/sys/kernel/btf")) {
    ++entries;
    if (entry.path().filename() == "vmlinux") continue;
    auto module = Btf::load(entry.path().string(), LoadOptions{.base = &base});
    EXPECT_EQ(module.first_id(), base.type_count()) << entry.path();
    EXPECT_GE(module.type_count(), module.first_id()) << entry.path();
  }
  EXPECT_GE(entries, 1u);
}

}  // namespace
