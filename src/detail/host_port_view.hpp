// parse_host_port's answer as views into the address it was given: what a
// dial needs (it keeps the address text itself), without building the
// public host_port's two strings on every dial. parse_host_port is this
// plus those strings, so there is one parser.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace nettrace::detail {

struct host_port_view {
    std::string_view host;  // without brackets or zone
    std::uint16_t port = 0;
    std::optional<boost::asio::ip::address> ip;
    std::string_view zone;
};

/// As parse_host_port (nettrace/address.hpp), with the same errors; the
/// views point into `address`.
std::optional<host_port_view> split_host_port(std::string_view address, boost::system::error_code& ec);

}  // namespace nettrace::detail
