// The proxy stage: proxy_tunnel performs proxy_handshake's actions on an
// attempt's socket; proxy_route holds what the dial decides about the proxy.
#include <nettrace/address.hpp>
#include <nettrace/error.hpp>

#include "detail/proxy_route.hpp"
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
    auto resume =
        asio::bind_executor(strand_, [this, keep = keepalive_](const error_code& ec, std::size_t n) { step(ec, n); });
    switch (a.kind) {
        case proxy_action::type::write:
            return asio::async_write(*socket_, asio::buffer(a.out.data(), a.out.size()), std::move(resume));
        case proxy_action::type::read_exact:
            return asio::async_read(*socket_, asio::buffer(a.in.data(), a.in.size()), std::move(resume));
        case proxy_action::type::peek:
            return peek(a);
        case proxy_action::type::done:
            return finish(a.error);
    }
}

// Looks at what has arrived without taking it: the handshake then reads
// exactly its header's bytes, and whatever the target sent after them stays
// in the socket for the caller. Asio has no non-blocking peek of its own on
// a blocking-mode socket, hence recv(2).
void proxy_tunnel::peek(const proxy_action& a) {
    socket_->async_wait(
        asio::socket_base::wait_read, asio::bind_executor(strand_, [this, a, keep = keepalive_](error_code ec) {
            if (ec) return step(ec, 0);
            const ssize_t n = ::recv(socket_->native_handle(), a.in.data(), a.in.size(), MSG_PEEK | MSG_DONTWAIT);
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

// --- proxy_route -------------------------------------------------------------

namespace nettrace::detail {

void proxy_route::begin(const proxy& p, const std::string& host, std::uint16_t port,
                        const std::optional<asio::ip::address>& ip, bool ipv6, bool ipv4) {
    via = &p;
    text = p.redacted();
    target.host = host;
    target.port = port;
    target.address = ip;
    want_ipv6 = ipv6;
    want_ipv4 = ipv4;
    target_lookup = p.scheme() == proxy_scheme::socks5 && !ip;
}

bool proxy_route::choose_target(std::span<const asio::ip::address> v6, std::span<const asio::ip::address> v4,
                                family_preference preference) {
    const bool v4_first = preference == family_preference::prefer_ipv4;
    const auto first = v4_first ? v4 : v6;
    const auto second = v4_first ? v6 : v4;
    if (first.empty() && second.empty()) return false;
    target.address = first.empty() ? second.front() : first.front();
    return true;
}

void proxy_route::target_known() {
    target_text = join_host_port(target.address ? target.address->to_string() : target.host, target.port);
}

proxy_tunnel& proxy_route::add_tunnel(std::size_t attempt) {
    if (tunnels.size() <= attempt) tunnels.resize(attempt + 1);
    tunnels[attempt] = std::make_unique<proxy_tunnel>(*via, target);
    return *tunnels[attempt];
}

std::string_view proxy_route::step_name() const noexcept {
    return via->scheme() == proxy_scheme::http ? "proxy CONNECT" : "socks5 handshake";
}

std::string_view proxy_route::cause_of(const proxy_tunnel& t) {
    auto& cause = causes_.emplace_front();
    if (via->scheme() == proxy_scheme::http && t.status() >= 0)
        cause = std::to_string(t.status()) + (t.reason().empty() ? "" : " " + t.reason());
    return cause;
}

}  // namespace nettrace::detail
