// [pure] A BTF archive: kernels' BTF files by release, as BTFHub lays them out
// (`<distro>/<version>/<arch>/<release>.btf[.xz]`), as `corebpf btf extract` writes them, or as
// `scripts/fetch-kernels` keeps them (`<dir>/vmlinux.btf` with the release in `<dir>/version`).
// `core check` reads kernels from one; the loader picks the BTF for `uname -r` from one when the
// kernel has no /sys/kernel/btf/vmlinux (ObjectOptions::btf_archive). Pure: reads files only.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corebpf/btf.hpp"

namespace corebpf::btf {

struct ArchiveEntry {
  std::string release;  // "6.1.0-57-cloud-amd64"
  std::string path;     // the BTF file (raw BTF, possibly compressed)
  std::string config;   // the kernel's config file beside it, empty when none
  // Its modules' split BTF: `<release>/<module>.btf` beside `<release>.btf` (`btf extract ...
  // modules`), or the .ko files (possibly compressed) in the directories beside a `vmlinux.btf`,
  // one per module name (an uncompressed .ko preferred). Sorted by module name.
  std::vector<std::string> modules;
};

// Every kernel under `directory` (searched recursively), sorted by release then path. A kernel
// is a file named `<release>.btf` (or .btf.xz/.btf.gz/.btf.zst), or `vmlinux.btf` whose release
// is the first line of `version` beside it (else the directory's name); a BTF file in a directory
// named like a kernel file beside it is one of that kernel's modules (ArchiveEntry::modules). Its config is
// `config-<release>`, `<release>.config` or `config` in the same directory. Throws
// corebpf::Error when `directory` cannot be read.
std::vector<ArchiveEntry> scan_btf_archive(const std::string& directory);

// The release a BTF file stands for when named on its own: its file name without the .btf
// (and compression) extension; for vmlinux.btf, as scan_btf_archive says.
std::string release_of_btf_file(const std::string& path);

// An archive held in memory (what a generated skeleton embeds): raw BTF (possibly xz/gzip/zstd
// compressed) by release. The bytes are borrowed: they must outlive the archive's use.
struct MemoryArchive {
  std::map<std::string, std::span<const std::byte>, std::less<>> kernels;
};

// The BTF of kernel `release` from an archive directory (scan_btf_archive) or a memory archive.
// Throws corebpf::Error (ENOENT) in one line naming the release and the releases the archive
// has: "no BTF for kernel 6.18.0-1 in BTF archive /opt/btf (it has 6.1.0-57-cloud-amd64, ...)".
Btf btf_from_archive(const std::string& directory, std::string_view release);
Btf btf_from_archive(const MemoryArchive& archive, std::string_view release);

}  // namespace corebpf::btf
