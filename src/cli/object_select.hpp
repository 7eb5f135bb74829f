// Shared by the prog, map and link commands: bpftool's ways of naming a kernel object on the
// command line (`id ID`, `pinned FILE`, `name NAME`, `tag TAG`) and opening what they name.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/grammar.hpp"
#include "cli/object_refs.hpp"
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

// "with id 12", "pinned at /sys/fs/bpf/x", "named 'counts'" for messages.
std::string describe_selector(kernel::ObjectType type, const Selector& selector);
// Throws corebpf::Error (ENOENT) "there is no map named 'counts'".
[[noreturn]] void throw_none_selected(kernel::ObjectType type, const Selector& selector);

// "01 02 0a" (prefix "") or "0x01 0x02 0x0a" (prefix "0x").
std::string bytes_text(std::span<const std::byte> bytes, std::string_view prefix = "");
// ["0x01", "0x02"]: bytes as bpftool's JSON shows them.
void write_byte_array(util::JsonWriter& json, std::span<const std::byte> bytes);

// Seconds since the epoch of a CLOCK_BOOTTIME instant (bpf_prog_info.load_time).
std::int64_t boot_ns_to_epoch_seconds(std::uint64_t boot_ns);

// Writes a JSON document to the output with a final newline.
void write_json(Context& context, const std::function<void(util::JsonWriter&)>& write);

// `OBJECT show|list [SELECTOR]`: the info of every object the selector names (all without one),
// as text or JSON (one object when the selector names exactly one, as bpftool prints it; an array
// otherwise), with the processes that hold each and (-f) where each is pinned. A selector that
// names nothing is an error naming it. The printers get each object's references to place them
// where bpftool does.
template <typename Info>
void show_objects(Context& context, Arguments& args, kernel::ObjectType type, Info (*info_of)(int),
                  void (*print_text)(Output&, const Info&, const ObjectRefs&),
                  void (*write_object)(util::JsonWriter&, const Info&, const ObjectRefs&)) {
  const auto selector = take_optional_selector(args, type);
  args.expect_end();
  std::vector<Info> infos;
  for (const UniqueFd& fd : selector ? open_selected(type, *selector) : open_all(type))
    infos.push_back(info_of(fd.get()));
  if (selector && infos.empty()) throw_none_selected(type, *selector);
  const ObjectHolders holders = ObjectHolders::find();
  const PinnedPaths pinned = context.options.bpffs ? PinnedPaths::find(type) : PinnedPaths();
  const auto refs_of = [&](const Info& info) {
    // bpftool prints "pinned" in JSON for every object once any object of the type is pinned.
    return ObjectRefs{context.options.bpffs && (!pinned.empty() || !context.options.json), pinned.of(info.id),
                      holders.of(type, info.id)};
  };
  if (!context.options.json) {
    for (const Info& info : infos) print_text(context.out, info, refs_of(info));
    return;
  }
  write_json(context, [&](util::JsonWriter& json) {
    if (selector && infos.size() == 1) {
      write_object(json, infos.front(), refs_of(infos.front()));
      return;
    }
    json.begin_array();
    for (const Info& info : infos) write_object(json, info, refs_of(info));
    json.end_array();
  });
}

}  // namespace corebpf::cli
