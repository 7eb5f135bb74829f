// Kernels' BTF files by release in a directory tree (see corebpf/btf_archive.hpp).
#include "corebpf/btf_archive.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "util/error_format.hpp"

namespace corebpf::btf {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kExtensions[] = {".btf.xz", ".btf.gz", ".btf.zst", ".btf"};

// The file name without its BTF extension, or empty when it has none.
std::string strip_btf_extension(std::string_view name) {
  for (auto ext : kExtensions)
    if (name.size() > ext.size() && name.ends_with(ext)) return std::string(name.substr(0, name.size() - ext.size()));
  return {};
}

std::string first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string find_config(const fs::path& dir, const std::string& release) {
  for (const auto& name : {"config-" + release, release + ".config", std::string("config")}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) return (dir / name).string();
  }
  return {};
}

}  // namespace

std::string release_of_btf_file(const std::string& path) {
  const fs::path p(path);
  const std::string name = p.filename().string();
  std::string stem = strip_btf_extension(name);
  if (stem == "vmlinux" || stem.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(p.parent_path() / "version", ec)) {
      std::string release = first_line(p.parent_path() / "version");
      if (!release.empty()) return release;
    }
    if (stem == "vmlinux" && p.has_parent_path()) return fs::absolute(p).parent_path().filename().string();
    return stem.empty() ? name : stem;
  }
  return stem;
}

namespace {

[[noreturn]] void no_release(std::string_view where, std::string_view release, const std::vector<std::string>& have) {
  std::string list;
  for (const auto& r : have) list += (list.empty() ? "" : ", ") + r;
  util::fail(std::errc::no_such_file_or_directory, "no BTF for kernel {} in {} ({})", release, where,
             have.empty() ? std::string("it is empty") : "it has " + list);
}

}  // namespace

Btf btf_from_archive(const std::string& directory, std::string_view release) {
  const auto entries = scan_btf_archive(directory);
  std::vector<std::string> have;
  for (const auto& e : entries) {
    if (e.release == release) return Btf::load(e.path);
    have.push_back(e.release);
  }
  no_release("BTF archive " + directory, release, have);
}

Btf btf_from_archive(const MemoryArchive& archive, std::string_view release) {
  if (const auto it = archive.kernels.find(release); it != archive.kernels.end())
    return Btf::from_bytes(it->second, {}, "embedded BTF archive: " + it->first);
  std::vector<std::string> have;
  for (const auto& [name, bytes] : archive.kernels) have.push_back(name);
  no_release("the embedded BTF archive", release, have);
}

std::vector<ArchiveEntry> scan_btf_archive(const std::string& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    util::fail(std::errc::not_a_directory, "{}: not a directory of kernel BTF files", directory);
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(directory, fs::directory_options::follow_directory_symlink, ec);
  if (ec) util::fail(static_cast<std::errc>(ec.value()), "{}: cannot read the directory: {}", directory, ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      util::fail(static_cast<std::errc>(ec.value()), "{}: cannot read the directory: {}", directory, ec.message());
    if (it.depth() > 8) {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    if (strip_btf_extension(it->path().filename().string()).empty()) continue;
    files.push_back(it->path());
  }
  // `<dir>/<release>/<module>.btf` beside `<dir>/<release>.btf` is a module of that kernel.
  std::map<fs::path, std::vector<std::string>> modules_of;  // by kernel directory/release
  std::vector<fs::path> kernels;
  for (const auto& path : files) {
    const fs::path kernel_dir = path.parent_path();
    bool module = false;
    for (auto ext : kExtensions) {
      if (fs::is_regular_file(kernel_dir.string() + std::string(ext), ec)) {
        modules_of[kernel_dir].push_back(path.string());
        module = true;
        break;
      }
    }
    if (!module) kernels.push_back(path);
  }
  std::vector<ArchiveEntry> entries;
  for (const auto& path : kernels) {
    ArchiveEntry entry;
    entry.path = path.string();
    entry.release = release_of_btf_file(entry.path);
    entry.config = find_config(path.parent_path(), entry.release);
    const std::string stem = strip_btf_extension(path.filename().string());
    if (stem == "vmlinux") {
      // scripts/fetch-kernels' layout: modules (.ko, possibly compressed) one directory down.
      std::map<std::string, std::string> by_name;
      for (const auto& sub : fs::directory_iterator(path.parent_path(), ec)) {
        std::error_code sub_ec;
        if (!sub.is_directory(sub_ec)) continue;
        for (const auto& file : fs::directory_iterator(sub.path(), sub_ec)) {
          const std::string name = file.path().filename().string();
          const auto ko = name.find(".ko");
          if (ko == std::string::npos || !file.is_regular_file(sub_ec)) continue;
          const std::string_view rest = std::string_view(name).substr(ko);
          if (rest != ".ko" && rest != ".ko.xz" && rest != ".ko.zst" && rest != ".ko.gz") continue;
          const auto [at, inserted] = by_name.emplace(name.substr(0, ko), file.path().string());
          if (!inserted && rest == ".ko") at->second = file.path().string();  // uncompressed preferred
        }
      }
      for (auto& [name, module] : by_name) entry.modules.push_back(std::move(module));
    } else if (const auto found = modules_of.find(path.parent_path() / stem); found != modules_of.end()) {
      entry.modules = found->second;
      std::sort(entry.modules.begin(), entry.modules.end());
    }
    entries.push_back(std::move(entry));
  }
  // By version (6.12.43 before 6.12.100): glibc's strverscmp compares digit runs as numbers.
  std::sort(entries.begin(), entries.end(), [](const ArchiveEntry& a, const ArchiveEntry& b) {
    if (a.release != b.release) return ::strverscmp(a.release.c_str(), b.release.c_str()) < 0;
    return a.path < b.path;
  });
  return entries;
}

}  // namespace corebpf::btf
