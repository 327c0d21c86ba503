// nettrace/tls.hpp — dial, then run a TLS client handshake (OpenSSL through
// boost::asio::ssl), traced through the context's client_trace.
//
// Not included by <nettrace/nettrace.hpp>: this header pulls in OpenSSL's
// headers, and a program using it links OpenSSL (Debian: libssl-dev).
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/dial.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/system_executor.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nettrace {

/// A connected TCP socket with a completed TLS client handshake.
using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

using tls_dial_signature = void(boost::system::error_code, tls_stream);

struct tls_options {
    /// Verify the peer's certificate chain against the ssl::context's trust
    /// store and its name against server_name (boost::asio::ssl::
    /// host_name_verification). False turns both off explicitly, whatever
    /// verify mode the ssl::context has.
    bool verify_peer = true;

    /// The name sent as SNI and verified; empty means the host part of the
    /// address. An IP literal is verified against the certificate's IP
    /// addresses and sent as no SNI (RFC 6066 allows only names).
    std::string server_name;

    /// ALPN protocols to offer, in preference order ("h2", "http/1.1"); empty
    /// offers none.
    std::vector<std::string> alpn;

    /// Happy Eyeballs v3: the handshake is part of each attempt, and the
    /// first attempt whose handshake (with verification) completes wins; a
    /// TCP connect restarts the attempt delay, so a stalled handshake costs
    /// at most about one more delay before the next address is tried.
    /// False is the old behaviour: the race is decided at TCP connect and
    /// only its winner handshakes, so a path that connects but stalls the
    /// handshake (a PMTU black hole) holds the dial until its timeout.
    bool race = true;
};

namespace detail {

using tls_dial_handler = boost::asio::any_completion_handler<tls_dial_signature>;

// Compiled in src/tls.cpp: the type-erased operation behind every token.
void start_dial_tls(std::shared_ptr<const dialer_state> state, context ctx, std::string network,
                    std::string address, boost::asio::ssl::context& ssl_ctx, tls_options options,
                    boost::asio::any_io_executor ex, boost::asio::any_completion_executor handler_ex,
                    tls_dial_handler handler);

template <class Token>
concept tls_token = !std::is_same_v<std::decay_t<Token>, tls_options>;

struct initiate_dial_tls {
    template <class Handler, class Given>
    void operator()(Handler&& handler, const Given& given, std::shared_ptr<const dialer_state> state, context ctx,
                    std::string network, std::string address, boost::asio::ssl::context* ssl_ctx,
                    tls_options options) const {
        auto ex = io_executor(handler, given);
        auto handler_ex = handler_executor(handler, ex);
        start_dial_tls(std::move(state), std::move(ctx), std::move(network), std::move(address), *ssl_ctx,
                       std::move(options), std::move(ex), std::move(handler_ex),
                       tls_dial_handler(std::forward<Handler>(handler)));
    }
};

template <class Token, class Given>
auto async_dial_tls(const Given& given, const dialer& d, const context& ctx, std::string_view network,
                    std::string_view address, boost::asio::ssl::context& ssl_ctx, tls_options options,
                    Token& token) {
    return boost::asio::async_initiate<Token, tls_dial_signature>(
        initiate_dial_tls{}, token, given, dialer_access::state(d), ctx, std::string(network), std::string(address),
        &ssl_ctx, std::move(options));
}

}  // namespace detail

/// Dials `address` over `network` with `d` and runs a TLS client handshake,
/// with the handshake inside the Happy Eyeballs race (tls_options::race):
/// every attempt whose TCP connect succeeds handshakes, and the first whose
/// handshake, verification included, completes wins. Server name indication
/// and host name verification are on by default (see tls_options). The
/// trace sees the dial's hooks, a tls_handshake_start/done pair for each
/// attempt that reached TLS, and dial_done last.
///
/// Completion signature: void(error_code, tls_stream). On success the
/// stream is connected and handshaken, its socket uses the I/O executor,
/// and it refers to `ssl_ctx`, which must outlive it (Asio's rule).
///
/// Executor: the I/O executor is the one given first, else the completion
/// handler's associated executor (in a coroutine, the coroutine's);
/// internal work, the handshakes' intermediate handlers and trace hooks run
/// on a strand of it (none with dial_options::single_threaded). The handler
/// runs through its associated executor, never inside dial_tls(); both
/// executors are kept busy until it has run.
///
/// Cancellation: terminal, partial and total per-operation cancellation end
/// every stage of every attempt (DNS, connect, handshake) and the operation
/// completes promptly with boost::asio::error::operation_aborted, the socket
/// closed. d.options().timeout bounds the whole operation, handshakes
/// included (error::timeout).
///
/// Errors:
/// - boost::asio::error::invalid_argument: an ALPN protocol is empty or
///   longer than 255 bytes (before any DNS or connect; dial_start and
///   dial_done still pair);
/// - the dial's errors, as dialer::dial reports them;
/// - a TLS failure (an untrusted certificate, a name mismatch, a handshake
///   failure) with OpenSSL's code in Asio's SSL category, whose message is
///   OpenSSL's ("certificate verify failed");
///   tls_handshake_done_info::verify_error says why verification failed;
///   boost::asio::ssl::error::stream_truncated when the peer closes during
///   the handshake;
/// - error::timeout, boost::asio::error::operation_aborted: as above.
/// On any error the stream's socket is closed.
///
/// Thread safety: distinct operations may start from any thread at once;
/// `ssl_ctx` must not be modified while they run.
///
template <detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const dialer& d, const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, const tls_options& options, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::system_executor(), d, ctx, network, address, ssl_ctx, options,
                                  token);
}

template <detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const dialer& d, const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::system_executor(), d, ctx, network, address, ssl_ctx, {}, token);
}

/// dial_tls with a default dialer (default options, the default resolver).
template <detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, const tls_options& options, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::system_executor(), dialer(), ctx, network, address, ssl_ctx,
                                  options, token);
}

template <detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::system_executor(), dialer(), ctx, network, address, ssl_ctx, {},
                                  token);
}

/// As above, with `ex` as the I/O executor (needed by completion handlers
/// without an associated executor, such as a plain callback).
template <detail::executor Executor, detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const Executor& ex, const dialer& d, const context& ctx, std::string_view network,
              std::string_view address, boost::asio::ssl::context& ssl_ctx, const tls_options& options,
              Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::any_io_executor(ex), d, ctx, network, address, ssl_ctx, options,
                                  token);
}

template <detail::executor Executor, detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const Executor& ex, const dialer& d, const context& ctx, std::string_view network,
              std::string_view address, boost::asio::ssl::context& ssl_ctx, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::any_io_executor(ex), d, ctx, network, address, ssl_ctx, {}, token);
}

template <detail::executor Executor, detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, const tls_options& options, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::any_io_executor(ex), dialer(), ctx, network, address, ssl_ctx,
                                  options, token);
}

template <detail::executor Executor, detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, Token&& token = {}) {
    return detail::async_dial_tls(boost::asio::any_io_executor(ex), dialer(), ctx, network, address, ssl_ctx, {},
                                  token);
}

}  // namespace nettrace
