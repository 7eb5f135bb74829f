// hello-buffer-config (Learning eBPF, chapter 5) on a corebpf skeleton: a line per execve with the
// caller's pid, uid, command, the executed path and a message chosen per user. Run as root:
//
//   hello-buffer-config [--default MESSAGE] [--message UID MESSAGE]... [--duration S] [--run CMD...]
//
// --default sets the .rodata message before load ("Hello World" otherwise); --message puts a
// per-uid message in the my_config hash map after load.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/perf_buffer.hpp"
#include "hello-buffer-config.skel.hpp"

namespace {

namespace skel_types = hello_buffer_config::types;

volatile sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

template <std::size_t N>
void copy_text(char (&to)[N], const std::string& from) {
  std::memset(to, 0, N);
  std::memcpy(to, from.data(), std::min(from.size(), N - 1));
}

template <std::size_t N>
std::string text(const char (&from)[N]) {
  return std::string(from, strnlen(from, N));
}

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr, "usage: %s [--default MESSAGE] [--message UID MESSAGE]... [--duration S] [--run CMD...]\n",
               self);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string default_message;
  std::map<std::uint32_t, std::string> messages;
  double duration = -1;
  std::vector<char*> run;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--default" && i + 1 < argc) {
      default_message = argv[++i];
    } else if (arg == "--message" && i + 2 < argc) {
      const auto uid = static_cast<std::uint32_t>(std::stoul(argv[i + 1]));
      messages[uid] = argv[i + 2];
      i += 2;
    } else if (arg == "--duration" && i + 1 < argc) {
      duration = std::stod(argv[++i]);
    } else if (arg == "--run" && i + 1 < argc) {
      run.assign(argv + i + 1, argv + argc);
      run.push_back(nullptr);
      break;
    } else {
      usage(argv[0]);
    }
  }
  try {
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
        [](std::uint32_t, std::span<const std::byte> sample) {
          if (sample.size() < sizeof(skel_types::data_t)) return;
          skel_types::data_t data;
          std::memcpy(&data, sample.data(), sizeof(data));
          std::printf("%-8d %-6d %-16s %-16s %s\n", data.pid, data.uid, text(data.command).c_str(),
                      text(data.path).c_str(), text(data.message).c_str());
        },
        [](std::uint32_t cpu, std::uint64_t lost) {
          std::fprintf(stderr, "hello-buffer-config: %llu events lost on CPU %u\n",
                       static_cast<unsigned long long>(lost), cpu);
        });

    ::signal(SIGINT, request_stop);
    ::signal(SIGTERM, request_stop);
    std::printf("%-8s %-6s %-16s %-16s %s\n", "PID", "UID", "COMMAND", "PATH", "MESSAGE");
    std::fflush(stdout);
    pid_t child = -1;
    if (!run.empty()) {
      child = ::fork();
      if (child == 0) {
        ::execvp(run[0], run.data());
        ::_exit(127);
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(duration);
    while (!stop_requested) {
      events.poll(100);
      std::fflush(stdout);
      if (child > 0 && ::waitpid(child, nullptr, WNOHANG) == child) {
        events.consume();
        break;
      }
      if (duration >= 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    std::fflush(stdout);
    return 0;
  } catch (const corebpf::Error& error) {
    std::fprintf(stderr, "hello-buffer-config: %s\n", error.what());
    return 1;
  }
}
