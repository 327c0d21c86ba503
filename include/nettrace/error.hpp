// nettrace/error.hpp — the error codes nettrace reports, and their category.
//
// Errors the operating system reports (connection refused, timed out, ...) are
// passed through as the system's own error codes; this category holds what
// nettrace itself decides: bad input, DNS outcomes, the dial timeout. Each
// operation's `Errors:` paragraph says which codes it produces, and when.
//
// Portable conditions: error::timeout and dns_timeout compare equal to
// boost::system::errc::timed_out (and std::errc::timed_out), the input
// errors to errc::invalid_argument. Cancellation is always Asio's
// boost::asio::error::operation_aborted, never a nettrace::error.
#pragma once

#include <boost/system/error_code.hpp>

#include <iosfwd>
#include <type_traits>

namespace nettrace {

enum class error {
    // Input errors: reported before any DNS query or connect attempt.
    unknown_network = 1,     ///< network is not "tcp", "tcp4" or "tcp6"
    missing_port,            ///< address has no ":port"
    invalid_port,            ///< port is empty, not a number in 0..65535, or an unknown service
    missing_host,            ///< host part is empty
    invalid_host,            ///< host holds characters a DNS name cannot hold, or a label is empty or too long
    host_too_long,           ///< host name is longer than 253 bytes
    unclosed_bracket,        ///< "[" without a matching "]"
    unexpected_bracket,      ///< "]" or "[" where none belongs
    junk_after_bracket,      ///< something other than ":port" follows "]"
    too_many_colons,         ///< an IPv6 literal without brackets
    invalid_zone,            ///< empty or unknown IPv6 zone (interface)
    zone_on_ipv4,            ///< a zone ("%eth0") on something that is not an IPv6 literal

    // Resolution errors.
    host_not_found,          ///< the name does not exist (NXDOMAIN)
    no_addresses,            ///< the name exists but has no address for the requested network
    dns_failure,             ///< the resolver failed (server failure, temporary failure)
    dns_timeout,             ///< no answer from the name servers in time
    dns_refused,             ///< the name server refused the query
    dns_malformed,           ///< the answer could not be understood
    no_resolver,             ///< the chosen resolver cannot resolve names (e.g. a static table without this host)

    // Dial errors.
    timeout,                 ///< the dial's timeout expired before any attempt connected
    no_suitable_address,     ///< addresses were found, but none matches the network or family preference
    no_local_address,        ///< no local address is configured for this endpoint's family
};

/// The category of nettrace::error; its name is "nettrace". One instance
/// per process (compare by address). Thread safe.
const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), category()};
}

/// Writes the error's message.
std::ostream& operator<<(std::ostream& os, error e);

}  // namespace nettrace

template <>
struct boost::system::is_error_code_enum<nettrace::error> : std::true_type {};
