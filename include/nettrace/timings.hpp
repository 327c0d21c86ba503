// nettrace/timings.hpp — where a dial's time went, in the phases curl's
// --write-out reports (time_namelookup, time_connect, time_appconnect),
// filled from the trace hooks by a context layer.
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

namespace nettrace {

/// The phases of one dial or dial_tls, and what decided them.
///
/// Durations are per phase; the `_at` members are curl-style cumulative
/// offsets from the start of the operation (dial_start). Both are stored, so
/// that a phase never has to be recomputed from offsets that Happy Eyeballs
/// may have made overlap:
///
///     dial_start
///     |-- dns --|------ connect ------|-- proxy --|--- tls ---|
///               name_lookup_at        connected_at proxy_done_at tls_done_at  total
///
/// - `dns` is dns_done.elapsed: zero when there was no lookup (an IP
///   literal). Happy Eyeballs connects as soon as one family answers, so the
///   lookup can end after connecting has started, or even after the winner
///   connected (the slow family is then abandoned).
/// - `connect` runs from the end of the lookup (or from dial start when there
///   was none) to the winner's TCP connect; it is zero when the lookup ended
///   last. On failure it runs to the last attempt's end, the dial's end.
///   With dial_tls the winner is the attempt whose handshake completed first.
/// - `proxy` is the winner's proxy_connect_done.elapsed: the tunnel's
///   handshake (HTTP CONNECT or SOCKS5) after the TCP connect to the proxy;
///   zero without a proxy. Through a proxy, `dns` and `remote` are the
///   proxy's (for socks5://, `dns` is the target's lookup and the proxy's
///   together: both run before connecting).
/// - `tls` is the winner's tls_handshake_done.elapsed (without a winner, the
///   last handshake's); zero without dial_tls, or when no TCP connect
///   succeeded.
/// - `total` runs from dial start to dial_done, the operation's last hook.
struct timings {
    using duration = std::chrono::steady_clock::duration;

    duration dns{};
    duration connect{};
    duration proxy{};
    duration tls{};
    duration total{};

    duration name_lookup_at{};  ///< curl's time_namelookup: when the lookup ended (zero without one)
    duration connected_at{};    ///< curl's time_connect: when the winner connected (zero on failure)
    duration proxy_done_at{};   ///< when the winner's tunnel was up (zero without a proxy)
    duration tls_done_at{};     ///< curl's time_appconnect: when the handshake ended (zero without one)

    std::size_t attempts = 0;               ///< connect attempts started
    std::optional<address_family> winner;   ///< the connected attempt's family; empty on failure
    boost::asio::ip::tcp::endpoint remote;  ///< the winner's endpoint, when connected
    dns_source source = dns_source::none;   ///< where the answer came from (none without a lookup)
    bool coalesced = false;                 ///< the lookup shared another caller's query
    bool tls_used = false;                  ///< a TLS handshake was started
    bool proxy_used = false;                ///< a proxy tunnel was started
    boost::system::error_code error;        ///< the dial's error, else the handshake's

    /// True when a dial (or dial_tls) succeeded: it connected, and its
    /// handshake, if any, completed. Always false after a resolve() alone,
    /// which has no winner: look at `error` there.
    bool ok() const noexcept { return !error && winner.has_value(); }
};

/// A context whose trace fills `out` with the timings of each dial or
/// dial_tls given it (or a context derived from it), on top of `parent`'s
/// trace. Creating the context does no I/O.
///
/// When filled: `out` is reset at dial_start and complete before the
/// operation's completion handler runs (every hook runs before completion),
/// on every path: success, failure, cancellation, timeout. `out` must outlive
/// the operation; read it in or after the completion handler. A resolve()
/// alone fills only the DNS fields (its clock starts at dns_start).
///
/// Executor: the hooks that write `out` run where the operation's hooks run,
/// on its strand; they do no I/O and never throw.
///
/// Thread safety: `out` is written without locking, so give each operation
/// in flight its own context and `out` (a context is cheap: make one per
/// operation). A context used for several operations one after another
/// holds the last one's timings.
///
/// Errors: none of its own; the operation's error is copied to `out.error`.
///
///     nettrace::timings t;
///     auto s = co_await nettrace::dial(nettrace::with_timings(ctx, t), "tcp", "example.test:80");
///     std::clog << t << '\n';  // dns 0.41 ms, connect 12.3 ms (1 attempt, won by ipv6), total 12.8 ms
context with_timings(const context& parent, timings& out);

/// One line, as curl -w would print it: "dns 0.41 ms, connect 250.3 ms
/// (2 attempts, won by ipv4), proxy 0.3 ms, tls 3.1 ms, total 253.8 ms";
/// proxy and tls only when they ran, and ", error: <message>" when the
/// operation failed.
std::string to_string(const timings& t);

std::ostream& operator<<(std::ostream& os, const timings& t);

}  // namespace nettrace
