// nettrace/nat64.hpp — NAT64 (RFC 6146) address synthesis for IPv6-only
// hosts: an IPv4 destination is dialed at an IPv6 address made of the
// network's NAT64 prefix and the IPv4 address (RFC 6052), as Happy Eyeballs
// v3 ("Handling NAT64 Networks") and RFC 8305 section 7 require.
//
// The dialer synthesizes only when the host has no route to the IPv4
// destination (it asks the kernel with a UDP connect, which sends nothing):
// on a host with IPv4 nothing changes. DNS64 answers (AAAA records a DNS64
// server synthesized) are dialed as they come, like any AAAA answer.
// docs/nat64.md is the subject page.
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace nettrace {

/// An RFC 6052 prefix: the bits of `prefix` above `length` (32, 40, 48, 56,
/// 64 or 96), such as 64:ff9b::/96, the well-known prefix.
struct nat64_prefix {
    boost::asio::ip::address_v6 prefix;
    unsigned length = 96;

    friend bool operator==(const nat64_prefix&, const nat64_prefix&) = default;
};

/// "64:ff9b::/96"; the length defaults to 96 when absent. Errors:
/// error::invalid_nat64_prefix (a length other than the six, or bits set
/// below it, or bit 64-71 set: RFC 6052's "u" octet), or the IP-literal
/// errors of parse_ip_literal.
std::optional<nat64_prefix> parse_nat64_prefix(std::string_view text, boost::system::error_code& ec);

/// "64:ff9b::/96".
std::string to_string(const nat64_prefix& p);

/// The IPv6 address RFC 6052 section 2.2 makes of `v4` under `p`.
boost::asio::ip::address_v6 synthesize(const nat64_prefix& p, const boost::asio::ip::address_v4& v4);

/// The IPv4 address embedded in `v6`, when `v6` lies under `p`.
std::optional<boost::asio::ip::address_v4> desynthesize(const nat64_prefix& p, const boost::asio::ip::address_v6& v6);

/// RFC 7050 section 3: the prefix an AAAA answer for ipv4only.arpa reveals,
/// found by locating 192.0.0.170 or 192.0.0.171 in it at one of the six
/// prefix lengths (the longest that matches).
std::optional<nat64_prefix> discover_nat64_prefix(const boost::asio::ip::address_v6& answer);

/// What dial_options::nat64 asks for.
enum class nat64_mode : unsigned char {
    off,        ///< never synthesize
    automatic,  ///< discover the prefix (RFC 7050) when an IPv4 destination has no route
    fixed,      ///< use nat64_options::prefix when an IPv4 destination has no route
};

struct nat64_options {
    nat64_mode mode = nat64_mode::automatic;
    nat64_prefix prefix{};  ///< with nat64_mode::fixed
};

}  // namespace nettrace
