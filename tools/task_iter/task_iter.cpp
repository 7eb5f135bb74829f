// task_iter (libbpf-bootstrap): every task of the machine through a BPF task iterator, one pass:
// pid, thread id, parent, state and comm, and with -s each task's kernel stack (symbolized from
// /proc/kallsyms). The kernel side writes fixed-size records to the iterator's stream; this side
// reads it to the end. Run as root:
//
//   corebpf-task_iter [-j] [-p PID] [-s]
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "task_iter.skel.hpp"
#include "tools.hpp"

namespace tools = corebpf::tools;
using TaskInfo = task_iter::types::task_info;

namespace {

// The task's __state as ps(1) letters it (TASK_IDLE is an uninterruptible sleep that does not
// count as load).
std::string state_letter(std::uint32_t state) {
  constexpr std::uint32_t interruptible = 0x1, uninterruptible = 0x2, stopped = 0x4, traced = 0x8, dead = 0x80,
                          noload = 0x400, parked = 0x40;
  if (state == 0) return "R";
  if ((state & uninterruptible) && (state & noload)) return "I";
  if (state & interruptible) return "S";
  if (state & uninterruptible) return "D";
  if (state & stopped) return "T";
  if (state & traced) return "t";
  if (state & parked) return "P";
  if (state & dead) return "X";
  return fmt::format("{:#x}", state);
}

}  // namespace

int main(int argc, char** argv) {
  return tools::run_tool("task_iter", [&] {
    tools::Cli cli("task_iter", "libbpf-bootstrap's task_iter: every task through a BPF task iterator");
    cli.add_json().add_pid("only the tasks of this process");
    bool stacks = false;
    cli.app().add_flag("-s,--stacks", stacks, "print each task's kernel stack");
    cli.parse(argc, argv);
    const auto& options = cli.options;

    auto skel = task_iter::Skeleton::open();
    tools::require_programs(skel.object().spec());
    skel.load();
    auto link = skel.progs.get_tasks.attach_iter();
    const std::string stream = link.read_iterator();

    tools::Symbolizer symbols;
    if (!options.json) fmt::print("{:<8} {:<8} {:<8} {:<5} {}\n", "PID", "TID", "PPID", "STATE", "COMM");
    for (std::size_t offset = 0; offset + sizeof(TaskInfo) <= stream.size(); offset += sizeof(TaskInfo)) {
      TaskInfo task;
      std::memcpy(&task, stream.data() + offset, sizeof(task));
      if (options.pid != 0 && task.pid != options.pid) continue;
      std::vector<std::string> frames;
      if (stacks && task.kstack_len > 0) {
        const auto depth = std::min<std::size_t>(task.kstack_len / sizeof(task.kstack[0]), std::size(task.kstack));
        for (std::size_t i = 0; i < depth; ++i) frames.push_back(symbols.kernel(task.kstack[i]));
      }
      const auto state = state_letter(task.state);
      if (options.json) {
        nlohmann::json line = {{"pid", task.pid},
                               {"tid", task.tid},
                               {"ppid", task.ppid},
                               {"state", state},
                               {"comm", tools::text(task.comm)}};
        if (stacks) line["kstack"] = frames;
        tools::JsonLines::emit(line);
        continue;
      }
      fmt::print("{:<8} {:<8} {:<8} {:<5} {}\n", task.pid, task.tid, task.ppid, state, tools::text(task.comm));
      for (const auto& frame : frames) fmt::print("    {}\n", frame);
    }
    std::fflush(stdout);
    return 0;
  });
}
