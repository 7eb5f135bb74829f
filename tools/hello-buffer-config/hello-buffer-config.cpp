// hello-buffer-config (Learning eBPF, chapter 5) on a corebpf skeleton: a line per execve with the
// caller's pid, uid, command, the executed path and a message chosen per user. Run as root:
//
//   corebpf-hello-buffer-config [-j] [--default MESSAGE] [--message UID MESSAGE]...
//
// --default sets the .rodata message before load ("Hello World" otherwise); --message puts a
// per-uid message in the my_config hash map after load. Events come through a perf buffer (the
// chapter's subject), read with corebpf::PerfBuffer.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "corebpf/perf_buffer.hpp"
#include "hello-buffer-config.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;
namespace skel_types = hello_buffer_config::types;

namespace {

// A C string in a fixed-size field, cut to fit and NUL-terminated.
template <std::size_t N>
void copy_text(char (&to)[N], const std::string& from) {
  std::memset(to, 0, N);
  std::memcpy(to, from.data(), std::min(from.size(), N - 1));
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("hello-buffer-config", [&] {
    tools::Cli cli("hello-buffer-config",
                   "Learning eBPF's hello-buffer-config: execs with a message per user, through a perf buffer");
    cli.add_json();
    std::string default_message;
    std::vector<std::pair<std::uint32_t, std::string>> messages;
    auto& app = cli.app();
    app.add_option("--default", default_message, "the default message (.rodata, 11 characters; \"Hello World\")");
    app.add_option("--message", messages, "a message for one uid (my_config hash map, 11 characters)")
        ->type_name("UID MESSAGE");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = hello_buffer_config::Skeleton::open();
    if (!default_message.empty()) copy_text(skel.rodata().default_message, default_message);
    skel.load();
    for (const auto& [uid, message] : messages) {
      skel_types::user_msg_t value{};
      copy_text(value.message, message);
      skel.maps.my_config.update(uid, value);
    }
    skel.attach();

    corebpf::PerfBuffer events(
        skel.maps.output,
        [&](std::uint32_t, std::span<const std::byte> sample) {
          const auto data = tools::event_as<skel_types::data_t>(sample);
          if (options.json) {
            tools::JsonLines::emit({{"pid", data.pid},
                                    {"uid", data.uid},
                                    {"command", tools::text(data.command)},
                                    {"path", tools::text(data.path)},
                                    {"message", tools::text(data.message)}});
            return;
          }
          fmt::print("{:<8} {:<6} {:<16} {:<16} {}\n", data.pid, data.uid, tools::text(data.command),
                     tools::text(data.path), tools::text(data.message));
          std::fflush(stdout);
        },
        [](std::uint32_t cpu, std::uint64_t lost) {
          fmt::print(stderr, "hello-buffer-config: {} events lost on CPU {}\n", lost, cpu);
        });

    tools::install_stop_handlers();
    if (!options.json) fmt::print("{:<8} {:<6} {:<16} {:<16} {}\n", "PID", "UID", "COMMAND", "PATH", "MESSAGE");
    tools::ready("hello-buffer-config", "tracepoint syscalls/sys_enter_execve; perf buffer");
    while (!tools::stop_requested()) events.poll(100);
    events.consume();
    return 0;
  });
}
