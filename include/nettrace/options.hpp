// nettrace/options.hpp — how a dialer races: RFC 8305 timing and limits.
//
// Plain values, no operations. Every member has a default, so designated
// initializers such as `{.timeout = 5s}` name only what they change. A
// dialer copies its dial_options when it is constructed (clamping them, see
// dialer::options()), so changing or destroying the struct afterwards
// affects no dialer. Which error each setting can produce is said beside it
// and in dialer::dial's `Errors:`.
#pragma once

#include <nettrace/history.hpp>
#include <nettrace/nat64.hpp>
#include <nettrace/proxy.hpp>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

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

/// What dial_options::control is told about the attempt it is called for.
struct control_info {
    std::string_view network;                 ///< "tcp", "tcp4" or "tcp6"
    boost::asio::ip::tcp::endpoint endpoint;  ///< where this attempt connects
    std::size_t attempt = 0;                  ///< as in connect_start_info
};

/// TCP keep-alive, as Go 1.23's net.KeepAliveConfig: probes after `idle`
/// without traffic, every `interval`, and the connection is dropped after
/// `count` unanswered ones (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
struct keep_alive_options {
    bool enable = false;
    std::chrono::seconds idle{15};
    std::chrono::seconds interval{15};
    int count = 9;
};

/// When a dial looks up the host's HTTPS records (RFC 9460) beside AAAA and A.
enum class https_records_mode : unsigned char {
    tls_only,  ///< for dial_tls (the records describe TLS services), not for a plain dial
    always,    ///< for every dial of a name (a plain dial then follows their ports too)
    never,
};

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
    std::optional<boost::asio::ip::address_v6> local_ipv6{};
    std::optional<boost::asio::ip::address_v4> local_ipv4{};

    /// Called for every attempt with its socket opened (and bound, with a
    /// local address), before the connect: set what must be set before the
    /// SYN leaves (SO_MARK, SO_BINDTODEVICE, IP_TOS, TCP_FASTOPEN_CONNECT, a
    /// larger SO_RCVBUF), as Go's Dialer.Control does. An error it returns,
    /// or an exception it throws (system_error: its code; anything else:
    /// boost::asio::error::fault), fails that attempt only, and the next one
    /// starts at once. It runs on the dial's strand, like the hooks; the
    /// socket it sets is the one the caller gets.
    std::function<boost::system::error_code(boost::asio::ip::tcp::socket&, const control_info&)> control{};

    /// TCP_NODELAY on every attempt's socket, before connecting. Off by
    /// default: the socket is handed back as the system makes it, as
    /// Boost.Asio's own connect does (Go turns it on).
    bool no_delay = false;

    /// TCP keep-alive on every attempt's socket. Off by default, for the
    /// same reason (Go enables it with these values).
    keep_alive_options keep_alive{};

    /// A promise that the I/O executor is run by one thread only (an
    /// io_context whose run() is called from one thread): the dial's own
    /// handlers then need no strand, which saves a strand's allocation and
    /// locking per dial. False (the default) is right for every executor;
    /// true on an executor run by several threads is a data race, as
    /// Boost.MySQL's `thread_safe = false` connections are.
    bool single_threaded = false;

    /// Dial through a proxy (proxy.hpp): one for every dial
    /// (`opts.proxy = nettrace::proxy("socks5h://127.0.0.1:1080")`), or the
    /// environment's (`proxy_settings::from_environment()`). Empty (the
    /// default): every dial is direct; the environment is read only when
    /// asked. The race, the timeout and the other options apply to the
    /// connections to the proxy: `preference` and the tcp4/tcp6 networks
    /// choose among the proxy's addresses (and, for socks5://, the target's).
    proxy_settings proxy{};

    /// Bound on each attempt's proxy handshake, from its TCP connect to the
    /// proxy until the tunnel is up (or refused): a proxy that accepts and
    /// then says nothing fails that attempt with error::proxy_timeout, and
    /// the race goes on. Zero or negative: no bound but the dial's timeout.
    std::chrono::milliseconds proxy_timeout{10000};

    /// HTTPS records (service.hpp, docs/services.md): their ports, ALPN and
    /// address hints, tried by priority before the host's own addresses.
    /// Connecting waits for their answer at most resolution_delay after
    /// the first address is known. Names only: an IP literal, an endpoint
    /// list or a proxied dial never asks.
    https_records_mode https_records = https_records_mode::tls_only;

    /// NAT64 (nat64.hpp, docs/nat64.md): on a host without a route to an
    /// IPv4 destination, dial it at the address the network's NAT64 prefix
    /// makes of it. Automatic by default: a host with IPv4 routes sees no
    /// change but one UDP route probe per dial that has IPv4 addresses.
    /// Applies to the "tcp" network only.
    nat64_options nat64{};

    /// Learned dialing (history.hpp, docs/history.md): every attempt's
    /// outcome is recorded here, and each race is sorted with what it
    /// knows, so a second dial to a host whose IPv6 is black-holed starts
    /// with IPv4 instead of waiting out the attempt delay again. Share one
    /// among dialers freely. Null (the default): no history, every dial
    /// sorted as RFC 8305 alone says; a process that wants one everywhere
    /// uses connection_history's process-wide default_history().
    std::shared_ptr<connection_history> history{};

    /// dial(ctx, network, endpoints): try the endpoints exactly in the
    /// given order instead of interleaving the families as for a name.
    bool keep_endpoint_order = false;

    /// The resolver for host names; null means the default: the c-ares
    /// resolver (make_dns_resolver) when nettrace is built with c-ares, else
    /// the system resolver (getaddrinfo).
    std::shared_ptr<nettrace::resolver> resolver{};
};

}  // namespace nettrace
