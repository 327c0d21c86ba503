// What the proxy tests dial through proxies: an echo server and a greeter
// (it speaks first) on 127.0.0.1 and ::1, a scripted fake proxy, and the
// fixture that runs them on a thread of their own and dials from the test's
// thread, recording and checking every trace.
#pragma once

#include <nettrace/dial.hpp>
#include <nettrace/recorder.hpp>
#include <nettrace/tls.hpp>

#include "trace_recorder.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <thread>

namespace nettrace::testing {

/// Accepts on 127.0.0.1 and ::1 (one port), sends `greeting` (if any),
/// then echoes what it reads until the peer closes.
class echo_server {
public:
    echo_server(boost::asio::io_context& ioc, std::string greeting = {});
    ~echo_server();
    unsigned short port() const noexcept { return port_; }

private:
    struct state;
    std::shared_ptr<state> state_;
    unsigned short port_ = 0;
};

/// A fake proxy on 127.0.0.1: for each connection, reads what the client
/// sends first, answers `reply` in one write, then reads and answers
/// `then` (if not empty) after the next request bytes, and keeps the
/// connection open (`close_after` false) or closes it. An empty reply
/// answers nothing: a proxy that accepts and says nothing.
class scripted_proxy {
public:
    scripted_proxy(boost::asio::io_context& ioc, std::string reply, bool close_after = false, std::string then = {});
    ~scripted_proxy();
    unsigned short port() const noexcept { return port_; }
    std::string url(const std::string& scheme = "http") const {
        return scheme + "://127.0.0.1:" + std::to_string(port_);
    }

private:
    struct state;
    std::shared_ptr<state> state_;
    unsigned short port_ = 0;
};

struct proxy_fixture {
    proxy_fixture();
    ~proxy_fixture();
    proxy_fixture(const proxy_fixture&) = delete;
    proxy_fixture& operator=(const proxy_fixture&) = delete;

    struct result {
        boost::system::error_code error;
        boost::asio::ip::tcp::socket socket;
        std::chrono::steady_clock::duration took{};
    };
    struct tls_result {
        boost::system::error_code error;
        std::unique_ptr<tls_stream> stream;
    };

    /// dial_options with `url` as every dial's proxy.
    static dial_options via(const std::string& url);

    /// Dials `address` with `o`, recording the trace in `rec` and `record`
    /// (both reset first), and checks the trace contract.
    result dial(const dial_options& o, const std::string& address, const std::string& network = "tcp");
    tls_result dial_tls(const dial_options& o, boost::asio::ssl::context& ssl, const std::string& address);

    std::string echo_port() const { return std::to_string(echo.port()); }
    std::string greeter_port() const { return std::to_string(greeter.port()); }
    /// Writes "ping" and reads back four bytes.
    std::string echo_round_trip(boost::asio::ip::tcp::socket& s);
    /// Requires the dial `r` to have connected (its error, then `log`, in
    /// the message if it did not), then checks that it echoes "ping".
    void require_echo(result& r, const std::string& log = {});
    std::string read_exactly(boost::asio::ip::tcp::socket& s, std::size_t n);
    /// Whether `secret` appears anywhere the last dial's trace went: the
    /// recorder's events, dial_done's description, the JSON lines, the
    /// Chrome trace and the SVG.
    bool trace_mentions(const std::string& secret) const;

    const std::string greeting = "220 greeting from the target\r\n";
    boost::asio::io_context servers;  // run by servers_thread
    boost::asio::io_context client;   // run by the test while it dials
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{servers.get_executor()};
    echo_server echo{servers};
    echo_server greeter{servers, greeting};
    trace_recorder rec;
    dial_record record;

private:
    context trace_context();
    std::thread servers_thread;
};

}  // namespace nettrace::testing
