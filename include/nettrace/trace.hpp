// nettrace/trace.hpp — client_trace: hooks that observe DNS lookups and
// connect attempts, like Go's net/http/httptrace.ClientTrace.
//
// Every hook takes one info struct, so fields can be added without breaking
// callers. Views (std::string_view, std::span) in an info struct are valid
// only during the call; copy what you keep.
//
// Guarantees, for every dial and every resolve:
// - hooks of one operation never run concurrently, even on an io_context run
//   by several threads; they run on the operation's strand, in causal order
//   (with dial_options::single_threaded, the caller's promise that one thread
//   runs the executor, there is no strand: that thread serialises them);
// - every dns_start is followed by exactly one dns_done, every connect_start
//   by exactly one connect_done, dial_start by exactly one dial_done,
//   tls_handshake_start by exactly one tls_handshake_done, on every path
//   (success, failure, cancellation, timeout);
// - every hook has run before the operation's completion handler is invoked;
// - a hook that throws does not disturb the operation: the exception is
//   caught, the operation and the remaining hooks carry on; for a dial, the
//   first such exception is handed to dial_done (dial_done_info::hook_exception).
//
// IP literals skip DNS: a dial of "127.0.0.1:80" fires no DNS hooks, as in Go.
#pragma once

#include <nettrace/detail/hook_list.hpp>
#include <nettrace/proxy.hpp>
#include <nettrace/service.hpp>
#include <nettrace/types.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nettrace {

struct dns_start_info {
    std::string_view host;
};

/// One answer, delivered as soon as it arrives (beyond Go): one address
/// family's, so Happy Eyeballs may start connecting before the other family
/// has answered; or, with HTTPS records asked for (dial_options::
/// https_records), the HTTPS answer of a name, and the address answers of
/// the names its records point to (`host` says which name).
struct dns_answer_info {
    std::string_view host;
    address_family family;  ///< an address answer's family; unused when `https`
    std::span<const boost::asio::ip::address> addrs;
    boost::system::error_code error;
    dns_source source = dns_source::none;
    bool coalesced = false;
    std::chrono::steady_clock::duration elapsed{};  ///< since dns_start
    bool https = false;                             ///< an HTTPS answer: see `records`
    std::span<const service_record> records{};      ///< its well-formed records (service.hpp)
};

/// The lookup is over: every family answered, or the dial no longer needed
/// the rest (it connected or was cancelled; those families report
/// operation_aborted in dns_answer). Connecting may already have started.
struct dns_done_info {
    std::string_view host;
    std::span<const boost::asio::ip::address> addrs;  ///< all families, IPv6 first
    bool coalesced = false;                           ///< some family's answer was shared with another caller's query
    boost::system::error_code error;                  ///< set only when no address was found
    dns_source source = dns_source::none;
    std::chrono::steady_clock::duration elapsed{};
};

struct connect_start_info {
    std::string_view network;                 ///< "tcp", "tcp4" or "tcp6"; "unix" for dial_unix
    boost::asio::ip::tcp::endpoint endpoint;  ///< unset for "unix"; with NAT64, the synthesized address
    std::size_t attempt = 0;                  ///< 0, 1, 2... in start order
    std::string_view path{};                  ///< "unix": the socket's path ("@name" for an abstract one)
    /// The HTTPS record this endpoint comes from: its SvcPriority (0: none,
    /// the host's own addresses) and the ALPN the attempt offers (dial_tls:
    /// tls_options::alpn that the record allows; a plain dial: the record's).
    std::uint16_t priority = 0;
    std::span<const std::string> alpn{};
    /// NAT64: the IPv4 address `endpoint` was synthesized from (nat64.hpp).
    std::optional<boost::asio::ip::address_v4> nat64_from{};
    /// Why this attempt starts here: the resolver's order, the family
    /// interleave, or what dial_options::history knew (history.hpp).
    attempt_reason reason = attempt_reason::resolver_order;
};

struct connect_done_info {
    std::string_view network;
    boost::asio::ip::tcp::endpoint endpoint;
    std::size_t attempt = 0;
    boost::system::error_code error;  ///< empty for won and lost
    connect_outcome outcome = connect_outcome::failed;
    std::chrono::steady_clock::duration elapsed{};  ///< since this attempt's connect_start
    std::string_view path{};                        ///< "unix": as in connect_start_info
};

struct dial_start_info {
    std::string_view network;
    std::string_view address;  ///< as given to dial()
};

/// One attempt of a dial, for dial_done and error reports.
struct attempt_record {
    boost::asio::ip::tcp::endpoint endpoint;
    boost::system::error_code error;
    connect_outcome outcome = connect_outcome::failed;
    std::chrono::steady_clock::duration started{};  ///< since the dial started
    std::chrono::steady_clock::duration elapsed{};  ///< how long the attempt ran
};

struct dial_done_info {
    std::string_view network;
    std::string_view address;
    boost::system::error_code error;
    boost::asio::ip::tcp::endpoint remote;  ///< the winner's, when connected
    boost::asio::ip::tcp::endpoint local;
    std::span<const attempt_record> attempts;  ///< every attempt, in start order
    std::chrono::steady_clock::duration elapsed{};
    std::exception_ptr hook_exception;  ///< the first exception a hook of this dial threw
    /// When the error is not a connect's: the step that failed, as Go names
    /// it ("lookup db.test on 127.0.0.1:53", "tls handshake with
    /// 127.0.0.1:443"), and its cause when the error's message does not say
    /// it ("connection refused", "hostname mismatch"); otherwise empty.
    std::string_view step{};
    std::string_view cause{};
    /// The proxy the dial went through (its URL, the password redacted), or
    /// empty for a direct dial. `remote` and `attempts` are then the proxy's
    /// endpoints: the target is behind the tunnel.
    std::string_view proxy{};

    /// A Go-style one-line description, e.g.
    /// "dial tcp 127.0.0.1:1: connect 127.0.0.1:1: connection refused",
    /// "dial tcp db.test:5432: lookup db.test on 127.0.0.1:53: DNS server
    /// failure (nothing listens there: connection refused)", naming every
    /// attempt when there were several.
    std::string describe() const;
};

/// What a dial did, for callers without a trace of their own: see
/// with_dial_report (context.hpp).
struct dial_report {
    boost::system::error_code error;
    boost::asio::ip::tcp::endpoint remote;
    boost::asio::ip::tcp::endpoint local;
    std::vector<attempt_record> attempts;
    std::chrono::steady_clock::duration elapsed{};
    std::string description;  ///< dial_done_info::describe()
};

/// dial_tls (tls.hpp) is about to start a TLS handshake on the connected
/// socket of one attempt: in the race (the default), every attempt whose TCP
/// connect succeeded; with tls_options::race off, the TCP winner only.
struct tls_handshake_start_info {
    std::string_view server_name;  ///< sent as SNI (unless an IP literal) and verified
    boost::asio::ip::tcp::endpoint remote;
    std::size_t attempt = 0;  ///< the attempt, as in connect_start_info
};

/// The handshake is over: it succeeded, failed, timed out or was cancelled.
struct tls_handshake_done_info {
    std::string_view server_name;
    boost::asio::ip::tcp::endpoint remote;
    std::size_t attempt = 0;
    /// How the attempt ended: won (this is the result), lost (completed after
    /// another had won), failed (the handshake failed: see error),
    /// superseded (cancelled because another attempt won) or cancelled (by
    /// the caller or the timeout).
    connect_outcome outcome = connect_outcome::failed;
    std::string_view version;                       ///< "TLSv1.3"; empty on failure
    std::string_view cipher;                        ///< "TLS_AES_256_GCM_SHA384"; empty on failure
    std::string_view alpn;                          ///< the protocol the server selected; empty when none
    bool resumed = false;                           ///< the session was resumed (SSL_session_reused)
    boost::system::error_code error;                ///< the SSL error, error::timeout or operation_aborted
    std::string_view verify_error;                  ///< why verification failed ("hostname mismatch"), else empty
    std::chrono::steady_clock::duration elapsed{};  ///< since tls_handshake_start
    std::exception_ptr hook_exception;              ///< what tls_handshake_start threw, if it did
};

/// Through a proxy (dial_options::proxy), an attempt whose TCP connect to
/// the proxy succeeded starts the tunnel: an HTTP CONNECT or a SOCKS5
/// handshake. connect_start and connect_done describe the TCP connect to
/// the proxy; with dial_tls, the TLS handshake to the target follows inside
/// the tunnel, with the target's name.
struct proxy_connect_start_info {
    proxy_scheme scheme = proxy_scheme::http;
    std::string_view proxy;                   ///< the proxy's URL, its password redacted
    boost::asio::ip::tcp::endpoint endpoint;  ///< the proxy's address this attempt connected to
    std::string_view target;                  ///< "host:port" asked of the proxy (socks5: the address)
    std::size_t attempt = 0;                  ///< as in connect_start_info
};

/// The tunnel is up, or the proxy refused, failed, timed out, or the attempt
/// was cancelled.
struct proxy_connect_done_info {
    proxy_scheme scheme = proxy_scheme::http;
    std::string_view proxy;
    boost::asio::ip::tcp::endpoint endpoint;
    std::string_view target;
    std::size_t attempt = 0;
    /// The HTTP status code, or the SOCKS5 reply code (0: succeeded); -1
    /// when the proxy's answer never came.
    int status = -1;
    std::string_view reason;  ///< the HTTP reason phrase ("Forbidden"); empty for SOCKS5
    /// connected when a TLS handshake follows in the tunnel (it decides the
    /// attempt); otherwise the attempt's outcome, as in tls_handshake_done_info.
    connect_outcome outcome = connect_outcome::failed;
    boost::system::error_code error;                ///< empty when the tunnel is up
    std::chrono::steady_clock::duration elapsed{};  ///< since proxy_connect_start
};

/// Optional hooks, one per info struct above (detail/hook_list.hpp lists
/// them); an empty std::function is skipped.
struct client_trace {
#define NETTRACE_HOOK_MEMBER(name, info) std::function<void(const info&)> name;
    NETTRACE_HOOKS(NETTRACE_HOOK_MEMBER)
#undef NETTRACE_HOOK_MEMBER
};

}  // namespace nettrace
