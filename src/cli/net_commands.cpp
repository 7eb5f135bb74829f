// `corebpf net list|attach|detach`: the programs on the network devices of the current network
// namespace (XDP in each mode, TC clsact filters and tcx, the namespace's flow dissector) as bpftool
// lists them, and attachments that stay after the command (XDP through netlink, tcx through
// BPF_PROG_ATTACH), as `bpftool net attach` makes them.
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <net/if.h>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/object_spec.hpp"
#include "kernel/netlink.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;
namespace netlink = kernel::netlink;

struct Device {
  std::string name;
  int ifindex = 0;
};

std::vector<Device> devices() {
  std::vector<Device> list;
  struct if_nameindex* names = ::if_nameindex();
  if (names == nullptr) util::fail_errno("listing the network devices");
  for (const struct if_nameindex* n = names; n->if_index != 0; ++n)
    list.push_back({n->if_name, static_cast<int>(n->if_index)});
  ::if_freenameindex(names);
  return list;
}

Device device_named(std::string_view name) {
  const unsigned index = ::if_nametoindex(std::string(name).c_str());
  if (index == 0)
    util::fail(std::errc::no_such_device, "there is no network device '{}' in this network namespace", name);
  return {std::string(name), static_cast<int>(index)};
}

struct XdpEntry {
  Device device;
  std::string_view mode;  // generic, driver, offload
  std::uint32_t id = 0;
};

struct TcEntry {
  Device device;
  std::string kind;  // tcx/ingress, clsact/egress
  std::string name;  // the program's (tcx) or the filter's (cls_bpf) name
  std::uint32_t id = 0;
  bool tcx = false;
};

std::vector<XdpEntry> xdp_entries(const Device& device) {
  const netlink::XdpState state = netlink::query_xdp(device.ifindex);
  std::vector<XdpEntry> entries;
  const auto add = [&](std::string_view mode, std::uint32_t id) {
    if (id != 0) entries.push_back({device, mode, id});
  };
  switch (state.attached) {
    case XDP_ATTACHED_SKB:
      add("generic", state.prog_id);
      break;
    case XDP_ATTACHED_DRV:
      add("driver", state.prog_id);
      break;
    case XDP_ATTACHED_HW:
      add("offload", state.prog_id);
      break;
    case XDP_ATTACHED_MULTI:
      add("generic", state.skb_prog_id);
      add("driver", state.drv_prog_id);
      add("offload", state.hw_prog_id);
      break;
    default:
      break;
  }
  return entries;
}

std::string program_name(std::uint32_t id) {
  if (auto fd = kernel::try_open_by_id(ObjectType::program, id)) return kernel::program_info(fd->get()).name;
  return {};
}

std::vector<TcEntry> tc_entries(const Device& device) {
  std::vector<TcEntry> entries;
  for (const bool egress : {false, true}) {
    const auto type = static_cast<std::uint32_t>(egress ? AttachType::tcx_egress : AttachType::tcx_ingress);
    std::vector<std::uint32_t> ids;
    try {
      ids = kernel::query_attached(device.ifindex, type, device.name);
    } catch (const Error&) {
      // Kernels before tcx (6.6) know no such query.
    }
    for (const std::uint32_t id : ids)
      entries.push_back({device, egress ? "tcx/egress" : "tcx/ingress", program_name(id), id, true});
  }
  for (const bool egress : {false, true}) {
    const std::uint32_t parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
    for (const netlink::FilterInfo& filter : netlink::list_filters(device.ifindex, parent))
      if (filter.prog_id != 0)
        entries.push_back(
            {device, egress ? "clsact/egress" : "clsact/ingress", filter.prog_name, filter.prog_id, false});
  }
  return entries;
}

std::vector<std::uint32_t> flow_dissectors() {
  const UniqueFd netns(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!netns) util::fail_errno("opening /proc/self/ns/net");
  return kernel::query_attached(netns.get(), static_cast<std::uint32_t>(AttachType::flow_dissector),
                                "the network namespace's flow dissector");
}

// Netfilter hooks (6.4) are no device's: every netfilter link of the system, found by walking the
// links, in the order of the hooks they run at (family, hook, priority).
struct NetfilterEntry {
  std::uint32_t link_id = 0;
  std::uint32_t prog_id = 0;
  kernel::NetfilterLinkInfo hook;
};

std::vector<NetfilterEntry> netfilter_links() {
  std::vector<NetfilterEntry> entries;
  for (const std::uint32_t id : kernel::list_ids(ObjectType::link)) {
    const auto fd = kernel::try_open_by_id(ObjectType::link, id);
    if (!fd) continue;
    const kernel::LinkInfo info = kernel::link_info(fd->get());
    if (const auto* hook = info.as<kernel::NetfilterLinkInfo>()) entries.push_back({info.id, info.program_id, *hook});
  }
  std::sort(entries.begin(), entries.end(), [](const NetfilterEntry& a, const NetfilterEntry& b) {
    return std::tuple(a.hook.pf, a.hook.hooknum, a.hook.priority, a.link_id) <
           std::tuple(b.hook.pf, b.hook.hooknum, b.hook.priority, b.link_id);
  });
  return entries;
}

// NFPROTO_* (linux/netfilter.h) as nft names them.
std::string netfilter_family(std::uint32_t pf) {
  switch (pf) {
    case 1:
      return "inet";
    case 2:
      return "ip";
    case 3:
      return "arp";
    case 5:
      return "netdev";
    case 7:
      return "bridge";
    case 10:
      return "ip6";
    default:
      return fmt::format("pf {}", pf);
  }
}

// NF_INET_* (the hooks of ip, ip6 and inet).
std::string netfilter_hook(std::uint32_t hooknum) {
  static constexpr std::string_view names[] = {"prerouting", "input", "forward", "output", "postrouting"};
  return hooknum < std::size(names) ? std::string(names[hooknum]) : fmt::format("hook {}", hooknum);
}

void run_list(Context& context, Arguments& args) {
  static constexpr std::string_view keywords[] = {"dev"};
  std::vector<Device> wanted;
  const bool args_named_device = !args.empty();
  if (args_named_device) {
    args.take_keyword(keywords, "net list keyword");
    wanted.push_back(device_named(args.take("device name")));
    args.expect_end();
  } else {
    wanted = devices();
  }
  std::vector<XdpEntry> xdp;
  std::vector<TcEntry> tc;
  for (const Device& device : wanted) {
    for (XdpEntry& entry : xdp_entries(device)) xdp.push_back(std::move(entry));
    for (TcEntry& entry : tc_entries(device)) tc.push_back(std::move(entry));
  }
  const std::vector<std::uint32_t> dissectors = flow_dissectors();
  // A device named: its own attachments only; netfilter hooks belong to none.
  const std::vector<NetfilterEntry> netfilter = args_named_device ? std::vector<NetfilterEntry>() : netfilter_links();
  if (context.options.json) {
    write_json(context, [&](util::JsonWriter& json) {
      json.begin_array();
      json.begin_object();
      json.key("xdp");
      json.begin_array();
      for (const XdpEntry& e : xdp) {
        json.begin_object();
        json.member("devname", e.device.name);
        json.member("ifindex", e.device.ifindex);
        json.member("mode", e.mode);
        json.member("id", e.id);
        json.end_object();
      }
      json.end_array();
      json.key("tc");
      json.begin_array();
      for (const TcEntry& e : tc) {
        json.begin_object();
        json.member("devname", e.device.name);
        json.member("ifindex", e.device.ifindex);
        json.member("kind", e.kind);
        json.member("name", e.name);
        json.member(e.tcx ? "prog_id" : "id", e.id);
        json.end_object();
      }
      json.end_array();
      json.key("flow_dissector");
      json.begin_array();
      for (const std::uint32_t id : dissectors) {
        json.begin_object();
        json.member("id", id);
        json.end_object();
      }
      json.end_array();
      json.key("netfilter");
      json.begin_array();
      for (const NetfilterEntry& e : netfilter) {
        // bpftool's keys and order; "id" is the program's, as in the other sections.
        json.begin_object();
        json.member("pf", e.hook.pf);
        json.member("hook", e.hook.hooknum);
        json.member("prio", e.hook.priority);
        json.member("flags", e.hook.flags);
        json.member("id", e.prog_id);
        json.end_object();
      }
      json.end_array();
      json.end_object();
      json.end_array();
    });
    return;
  }
  Output& out = context.out;
  out.write("xdp:\n");
  for (const XdpEntry& e : xdp) out.print("{}({}) {} id {}\n", e.device.name, e.device.ifindex, e.mode, e.id);
  out.write("\ntc:\n");
  for (const TcEntry& e : tc) {
    if (e.tcx) {
      out.print("{}({}) {} {} prog_id {} \n", e.device.name, e.device.ifindex, e.kind, e.name, e.id);
    } else {
      out.print("{}({}) {} {} id {}\n", e.device.name, e.device.ifindex, e.kind, e.name, e.id);
    }
  }
  out.write("\nflow_dissector:\n");
  for (const std::uint32_t id : dissectors) out.print("id {}\n", id);
  out.write("\nnetfilter:\n");
  for (const NetfilterEntry& e : netfilter) {
    out.print("\t{} {} prio {}{}\n\t\tprog_id {}  link_id {}\n", netfilter_family(e.hook.pf),
              netfilter_hook(e.hook.hooknum), e.hook.priority, (e.hook.flags & 1u) != 0 ? " ip_defrag" : "", e.prog_id,
              e.link_id);
  }
  out.write("\n");
}

constexpr std::string_view kAttachTypes[] = {"xdp", "xdpgeneric", "xdpdrv", "xdpoffload", "tcx_ingress", "tcx_egress"};

std::uint32_t xdp_flags(std::string_view type) {
  if (type == "xdpgeneric") return XDP_FLAGS_SKB_MODE;
  if (type == "xdpdrv") return XDP_FLAGS_DRV_MODE;
  if (type == "xdpoffload") return XDP_FLAGS_HW_MODE;
  return 0;
}

void run_attach(Context&, Arguments& args) {
  static constexpr std::string_view dev_keyword[] = {"dev"};
  static constexpr std::string_view overwrite_keyword[] = {"overwrite"};
  const std::string_view type = args.take_keyword(kAttachTypes, "attach type");
  const Selector selector = take_selector(args, ObjectType::program);
  args.take_keyword(dev_keyword, "'dev'");
  const Device device = device_named(args.take("device name"));
  bool overwrite = false;
  if (!args.empty()) {
    args.take_keyword(overwrite_keyword, "net attach keyword");
    overwrite = true;
  }
  args.expect_end();
  const UniqueFd program = open_one(ObjectType::program, selector);
  const std::string what =
      fmt::format("program {} as {} on {}", describe_selector(ObjectType::program, selector), type, device.name);
  if (type.starts_with("tcx")) {
    const auto attach_type = type == "tcx_ingress" ? AttachType::tcx_ingress : AttachType::tcx_egress;
    // BPF_F_REPLACE-less tcx appends; `overwrite` is bpftool's word for replacing an XDP program.
    if (overwrite) throw UsageError("'overwrite' applies to XDP attach types");
    kernel::prog_attach(device.ifindex, program.get(), static_cast<std::uint32_t>(attach_type), 0, what);
    return;
  }
  std::uint32_t flags = xdp_flags(type);
  if (!overwrite) flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
  const netlink::Reply reply = netlink::set_xdp(device.ifindex, program.get(), flags);
  if (!reply) {
    if (reply.error == -EBUSY || reply.error == -EEXIST)
      util::fail(std::errc::device_or_resource_busy,
                 "attaching {}: an XDP program is already attached (add 'overwrite' "
                 "to replace it)",
                 what);
    throw Error(-reply.error, fmt::format("attaching {}: {}", what, reply.describe()));
  }
}

void run_detach(Context&, Arguments& args) {
  static constexpr std::string_view dev_keyword[] = {"dev"};
  const std::string_view type = args.take_keyword(kAttachTypes, "attach type");
  args.take_keyword(dev_keyword, "'dev'");
  const Device device = device_named(args.take("device name"));
  args.expect_end();
  if (type.starts_with("tcx")) {
    const auto attach_type =
        static_cast<std::uint32_t>(type == "tcx_ingress" ? AttachType::tcx_ingress : AttachType::tcx_egress);
    const auto ids = kernel::query_attached(device.ifindex, attach_type, device.name);
    if (ids.empty())
      util::fail(std::errc::no_such_file_or_directory, "no {} program is attached on {}", type, device.name);
    // Every program of that hook, as bpftool does.
    for (const std::uint32_t id : ids) {
      const auto fd = kernel::try_open_by_id(ObjectType::program, id);
      if (!fd) continue;
      kernel::prog_detach(device.ifindex, fd->get(), attach_type,
                          fmt::format("program {} ({}) from {}", id, type, device.name));
    }
    return;
  }
  const netlink::Reply reply = netlink::set_xdp(device.ifindex, -1, xdp_flags(type));
  if (!reply) throw Error(-reply.error, fmt::format("detaching {} from {}: {}", type, device.name, reply.describe()));
}

constexpr Verb kNetVerbs[] = {
    {"show", run_list, ""},
    {"list", run_list, "{ show | list } [dev NAME]"},
    {"attach", run_attach, "attach ATTACH_TYPE PROG dev NAME [overwrite]"},
    {"detach", run_detach, "detach ATTACH_TYPE dev NAME"},
};

constexpr Object kNetObject = {
    "net",
    kNetVerbs,
    "       ATTACH_TYPE := { xdp | xdpgeneric | xdpdrv | xdpoffload | tcx_ingress | tcx_egress }\n"
    "       PROG := { id PROG_ID | pinned FILE | name PROG_NAME | tag PROG_TAG }\n"
    "       Attachments stay after the command until detached (no link). xdp lets the driver pick its\n"
    "       mode; overwrite replaces an XDP program already there.\n",
};

}  // namespace

const Object& net_object() { return kNetObject; }

}  // namespace corebpf::cli
