// enum_name: a dense enum's (its enumerators count from 0 without gaps)
// name, or another string per enumerator, from a table in the enumerators'
// order: each to_string of such an enum is its table and this lookup.
#pragma once

#include <cstddef>
#include <string_view>

namespace nettrace::detail {

/// names[e], or `otherwise` for a value past the table's end.
template <class Enum, std::size_t N>
constexpr std::string_view enum_name(Enum e, const std::string_view (&names)[N],
                                     std::string_view otherwise = "unknown") noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i < N ? names[i] : otherwise;
}

}  // namespace nettrace::detail
