// btf extract (kernel images, a raw image without section headers, Debian packages, modules, BTF
// archives) and btf diff, on Debian's 6.1 and 6.12 kernels as scripts/fetch-kernels keeps them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "corebpf/btf.hpp"
#include "corebpf/btf_archive.hpp"
#include "corebpf/btf_diff.hpp"
#include "corebpf/btf_extract.hpp"
#include "corebpf/error.hpp"
#include "support/test_support.hpp"

namespace corebpf::btf {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

#define REQUIRE_KERNEL(dir, series)                          \
  const std::string dir = test::kernel_dir(series).string(); \
  if (dir.empty()) COREBPF_SKIP_OR_FAIL("no " series " kernel BTF: run scripts/fetch-kernels")

TEST(BtfExtract, VmlinuzGivesTheKernelsBtfAndRelease) {
  REQUIRE_KERNEL(dir, "6.1");
  const auto out = extract_btf(dir + "/vmlinuz");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].release, first_line(dir + "/version"));
  EXPECT_EQ(out[0].arch, "x86_64");
  EXPECT_EQ(out[0].btf, read(dir + "/vmlinux.btf"));
}

TEST(BtfExtract, DebianPackageReadInPlace) {
  REQUIRE_KERNEL(dir, "6.12");
  std::string deb;
  for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path() / "debs"))
    if (e.path().filename().string().starts_with("linux-image-6.12")) deb = e.path().string();
  if (deb.empty()) COREBPF_SKIP_OR_FAIL("no 6.12 .deb: run scripts/fetch-kernels");
  const auto out = extract_btf(deb);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].release, first_line(dir + "/version"));
  EXPECT_EQ(out[0].btf, read(dir + "/vmlinux.btf"));
}

TEST(BtfExtract, RawImageWithoutSectionHeaders) {
  // An arm64-style Image: no ELF, the BTF blob somewhere inside, the banner elsewhere.
  REQUIRE_KERNEL(dir, "6.1");
  const auto btf = read(dir + "/vmlinux.btf");
  std::vector<std::byte> image(4096, std::byte{0x5a});
  const std::string banner = "Linux version 6.1.99-test-arm64 (builder@host) #1 SMP";
  std::memcpy(image.data() + 100, banner.data(), banner.size());
  image.insert(image.end(), btf.begin(), btf.end());
  image.resize(image.size() + 1000, std::byte{0});
  const fs::path path = fs::temp_directory_path() / ("corebpf_Image_" + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(image.data()), image.size());
  const auto out = extract_btf(path.string());
  fs::remove(path);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].release, "6.1.99-test-arm64");
  EXPECT_EQ(out[0].btf, btf);
}

TEST(BtfExtract, ModuleSplitBtf) {
  REQUIRE_KERNEL(dir, "6.1");
  const auto out = extract_btf(dir + "/modules/veth.ko");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].module, "veth");
  const Btf base = Btf::load(dir + "/vmlinux.btf");
  const Btf module = Btf::from_bytes(out[0].btf, {.base = &base});
  EXPECT_TRUE(module.find("veth_priv", Kind::Struct).has_value());
}

TEST(BtfExtract, MalformedArchivesFailByName) {
  const std::string not_ar = "hello";
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(not_ar.data()), not_ar.size());
  try {
    (void)read_ar(bytes, "x.deb");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.deb: not an ar archive"), std::string::npos) << e.what();
  }
  std::string ar = "!<arch>\ndata.tar.xz     0           0     0     100644  99999     `\nabc";
  const std::span<const std::byte> truncated(reinterpret_cast<const std::byte*>(ar.data()), ar.size());
  EXPECT_THROW((void)read_ar(truncated, "y.deb"), Error);
}

TEST(BtfArchive, ScansReleasesAndConfigs) {
  const fs::path root = fs::temp_directory_path() / ("corebpf_archive_" + std::to_string(::getpid()));
  fs::create_directories(root / "debian/12/x86_64");
  fs::create_directories(root / "k");
  std::ofstream(root / "debian/12/x86_64/6.1.0-57-cloud-amd64.btf") << "x";
  std::ofstream(root / "debian/12/x86_64/config-6.1.0-57-cloud-amd64") << "CONFIG_BPF=y\n";
  std::ofstream(root / "k/vmlinux.btf") << "x";
  std::ofstream(root / "k/version") << "6.12.118+deb12-cloud-amd64\n";
  // Modules: `btf extract ... modules` puts them in <release>/ beside <release>.btf; fetch-kernels
  // puts .ko files one directory below vmlinux.btf (the uncompressed one wins for a name).
  fs::create_directories(root / "debian/12/x86_64/6.1.0-57-cloud-amd64");
  std::ofstream(root / "debian/12/x86_64/6.1.0-57-cloud-amd64/veth.btf") << "x";
  std::ofstream(root / "debian/12/x86_64/6.1.0-57-cloud-amd64/nf_conntrack.btf.xz") << "x";
  fs::create_directories(root / "k/modules");
  fs::create_directories(root / "k/compressed");
  std::ofstream(root / "k/modules/veth.ko") << "x";
  std::ofstream(root / "k/compressed/veth.ko.xz") << "x";
  std::ofstream(root / "k/compressed/tunnel4.ko.xz") << "x";
  std::ofstream(root / "k/modules/notes.txt") << "x";
  const auto entries = scan_btf_archive(root.string());
  fs::remove_all(root);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].release, "6.1.0-57-cloud-amd64");
  EXPECT_NE(entries[0].config.find("config-6.1.0-57-cloud-amd64"), std::string::npos);
  ASSERT_EQ(entries[0].modules.size(), 2u);
  EXPECT_TRUE(entries[0].modules[0].ends_with("6.1.0-57-cloud-amd64/nf_conntrack.btf.xz")) << entries[0].modules[0];
  EXPECT_TRUE(entries[0].modules[1].ends_with("6.1.0-57-cloud-amd64/veth.btf")) << entries[0].modules[1];
  EXPECT_EQ(entries[1].release, "6.12.118+deb12-cloud-amd64");
  EXPECT_TRUE(entries[1].config.empty());
  ASSERT_EQ(entries[1].modules.size(), 2u);
  EXPECT_TRUE(entries[1].modules[0].ends_with("k/compressed/tunnel4.ko.xz")) << entries[1].modules[0];
  EXPECT_TRUE(entries[1].modules[1].ends_with("k/modules/veth.ko")) << entries[1].modules[1];
}

// Releases come out in version order, as a matrix of kernels reads: 6.12.43 before 6.12.100.
TEST(BtfArchive, ReleasesInVersionOrder) {
  const fs::path root = fs::temp_directory_path() / ("corebpf_archive_order_" + std::to_string(::getpid()));
  fs::create_directories(root);
  for (const char* release : {"6.12.100-cloud-amd64", "6.1.0-9-amd64", "6.12.43-cloud-amd64", "6.1.0-57-amd64"})
    std::ofstream(root / (std::string(release) + ".btf")) << "x";
  const auto entries = scan_btf_archive(root.string());
  fs::remove_all(root);
  std::vector<std::string> releases;
  for (const auto& entry : entries) releases.push_back(entry.release);
  EXPECT_EQ(releases, (std::vector<std::string>{"6.1.0-9-amd64", "6.1.0-57-amd64", "6.12.43-cloud-amd64",
                                                "6.12.100-cloud-amd64"}));
}

bool has(const std::vector<TypeChange>& changes, std::string_view type, ChangeKind kind, std::string_view item) {
  for (const auto& c : changes)
    if (c.type == type && c.kind == kind && c.item == item) return true;
  return false;
}

TEST(BtfDiff, KnownChangesBetween61And612) {
  REQUIRE_KERNEL(dir61, "6.1");
  REQUIRE_KERNEL(dir612, "6.12");
  const Btf a = Btf::load(dir61 + "/vmlinux.btf");
  const Btf b = Btf::load(dir612 + "/vmlinux.btf");
  const auto changes = diff(a, b, {.roots = {"inode", "task_struct", "bpf_func_id", "bpf_check", "bpf_iter_num"}});
  EXPECT_TRUE(has(changes, "struct inode", ChangeKind::member_removed, "i_atime"));
  EXPECT_TRUE(has(changes, "struct inode", ChangeKind::member_added, "i_atime_sec"));
  EXPECT_TRUE(has(changes, "struct inode", ChangeKind::size_changed, ""));
  EXPECT_TRUE(has(changes, "struct task_struct", ChangeKind::member_removed, "thread_group"));
  EXPECT_TRUE(has(changes, "enum bpf_func_id", ChangeKind::value_added, "BPF_FUNC_cgrp_storage_get"));
  EXPECT_TRUE(has(changes, "func bpf_check", ChangeKind::signature_changed, ""));
  EXPECT_TRUE(has(changes, "struct bpf_iter_num", ChangeKind::type_added, ""));
  // A kernel against itself: nothing.
  EXPECT_TRUE(diff(a, a).empty());
}

}  // namespace
}  // namespace corebpf::btf
