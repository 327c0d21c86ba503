// The one table of nettrace's error codes: each code's name (for
// exporters' error.type), its message (for people) and the portable
// condition it compares equal to. error.cpp and the exporters read it; a
// code missing here is caught by error_test.
#pragma once

#include <nettrace/error.hpp>

#include <boost/system/errc.hpp>

#include <string_view>

namespace nettrace::detail {

struct error_entry {
    error code;
    std::string_view name;
    std::string_view message;
    /// What `ec == std::errc::...` matches; success: no portable condition
    /// but the code's own.
    boost::system::errc::errc_t condition = boost::system::errc::success;
};

/// The entry of `value`, or null for a value that is not a nettrace::error.
const error_entry* find_error(int value) noexcept;

}  // namespace nettrace::detail
