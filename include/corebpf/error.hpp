// [pure] corebpf::Error: the exception every layer throws, and the two kinds a caller may want to tell
// apart without reading the message: VerifierError (the kernel's verifier refused a program) and
// UnsupportedError (the running kernel lacks a feature). Pure: no system calls here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace corebpf {

// An error carries an errno-style code (so callers can branch on ENOENT, EPERM, EINVAL...) and
// a complete human sentence naming what failed: the file, program, map or type, and why.
class Error : public std::system_error {
 public:
  Error(std::errc code, std::string message);
  Error(int errno_value, std::string message);

  // The message without the "<strerror>" suffix that std::system_error::what() may add.
  const std::string& message() const noexcept { return message_; }
  int errno_value() const noexcept { return code().value(); }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// A program the kernel refused to load, as the loader read the verifier's log. what() is the
// loader's message (the reason, the instruction with its source line, the end of the log); the
// fields below are the same facts as data, with the whole log.
class VerifierError : public Error {
 public:
  struct Details {
    std::string program;                       // the program's name
    std::optional<std::uint32_t> instruction;  // index of the instruction the verifier stopped at
    std::string source_line;                   // "file.bpf.c:42:9: <source text>", empty without line info
    std::string reason;                        // the verifier's words: "R1 invalid mem access 'scalar'"
    std::string log;                           // the whole verifier log (empty when none was asked for)
  };
  VerifierError(int errno_value, std::string message, Details details);

  const std::string& program() const noexcept { return details_.program; }
  const std::optional<std::uint32_t>& instruction() const noexcept { return details_.instruction; }
  const std::string& source_line() const noexcept { return details_.source_line; }
  const std::string& reason() const noexcept { return details_.reason; }
  const std::string& log() const noexcept { return details_.log; }

 private:
  Details details_;
};

// The running kernel lacks something the call needs (a program, map, link or attach kind, a
// cookie...), decided by a feature probe (corebpf/features.hpp). The errno is the one the call
// fails with (EOPNOTSUPP, or EPERM for a kernel that refuses a kind of program before verifying).
class UnsupportedError : public Error {
 public:
  struct Details {
    std::string feature;                // "kprobe.session links"
    std::uint32_t minimum_version = 0;  // KERNEL_VERSION(major, minor, 0) of the first release with it
    std::string running_release;        // uname -r of the kernel that lacks it
  };
  UnsupportedError(int errno_value, std::string message, Details details);

  const std::string& feature() const noexcept { return details_.feature; }
  std::uint32_t minimum_version() const noexcept { return details_.minimum_version; }
  // "6.10"; empty when unknown.
  std::string minimum_release() const;
  const std::string& running_release() const noexcept { return details_.running_release; }

 private:
  Details details_;
};

}  // namespace corebpf
