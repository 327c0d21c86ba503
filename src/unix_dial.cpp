// dial_unix: a connect to a unix-domain stream socket, on the operation core
// that dial and resolve share (src/detail/operation.hpp): one attempt, no
// race, the dial's hooks, the dialer's timeout and the context's deadline.
#include <nettrace/error.hpp>
#include <nettrace/unix.hpp>

#include "detail/dialer_state.hpp"
#include "detail/operation.hpp"
#include "detail/saturate.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/stat.h>
#include <sys/un.h>

#include <memory>
#include <optional>
#include <string>

namespace nettrace::detail {

namespace asio = boost::asio;
using boost::system::error_code;
using local = asio::local::stream_protocol;

namespace {

using clock = std::chrono::steady_clock;

// "@name" is Linux's abstract namespace: the name after a NUL byte, not a
// file. Anything else is a path, checked before connecting so that its
// errors say what is wrong rather than what connect() makes of it.
std::optional<local::endpoint> unix_endpoint(const std::string& path, error_code& ec) {
    constexpr std::size_t room = sizeof(sockaddr_un::sun_path) - 1;  // a path keeps its NUL
    if (path.empty() || path == "@" || path.find('\0') != std::string::npos) {
        ec = make_error_code(error::invalid_unix_path);
        return std::nullopt;
    }
    if (path.size() > room) {
        ec = make_error_code(error::unix_path_too_long);
        return std::nullopt;
    }
    if (path.front() == '@') return local::endpoint(std::string(1, '\0') + path.substr(1));
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
        ec = make_error_code(error::not_a_socket);
        return std::nullopt;
    }
    return local::endpoint(path);
}

class unix_dial_op final : public operation<unix_dial_signature> {
public:
    unix_dial_op(std::shared_ptr<const dialer_state> state, context ctx, std::string path, asio::any_io_executor ex,
                 asio::any_completion_executor handler_ex, handler_type handler)
        : operation(std::move(ex), state->options.single_threaded, std::move(ctx), std::move(handler), std::move(handler_ex)),
          state_(std::move(state)),
          path_(std::move(path)),
          socket_(ex_) {}

    void initiate() {
        operation::initiate<unix_dial_op>([](unix_dial_op& op) { op.run(); });
    }

private:
    void run() {
        started_ = clock::now();
        if (trace_) fire(trace_->dial_start, dial_start_info{"unix", path_});
        error_code ec;
        const auto endpoint = unix_endpoint(path_, ec);
        if (!endpoint) return complete(ec);
        const auto end = deadline();
        if (end && *end <= started_) return complete(make_error_code(error::timeout));
        socket_.open(local(), ec);
        if (ec) return complete(ec);
        if (trace_)
            fire(trace_->connect_start,
                 connect_start_info{.network = "unix", .endpoint = {}, .attempt = 0, .path = path_});
        if (end) {
            timer_.emplace(strand_, *end);
            timer_->async_wait([self = shared_from_this(), this](const error_code& ec) {
                resumed();
                if (ec || completed()) return;
                stopped_ = make_error_code(error::timeout);
                error_code ignored;
                socket_.cancel(ignored);
            });
        }
        socket_.async_connect(*endpoint, asio::bind_executor(strand_, [self = shared_from_this(), this](error_code ec) {
            resumed();
            if (timer_) timer_->cancel();
            if (stopped_ && (ec == asio::error::operation_aborted || !ec)) ec = stopped_;
            // A full accept queue makes a unix connect fail with
            // EAGAIN, which the reactor takes for "in progress"
            // and then for success: the socket is not connected.
            if (!ec && !connected()) ec = make_error_code(boost::system::errc::resource_unavailable_try_again);
            if (trace_)
                fire(trace_->connect_done, connect_done_info{.network = "unix",
                                                             .endpoint = {},
                                                             .attempt = 0,
                                                             .error = ec,
                                                             .outcome = !ec        ? connect_outcome::won
                                                                        : stopped_ ? connect_outcome::cancelled
                                                                                   : connect_outcome::failed,
                                                             .elapsed = clock::now() - started_,
                                                             .path = path_});
            connect_error_ = ec;
            complete(ec);
        }));
    }

    bool connected() const {
        error_code ec;
        socket_.remote_endpoint(ec);
        return !ec;
    }

    void on_cancel() override {
        if (completed() || stopped_) return;
        stopped_ = asio::error::operation_aborted;
        error_code ignored;
        socket_.cancel(ignored);
    }

    // Its timeout from the start, or the context's deadline, whichever is first.
    std::optional<clock::time_point> deadline() const {
        auto end = context_deadline(ctx_);
        if (const auto timeout = state_->racer.timeout; timeout > clock::duration::zero()) {
            const auto own = saturating_add(started_, timeout);
            if (!end || own < *end) end = own;
        }
        return end;
    }

    void complete(const error_code& ec) {
        if (ec) {
            error_code ignored;
            socket_.close(ignored);
        }
        if (trace_ && trace_->dial_done) {
            attempt_record record{
                {}, connect_error_, ec ? connect_outcome::failed : connect_outcome::won, {}, clock::now() - started_};
            dial_done_info info{.network = "unix",
                                .address = path_,
                                .error = ec,
                                .remote = {},
                                .local = {},
                                .attempts = {},
                                .elapsed = clock::now() - started_,
                                .hook_exception = hook_exception_};
            if (socket_.is_open() || connect_error_) info.attempts = std::span(&record, 1);
            fire(trace_->dial_done, info);
        }
        timer_.reset();
        operation::complete(ec, std::move(socket_));
    }

    std::shared_ptr<const dialer_state> state_;
    std::string path_;
    local::socket socket_;
    std::optional<asio::steady_timer> timer_;
    clock::time_point started_{};
    error_code stopped_;        // cancelled, or the deadline passed
    error_code connect_error_;  // what the connect ended with, for dial_done's record
};

}  // namespace

void start_dial_unix(std::shared_ptr<const dialer_state> state, context ctx, std::string path, asio::any_io_executor ex,
                     asio::any_completion_executor handler_ex, unix_dial_handler handler) {
    auto op = std::make_shared<unix_dial_op>(std::move(state), std::move(ctx), std::move(path), std::move(ex),
                                             std::move(handler_ex), std::move(handler));
    op->initiate();
}

}  // namespace nettrace::detail
