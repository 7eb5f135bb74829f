// The SEC() name table: every built-in name, custom handlers, and the uapi numbers behind the enums.
#include <linux/bpf.h>

#include <set>

#include "object/object_test_support.hpp"

namespace corebpf {
namespace {

using test::error_of;
using test::open_bpf_object;

// The uapi values the enums mirror, as far as Debian 12's <linux/bpf.h> (Linux 6.1) has them;
// newer ones were checked against Linux 6.12's header when written.
static_assert(static_cast<std::uint32_t>(ProgramType::syscall) == BPF_PROG_TYPE_SYSCALL);
static_assert(static_cast<std::uint32_t>(ProgramType::sk_lookup) == BPF_PROG_TYPE_SK_LOOKUP);
static_assert(static_cast<std::uint32_t>(ProgramType::raw_tracepoint_writable) ==
              BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE);
static_assert(static_cast<std::uint32_t>(ProgramType::cgroup_sock_addr) == BPF_PROG_TYPE_CGROUP_SOCK_ADDR);
static_assert(static_cast<std::uint32_t>(ProgramType::sched_cls) == BPF_PROG_TYPE_SCHED_CLS);
static_assert(static_cast<std::uint32_t>(ProgramType::lsm) == BPF_PROG_TYPE_LSM);
static_assert(static_cast<std::uint32_t>(AttachType::cgroup_inet_ingress) == BPF_CGROUP_INET_INGRESS);
static_assert(static_cast<std::uint32_t>(AttachType::trace_iter) == BPF_TRACE_ITER);
static_assert(static_cast<std::uint32_t>(AttachType::xdp_cpumap) == BPF_XDP_CPUMAP);
static_assert(static_cast<std::uint32_t>(AttachType::sk_reuseport_select_or_migrate) ==
              BPF_SK_REUSEPORT_SELECT_OR_MIGRATE);
static_assert(static_cast<std::uint32_t>(AttachType::trace_kprobe_multi) == BPF_TRACE_KPROBE_MULTI);
static_assert(static_cast<std::uint32_t>(AttachType::lsm_cgroup) == BPF_LSM_CGROUP);
static_assert(__MAX_BPF_ATTACH_TYPE == static_cast<std::uint32_t>(AttachType::lsm_cgroup) + 1);
static_assert(static_cast<std::uint32_t>(MapType::user_ringbuf) == BPF_MAP_TYPE_USER_RINGBUF);
static_assert(static_cast<std::uint32_t>(MapType::cgroup_storage) == BPF_MAP_TYPE_CGROUP_STORAGE);
static_assert(static_cast<std::uint32_t>(MapType::bloom_filter) == BPF_MAP_TYPE_BLOOM_FILTER);

using P = ProgramType;
using A = AttachType;
using AA = AutoAttach;

struct SectionCase {
  const char* section;
  ProgramType type;
  std::optional<AttachType> attach;
  const char* target;
  AutoAttach auto_attach;
  bool sleepable = false;
  bool frags = false;
  bool btf_target = false;
};

void PrintTo(const SectionCase& c, std::ostream* os) { *os << c.section; }

constexpr std::nullopt_t none = std::nullopt;

// Written from the libbpf documentation's table ("Program Types and ELF Sections"), not from
// corebpf's own table.
const SectionCase kCases[] = {
    {"socket", P::socket_filter, none, "", AA::none},
    {"sk_reuseport", P::sk_reuseport, A::sk_reuseport_select, "", AA::none},
    {"sk_reuseport/migrate", P::sk_reuseport, A::sk_reuseport_select_or_migrate, "", AA::none},
    {"kprobe", P::kprobe, none, "", AA::kprobe},
    {"kprobe/do_unlinkat", P::kprobe, none, "do_unlinkat", AA::kprobe},
    {"kprobe/do_unlinkat+16", P::kprobe, none, "do_unlinkat+16", AA::kprobe},
    {"kretprobe/do_unlinkat", P::kprobe, none, "do_unlinkat", AA::kretprobe},
    {"ksyscall/openat", P::kprobe, none, "openat", AA::ksyscall},
    {"kretsyscall/openat", P::kprobe, none, "openat", AA::kretsyscall},
    {"uprobe//bin/sh:main", P::kprobe, none, "/bin/sh:main", AA::uprobe},
    {"uprobe.s//bin/sh:main", P::kprobe, none, "/bin/sh:main", AA::uprobe, true},
    {"uretprobe//bin/sh:main", P::kprobe, none, "/bin/sh:main", AA::uretprobe},
    {"uretprobe.s//bin/sh:main", P::kprobe, none, "/bin/sh:main", AA::uretprobe, true},
    {"usdt//lib/libc.so.6:libc:setjmp", P::kprobe, none, "/lib/libc.so.6:libc:setjmp", AA::usdt},
    {"usdt.s//lib/libc.so.6:libc:setjmp", P::kprobe, none, "/lib/libc.so.6:libc:setjmp", AA::usdt, true},
    {"kprobe.multi/tcp_*", P::kprobe, A::trace_kprobe_multi, "tcp_*", AA::kprobe_multi},
    {"kretprobe.multi/tcp_?", P::kprobe, A::trace_kprobe_multi, "tcp_?", AA::kretprobe_multi},
    {"kprobe.session/vfs_*", P::kprobe, A::trace_kprobe_session, "vfs_*", AA::kprobe_session},
    {"uprobe.multi//bin/sh:read*", P::kprobe, A::trace_uprobe_multi, "/bin/sh:read*", AA::uprobe_multi},
    {"uretprobe.multi//bin/sh:read*", P::kprobe, A::trace_uprobe_multi, "/bin/sh:read*", AA::uretprobe_multi},
    {"uprobe.multi.s//bin/sh:read*", P::kprobe, A::trace_uprobe_multi, "/bin/sh:read*", AA::uprobe_multi, true},
    {"uretprobe.multi.s//bin/sh:read*", P::kprobe, A::trace_uprobe_multi, "/bin/sh:read*", AA::uretprobe_multi, true},
    {"tc", P::sched_cls, none, "", AA::none},
    {"classifier", P::sched_cls, none, "", AA::none},
    {"action", P::sched_act, none, "", AA::none},
    {"tc/ingress", P::sched_cls, A::tcx_ingress, "", AA::none},
    {"tc/egress", P::sched_cls, A::tcx_egress, "", AA::none},
    {"tcx/ingress", P::sched_cls, A::tcx_ingress, "", AA::none},
    {"tcx/egress", P::sched_cls, A::tcx_egress, "", AA::none},
    {"netkit/primary", P::sched_cls, A::netkit_primary, "", AA::none},
    {"netkit/peer", P::sched_cls, A::netkit_peer, "", AA::none},
    {"tracepoint/syscalls/sys_enter_openat", P::tracepoint, none, "syscalls/sys_enter_openat", AA::tracepoint},
    {"tp/sched/sched_switch", P::tracepoint, none, "sched/sched_switch", AA::tracepoint},
    {"raw_tracepoint/sys_enter", P::raw_tracepoint, none, "sys_enter", AA::raw_tracepoint},
    {"raw_tp/sys_exit", P::raw_tracepoint, none, "sys_exit", AA::raw_tracepoint},
    {"raw_tracepoint.w/bpf_test_finish", P::raw_tracepoint_writable, none, "bpf_test_finish", AA::raw_tracepoint},
    {"raw_tp.w/bpf_test_finish", P::raw_tracepoint_writable, none, "bpf_test_finish", AA::raw_tracepoint},
    {"tp_btf/sched_switch", P::tracing, A::trace_raw_tp, "sched_switch", AA::tracing, false, false, true},
    {"fentry/do_unlinkat", P::tracing, A::trace_fentry, "do_unlinkat", AA::tracing, false, false, true},
    {"fentry.s/do_unlinkat", P::tracing, A::trace_fentry, "do_unlinkat", AA::tracing, true, false, true},
    {"fexit/do_unlinkat", P::tracing, A::trace_fexit, "do_unlinkat", AA::tracing, false, false, true},
    {"fexit.s/do_unlinkat", P::tracing, A::trace_fexit, "do_unlinkat", AA::tracing, true, false, true},
    {"fmod_ret/security_task_alloc", P::tracing, A::modify_return, "security_task_alloc", AA::tracing, false, false,
     true},
    {"fmod_ret.s/security_task_alloc", P::tracing, A::modify_return, "security_task_alloc", AA::tracing, true, false,
     true},
    {"freplace/handler", P::ext, none, "handler", AA::tracing, false, false, true},
    {"lsm/file_open", P::lsm, A::lsm_mac, "file_open", AA::lsm, false, false, true},
    {"lsm.s/file_open", P::lsm, A::lsm_mac, "file_open", AA::lsm, true, false, true},
    {"lsm_cgroup/socket_bind", P::lsm, A::lsm_cgroup, "socket_bind", AA::none, false, false, true},
    {"iter/task", P::tracing, A::trace_iter, "task", AA::iter, false, false, true},
    {"iter.s/task_file", P::tracing, A::trace_iter, "task_file", AA::iter, true, false, true},
    {"struct_ops/test_1", P::struct_ops, none, "test_1", AA::none},
    {"struct_ops.s/test_2", P::struct_ops, none, "test_2", AA::none, true},
    {"syscall", P::syscall, none, "", AA::none, true},
    {"xdp", P::xdp, A::xdp, "", AA::none},
    {"xdp.frags", P::xdp, A::xdp, "", AA::none, false, true},
    {"xdp/devmap", P::xdp, A::xdp_devmap, "", AA::none},
    {"xdp.frags/devmap", P::xdp, A::xdp_devmap, "", AA::none, false, true},
    {"xdp/cpumap", P::xdp, A::xdp_cpumap, "", AA::none},
    {"xdp.frags/cpumap", P::xdp, A::xdp_cpumap, "", AA::none, false, true},
    {"perf_event", P::perf_event, none, "", AA::none},
    {"lwt_in", P::lwt_in, none, "", AA::none},
    {"lwt_out", P::lwt_out, none, "", AA::none},
    {"lwt_xmit", P::lwt_xmit, none, "", AA::none},
    {"lwt_seg6local", P::lwt_seg6local, none, "", AA::none},
    {"sockops", P::sock_ops, A::cgroup_sock_ops, "", AA::none},
    {"sk_skb", P::sk_skb, none, "", AA::none},
    {"sk_skb/stream_parser", P::sk_skb, A::sk_skb_stream_parser, "", AA::none},
    {"sk_skb/stream_verdict", P::sk_skb, A::sk_skb_stream_verdict, "", AA::none},
    {"sk_skb/verdict", P::sk_skb, A::sk_skb_verdict, "", AA::none},
    {"sk_msg", P::sk_msg, A::sk_msg_verdict, "", AA::none},
    {"lirc_mode2", P::lirc_mode2, A::lirc_mode2, "", AA::none},
    {"flow_dissector", P::flow_dissector, A::flow_dissector, "", AA::none},
    {"cgroup_skb/ingress", P::cgroup_skb, A::cgroup_inet_ingress, "", AA::none},
    {"cgroup_skb/egress", P::cgroup_skb, A::cgroup_inet_egress, "", AA::none},
    {"cgroup/skb", P::cgroup_skb, none, "", AA::none},
    {"cgroup/sock", P::cgroup_sock, A::cgroup_inet_sock_create, "", AA::none},
    {"cgroup/sock_create", P::cgroup_sock, A::cgroup_inet_sock_create, "", AA::none},
    {"cgroup/sock_release", P::cgroup_sock, A::cgroup_inet_sock_release, "", AA::none},
    {"cgroup/post_bind4", P::cgroup_sock, A::cgroup_inet4_post_bind, "", AA::none},
    {"cgroup/post_bind6", P::cgroup_sock, A::cgroup_inet6_post_bind, "", AA::none},
    {"cgroup/bind4", P::cgroup_sock_addr, A::cgroup_inet4_bind, "", AA::none},
    {"cgroup/bind6", P::cgroup_sock_addr, A::cgroup_inet6_bind, "", AA::none},
    {"cgroup/connect4", P::cgroup_sock_addr, A::cgroup_inet4_connect, "", AA::none},
    {"cgroup/connect6", P::cgroup_sock_addr, A::cgroup_inet6_connect, "", AA::none},
    {"cgroup/connect_unix", P::cgroup_sock_addr, A::cgroup_unix_connect, "", AA::none},
    {"cgroup/sendmsg4", P::cgroup_sock_addr, A::cgroup_udp4_sendmsg, "", AA::none},
    {"cgroup/sendmsg6", P::cgroup_sock_addr, A::cgroup_udp6_sendmsg, "", AA::none},
    {"cgroup/sendmsg_unix", P::cgroup_sock_addr, A::cgroup_unix_sendmsg, "", AA::none},
    {"cgroup/recvmsg4", P::cgroup_sock_addr, A::cgroup_udp4_recvmsg, "", AA::none},
    {"cgroup/recvmsg6", P::cgroup_sock_addr, A::cgroup_udp6_recvmsg, "", AA::none},
    {"cgroup/recvmsg_unix", P::cgroup_sock_addr, A::cgroup_unix_recvmsg, "", AA::none},
    {"cgroup/getpeername4", P::cgroup_sock_addr, A::cgroup_inet4_getpeername, "", AA::none},
    {"cgroup/getpeername6", P::cgroup_sock_addr, A::cgroup_inet6_getpeername, "", AA::none},
    {"cgroup/getpeername_unix", P::cgroup_sock_addr, A::cgroup_unix_getpeername, "", AA::none},
    {"cgroup/getsockname4", P::cgroup_sock_addr, A::cgroup_inet4_getsockname, "", AA::none},
    {"cgroup/getsockname6", P::cgroup_sock_addr, A::cgroup_inet6_getsockname, "", AA::none},
    {"cgroup/getsockname_unix", P::cgroup_sock_addr, A::cgroup_unix_getsockname, "", AA::none},
    {"cgroup/sysctl", P::cgroup_sysctl, A::cgroup_sysctl, "", AA::none},
    {"cgroup/getsockopt", P::cgroup_sockopt, A::cgroup_getsockopt, "", AA::none},
    {"cgroup/setsockopt", P::cgroup_sockopt, A::cgroup_setsockopt, "", AA::none},
    {"cgroup/dev", P::cgroup_device, A::cgroup_device, "", AA::none},
    {"sk_lookup", P::sk_lookup, A::sk_lookup, "", AA::none},
    {"netfilter", P::netfilter, A::netfilter, "", AA::none},
};

class SectionTable : public ::testing::TestWithParam<SectionCase> {};

TEST_P(SectionTable, MapsTheNameToItsDefinition) {
  const auto& expected = GetParam();
  const auto definition = section_definition(expected.section);
  ASSERT_TRUE(definition) << expected.section;
  EXPECT_EQ(definition->type, expected.type);
  EXPECT_EQ(definition->expected_attach_type, expected.attach);
  EXPECT_EQ(definition->attach_target, expected.target);
  EXPECT_EQ(definition->auto_attach, expected.auto_attach);
  EXPECT_EQ(definition->sleepable, expected.sleepable);
  EXPECT_EQ(definition->xdp_frags, expected.frags);
  EXPECT_EQ(definition->attach_target_is_btf, expected.btf_target);
}

INSTANTIATE_TEST_SUITE_P(EveryName, SectionTable, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<SectionCase>& info) {
                           std::string name;
                           for (const char* c = info.param.section; *c; ++c)
                             name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
                           return name + "_" + std::to_string(info.index);
                         });

TEST(SectionTable, UnknownNamesHaveNoDefinition) {
  for (const char* section : {"", "kprobex", "kprobe_foo", "xdp/unknown", "xdp.fragsx", "tc/sideways", "socket/x",
                              "cgroup/foo", "cgroup_skb", "sk_msg/x", "syscall/x", ".text", "struct_opsx/a"})
    EXPECT_FALSE(section_definition(section)) << section;
}

TEST(SectionTable, CustomHandlersComeFirstAndFallBackLast) {
  std::vector<SectionHandler> handlers;
  handlers.push_back({"xdp", [](std::string_view, ProgramDefinition& d) { d.type = ProgramType::socket_filter; }});
  handlers.push_back({"mine+", [](std::string_view section, ProgramDefinition& d) {
                        d.type = ProgramType::kprobe;
                        d.auto_attach = AutoAttach::kprobe;
                        d.sleepable = section.starts_with("mine/s");
                      }});
  handlers.push_back({"prefix/", [](std::string_view, ProgramDefinition& d) { d.type = ProgramType::lsm; }});
  handlers.push_back({"", [](std::string_view, ProgramDefinition& d) { d.type = ProgramType::perf_event; }});

  EXPECT_EQ(section_definition("xdp", handlers)->type, ProgramType::socket_filter);
  auto mine = section_definition("mine/sleepy_target", handlers);
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->type, ProgramType::kprobe);
  EXPECT_EQ(mine->attach_target, "sleepy_target");
  EXPECT_TRUE(mine->sleepable);
  EXPECT_EQ(section_definition("mine", handlers)->attach_target, "");
  EXPECT_EQ(section_definition("prefix/a/b", handlers)->attach_target, "a/b");
  // Built-in names still win over the fallback.
  EXPECT_EQ(section_definition("kprobe/f", handlers)->type, ProgramType::kprobe);
  EXPECT_EQ(section_definition("something/else", handlers)->type, ProgramType::perf_event);
  EXPECT_EQ(section_definition("something/else", handlers)->attach_target, "");
  EXPECT_EQ(section_definition("minefield", std::span(handlers).first(3)), std::nullopt);
}

TEST(SectionTable, NamesOfTheEnums) {
  EXPECT_EQ(program_type_name(ProgramType::sched_cls), "sched_cls");
  EXPECT_EQ(program_type_name(ProgramType::netfilter), "netfilter");
  EXPECT_EQ(program_type_name(static_cast<ProgramType>(1000)), "");
  EXPECT_EQ(attach_type_name(AttachType::cgroup_inet_ingress), "cgroup_inet_ingress");
  EXPECT_EQ(attach_type_name(AttachType::trace_kprobe_session), "trace_kprobe_session");
  EXPECT_EQ(map_type_name(MapType::percpu_array), "percpu_array");
  EXPECT_EQ(map_type_name(MapType::arena), "arena");
}

TEST(SectionTable, EveryNameOpensThroughAnObject) {
  const auto spec = open_bpf_object("object_sections");
  std::set<std::string> sections;
  for (const auto& program : spec.programs()) {
    const auto expected = section_definition(program.section());
    ASSERT_TRUE(expected) << program.section();
    EXPECT_EQ(program.type(), expected->type) << program.name();
    EXPECT_EQ(program.expected_attach_type(), expected->expected_attach_type) << program.name();
    EXPECT_EQ(program.attach_target(), expected->attach_target) << program.name();
    EXPECT_EQ(program.autoload(), program.name() != "p_no_autoload") << program.name();
    sections.insert(program.section());
  }
  EXPECT_EQ(spec.programs().size(), 104u);
  EXPECT_EQ(spec.program("p_uprobe_s").attach_target(), "/usr/bin/bash:readline");
  EXPECT_TRUE(spec.program("p_uprobe_s").sleepable());
  EXPECT_TRUE(spec.program("p_kprobe").auto_attachable());
  EXPECT_FALSE(spec.program("p_kprobe_bare").auto_attachable());
  EXPECT_FALSE(spec.program("p_xdp").auto_attachable());
  EXPECT_EQ(spec.program("p_tp_btf").attach_btf_name(), "btf_trace_sched_switch");
  EXPECT_EQ(spec.program("p_lsm").attach_btf_name(), "bpf_lsm_file_open");
  EXPECT_EQ(spec.program("p_iter").attach_btf_name(), "bpf_iter_task");
  EXPECT_EQ(spec.program("p_fentry").attach_btf_name(), "do_unlinkat");
  EXPECT_EQ(spec.program("p_no_autoload").section(), "xdp");
}

TEST(SectionTable, UnknownSectionIsAnErrorNamingIt) {
  const auto message = error_of([] { open_bpf_object("object_bad_section"); });
  EXPECT_NE(message.find("object_bad_section.bpf.o"), std::string::npos) << message;
  EXPECT_NE(message.find("'not_a_section/some_target'"), std::string::npos) << message;
  EXPECT_NE(message.find("'stray'"), std::string::npos) << message;
}

TEST(SectionTable, AHandlerClaimsAnUnknownSection) {
  OpenOptions options;
  options.section_handlers.push_back({"not_a_section+", [](std::string_view, ProgramDefinition& d) {
                                        d.type = ProgramType::kprobe;
                                        d.auto_attach = AutoAttach::kprobe;
                                      }});
  const auto spec = open_bpf_object("object_bad_section", options);
  const auto& program = spec.program("stray");
  EXPECT_EQ(program.type(), ProgramType::kprobe);
  EXPECT_EQ(program.attach_target(), "some_target");
  EXPECT_TRUE(program.auto_attachable());

  OpenOptions rejecting;
  rejecting.section_handlers.push_back({"", [](std::string_view section, ProgramDefinition&) {
                                          throw Error(std::errc::invalid_argument, "refusing " + std::string(section));
                                        }});
  EXPECT_EQ(error_of([&] { open_bpf_object("object_bad_section", rejecting); }), "refusing not_a_section/some_target");
}

TEST(SectionTable, ProgramSettersChangeTheDefinition) {
  auto spec = open_bpf_object("object_sections");
  auto& program = spec.program("p_kprobe_bare");
  program.set_attach_target("vfs_read");
  EXPECT_TRUE(program.auto_attachable());
  program.set_type(ProgramType::tracing);
  program.set_expected_attach_type(AttachType::trace_fentry);
  program.set_autoload(false);
  program.set_sleepable(true);
  EXPECT_EQ(program.type(), ProgramType::tracing);
  EXPECT_EQ(program.expected_attach_type(), AttachType::trace_fentry);
  EXPECT_FALSE(program.autoload());
  EXPECT_TRUE(program.sleepable());
  EXPECT_EQ(program.attach_target(), "vfs_read");
}

}  // namespace
}  // namespace corebpf
