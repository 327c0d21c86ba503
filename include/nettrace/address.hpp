// nettrace/address.hpp — Go-style network and address strings.
//
// dial() accepts the forms Go's net.Dial does: "host:port", "[v6]:port",
// "[v6%zone]:port", with numeric ports or service names ("http"). Parsing is
// exposed so tools and users can validate input up front.
//
// Every function here is synchronous and thread safe (service names go
// through getservbyname_r, zones through if_nametoindex).
#pragma once

#include <nettrace/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nettrace {

/// Which address families a network admits.
enum class network { tcp, tcp4, tcp6 };

/// "tcp", "tcp4" or "tcp6" (case-sensitive, as in Go).
/// Errors: error::unknown_network for anything else; `ec` is cleared on success.
std::optional<network> parse_network(std::string_view text, boost::system::error_code& ec) noexcept;

/// The Go spelling of a network ("tcp", "tcp4", "tcp6").
std::string_view to_string(network n) noexcept;

/// A parsed "host:port". When the host is an IP literal, `ip` holds it
/// (with the zone applied as the IPv6 scope id) and no DNS is needed.
struct host_port {
    std::string host;  ///< without brackets or zone; empty only for errors
    std::uint16_t port = 0;
    std::optional<boost::asio::ip::address> ip;  ///< set when host is an IP literal
    std::string zone;                            ///< IPv6 zone as written ("eth0", "2"), empty when none
};

/// Splits and validates "host:port" as dial() does. On failure returns
/// nullopt and sets `ec` to the nettrace::error that names what is wrong;
/// on success clears `ec`. Service names are looked up in a built-in table
/// of well-known services, then in the system's services database. No DNS.
///
/// Errors: unclosed_bracket, unexpected_bracket, junk_after_bracket,
/// missing_port, too_many_colons (an unbracketed IPv6 literal),
/// missing_host, invalid_host, host_too_long, invalid_zone (a zone that
/// names no interface), zone_on_ipv4, invalid_port (not 0..65535 nor a
/// known service). Throws only std::bad_alloc.
std::optional<host_port> parse_host_port(std::string_view address, boost::system::error_code& ec);

/// The one IP-literal parser behind dial(), resolve() and the name-server
/// options: `host` is an address without brackets, "192.0.2.1", "::1" or
/// "fe80::1%eth0". Returns the address (the zone applied as the scope id);
/// nullopt with `ec` cleared when `host` is no literal (a name, to resolve);
/// nullopt with `ec` set when it is a malformed literal.
///
/// Errors: invalid_host (a NUL byte; a colon in something that is no IPv6
/// literal), invalid_zone (a zone, by name or number, that names no
/// interface), zone_on_ipv4. IPv4 is strict dotted-quad (inet_pton):
/// "127.1" and "0x7f.0.0.1" are names here, and every resolver refuses them.
/// Throws only std::bad_alloc.
std::optional<boost::asio::ip::address> parse_ip_literal(std::string_view host, boost::system::error_code& ec);

/// An endpoint as Go's net.JoinHostPort writes it: "192.0.2.1:80",
/// "[2001:db8::1]:443", "[fe80::1%2]:80" (the zone as the scope id).
std::string join_host_port(const boost::asio::ip::tcp::endpoint& endpoint);
/// A host (name or address, without brackets) and a port, as Go's
/// net.JoinHostPort: brackets when the host holds a colon.
std::string join_host_port(std::string_view host, std::uint16_t port);

/// True when `host` is a name DNS can carry: at most 253 bytes (a trailing
/// dot aside), labels of 1 to 63 bytes of letters, digits, '-' and '_'.
bool is_valid_host_name(std::string_view host) noexcept;

}  // namespace nettrace
