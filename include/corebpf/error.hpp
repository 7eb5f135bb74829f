// corebpf::Error: the one exception type every layer throws.
#pragma once

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

}  // namespace corebpf
