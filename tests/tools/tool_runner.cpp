#include "tools/tool_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_support.hpp"

namespace corebpf::test {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

std::filesystem::path tool_path(const std::string& name) { return build_dir() / "tools" / "bin" / ("corebpf-" + name); }

ToolRun::ToolRun(const std::string& name, const std::vector<std::string>& args) {
  static int serial = 0;
  dir_ = std::filesystem::temp_directory_path() /
         ("corebpf-toolrun-" + std::to_string(::getpid()) + "-" + std::to_string(++serial));
  std::filesystem::create_directories(dir_);
  const std::string binary = tool_path(name).string();
  const std::string out = (dir_ / "stdout").string();
  const std::string err = (dir_ / "stderr").string();
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out_fd < 0 || err_fd < 0) ::_exit(126);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
}

ToolRun::~ToolRun() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool ToolRun::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stderr_text().find(": ready (") != std::string::npos) return true;
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = exit_status(status);
      pid_ = -1;
      return stderr_text().find(": ready (") != std::string::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool ToolRun::wait_output(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stdout_text().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int ToolRun::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = exit_status(status);
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pid_ > 0 ? -1 : status_;
}

int ToolRun::stop(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
  const int status = wait_exit(std::chrono::seconds(20));
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  return status;
}

std::string ToolRun::stdout_text() const { return read_file(dir_ / "stdout"); }
std::string ToolRun::stderr_text() const { return read_file(dir_ / "stderr"); }

std::vector<nlohmann::json> ToolRun::json_lines() const {
  std::vector<nlohmann::json> lines;
  std::istringstream text(stdout_text());
  for (std::string line; std::getline(text, line);) {
    auto value = nlohmann::json::parse(line, nullptr, false);
    if (!value.is_discarded() && value.is_object()) lines.push_back(std::move(value));
  }
  return lines;
}

}  // namespace corebpf::test
