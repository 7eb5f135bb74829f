// Runs a tool binary (build/tools/bin/corebpf-NAME) the way a user does: started in the
// background, waited on until it says it is ready (its "<tool>: ready (...)" stderr line), then
// stopped with SIGINT; its stdout and stderr are kept. For tools' tests (tests/tools).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace corebpf::test {

// build/tools/bin/corebpf-<name>.
std::filesystem::path tool_path(const std::string& name);

class ToolRun {
 public:
  // Starts the tool with `args`; stdout and stderr go to files in a private directory.
  ToolRun(const std::string& name, const std::vector<std::string>& args);
  ~ToolRun();  // kills a tool still running
  ToolRun(const ToolRun&) = delete;
  ToolRun& operator=(const ToolRun&) = delete;

  // Waits for the ready line; false when the tool exited first or `timeout` passed (then
  // stderr() says why).
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Waits until stdout holds a line containing `needle`.
  bool wait_output(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGINT (or `signal`) and waits for the exit; returns the exit status (-1: killed by a signal
  // or did not stop within 20 s).
  int stop(int signal = 2);
  // Waits for the tool to exit by itself (interval/count); the exit status, -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  pid_t pid() const noexcept { return pid_; }
  std::string stdout_text() const;
  std::string stderr_text() const;
  // stdout's lines parsed as JSON objects (lines that are not JSON are skipped).
  std::vector<nlohmann::json> json_lines() const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace corebpf::test
