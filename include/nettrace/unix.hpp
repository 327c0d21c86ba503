// nettrace/unix.hpp — dial_unix: connect to a unix-domain stream socket
// (sidecars, databases, local services), traced like any dial.
#pragma once

#include <nettrace/dial.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <string>
#include <string_view>

namespace nettrace {

using unix_dial_signature = void(boost::system::error_code, boost::asio::local::stream_protocol::socket);

namespace detail {

using unix_dial_handler = boost::asio::any_completion_handler<unix_dial_signature>;

void start_dial_unix(std::shared_ptr<const dialer_state> state, context ctx, std::string path,
                     boost::asio::any_io_executor ex, boost::asio::any_completion_executor handler_ex,
                     unix_dial_handler handler);

struct initiate_dial_unix {
    template <class Handler, class Given>
    void operator()(Handler&& handler, const Given& given, std::shared_ptr<const dialer_state> state, context ctx,
                    std::string path) const {
        auto ex = io_executor(handler, given);
        auto handler_ex = handler_executor(handler, given, ex);
        start_dial_unix(std::move(state), std::move(ctx), std::move(path), std::move(ex), std::move(handler_ex),
                        unix_dial_handler(std::forward<Handler>(handler)));
    }
};

}  // namespace detail

/// Connects to the unix-domain stream socket at `path`: a file system path,
/// or "@name" for a name in Linux's abstract namespace (the '@' stands for
/// the leading NUL byte). The trace gets dial_start and dial_done (network
/// "unix", address `path`) and one connect_start/connect_done pair whose
/// `path` is set (no DNS hooks: there is no name to look up).
///
/// Completion signature: void(error_code, local::stream_protocol::socket).
///
/// Executor: as for dialer::dial: the token's associated executor (a
/// coroutine's), or `ex` in the second form; the handler runs on its own
/// associated executor.
///
/// Cancellation: terminal, partial and total per-operation cancellation
/// abandon the connect: the operation completes promptly with
/// boost::asio::error::operation_aborted, also when the connect had already
/// succeeded but its handler had not run yet. `d.options().timeout` and a
/// deadline in `ctx` (with_deadline) bound it too: error::timeout (a unix
/// connect completes at once or fails, so in practice this is a deadline
/// that had already passed).
///
/// Thread safety: as for dialer::dial.
///
/// Errors: error::invalid_unix_path (empty, a NUL byte),
/// error::unix_path_too_long (over 107 bytes), error::not_a_socket (the path
/// exists and is something else), before any connect; the connect's own:
/// no_such_file_or_directory (nothing there), connection_refused (a socket
/// file nobody listens on any more), permission_denied,
/// resource_unavailable_try_again (the server's accept queue is full: a
/// unix connect does not wait, as Go's does not); error::timeout;
/// boost::asio::error::operation_aborted.
template <class Token = boost::asio::deferred_t>
auto dial_unix(const dialer& d, const context& ctx, std::string_view path, Token&& token = {}) {
    return boost::asio::async_initiate<Token, unix_dial_signature>(
        detail::initiate_dial_unix{}, token, boost::asio::system_executor(), detail::dialer_access::state(d), ctx,
        std::string(path));
}

/// As above, with `ex` as the I/O executor (for handlers without one, such
/// as a plain callback).
template <detail::executor Executor, class Token = boost::asio::deferred_t>
auto dial_unix(const Executor& ex, const dialer& d, const context& ctx, std::string_view path, Token&& token = {}) {
    return boost::asio::async_initiate<Token, unix_dial_signature>(
        detail::initiate_dial_unix{}, token, boost::asio::any_io_executor(ex), detail::dialer_access::state(d), ctx,
        std::string(path));
}

/// dial_unix with a default dialer (its timeout: none).
template <class Token = boost::asio::deferred_t>
auto dial_unix(const context& ctx, std::string_view path, Token&& token = {}) {
    return dial_unix(dialer(), ctx, path, std::forward<Token>(token));
}

}  // namespace nettrace
