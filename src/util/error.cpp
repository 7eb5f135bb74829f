#include "corebpf/error.hpp"

#include <utility>

namespace corebpf {

Error::Error(std::errc code, std::string message)
    : std::system_error(std::make_error_code(code), message), message_(std::move(message)) {}

Error::Error(int errno_value, std::string message)
    : std::system_error(errno_value, std::generic_category(), message), message_(std::move(message)) {}

VerifierError::VerifierError(int errno_value, std::string message, Details details)
    : Error(errno_value, std::move(message)), details_(std::move(details)) {}

UnsupportedError::UnsupportedError(int errno_value, std::string message, Details details)
    : Error(errno_value, std::move(message)), details_(std::move(details)) {}

std::string UnsupportedError::minimum_release() const {
  if (details_.minimum_version == 0) return {};
  return std::to_string(details_.minimum_version >> 16) + "." + std::to_string((details_.minimum_version >> 8) & 0xff);
}

}  // namespace corebpf
