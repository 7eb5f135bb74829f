#include "corebpf/error.hpp"

namespace corebpf {

Error::Error(std::errc code, std::string message)
    : std::system_error(std::make_error_code(code), message), message_(std::move(message)) {}

Error::Error(int errno_value, std::string message)
    : std::system_error(errno_value, std::generic_category(), message), message_(std::move(message)) {}

}  // namespace corebpf
