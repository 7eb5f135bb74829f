// Kernel BTF out of images, packages and modules (see corebpf/btf_extract.hpp). The .deb reader
// is our own: an ar archive (Debian's binary package format, deb(5)) whose data.tar.* member is a
// tar stream (ustar with GNU long names or pax paths, as dpkg-deb writes it), expanded with the
// decompressors the BTF reader already has.
#include "corebpf/btf_extract.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "corebpf/btf.hpp"
#include "corebpf/error.hpp"
#include "elf/elf_file.hpp"
#include "util/decompress.hpp"
#include "util/error_format.hpp"
#include "util/file_bytes.hpp"

namespace corebpf::btf {
namespace {

namespace fs = std::filesystem;

constexpr std::uint16_t kBtfMagic = 0xeb9f;
constexpr std::size_t kBtfHeaderSize = 24;
constexpr std::uint16_t kEmX86_64 = 62;
constexpr std::uint16_t kEmAarch64 = 183;
constexpr std::uint16_t kEmS390 = 22;
constexpr std::uint16_t kEmRiscv = 243;
constexpr std::uint16_t kEmPpc64 = 21;

std::uint32_t le32(std::span<const std::byte> bytes, std::size_t offset) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | std::to_integer<std::uint32_t>(bytes[offset + static_cast<std::size_t>(i)]);
  return v;
}

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string arch_of_machine(std::uint16_t machine) {
  switch (machine) {
    case kEmX86_64:
      return "x86_64";
    case kEmAarch64:
      return "arm64";
    case kEmS390:
      return "s390x";
    case kEmRiscv:
      return "riscv64";
    case kEmPpc64:
      return "ppc64le";
    default:
      return {};
  }
}

bool is_release_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
         c == '+' || c == '_' || c == '~';
}

// The release at the start of `text` ("6.1.0-57-cloud-amd64 (debian-kernel@...)"), if plausible.
std::optional<std::string> release_at(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && n < 128 && is_release_char(text[n])) ++n;
  if (n < 3 || text[0] < '1' || text[0] > '9' || text.find('.') > n) return std::nullopt;
  if (n < text.size() && text[n] != ' ') return std::nullopt;
  return std::string(text.substr(0, n));
}

// The x86 boot header's kernel_version pointer (boot protocol 2.00+): a string in the setup code.
std::optional<std::string> bzimage_release(std::span<const std::byte> bytes) {
  if (bytes.size() < 0x210 || std::memcmp(bytes.data() + 0x202, "HdrS", 4) != 0) return std::nullopt;
  const std::size_t pointer =
      std::to_integer<std::size_t>(bytes[0x20e]) | (std::to_integer<std::size_t>(bytes[0x20f]) << 8);
  if (pointer == 0 || pointer + 0x200 >= bytes.size()) return std::nullopt;
  return release_at(as_text(bytes.subspan(pointer + 0x200)));
}

std::string release_from_name(std::string_view name) {
  for (std::string_view prefix : {"vmlinuz-", "vmlinux-", "Image-", "bzImage-"})
    if (name.starts_with(prefix)) return std::string(name.substr(prefix.size()));
  return {};
}

class Extractor {
 public:
  explicit Extractor(const ExtractOptions& options) : options_(options) {}

  std::vector<ExtractedBtf> take() { return std::move(out_); }

  void path(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec)) continue;
        const std::string name = it->path().filename().string();
        const bool kernel = name.starts_with("vmlinux") || name.starts_with("vmlinuz") || name.starts_with("Image") ||
                            name.starts_with("bzImage") || name.ends_with(".deb");
        const bool module = options_.modules && (name.ends_with(".ko") || name.ends_with(".ko.xz") ||
                                                 name.ends_with(".ko.zst") || name.ends_with(".ko.gz"));
        if ((kernel && !name.ends_with(".btf")) || module) files.push_back(it->path().string());
      }
      if (ec) util::fail(static_cast<std::errc>(ec.value()), "{}: cannot read the directory: {}", path, ec.message());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) file(f);
      return;
    }
    file(path);
  }

 private:
  void file(const std::string& path) {
    const auto bytes = util::FileBytes::open(path);
    const std::string name = fs::path(path).filename().string();
    if (name.ends_with(".deb")) {
      deb(bytes.bytes(), path);
    } else if (name.find(".ko") != std::string::npos) {
      module(bytes.bytes(), path, fs::path(path).filename().string(), {});
    } else {
      kernel(bytes.bytes(), path, release_from_name(name));
    }
  }

  // A vmlinux, vmlinuz or raw Image.
  void kernel(std::span<const std::byte> bytes, const std::string& source, const std::string& fallback_release) {
    ExtractedBtf out;
    out.source = source;
    std::optional<std::string> release = bzimage_release(bytes);
    std::vector<std::byte> unpacked;
    std::span<const std::byte> image = bytes;
    if (release) {
      // bzImage: the ELF vmlinux inside carries the BTF and the architecture.
      const Btf btf = Btf::from_bytes(bytes, {}, source);  // locates through the image format
      out.btf.assign(btf.raw_bytes().begin(), btf.raw_bytes().end());
      out.arch = "x86_64";
    } else {
      if (const auto format = util::detect_compression(bytes); format != util::Compression::none) {
        unpacked = util::decompress(bytes, format, source);
        image = unpacked;
      }
      if (elf::ElfFile::looks_like_elf(image)) {
        const auto elf = elf::ElfFile::from_memory(image, source);
        const auto* section = elf.find_section(".BTF");
        if (section == nullptr) util::fail(std::errc::invalid_argument, "{}: ELF file has no .BTF section", source);
        (void)Btf::from_bytes(section->data, {}, source);  // validates
        out.btf.assign(section->data.begin(), section->data.end());
        out.arch = arch_of_machine(elf.machine());
      } else {
        const auto blob = find_btf_blob(image);
        if (!blob)
          util::fail(std::errc::invalid_argument,
                     "{}: no BTF found: not an ELF vmlinux, an x86 bzImage, nor an image holding a BTF blob", source);
        out.btf.assign(blob->begin(), blob->end());
        // arm64 Image header: "ARM\x64" magic at 56.
        if (image.size() >= 64 && std::memcmp(image.data() + 56, "ARM\x64", 4) == 0) out.arch = "arm64";
      }
      release = find_kernel_release(image);
    }
    if (!release && !fallback_release.empty()) release = fallback_release;
    if (!release)
      util::fail(std::errc::invalid_argument,
                 "{}: cannot tell the kernel's release: no \"Linux version\" banner and no vmlinuz-<release> name",
                 source);
    out.release = *release;
    last_kernel_ = out.btf;
    out_.push_back(std::move(out));
  }

  void module(std::span<const std::byte> bytes, const std::string& source, std::string name,
              const std::string& release) {
    std::vector<std::byte> unpacked;
    std::span<const std::byte> elf_bytes = bytes;
    if (const auto format = util::detect_compression(bytes); format != util::Compression::none) {
      unpacked = util::decompress(bytes, format, source);
      elf_bytes = unpacked;
    }
    const auto elf = elf::ElfFile::from_memory(elf_bytes, source);
    const auto* section = elf.find_section(".BTF");
    if (section == nullptr) return;  // a module built without BTF
    if (!last_kernel_.empty()) {
      const Btf base = Btf::from_bytes(last_kernel_, {}, "vmlinux");
      (void)Btf::from_bytes(section->data, {.base = &base}, source);  // validates on its base
    }
    ExtractedBtf out;
    out.source = source;
    out.release = release;
    for (std::string_view ext : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"})
      if (name.ends_with(ext)) name.resize(name.size() - ext.size());
    out.module = std::move(name);
    out.arch = arch_of_machine(elf.machine());
    out.btf.assign(section->data.begin(), section->data.end());
    out_.push_back(std::move(out));
  }

  // A Debian binary package: the kernel image (boot/vmlinuz-<release>) and, when asked, the
  // modules (lib/modules/<release>/**.ko*) of its data.tar.
  void deb(std::span<const std::byte> bytes, const std::string& source) {
    const auto members = read_ar(bytes, source);
    const ArchiveMember* data = nullptr;
    for (const auto& m : members)
      if (m.name.starts_with("data.tar")) data = &m;
    if (data == nullptr) util::fail(std::errc::invalid_argument, "{}: a .deb without a data.tar member", source);
    std::vector<std::byte> tar_bytes;
    std::span<const std::byte> tar = data->data;
    if (const auto format = util::detect_compression(tar); format != util::Compression::none) {
      tar_bytes = util::decompress(tar, format, source + ": " + data->name);
      tar = tar_bytes;
    }
    const auto files = read_tar(tar, source + ": " + data->name);
    bool found = false;
    std::string release;
    for (const auto& f : files) {
      const std::string_view path = f.name;
      const auto slash = path.rfind('/');
      const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
      if (!base.starts_with("vmlinuz-") && !base.starts_with("vmlinux-") && !base.starts_with("Image-")) continue;
      if (path.find("boot/") == std::string_view::npos) continue;
      kernel(f.data, source + ": " + std::string(path), release_from_name(base));
      release = out_.back().release;
      found = true;
    }
    if (!found) util::fail(std::errc::invalid_argument, "{}: no boot/vmlinuz-<release> in the package", source);
    if (!options_.modules) return;
    for (const auto& f : files) {
      const std::string_view path = f.name;
      if (path.find("/lib/modules/") == std::string_view::npos && !path.starts_with("lib/modules/")) continue;
      const auto slash = path.rfind('/');
      const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
      if (name.find(".ko") == std::string::npos) continue;
      module(f.data, source + ": " + std::string(path), name, release);
    }
  }

  const ExtractOptions& options_;
  std::vector<ExtractedBtf> out_;
  std::vector<std::byte> last_kernel_;
};

std::uint64_t parse_octal(std::string_view field) {
  std::uint64_t v = 0;
  for (char c : field) {
    if (c == ' ' || c == '\0') {
      if (v != 0) break;
      continue;
    }
    if (c < '0' || c > '7') return ~std::uint64_t{0};
    v = v * 8 + static_cast<std::uint64_t>(c - '0');
    if (v > (std::uint64_t{1} << 40)) return ~std::uint64_t{0};
  }
  return v;
}

std::string c_string(std::string_view field) { return std::string(field.substr(0, field.find('\0'))); }

}  // namespace

std::optional<std::string> find_kernel_release(std::span<const std::byte> image) {
  const std::string_view text = as_text(image);
  constexpr std::string_view kBanner = "Linux version ";
  for (std::size_t at = text.find(kBanner); at != std::string_view::npos; at = text.find(kBanner, at + 1)) {
    if (auto release = release_at(text.substr(at + kBanner.size()))) return release;
  }
  return std::nullopt;
}

std::optional<std::span<const std::byte>> find_btf_blob(std::span<const std::byte> bytes) {
  std::optional<std::span<const std::byte>> best;
  const std::byte magic[2] = {std::byte{kBtfMagic & 0xff}, std::byte{kBtfMagic >> 8}};
  for (std::size_t at = 0; at + kBtfHeaderSize <= bytes.size(); at += 4) {  // the kernel aligns .BTF
    if (bytes[at] != magic[0] || bytes[at + 1] != magic[1] || bytes[at + 2] != std::byte{1}) continue;
    const std::uint32_t header_length = le32(bytes, at + 4);
    const std::uint32_t type_offset = le32(bytes, at + 8);
    const std::uint32_t type_length = le32(bytes, at + 12);
    const std::uint32_t string_offset = le32(bytes, at + 16);
    const std::uint32_t string_length = le32(bytes, at + 20);
    if (header_length < kBtfHeaderSize || header_length > 256) continue;
    const std::uint64_t end =
        std::uint64_t{header_length} +
        std::max<std::uint64_t>(std::uint64_t{type_offset} + type_length, std::uint64_t{string_offset} + string_length);
    if (end > bytes.size() - at || (best && end <= best->size())) continue;
    const auto candidate = bytes.subspan(at, static_cast<std::size_t>(end));
    try {
      (void)Btf::from_bytes(candidate, {}, "candidate");
      best = candidate;
    } catch (const Error&) {
    }
  }
  return best;
}

std::vector<ArchiveMember> read_ar(std::span<const std::byte> bytes, const std::string& subject) {
  constexpr std::string_view kMagic = "!<arch>\n";
  const std::string_view text = as_text(bytes);
  if (!text.starts_with(kMagic))
    util::fail(std::errc::invalid_argument, "{}: not an ar archive (a .deb is one)", subject);
  std::vector<ArchiveMember> members;
  std::size_t at = kMagic.size();
  while (at + 60 <= text.size()) {
    const std::string_view header = text.substr(at, 60);
    if (header.substr(58, 2) != "`\n")
      util::fail(std::errc::invalid_argument, "{}: ar member header at byte {} is corrupt", subject, at);
    std::uint64_t size = 0;
    const std::string_view size_field = header.substr(48, 10);
    const auto begin = size_field.data();
    auto [end, error] = std::from_chars(begin, begin + size_field.size(), size);
    if (error != std::errc() || end == begin)
      util::fail(std::errc::invalid_argument, "{}: ar member at byte {} has no size", subject, at);
    at += 60;
    if (size > text.size() - at)
      util::fail(std::errc::invalid_argument, "{}: ar member at byte {} ({} bytes) runs past the end", subject, at - 60,
                 size);
    std::string name(header.substr(0, 16));
    while (!name.empty() && (name.back() == ' ' || name.back() == '/')) name.pop_back();
    members.push_back({std::move(name), bytes.subspan(at, static_cast<std::size_t>(size))});
    at += static_cast<std::size_t>(size) + (size & 1);
  }
  return members;
}

std::vector<ArchiveMember> read_tar(std::span<const std::byte> bytes, const std::string& subject) {
  const std::string_view text = as_text(bytes);
  std::vector<ArchiveMember> files;
  std::string long_name;
  std::size_t at = 0;
  while (at + 512 <= text.size()) {
    const std::string_view header = text.substr(at, 512);
    if (header.find_first_not_of('\0') == std::string_view::npos) break;  // end of archive
    const std::uint64_t size = parse_octal(header.substr(124, 12));
    if (size == ~std::uint64_t{0})
      util::fail(std::errc::invalid_argument, "{}: tar header at byte {} has a corrupt size", subject, at);
    const char type = header[156];
    at += 512;
    if (size > text.size() - at)
      util::fail(std::errc::invalid_argument, "{}: tar entry at byte {} ({} bytes) runs past the end", subject,
                 at - 512, size);
    const auto data = bytes.subspan(at, static_cast<std::size_t>(size));
    at += static_cast<std::size_t>((size + 511) / 512 * 512);
    if (type == 'L') {  // GNU long name for the next entry
      long_name = c_string(as_text(data));
      continue;
    }
    if (type == 'x') {  // pax extended header: "<len> path=<name>\n" records
      std::string_view records = as_text(data);
      while (!records.empty()) {
        const auto space = records.find(' ');
        std::size_t length = 0;
        auto [end, error] = std::from_chars(records.data(), records.data() + std::min(space, records.size()), length);
        if (error != std::errc() || length == 0 || length > records.size()) break;
        const std::string_view record = records.substr(space + 1, length - space - 2);
        if (record.starts_with("path=")) long_name = std::string(record.substr(5));
        records.remove_prefix(length);
      }
      continue;
    }
    std::string name = long_name;
    long_name.clear();
    if (name.empty()) {
      name = c_string(header.substr(0, 100));
      const std::string prefix = header.substr(257, 6).starts_with("ustar") ? c_string(header.substr(345, 155)) : "";
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (type != '0' && type != '\0') continue;  // directories, links...
    while (name.starts_with("./")) name.erase(0, 2);
    files.push_back({std::move(name), data});
  }
  return files;
}

std::vector<ExtractedBtf> extract_btf(const std::string& path, const ExtractOptions& options) {
  Extractor extractor(options);
  extractor.path(path);
  return extractor.take();
}

}  // namespace corebpf::btf
