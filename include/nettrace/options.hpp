// nettrace/options.hpp — how a dialer races: RFC 8305 timing and limits.
//
// Plain values, no operations: a dialer copies its dial_options when it is
// constructed (clamping them, see dialer::options()), so changing or
// destroying the struct afterwards affects no dialer. Which error each
// setting can produce is said beside it and in dialer::dial's `Errors:`.
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace nettrace {

class resolver;

/// Which family goes first; the *_only values exclude the other family (an
/// excluded IP literal, or no family left, is error::no_suitable_address).
enum class family_preference {
    prefer_ipv6,  ///< RFC 8305 default: IPv6 first, IPv4 interleaved
    prefer_ipv4,
    ipv6_only,
    ipv4_only,
};

/// The bounds dialer applies to dial_options::attempt_delay.
inline constexpr std::chrono::milliseconds min_attempt_delay{10};
inline constexpr std::chrono::milliseconds max_attempt_delay{2000};

struct dial_options {
    /// Bound on the whole dial (DNS and every attempt; with dial_tls, the
    /// handshake too); zero or negative means none. When it expires the dial
    /// fails with error::timeout. It does not bound dialer::resolve().
    /// Values beyond what std::chrono::steady_clock can hold (such as
    /// milliseconds::max()) mean "never", not an overflow.
    std::chrono::milliseconds timeout{0};

    /// RFC 8305 Connection Attempt Delay: how long an attempt runs alone
    /// before the next one starts beside it. Clamped to [10 ms, 2 s], RFC
    /// 8305 section 5's minimum and recommended maximum. An attempt is never
    /// aborted by this delay.
    std::chrono::milliseconds attempt_delay{250};

    /// False turns racing off: each attempt starts only when the previous
    /// one has failed, as Boost.Asio's async_connect does.
    bool race = true;

    /// RFC 8305 Resolution Delay: with an IPv4 answer in hand and IPv6
    /// preferred, how long to wait for the AAAA answer before connecting.
    /// Negative counts as zero; a huge value saturates, as timeout does.
    std::chrono::milliseconds resolution_delay{50};

    /// RFC 8305 First Address Family Count: how many addresses of the
    /// preferred family are tried before the other family's first. At least 1.
    unsigned first_family_count = 1;

    family_preference preference = family_preference::prefer_ipv6;

    /// Most attempts in flight at once; zero means no cap. At the cap the
    /// next attempt waits for one to fail: none is dropped, since an attempt
    /// still running may be the slow but only working route.
    unsigned max_concurrent_attempts = 0;

    /// Local addresses to bind before connecting. When one family has a local
    /// address and the other does not, attempts of the other family fail at
    /// once with error::no_local_address.
    std::optional<boost::asio::ip::address_v6> local_ipv6;
    std::optional<boost::asio::ip::address_v4> local_ipv4;

    /// The resolver for host names; null means the default: the c-ares
    /// resolver (make_dns_resolver) when nettrace is built with c-ares, else
    /// the system resolver (getaddrinfo).
    std::shared_ptr<nettrace::resolver> resolver;
};

}  // namespace nettrace
