// tcplife: one line per TCP session when it closes (bcc's columns: PID COMM LADDR LPORT RADDR
// RPORT TX_KB RX_KB MS), or a JSON object per session with -j; --prometheus serves session
// counters and a duration histogram.
#include <arpa/inet.h>
#include <linux/types.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <map>
#include <optional>

#include "tcplife.h"
#include "tcplife.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;

namespace {

std::string address(std::uint16_t family, const std::uint8_t* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family == AF_INET ? AF_INET : AF_INET6, bytes, text, sizeof(text));
  return text;
}

// floor(log2(v)), as the kernel side's tool_log2.
std::size_t log2_slot(std::uint64_t value) {
  std::size_t slot = 0;
  while (value > 1 && slot < TOOL_HIST_SLOTS - 1) {
    value >>= 1;
    ++slot;
  }
  return slot;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("tcplife", [&] {
    tools::Cli cli("tcplife", "Trace TCP sessions and summarize their lifespan");
    cli.add_json().add_pid().add_comm().add_prometheus().add_perf_buffer();
    bool time_column = false, timestamp = false, wide = false, ipv4 = false, ipv6 = false;
    std::uint16_t local_port = 0, remote_port = 0;
    auto& app = cli.app();
    app.add_flag("-T,--time", time_column, "include a time column (HH:MM:SS)");
    app.add_flag("-t,--timestamp", timestamp, "include a timestamp column (seconds since start)");
    app.add_flag("-w,--wide", wide, "wide columns (IPv6 addresses)");
    auto* v4 = app.add_flag("-4,--ipv4", ipv4, "IPv4 only");
    app.add_flag("-6,--ipv6", ipv6, "IPv6 only")->excludes(v4);
    app.add_option("-L,--localport", local_port, "this local port only");
    app.add_option("-D,--remoteport", remote_port, "this remote port only");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = tcplife::Skeleton::open();
    auto& spec = skel.object().spec();
    tools::apply_filters(spec, options);
    tools::set_rodata(spec, "target_family", static_cast<std::uint16_t>(ipv4 ? AF_INET : ipv6 ? AF_INET6 : 0));
    tools::set_rodata(spec, "local_port", local_port);
    tools::set_rodata(spec, "remote_port", remote_port);
    const auto stream = tools::prepare_events(spec, options.perf_buffer);
    tools::AttachPlan plan;
    plan.add({tools::HookKind::tracepoint, {"set_state"}, {}});
    plan.choose(spec, options.attach);
    skel.load();
    auto links = plan.attach(skel.object());

    std::optional<tools::MetricsEndpoint> metrics;
    if (!options.prometheus.empty()) metrics.emplace(options.prometheus);
    std::uint64_t sessions = 0, tx_total = 0, rx_total = 0;
    tools::Log2Hist durations;  // microseconds
    const auto publish = [&] {
      tools::MetricSet set;
      set.add_counter("tcplife_sessions_total", "TCP sessions closed", {}, static_cast<double>(sessions));
      set.add_counter("tcplife_tx_bytes_total", "Bytes sent by closed TCP sessions", {}, static_cast<double>(tx_total));
      set.add_counter("tcplife_rx_bytes_total", "Bytes received by closed TCP sessions", {},
                      static_cast<double>(rx_total));
      set.add_histogram("tcplife_session_duration_seconds", "Life span of TCP sessions", {}, durations, 1e-6);
      metrics->publish(std::move(set));
    };
    if (metrics) publish();

    const tools::MonotonicStart start;
    const int address_width = wide ? 39 : 15;
    tools::EventReader events(skel.maps.events, [&](std::span<const std::byte> data) {
      const auto event = tools::event_as<tcplife_event>(data);
      const auto laddr = address(event.family, event.laddr);
      const auto raddr = address(event.family, event.raddr);
      const double ms = static_cast<double>(event.span_ns) / 1e6;
      if (metrics) {
        ++sessions;
        tx_total += event.tx_bytes;
        rx_total += event.rx_bytes;
        const std::uint64_t us = event.span_ns / 1000;
        durations.slots[log2_slot(us)]++;
        durations.sum += us;
        durations.count++;
        publish();
      }
      if (options.json) {
        tools::JsonLines::emit({{"time", tools::time_hms()},
                                {"timestamp", start.seconds(event.time_ns)},
                                {"pid", event.pid},
                                {"comm", tools::text(event.comm)},
                                {"family", event.family == AF_INET ? 4 : 6},
                                {"laddr", laddr},
                                {"lport", event.lport},
                                {"raddr", raddr},
                                {"rport", event.rport},
                                {"tx_bytes", event.tx_bytes},
                                {"rx_bytes", event.rx_bytes},
                                {"tx_kb", event.tx_bytes / 1024},
                                {"rx_kb", event.rx_bytes / 1024},
                                {"ms", ms}});
        return;
      }
      std::string row;
      if (time_column) row += fmt::format("{:<8} ", tools::time_hms());
      if (timestamp) row += fmt::format("{:<9.6f} ", start.seconds(event.time_ns));
      row += fmt::format("{:<7} {:<10.10} {:<{}} {:<5} {:<{}} {:<5} {:>5} {:>5} {:.2f}\n", event.pid,
                         tools::text(event.comm), laddr, address_width, event.lport, raddr, address_width, event.rport,
                         event.tx_bytes / 1024, event.rx_bytes / 1024, ms);
      std::fputs(row.c_str(), stdout);
      std::fflush(stdout);
    });

    tools::install_stop_handlers();
    if (!options.json) {
      std::string header;
      if (time_column) header += fmt::format("{:<8} ", "TIME");
      if (timestamp) header += fmt::format("{:<9} ", "TIME(s)");
      header += fmt::format("{:<7} {:<10} {:<{}} {:<5} {:<{}} {:<5} {:>5} {:>5} {}\n", "PID", "COMM", "LADDR",
                            address_width, "LPORT", "RADDR", address_width, "RPORT", "TX_KB", "RX_KB", "MS");
      std::fputs(header.c_str(), stdout);
    }
    tools::ready("tcplife", fmt::format("{}; {}", plan.describe(), stream));
    while (!tools::stop_requested()) events.poll(100);
    events.drain();
    if (events.lost() != 0) fmt::print(stderr, "tcplife: {} events lost\n", events.lost());
    return 0;
  });
}
