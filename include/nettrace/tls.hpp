// nettrace/tls.hpp — dial, then run a TLS client handshake (OpenSSL through
// boost::asio::ssl), traced through the context's client_trace.
//
// Not included by <nettrace/nettrace.hpp>: this header pulls in OpenSSL's
// headers, and a program using it links OpenSSL (Debian: libssl-dev).
#pragma once

#include <nettrace/context.hpp>
#include <nettrace/detail/tls_initiation.hpp>
#include <nettrace/dial.hpp>
#include <nettrace/tls_options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/system_executor.hpp>

#include <string_view>
#include <utility>

namespace nettrace {

/// dial, then TLS, as one operation: a dialer (its options and resolver),
/// an ssl::context and tls_options, fixed at construction, like dialer.
/// Cheap to copy; the ssl::context must outlive it and every stream it made.
class tls_dialer {
public:
    explicit tls_dialer(boost::asio::ssl::context& ssl_ctx, tls_options options = {}, dialer d = {})
        : dialer_(std::move(d)), ssl_ctx_(&ssl_ctx), options_(std::move(options)) {}

    const dialer& tcp() const noexcept { return dialer_; }
    const tls_options& options() const noexcept { return options_; }
    boost::asio::ssl::context& ssl_context() const noexcept { return *ssl_ctx_; }

    /// Dials `address` over `network` with the dialer and runs a TLS client
    /// handshake,
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
    template <class Token = boost::asio::deferred_t>
    auto dial(const context& ctx, std::string_view network, std::string_view address, Token&& token = {}) const {
        return detail::async_dial_tls(boost::asio::system_executor(), dialer_, ctx, network, address, *ssl_ctx_,
                                      options_, token);
    }

    /// As above, with `ex` as the I/O executor (needed by completion handlers
    /// without an associated executor, such as a plain callback).
    template <detail::executor Executor, class Token = boost::asio::deferred_t>
    auto dial(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
              Token&& token = {}) const {
        return detail::async_dial_tls(boost::asio::any_io_executor(ex), dialer_, ctx, network, address, *ssl_ctx_,
                                      options_, token);
    }

    /// Connects to one of `endpoints` and handshakes, as dialer::dial's
    /// endpoint form races them. There is no host name to take the TLS
    /// name from: set tls_options::server_name (SNI and verification), or
    /// the handshake verifies against nothing and fails with verify_peer on.
    template <class Token = boost::asio::deferred_t>
    auto dial(const context& ctx, std::string_view network, std::span<const boost::asio::ip::tcp::endpoint> endpoints,
              Token&& token = {}) const {
        return detail::async_dial_tls_endpoints(boost::asio::system_executor(), dialer_, ctx, network, endpoints,
                                                *ssl_ctx_, options_, token);
    }

private:
    dialer dialer_;
    boost::asio::ssl::context* ssl_ctx_;
    tls_options options_;
};

/// tls_dialer(ssl_ctx, options).dial(ctx, network, address, token): default
/// dial options and the default resolver.
template <class Token = boost::asio::deferred_t>
auto dial_tls(const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, const tls_options& options, Token&& token = {}) {
    return tls_dialer(ssl_ctx, options).dial(ctx, network, address, std::forward<Token>(token));
}

template <detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, Token&& token = {}) {
    return tls_dialer(ssl_ctx).dial(ctx, network, address, std::forward<Token>(token));
}

/// tls_dialer(ssl_ctx, options).dial(ctx, network, endpoints, token).
template <class Token = boost::asio::deferred_t>
auto dial_tls(const context& ctx, std::string_view network, std::span<const boost::asio::ip::tcp::endpoint> endpoints,
              boost::asio::ssl::context& ssl_ctx, const tls_options& options, Token&& token = {}) {
    return tls_dialer(ssl_ctx, options).dial(ctx, network, endpoints, std::forward<Token>(token));
}

/// As above, with `ex` as the I/O executor, as dial(ex, ...) has it (for a
/// plain callback).
template <detail::executor Executor, class Token = boost::asio::deferred_t>
auto dial_tls(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, const tls_options& options, Token&& token = {}) {
    return tls_dialer(ssl_ctx, options).dial(ex, ctx, network, address, std::forward<Token>(token));
}

template <detail::executor Executor, detail::tls_token Token = boost::asio::deferred_t>
auto dial_tls(const Executor& ex, const context& ctx, std::string_view network, std::string_view address,
              boost::asio::ssl::context& ssl_ctx, Token&& token = {}) {
    return tls_dialer(ssl_ctx).dial(ex, ctx, network, address, std::forward<Token>(token));
}

}  // namespace nettrace
