// The proxy stage's I/O: performs proxy_handshake's actions on a socket.
#include <nettrace/error.hpp>

#include "detail/proxy_tunnel.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace nettrace::detail {

namespace asio = boost::asio;
using boost::system::error_code;

void proxy_tunnel::start(asio::ip::tcp::socket& socket, const asio::any_io_executor& strand,
                         std::chrono::steady_clock::duration timeout, std::shared_ptr<void> keepalive,
                         done_handler done) {
    socket_ = &socket;
    strand_ = strand;
    keepalive_ = std::move(keepalive);
    done_ = std::move(done);
    if (timeout > std::chrono::steady_clock::duration::zero()) {
        timer_.emplace(strand_, timeout);
        timer_->async_wait([this, keep = keepalive_](const error_code& ec) {
            if (ec || !done_) return;
            // The pending read or write ends with operation_aborted, which
            // finish() turns into proxy_timeout.
            timed_out_ = true;
            error_code ignored;
            socket_->cancel(ignored);
        });
    }
    step({}, 0);
}

void proxy_tunnel::step(error_code ec, std::size_t bytes) {
    const proxy_action a = handshake_.resume(ec, bytes);
    auto resume = asio::bind_executor(strand_, [this, keep = keepalive_](const error_code& ec, std::size_t n) {
        step(ec, n);
    });
    switch (a.kind) {
    case proxy_action::type::write:
        return asio::async_write(*socket_, asio::buffer(a.out.data(), a.out.size()), std::move(resume));
    case proxy_action::type::read_exact:
        return asio::async_read(*socket_, asio::buffer(a.in.data(), a.in.size()), std::move(resume));
    case proxy_action::type::peek: return peek(a);
    case proxy_action::type::done: return finish(a.error);
    }
}

// Looks at what has arrived without taking it: the handshake then reads
// exactly its header's bytes, and whatever the target sent after them stays
// in the socket for the caller. Asio has no non-blocking peek of its own on
// a blocking-mode socket, hence recv(2).
void proxy_tunnel::peek(const proxy_action& a) {
    socket_->async_wait(asio::socket_base::wait_read,
                        asio::bind_executor(strand_, [this, a, keep = keepalive_](error_code ec) {
                            if (ec) return step(ec, 0);
                            const ssize_t n = ::recv(socket_->native_handle(), a.in.data(), a.in.size(),
                                                     MSG_PEEK | MSG_DONTWAIT);
                            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                                return peek(a);  // a spurious wake-up: wait again
                            if (n < 0) ec = error_code(errno, boost::system::system_category());
                            step(ec, n < 0 ? 0 : static_cast<std::size_t>(n));
                        }));
}

void proxy_tunnel::finish(error_code ec) {
    if (!done_) return;
    if (timer_) timer_->cancel();
    if (timed_out_ && ec) ec = make_error_code(error::proxy_timeout);
    auto done = std::move(done_);
    done_ = nullptr;
    keepalive_.reset();
    done(ec);
}

}  // namespace nettrace::detail
