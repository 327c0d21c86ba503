// The proxy handshakes as sans-I/O state machines, in the manner of
// Boost.MySQL's algorithms: the machine says what I/O to do next (a typed
// proxy_action), the dial's I/O layer does it and resumes the machine with
// the result. No socket, no clock: the fuzzers and unit tests drive them
// with plain bytes.
//
// - HTTP CONNECT (RFC 9110 section 9.3.6): write the request, then read the
//   response header without reading past it. The machine asks to *peek* at
//   what has arrived and then to read exactly the bytes that belong to the
//   header, so bytes the target sends right after the proxy's reply stay in
//   the socket for the caller. Every round consumes at least one byte.
// - SOCKS5 (RFC 1928, RFC 1929): fixed-size replies, read exactly.
#pragma once

#include <nettrace/proxy.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nettrace::detail {

/// Bound on an HTTP CONNECT response header (curl's is 100 KB; proxies
/// send a few hundred bytes).
inline constexpr std::size_t max_proxy_header = 16 * 1024;

struct proxy_action {
    enum class type : std::uint8_t {
        write,       ///< write all of `out`, then resume
        read_exact,  ///< read exactly `in.size()` bytes into `in`, then resume
        peek,        ///< wait until readable, then receive with MSG_PEEK into `in` (up to its size)
        done,        ///< the handshake is over: `error` (empty: the tunnel is up)
    };
    type kind = type::done;
    std::span<const std::uint8_t> out{};
    std::span<std::uint8_t> in{};
    boost::system::error_code error{};
};

/// Where the tunnel goes: a name (socks5h, http) or an address (socks5, or
/// an IP literal target), and the port.
struct proxy_target {
    std::string host;                                 ///< a name or an IP literal, without brackets
    std::optional<boost::asio::ip::address> address;  ///< set: SOCKS5 sends the address, not the name
    std::uint16_t port = 0;
};

/// A proxy's username and password (RFC 1929 for SOCKS5, Basic for HTTP).
struct proxy_credentials {
    std::string username;
    std::string password;
};

/// One handshake with one proxy, for one target. Not thread safe (one
/// attempt's I/O drives it); it owns every buffer its actions point into,
/// and a buffer stays valid until the next call of resume.
///
/// HTTP CONNECT:
/// - Request: "CONNECT host:port HTTP/1.1", "Host: host:port" and, with
///   credentials, "Proxy-Authorization: Basic ...". An IPv6 host is
///   bracketed (its zone, if any, written "%25zone", RFC 6874). A host with
///   a control byte, a space or a non-ASCII byte: error::invalid_host
///   before anything is written (no host at all: error::missing_host).
/// - Response: the header ends at the first empty line, "\r\n\r\n" or
///   (sloppy proxies) "\n\n" / "\n\r\n"; no byte after it is read. The
///   status line must be "HTTP/1.<digit> <3 digits>[ reason]" with a code
///   in 100..599, else proxy_malformed_reply. Interim responses (1xx other
///   than 101) are skipped, as RFC 9110 section 15.2 asks of a client; all
///   the headers together must fit in max_proxy_header, else
///   proxy_reply_too_large. 2xx: the tunnel is up (header fields are
///   ignored: RFC 9110 section 9.3.6). 407: proxy_auth_required. Any other
///   final status (101 too): proxy_rejected.
///
/// SOCKS5:
/// - Offers "no authentication", and "username/password" when there are
///   credentials (each at most 255 bytes, else error::invalid_proxy_url
///   before anything is written).
/// - The target goes as its address when target.address is set, else as a
///   name (at most 255 bytes, else error::host_too_long; empty:
///   error::missing_host).
/// - The username/password reply's version byte may be 1 (RFC 1929) or 5
///   (some servers answer with the SOCKS version); any other is
///   proxy_malformed_reply. The connect reply's RSV byte is not checked.
///
/// Errors (the done action's `error`): those above; proxy_closed when the
/// proxy closes (or a read comes back short) before its reply is complete;
/// proxy_malformed_reply for a reply that is not the protocol; the SOCKS5
/// reply codes 1..8 as socks_general_failure .. socks_address_type_not_supported
/// (unassigned codes: socks_general_failure); socks_no_acceptable_method;
/// socks_auth_failed; any other I/O error as it came
/// (boost::asio::error::eof becomes proxy_closed).
class proxy_handshake {
public:
    /// The handshake with `p` (its scheme and credentials) for `target`.
    proxy_handshake(const proxy& p, proxy_target target)
        : proxy_handshake(
              p.scheme(),
              p.has_credentials() ? std::optional<proxy_credentials>({p.username(), p.password()}) : std::nullopt,
              std::move(target)) {}

    /// The same from a proxy's parts (tests and fuzzers: no URL to parse).
    proxy_handshake(proxy_scheme scheme, std::optional<proxy_credentials> credentials, proxy_target target);

    /// What to do next. The first call passes no error and 0; each later
    /// call passes the result of the action just done: for write, the error
    /// (if any); for read_exact, the error and the bytes read; for peek, the
    /// error and the bytes seen (0 with no error: the proxy closed).
    /// A done action is returned again on every later call.
    ///
    /// Progress: every read_exact asks for at least 1 byte and at most what
    /// the peek before it saw (HTTP) or a fixed reply size (SOCKS5), so a
    /// handshake ends after at most 2 * max_proxy_header + 2 calls.
    proxy_action resume(boost::system::error_code ec, std::size_t bytes);

    /// The proxy's answer, once known: the final HTTP status code, or the
    /// SOCKS5 reply code (0 = succeeded); -1 before any (and when the reply
    /// was malformed, too large or cut short).
    int status() const noexcept { return status_; }
    /// The HTTP reason phrase ("Forbidden"): its first 64 bytes, each byte
    /// outside printable ASCII (CR, LF, tab, UTF-8 ...) replaced by '?',
    /// trailing spaces removed; empty for SOCKS5.
    const std::string& reason() const noexcept { return reason_; }

private:
    enum class step : std::uint8_t {
        start,
        http_request,  // the CONNECT request is being written
        http_peek,     // peeking at the response
        http_read,     // reading the header bytes the peek found
        socks_greeting,
        socks_method,
        socks_auth,
        socks_auth_reply,
        socks_connect,
        socks_reply_head,
        socks_reply_rest,
        done,
    };

    proxy_action start();
    proxy_action http_peek();
    proxy_action http_peeked(boost::system::error_code ec, std::size_t bytes);
    proxy_action http_read(boost::system::error_code ec, std::size_t bytes);
    proxy_action http_header_done();
    proxy_action socks_method_reply();
    proxy_action socks_auth_result();
    proxy_action socks_connect_request();
    proxy_action socks_reply_head();
    proxy_action write(step next);
    proxy_action read(std::size_t offset, std::size_t n, step next);
    proxy_action end(boost::system::error_code ec);  // done with `ec` (empty: success)
    proxy_action finish();

    proxy_scheme scheme_;
    proxy_target target_;
    std::optional<proxy_credentials> credentials_;
    step step_ = step::start;
    int status_ = -1;
    std::string reason_;
    boost::system::error_code final_;
    std::vector<std::uint8_t> out_;      // the request being written
    std::vector<std::uint8_t> scratch_;  // HTTP: where peeks and reads land; SOCKS5: the reply
    std::size_t want_ = 0;               // bytes the pending read_exact asked for

    // HTTP response state: only the status line's start is kept, the rest
    // of the header is scanned as it goes by (memory: the peek window).
    std::size_t consumed_ = 0;  // header bytes read, interim responses included
    std::string line_;          // the current status line's first bytes (enough for code and reason)
    bool line_done_ = false;    // its LF was seen
    bool line_cut_ = false;     // it was longer than line_ holds
    std::uint8_t blank_ = 0;    // end-of-header scanner: 0, 1 after LF, 2 after LF CR
};

}  // namespace nettrace::detail
