// Runs Debian's bpftool as the oracle the dumpers are compared with.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "support/test_support.hpp"

namespace corebpf::test {

inline bool have_bpftool() { return run_command("bpftool version >/dev/null 2>&1") == 0; }

inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// `bpftool [-j] [-B base] btf dump file FILE format raw`; empty when bpftool fails.
inline std::optional<std::string> bpftool_dump(const std::filesystem::path& file,
                                               const std::filesystem::path& base = {}, bool json = false) {
  std::string command = json ? "bpftool -j" : "bpftool";
  if (!base.empty()) command += " -B " + shell_quote(base.string());
  command += " btf dump file " + shell_quote(file.string()) + " format raw 2>/dev/null";
  std::string output;
  if (run_command(command, &output) != 0) return std::nullopt;
  return output;
}

// "" when equal, else the first differing line of each, for a readable failure on 12 MB dumps.
inline std::string first_difference(std::string_view ours, std::string_view theirs) {
  std::size_t line = 1, start = 0;
  const std::size_t common = std::min(ours.size(), theirs.size());
  std::size_t i = 0;
  for (; i < common && ours[i] == theirs[i]; ++i) {
    if (ours[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  if (i == common && ours.size() == theirs.size()) return "";
  const auto line_at = [start](std::string_view text) {
    const std::string_view rest = text.substr(std::min(start, text.size()));
    return std::string(rest.substr(0, rest.find('\n')));
  };
  return "line " + std::to_string(line) + ":\n  ours:    " + line_at(ours) + "\n  bpftool: " + line_at(theirs) +
         "\n  (sizes " + std::to_string(ours.size()) + " and " + std::to_string(theirs.size()) + ")";
}

// A BPF object built by tests/bpf (corebpf_bpf_object); empty when it was not built.
inline std::filesystem::path bpf_object(const std::string& name) {
  auto path = build_dir() / "tests" / "bpf" / (name + ".bpf.o");
  return std::filesystem::exists(path) ? path : std::filesystem::path();
}

}  // namespace corebpf::test
