// Internal (pure data, any layer): the pinned kernel ABI. The BPF UAPI types of the release
// src/uapi/linux_bpf.h names (enums, union bpf_attr, the info structs), as corebpf's C dumper wrote
// them from that kernel's BTF, in namespace corebpf::uapi; and the name tables scripts/gen-uapi
// generates from them. Layouts of attr fields newer than the system's <linux/bpf.h> come from
// here (offsetof on uapi::bpf_attr), never from a literal offset.
#pragma once

#include <cstddef>

namespace corebpf::uapi {
#include "uapi/linux_bpf.h"
}  // namespace corebpf::uapi

#include "uapi/bpf_tables.hpp"
