// hello: prints a line for every program started on this machine (pid, parent pid, name), from a
// tracepoint on execve through a ring buffer. One self-contained binary: the BPF object is in its
// skeleton (hello.skel.hpp, made by corebpf_add_bpf from hello.bpf.c). Run as root:
//
//   build/examples/hello/hello                      until Ctrl-C
//   build/examples/hello/hello --duration 5         for five seconds
//   build/examples/hello/hello --run /bin/true      starts /bin/true once attached, stops after it
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "corebpf/error.hpp"
#include "corebpf/ring_buffer.hpp"
#include "hello.skel.hpp"

namespace {

using ExecEvent = hello::types::exec_event;  // generated from the object's BTF

volatile sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

struct Arguments {
  double duration_seconds = -1;  // < 0: until Ctrl-C
  std::vector<std::string> run;  // a command to start after attaching
};

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr, "usage: %s [--duration SECONDS] [--run COMMAND [ARGS...]]\n", self);
  std::exit(2);
}

Arguments parse_arguments(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--duration" && i + 1 < argc) {
      arguments.duration_seconds = std::stod(argv[++i]);
    } else if (arg == "--run" && i + 1 < argc) {
      arguments.run.assign(argv + i + 1, argv + argc);
      break;
    } else {
      usage(argv[0]);
    }
  }
  return arguments;
}

pid_t start(const std::vector<std::string>& command) {
  const pid_t child = ::fork();
  if (child == 0) {
    std::vector<char*> argv;
    for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "hello: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  return child;
}

}  // namespace

int main(int argc, char** argv) {
  const Arguments arguments = parse_arguments(argc, argv);
  try {
    auto skel = hello::Skeleton::open();  // the object embedded in the skeleton
    skel.load();                          // CO-RE against the running kernel, maps, programs
    skel.attach();                        // handle_execve on its tracepoint

    corebpf::RingBuffer events;
    events.add(skel.maps.events, [](std::span<const std::byte> record) {
      if (record.size() < sizeof(ExecEvent)) return 0;
      ExecEvent event;
      std::memcpy(&event, record.data(), sizeof(event));
      std::printf("%-8d %-8d %.*s\n", event.pid, event.ppid, static_cast<int>(strnlen(event.comm, 16)), event.comm);
      return 0;
    });

    ::signal(SIGINT, request_stop);
    ::signal(SIGTERM, request_stop);
    std::printf("%-8s %-8s %s\n", "PID", "PPID", "COMM");
    std::fflush(stdout);
    pid_t child = arguments.run.empty() ? -1 : start(arguments.run);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(arguments.duration_seconds);
    while (!stop_requested) {
      events.poll(100);
      std::fflush(stdout);
      if (child > 0 && ::waitpid(child, nullptr, WNOHANG) == child) {
        events.consume();  // what the child's exec sent before it exited
        break;
      }
      if (arguments.duration_seconds >= 0 && std::chrono::steady_clock::now() >= deadline) break;
    }
    std::fflush(stdout);
    const auto dropped = skel.bss().dropped;
    if (dropped != 0)
      std::fprintf(stderr, "hello: %llu events dropped (ring buffer full)\n", static_cast<unsigned long long>(dropped));
    return 0;
  } catch (const corebpf::Error& error) {
    std::fprintf(stderr, "hello: %s\n", error.what());
    return 1;
  }
}
