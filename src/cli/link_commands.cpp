// `corebpf link ...`: list the kernel's BPF links, pin one, detach one (which ends the attachment
// even while it is pinned or held by another process).
#include <linux/bpf.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/link.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

std::string type_text(std::uint32_t type) {
  const std::string_view name = kernel::link_type_name(type);
  return name.empty() ? fmt::format("type {}", type) : std::string(name);
}

bool is_number(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

void print_text(Output& out, const kernel::LinkInfo& info, const ObjectRefs& refs) {
  out.print("{}: {}  prog {}\n", info.id, type_text(info.type), info.program_id);
  if (!info.details.empty()) {
    out.write("\t");
    for (std::size_t i = 0; i < info.details.size(); ++i)
      out.print("{}{} {}", i == 0 ? "" : "  ", info.details[i].first, info.details[i].second);
    out.write("\n");
  }
  print_pinned_text(out, refs);
  print_pids_text(out, refs);
}

void write_link_json(util::JsonWriter& json, const kernel::LinkInfo& info, const ObjectRefs& refs) {
  json.begin_object();
  json.member("id", info.id);
  json.member("type", type_text(info.type));
  json.member("prog_id", info.program_id);
  for (const auto& [key, value] : info.details) {
    json.key(key);
    if (is_number(value)) {
      json.raw_value(value);
    } else {
      json.value(value);
    }
  }
  write_refs_json(json, refs);
  json.end_object();
}

void run_show(Context& context, Arguments& args) {
  show_objects(context, args, ObjectType::link, &kernel::link_info, &print_text, &write_link_json);
}

Link open_link(Arguments& args) {
  const Selector selector = take_selector(args, ObjectType::link);
  if (selector.by == Selector::By::pinned) return Link::open_pinned(selector.text);
  (void)open_one(ObjectType::link, selector);  // a missing id reported by our own message
  return Link::open_by_id(selector.id);
}

void run_pin(Context&, Arguments& args) {
  const Link link = open_link(args);
  const std::string path(args.take("pin path"));
  args.expect_end();
  link.pin(path);
}

// BPF_LINK_DETACH works on the link types whose kernel side has a detach operation; the others
// (tracepoints through perf events, raw tracepoints, trampolines, iterators, kprobe.multi...) end
// only when the last pin and fd go, which the command cannot force.
bool kernel_can_detach(std::uint32_t type) {
  switch (type) {
    case BPF_LINK_TYPE_CGROUP:
    case BPF_LINK_TYPE_NETNS:
    case BPF_LINK_TYPE_XDP:
    case BPF_LINK_TYPE_STRUCT_OPS:
    case 10:  // netfilter
    case 11:  // tcx
    case 13:  // netkit
    case 14:  // sockmap
      return true;
    default:
      return false;
  }
}

void run_detach(Context&, Arguments& args) {
  Link link = open_link(args);
  args.expect_end();
  const kernel::LinkInfo info = link.info();
  if (!kernel_can_detach(info.type)) {
    util::fail(std::errc::operation_not_supported,
               "link {} ({}): the kernel cannot detach this type of link; it ends when its pins are removed and "
               "no process holds it",
               info.id, type_text(info.type));
  }
  link.detach();
}

constexpr Verb kLinkVerbs[] = {
    {"show", run_show, ""},
    {"list", run_show, "{ show | list } [LINK]"},
    {"pin", run_pin, "pin LINK FILE"},
    {"detach", run_detach, "detach LINK"},
};

constexpr Object kLinkObject = {
    "link",
    kLinkVerbs,
    "       LINK := { id LINK_ID | pinned FILE }\n"
    "       detach ends the attachment even while the link is pinned (cgroup, netns, xdp, tcx, netkit,\n"
    "       sockmap, struct_ops, netfilter links); other links end when their pins are removed (rm)\n"
    "       and no process holds them.\n",
};

}  // namespace

const Object& link_object() { return kLinkObject; }

}  // namespace corebpf::cli
