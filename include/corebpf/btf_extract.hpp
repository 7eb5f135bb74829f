// [pure] `corebpf btf extract`: a kernel's BTF out of whatever a user has (a vmlinux ELF, a compressed
// vmlinuz, an arm64 `Image`, a Debian linux-image .deb read in place, a module .ko), named by the
// kernel's release. Pure: reads files only.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corebpf::btf {

struct ExtractedBtf {
  std::string release;         // "6.1.0-57-cloud-amd64"; for a module, its kernel's when known
  std::string module;          // empty for vmlinux; the module's name ("veth") for split BTF
  std::string arch;            // "x86_64", "arm64"... (BTFHub's names), empty when unknown
  std::string source;          // the file (and member) it came from
  std::vector<std::byte> btf;  // raw BTF exactly as the kernel carries it
};

struct ExtractOptions {
  bool modules = false;  // also each module's split BTF (from .deb packages and directories)
};

// The kernels (and modules) in `path`: a file of a kind above or a directory searched for them.
// The release comes from the kernel's own banner ("Linux version <release> ..."), else from the
// x86 boot header's version string, else from the file name (vmlinuz-<release>) or the package
// (boot/vmlinuz-<release> inside the .deb). Throws corebpf::Error naming the file.
std::vector<ExtractedBtf> extract_btf(const std::string& path, const ExtractOptions& options = {});

// The release in a kernel image's bytes: the text after "Linux version " in linux_banner.
std::optional<std::string> find_kernel_release(std::span<const std::byte> image);

// A raw BTF blob inside bytes without section headers (an arm64 Image): the largest blob that
// starts with the BTF header and parses whole; empty when there is none.
std::optional<std::span<const std::byte>> find_btf_blob(std::span<const std::byte> bytes);

// One regular file of an ar archive (a .deb) or of a tar stream, by path.
struct ArchiveMember {
  std::string name;
  std::span<const std::byte> data;
};
// The members of an ar archive ("!<arch>\n"). Throws corebpf::Error naming `subject`.
std::vector<ArchiveMember> read_ar(std::span<const std::byte> bytes, const std::string& subject);
// The regular files of a tar archive (ustar, GNU long names, pax paths). Throws corebpf::Error.
std::vector<ArchiveMember> read_tar(std::span<const std::byte> bytes, const std::string& subject);

}  // namespace corebpf::btf
