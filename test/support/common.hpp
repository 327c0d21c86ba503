// What the loopback tests share: durations as milliseconds, "host:port"
// strings, the precondition of the cases that need ::1, and the descriptor
// count a dial must return to.
#pragma once

#include "loopback.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace nettrace::testing {

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

}  // namespace nettrace::testing
