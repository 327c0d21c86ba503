// What the loopback tests share: the names every test file spells
// unqualified (asio, tcp, error_code, steady, the chrono literals, the
// loopback addresses), durations as milliseconds, "host:port" strings, the
// precondition of the cases that need ::1, the descriptor count a dial
// must return to, a cancellation that a timer emits, and an io_context run
// by several threads.
#pragma once

#include "loopback.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace nettrace::testing {

/// The loopback addresses the tests listen on and dial: three of
/// 127.0.0.0/8 (one host, several addresses) and ::1.
inline const boost::asio::ip::address v4 = boost::asio::ip::make_address("127.0.0.1");
inline const boost::asio::ip::address v4_other = boost::asio::ip::make_address("127.0.0.2");
inline const boost::asio::ip::address v4_third = boost::asio::ip::make_address("127.0.0.3");
inline const boost::asio::ip::address v6 = boost::asio::ip::make_address("::1");

/// A duration in (fractional) milliseconds: what the timing bounds compare.
template <class Rep, class Period>
double ms(std::chrono::duration<Rep, Period> d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

/// "host:port", as dial() takes it.
inline std::string host_port(std::string_view host, unsigned short port) {
    return std::string(host) + ":" + std::to_string(port);
}

/// "127.0.0.1:port" or "[::1]:port".
inline std::string host_port(const boost::asio::ip::address& a, unsigned short port) {
    return a.is_v6() ? host_port("[" + a.to_string() + "]", port) : host_port(a.to_string(), port);
}

/// Some sandboxes have no IPv6 loopback; the cases that need ::1 say so:
/// BOOST_AUTO_TEST_CASE(name, *boost::unit_test::precondition(ipv6_available())).
struct ipv6_available {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        return ipv6_loopback_available();
    }
};

/// Opens the descriptors that stay open for as long as `ioc` lives
/// (open_reactor), then counts the process's: the count that every dial on
/// `ioc` must leave behind once its sockets are closed. Take it after the
/// test's own peers are open.
inline std::size_t descriptor_baseline(boost::asio::io_context& ioc) {
    open_reactor(ioc);
    return open_fd_count();
}

/// Runs `ioc` on `threads` threads until it stops or runs out of work.
inline void run_on_threads(boost::asio::io_context& ioc, int threads) {
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t) running.emplace_back([&ioc] { ioc.run(); });
    for (auto& t : running) t.join();
}

/// A cancellation signal that a timer emits, and when it did: bind the
/// operation's handler to slot(), start the operation, then emit_after().
class timed_cancellation {
public:
    explicit timed_cancellation(boost::asio::io_context& ioc) : timer_(ioc) {}
    boost::asio::cancellation_slot slot() { return signal_.slot(); }
    void emit_after(std::chrono::steady_clock::duration d,
                    boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal) {
        timer_.expires_after(d);
        timer_.async_wait([this, type](const boost::system::error_code& ec) {
            if (ec) return;
            emitted_at_ = std::chrono::steady_clock::now();
            signal_.emit(type);
        });
    }
    std::chrono::steady_clock::time_point emitted_at() const { return emitted_at_; }

    /// A completion handler on slot() for a dial traced by `rec`: it calls
    /// rec.completed(), keeps the time and the error, and drops the rest.
    template <class Recorder>
    auto handler(Recorder& rec, std::chrono::steady_clock::time_point& completed_at,
                 boost::system::error_code& result) {
        return boost::asio::bind_cancellation_slot(slot(),
                                                   [&rec, &completed_at, &result](boost::system::error_code ec, auto) {
                                                       rec.completed();
                                                       completed_at = std::chrono::steady_clock::now();
                                                       result = ec;
                                                   });
    }

private:
    boost::asio::cancellation_signal signal_;
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point emitted_at_{};
};

}  // namespace nettrace::testing

// The tests' vocabulary, at namespace scope: one block here instead of the
// same aliases atop every test file. Only test files include this header.
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;
using boost::system::error_code;
using namespace std::chrono_literals;
using nettrace::testing::descriptor_baseline;
using nettrace::testing::host_port;
using nettrace::testing::ipv6_available;
using nettrace::testing::ms;
using nettrace::testing::run_on_threads;
using nettrace::testing::timed_cancellation;
using nettrace::testing::v4;
using nettrace::testing::v4_other;
using nettrace::testing::v4_third;
using nettrace::testing::v6;
