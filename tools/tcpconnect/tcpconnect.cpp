// tcpconnect: one line per active TCP connection (bcc's columns: PID COMM IP SADDR DADDR DPORT),
// or a JSON object per connection with -j.
#include <arpa/inet.h>
#include <linux/types.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "tcpconnect.h"
#include "tcpconnect.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

int main(int argc, char** argv) {
  return tools::run_tool("tcpconnect", [&] {
    tools::Cli cli("tcpconnect", "Trace active TCP connections (connect())");
    cli.add_json().add_pid().add_comm().add_perf_buffer().add_attach();
    bool timestamp = false, print_uid = false, print_lport = false, ipv4 = false, ipv6 = false;
    std::uint16_t port = 0;
    std::int64_t uid = -1;
    auto& app = cli.app();
    app.add_flag("-t,--timestamp", timestamp, "include a timestamp column (seconds since start)");
    app.add_flag("-U,--print-uid", print_uid, "include a UID column");
    app.add_flag("-L,--lport", print_lport, "include the local port");
    app.add_option("-u,--uid", uid, "this UID only")->check(CLI::NonNegativeNumber);
    app.add_option("-P,--port", port, "this destination port only");
    auto* v4 = app.add_flag("-4,--ipv4", ipv4, "IPv4 only");
    app.add_flag("-6,--ipv6", ipv6, "IPv6 only")->excludes(v4);
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = tcpconnect::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "target_family", static_cast<std::uint16_t>(ipv4 ? AF_INET : ipv6 ? AF_INET6 : 0));
    tools::set_rodata(spec, "target_port", port);
    tools::set_rodata(spec, "target_uid", uid);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::fentry, {"v4_connect_exit", "v6_connect_exit"}, {"tcp_v4_connect", "tcp_v6_connect"}});
    plan.add({tools::HookKind::kprobe,
              {"v4_connect_entry", "v4_connect_return", "v6_connect_entry", "v6_connect_return"},
              {}});
    plan.add({tools::HookKind::tracepoint, {"syn_sent"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    const tools::MonotonicStart start;
    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<tcpconnect_event>(data);
      char saddr[INET6_ADDRSTRLEN] = {}, daddr[INET6_ADDRSTRLEN] = {};
      const int family = event.family == AF_INET ? AF_INET : AF_INET6;
      ::inet_ntop(family, event.saddr, saddr, sizeof(saddr));
      ::inet_ntop(family, event.daddr, daddr, sizeof(daddr));
      if (options.json) {
        tools::JsonLines::emit({{"time", tools::time_hms()},
                                {"timestamp", start.seconds(event.time_ns)},
                                {"pid", event.pid},
                                {"uid", event.uid},
                                {"comm", tools::text(event.comm)},
                                {"ip", family == AF_INET ? 4 : 6},
                                {"saddr", saddr},
                                {"lport", event.lport},
                                {"daddr", daddr},
                                {"dport", event.dport}});
        return;
      }
      std::string row;
      if (timestamp) row += fmt::format("{:<9.3f}", start.seconds(event.time_ns));
      if (print_uid) row += fmt::format("{:<6} ", event.uid);
      row += fmt::format("{:<6} {:<12.12} {:<2} {:<16} ", event.pid, tools::text(event.comm), family == AF_INET ? 4 : 6,
                         saddr);
      if (print_lport) row += fmt::format("{:<6} ", event.lport);
      row += fmt::format("{:<16} {:<4}\n", daddr, event.dport);
      std::fputs(row.c_str(), stdout);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) {
      std::string header;
      if (timestamp) header += fmt::format("{:<9}", "TIME(s)");
      if (print_uid) header += fmt::format("{:<6} ", "UID");
      header += fmt::format("{:<6} {:<12} {:<2} {:<16} ", "PID", "COMM", "IP", "SADDR");
      if (print_lport) header += fmt::format("{:<6} ", "LPORT");
      header += fmt::format("{:<16} {:<4}\n", "DADDR", "DPORT");
      std::fputs(header.c_str(), stdout);
    }
    tools::ready("tcpconnect", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "tcpconnect: {} events lost\n", events.lost());
    return 0;
  });
}
