// Internal: finding the BTF blob inside whatever file the user named.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace corebpf::btf::detail {

struct BtfSource {
  std::span<const std::byte> blob;      // raw BTF, either byte order
  std::shared_ptr<const void> keepalive;  // owns the bytes `blob` points into
};

// `path` may be raw BTF, an ELF file with a .BTF section, or (see btf_source.cpp) a compressed
// container of either. Throws corebpf::Error naming the path and what it found instead.
BtfSource open_btf_source(const std::string& path);
BtfSource btf_source_from_memory(std::vector<std::byte> bytes, const std::string& name);

}  // namespace corebpf::btf::detail
