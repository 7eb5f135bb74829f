// `corebpf link ...`: list the kernel's BPF links, pin one, detach one (which ends the attachment
// even while it is pinned or held by another process).
#include <linux/bpf.h>
#include <net/if.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/commands.hpp"
#include "cli/object_select.hpp"
#include "corebpf/error.hpp"
#include "corebpf/kernel.hpp"
#include "corebpf/link.hpp"
#include "corebpf/object_spec.hpp"
#include "uapi/uapi.hpp"
#include "util/error_format.hpp"

namespace corebpf::cli {
namespace {

using kernel::ObjectType;

std::string type_text(std::uint32_t type) {
  const std::string_view name = kernel::link_type_name(type);
  return name.empty() ? fmt::format("type {}", type) : std::string(name);
}

std::string attach_type_text(std::uint32_t type) {
  const std::string_view name = attach_type_name(static_cast<AttachType>(type));
  return name.empty() ? fmt::format("{}", type) : std::string(name);
}

// One field of a link's kind as `link show` prints it: text "key value", JSON "key": value.
struct Field {
  std::string key;
  std::variant<std::uint64_t, std::int64_t, std::string, bool> value;
};
// A kind's fields, and its per-location records (kprobe.multi functions, uprobe.multi offsets).
struct LinkFields {
  std::vector<Field> fields;
  std::string records_key;
  std::vector<std::vector<Field>> records;
};

std::optional<std::string> device_name(std::uint32_t ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex == 0 || ::if_indextoname(ifindex, name) == nullptr) return std::nullopt;
  return std::string(name);
}

void add_device(std::vector<Field>& fields, std::uint32_t ifindex) {
  if (const auto name = device_name(ifindex)) fields.push_back({"devname", *name});
  fields.push_back({"ifindex", std::uint64_t{ifindex}});
}

std::string_view perf_event_kind_name(kernel::PerfEventLinkInfo::Kind kind) {
  using Kind = kernel::PerfEventLinkInfo::Kind;
  switch (kind) {
    case Kind::uprobe:
      return "uprobe";
    case Kind::uretprobe:
      return "uretprobe";
    case Kind::kprobe:
      return "kprobe";
    case Kind::kretprobe:
      return "kretprobe";
    case Kind::tracepoint:
      return "tracepoint";
    case Kind::event:
      return "event";
    case Kind::unspec:
      break;
  }
  return "";
}

std::string_view cgroup_iter_order_name(std::uint32_t order) {
  static constexpr std::string_view names[] = {"unspec", "self_only", "descendants_pre", "descendants_post",
                                               "ancestors_up"};
  return order < std::size(names) ? names[order] : "";
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;  // clang 14 deduces no aggregate's arguments by itself

// The fields bpftool's `link show` prints for each kind, under its JSON keys.
LinkFields link_fields(const kernel::LinkInfo& info) {
  LinkFields out;
  auto& f = out.fields;
  using U = std::uint64_t;
  std::visit(
      Overloaded{
          [](const std::monostate&) {},
          [&](const kernel::RawTracepointLinkInfo& raw) {
            f.push_back({"tp_name", raw.tp_name});
          },
          [&](const kernel::TracingLinkInfo& t) {
            f.push_back({"attach_type", attach_type_text(t.attach_type)});
            f.push_back({"target_obj_id", U{t.target_obj_id}});
            f.push_back({"target_btf_id", U{t.target_btf_id}});
          },
          [&](const kernel::CgroupLinkInfo& c) {
            f.push_back({"cgroup_id", U{c.cgroup_id}});
            f.push_back({"attach_type", attach_type_text(c.attach_type)});
          },
          [&](const kernel::IterLinkInfo& it) {
            f.push_back({"target_name", it.target_name});
            if (it.map_id) f.push_back({"map_id", U{*it.map_id}});
            if (it.cgroup) {
              f.push_back({"cgroup_id", U{it.cgroup->cgroup_id}});
              f.push_back({"order", std::string(cgroup_iter_order_name(it.cgroup->order))});
            }
            if (it.task && it.task->tid != 0) f.push_back({"tid", U{it.task->tid}});
            if (it.task && it.task->pid != 0) f.push_back({"pid", U{it.task->pid}});
          },
          [&](const kernel::NetnsLinkInfo& n) {
            f.push_back({"netns_ino", U{n.netns_ino}});
            f.push_back({"attach_type", attach_type_text(n.attach_type)});
          },
          [&](const kernel::XdpLinkInfo& x) { add_device(f, x.ifindex); },
          [&](const kernel::StructOpsLinkInfo& s) {
            f.push_back({"map_id", U{s.map_id}});
          },
          [&](const kernel::NetfilterLinkInfo& n) {
            f.push_back({"pf", U{n.pf}});
            f.push_back({"hook", U{n.hooknum}});
            f.push_back({"prio", std::int64_t{n.priority}});
            f.push_back({"flags", U{n.flags}});
          },
          [&](const kernel::KprobeMultiLinkInfo& k) {
            f.push_back({"retprobe", k.retprobe()});
            if (!k.count) return;
            f.push_back({"func_cnt", U{*k.count}});
            f.push_back({"missed", U{k.missed}});
            out.records_key = "funcs";
            for (std::size_t i = 0; i < k.addresses.size(); ++i) {
              std::vector<Field> record{{"addr", U{k.addresses[i]}}};
              if (i < k.cookies.size()) record.push_back({"cookie", U{k.cookies[i]}});
              out.records.push_back(std::move(record));
            }
          },
          [&](const kernel::UprobeMultiLinkInfo& u) {
            f.push_back({"path", u.path});
            f.push_back({"func_cnt", U{u.count}});
            f.push_back({"pid", U{u.pid}});
            f.push_back({"retprobe", u.retprobe()});
            out.records_key = "funcs";
            for (std::size_t i = 0; i < u.offsets.size(); ++i) {
              out.records.push_back({{"offset", U{u.offsets[i]}},
                                     {"ref_ctr_offset", U{i < u.ref_ctr_offsets.size() ? u.ref_ctr_offsets[i] : 0}},
                                     {"cookie", U{i < u.cookies.size() ? u.cookies[i] : 0}}});
            }
          },
          [&](const kernel::PerfEventLinkInfo& p) {
            using Kind = kernel::PerfEventLinkInfo::Kind;
            const std::string_view kind = perf_event_kind_name(p.kind);
            if (kind.empty()) return;  // a kernel before 6.6 tells nothing more
            f.push_back({"perf_event_type", std::string(kind)});
            switch (p.kind) {
              case Kind::uprobe:
              case Kind::uretprobe:
                f.push_back({"retprobe", p.kind == Kind::uretprobe});
                f.push_back({"file", p.name});
                f.push_back({"offset", U{p.offset}});
                break;
              case Kind::kprobe:
              case Kind::kretprobe:
                f.push_back({"retprobe", p.kind == Kind::kretprobe});
                f.push_back({"addr", U{p.address}});
                f.push_back({"func", p.name});
                f.push_back({"offset", U{p.offset}});
                f.push_back({"missed", U{p.missed}});
                break;
              case Kind::tracepoint:
                f.push_back({"tracepoint", p.name});
                break;
              case Kind::event:
                f.push_back({"event_type", U{p.event_type}});
                f.push_back({"event_config", U{p.config}});
                break;
              case Kind::unspec:
                break;
            }
            f.push_back({"cookie", U{p.cookie}});
          },
          [&](const kernel::TcxLinkInfo& t) {
            add_device(f, t.ifindex);
            f.push_back({"attach_type", attach_type_text(t.attach_type)});
          },
          [&](const kernel::NetkitLinkInfo& n) {
            add_device(f, n.ifindex);
            f.push_back({"attach_type", attach_type_text(n.attach_type)});
          },
          [&](const kernel::SockmapLinkInfo& s) {
            f.push_back({"map_id", U{s.map_id}});
            f.push_back({"attach_type", attach_type_text(s.attach_type)});
          },
      },
      info.details);
  return out;
}

std::string field_text(const Field& field) {
  return std::visit(Overloaded{
                        [](const std::string& text) { return text; },
                        [&](std::uint64_t number) {
                          return field.key == "addr" || field.key.ends_with("offset") ? fmt::format("{:#x}", number)
                                                                                      : fmt::format("{}", number);
                        },
                        [](std::int64_t number) { return fmt::format("{}", number); },
                        [](bool flag) { return std::string(flag ? "true" : "false"); },
                    },
                    field.value);
}

void write_field(util::JsonWriter& json, const Field& field) {
  json.key(field.key);
  std::visit([&](const auto& value) { json.value(value); }, field.value);
}

void print_text(Output& out, const kernel::LinkInfo& info, const ObjectRefs& refs) {
  out.print("{}: {}  prog {}\n", info.id, type_text(info.type), info.program_id);
  const LinkFields fields = link_fields(info);
  if (!fields.fields.empty()) {
    out.write("\t");
    for (std::size_t i = 0; i < fields.fields.size(); ++i)
      out.print("{}{} {}", i == 0 ? "" : "  ", fields.fields[i].key, field_text(fields.fields[i]));
    out.write("\n");
  }
  for (const auto& record : fields.records) {
    out.write("\t");
    for (std::size_t i = 0; i < record.size(); ++i)
      out.print("{}{} {}", i == 0 ? "" : "  ", record[i].key, field_text(record[i]));
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
  const LinkFields fields = link_fields(info);
  for (const Field& field : fields.fields) write_field(json, field);
  if (!fields.records_key.empty()) {
    json.key(fields.records_key);
    json.begin_array();
    for (const auto& record : fields.records) {
      json.begin_object();
      for (const Field& field : record) write_field(json, field);
      json.end_object();
    }
    json.end_array();
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
    case uapi::BPF_LINK_TYPE_NETFILTER:
    case uapi::BPF_LINK_TYPE_TCX:
    case uapi::BPF_LINK_TYPE_NETKIT:
    case uapi::BPF_LINK_TYPE_SOCKMAP:
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
