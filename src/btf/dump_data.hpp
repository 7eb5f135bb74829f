// Internal: the data formatter writing into a JSON document being built (the CLI's `map dump -j`
// embeds one formatted key and value per entry).
#pragma once

#include <cstddef>
#include <span>

#include "corebpf/btf.hpp"
#include "util/json_writer.hpp"

namespace corebpf::btf {

// As format_data_json (corebpf/btf_data.hpp), as the next value of `json`. On an error the
// document is left part-written.
void write_data_json(util::JsonWriter& json, const Btf& btf, TypeId type, std::span<const std::byte> bytes);

}  // namespace corebpf::btf
