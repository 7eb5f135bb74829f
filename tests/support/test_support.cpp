#include "support/test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace corebpf::test {
namespace {

std::filesystem::path env_path(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::filesystem::path(value) : std::filesystem::path(fallback);
}

}  // namespace

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::filesystem::path source_dir() { return env_path("COREBPF_SOURCE_DIR", "."); }
std::filesystem::path build_dir() { return env_path("COREBPF_BUILD_DIR", "build"); }
std::filesystem::path cli_path() { return env_path("COREBPF_CLI", "build/corebpf"); }

std::filesystem::path kernel_dir(const std::string& series) {
  auto dir = env_path("COREBPF_KERNELS_DIR", "build/kernels") / series;
  return std::filesystem::exists(dir / "vmlinux.btf") ? dir : std::filesystem::path();
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 65536> buffer;
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    if (output != nullptr) output->append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CommandOutcome run_capturing(const std::string& command) {
  static std::atomic<unsigned> serial{0};
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() /
      ("corebpf_test_" + std::to_string(::getpid()) + "_" + std::to_string(serial.fetch_add(1)) + ".err");
  CommandOutcome outcome;
  outcome.status = run_command(command + " 2>'" + err_file.string() + "'", &outcome.out);
  std::ifstream in(err_file);
  outcome.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return outcome;
}

CommandOutcome run_cli(const std::string& args) { return run_capturing(cli_path().string() + " " + args); }

}  // namespace corebpf::test
