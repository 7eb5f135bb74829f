// fmt's compiled part for the static test binary: Debian's libfmt-dev ships only libfmt.so, so
// the non-inline functions of fmt's own implementation header are compiled here, with the
// template instantiations for char that format.h declares but leaves to the library.
#include <fmt/format-inl.h>

namespace fmt {
inline namespace v9 {
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
}  // namespace detail
}  // namespace v9
}  // namespace fmt
