// Shared by the prog, map and link commands: bpftool's ways of naming a kernel object on the
// command line (`id ID`, `pinned FILE`, `name NAME`, `tag TAG`) and opening what they name.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/grammar.hpp"
#include "corebpf/fd.hpp"
#include "corebpf/kernel.hpp"
#include "util/json_writer.hpp"

namespace corebpf::cli {

struct Selector {
  enum class By { id, pinned, name, tag };
  By by = By::id;
  std::uint32_t id = 0;
  std::string text;  // the path, name or tag
};

// The next `id ID | pinned FILE | name NAME | tag TAG` from `args` (links have no name or tag).
Selector take_selector(Arguments& args, kernel::ObjectType type);
// An optional selector: nothing when `args` is empty.
std::optional<Selector> take_optional_selector(Arguments& args, kernel::ObjectType type);

// Every object the selector names, opened ("id"/"pinned": exactly one, "name"/"tag": all that
// match, which may be none). Throws corebpf::Error naming the object when an id or pin does not
// exist or the caller lacks the privileges.
std::vector<UniqueFd> open_selected(kernel::ObjectType type, const Selector& selector);
// Exactly one object: a name that matches none or several is an error naming it.
UniqueFd open_one(kernel::ObjectType type, const Selector& selector);
// Every object of `type` the kernel has (those gone since the listing are skipped).
std::vector<UniqueFd> open_all(kernel::ObjectType type);

// "12", "pinned /sys/fs/bpf/x", "name counts" for messages.
std::string describe_selector(kernel::ObjectType type, const Selector& selector);

// Seconds since the epoch of a CLOCK_BOOTTIME instant (bpf_prog_info.load_time).
std::int64_t boot_ns_to_epoch_seconds(std::uint64_t boot_ns);

// Writes a JSON document to the output with a final newline.
void write_json(Context& context, const std::function<void(util::JsonWriter&)>& write);

}  // namespace corebpf::cli
