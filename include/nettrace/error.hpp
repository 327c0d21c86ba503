// nettrace/error.hpp — the error codes nettrace reports, and their category.
//
// Errors the operating system reports (connection refused, timed out, ...) are
// passed through as the system's own error codes; this category holds what
// nettrace itself decides: bad input, DNS outcomes, the dial timeout. Each
// operation's `Errors:` paragraph says which codes it produces, and when.
//
// Portable conditions: error::timeout and dns_timeout compare equal to
// boost::system::errc::timed_out (and std::errc::timed_out), the input
// errors to errc::invalid_argument, socks_connection_refused, _host_unreachable
// and _network_unreachable to the errc of the same name, proxy_timeout to
// timed_out. Cancellation is always Asio's
// boost::asio::error::operation_aborted, never a nettrace::error.
#pragma once

#include <boost/system/error_code.hpp>

#include <iosfwd>
#include <type_traits>

namespace nettrace {

enum class error {
    // Input errors: reported before any DNS query or connect attempt.
    unknown_network = 1,  ///< network is not "tcp", "tcp4" or "tcp6"
    missing_port,         ///< address has no ":port"
    invalid_port,         ///< port is empty, not a number in 0..65535, or an unknown service
    missing_host,         ///< host part is empty
    invalid_host,         ///< host holds characters a DNS name cannot hold, or a label is empty or too long
    host_too_long,        ///< host name is longer than 253 bytes
    unclosed_bracket,     ///< "[" without a matching "]"
    unexpected_bracket,   ///< "]" or "[" where none belongs
    junk_after_bracket,   ///< something other than ":port" follows "]"
    too_many_colons,      ///< an IPv6 literal without brackets
    invalid_zone,         ///< empty or unknown IPv6 zone (interface)
    zone_on_ipv4,         ///< a zone ("%eth0") on something that is not an IPv6 literal

    // Resolution errors.
    host_not_found,  ///< the name does not exist (NXDOMAIN)
    no_addresses,    ///< the name exists but has no address for the requested network
    dns_failure,     ///< the resolver failed (server failure, temporary failure)
    dns_timeout,     ///< no answer from the name servers in time
    dns_refused,     ///< the name server refused the query
    dns_malformed,   ///< the answer could not be understood
    no_resolver,     ///< the chosen resolver cannot resolve names (e.g. a static table without this host)

    // Dial errors.
    timeout,              ///< the dial's timeout expired before any attempt connected
    no_suitable_address,  ///< addresses were found, but none matches the network or family preference
    no_local_address,     ///< no local address is configured for this endpoint's family

    // Proxy configuration errors (nettrace/proxy.hpp): reported when the
    // proxy is parsed, with the problem named in the exception's what().
    invalid_proxy_url,         ///< not a proxy URL: bad host, port, credentials or trailing path
    unsupported_proxy_scheme,  ///< a scheme other than http, socks5 and socks5h

    // Proxy errors: the tunnel through the proxy could not be opened.
    proxy_auth_required,               ///< HTTP 407 (or 401): the proxy wants (other) credentials
    proxy_rejected,                    ///< the proxy answered CONNECT with a non-2xx status (in the trace)
    proxy_malformed_reply,             ///< the proxy's reply is not HTTP/1.x or SOCKS5 as it should be
    proxy_reply_too_large,             ///< the proxy's reply header exceeds the bound
    proxy_closed,                      ///< the proxy closed the connection before its reply was complete
    proxy_timeout,                     ///< the proxy did not complete its reply in time
    socks_no_acceptable_method,        ///< the SOCKS5 proxy accepts none of the offered methods (auth needed?)
    socks_auth_failed,                 ///< the SOCKS5 proxy refused the username and password
    socks_general_failure,             ///< SOCKS5 reply 1 (or an unassigned reply code)
    socks_not_allowed,                 ///< SOCKS5 reply 2: the proxy's rules forbid this target
    socks_network_unreachable,         ///< SOCKS5 reply 3
    socks_host_unreachable,            ///< SOCKS5 reply 4
    socks_connection_refused,          ///< SOCKS5 reply 5: the target refused the proxy's connect
    socks_ttl_expired,                 ///< SOCKS5 reply 6
    socks_command_not_supported,       ///< SOCKS5 reply 7
    socks_address_type_not_supported,  ///< SOCKS5 reply 8

    // Resolver errors, continued (added after the proxy errors: the values
    // above keep their numbers).
    no_dns_resolver,  ///< make_dns_resolver in a build without c-ares (-Dcares=disabled); no_resolver is the static
                      ///< table's

    // Unix-domain dials (unix.hpp).
    invalid_unix_path,   ///< empty, or holds a NUL byte
    unix_path_too_long,  ///< longer than sockaddr_un's sun_path holds (107 bytes)
    not_a_socket,        ///< the path exists but is not a socket

    // Service records (service.hpp) and endpoint lists.
    no_service_record,            ///< the name has no HTTPS record (NODATA)
    service_lookup_unsupported,   ///< the resolver cannot look up HTTPS records (getaddrinfo, a static table)
    malformed_service_record,     ///< an HTTPS record that breaks RFC 9460; it was ignored
    service_alias_loop,           ///< AliasMode records loop, or chain deeper than nettrace follows (8)
    empty_endpoint_list,          ///< dial() was given no endpoint
    invalid_nat64_prefix,         ///< a NAT64 prefix whose length is not 32, 40, 48, 56, 64 or 96
    no_nat64_prefix,              ///< ipv4only.arpa has no AAAA answer: no NAT64 prefix to synthesize with
};

/// The category of nettrace::error; its name is "nettrace". One instance
/// per process (compare by address). Thread safe.
const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), category()}; }

/// Writes the error's message.
std::ostream& operator<<(std::ostream& os, error e);

}  // namespace nettrace

template <>
struct boost::system::is_error_code_enum<nettrace::error> : std::true_type {};
