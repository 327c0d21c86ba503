// The proxy stage of one attempt: drives a proxy_handshake (the sans-I/O
// machine) over the attempt's connected socket, bounded by its own timer.
// Not a template, so the stage is compiled once for dial and dial_tls.
//
// Lifetime: every handler it queues holds `keepalive` (the dial operation),
// so the operation, which owns the tunnel, outlives them, and destroying an
// io_context with a tunnel in flight frees everything (no cycle through a
// stored callback).
#pragma once

#include "proxy_handshake.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace nettrace::detail {

class proxy_tunnel {
public:
    using done_handler = std::function<void(const boost::system::error_code&)>;

    proxy_tunnel(const proxy& p, proxy_target target) : handshake_(p, std::move(target)) {}

    /// Runs the handshake on `socket`; `done` is called once, on `strand`,
    /// with the handshake's error (error::proxy_timeout when `timeout`, if
    /// positive, passed first). cancel() ends it with operation_aborted.
    void start(boost::asio::ip::tcp::socket& socket, const boost::asio::any_io_executor& strand,
               std::chrono::steady_clock::duration timeout, std::shared_ptr<void> keepalive, done_handler done);

    /// The proxy's status (HTTP code or SOCKS5 reply; -1: none yet) and
    /// reason phrase.
    int status() const noexcept { return handshake_.status(); }
    const std::string& reason() const noexcept { return handshake_.reason(); }

private:
    void step(boost::system::error_code ec, std::size_t bytes);
    void peek(const proxy_action& a);
    void finish(boost::system::error_code ec);

    proxy_handshake handshake_;
    boost::asio::ip::tcp::socket* socket_ = nullptr;
    boost::asio::any_io_executor strand_;
    std::shared_ptr<void> keepalive_;  // dropped when done: the handlers in flight hold their own
    done_handler done_;
    std::optional<boost::asio::steady_timer> timer_;
    bool timed_out_ = false;
};

}  // namespace nettrace::detail
