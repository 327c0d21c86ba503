// One traced dial run to completion on the test's thread, as most loopback
// tests run theirs: what it ended with, its socket, how long it took.
#pragma once

#include <nettrace/dial.hpp>

#include "trace_recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace nettrace::testing {

struct dial_result {
    boost::system::error_code ec;
    std::optional<boost::asio::ip::tcp::socket> socket;  // when it connected
    std::chrono::steady_clock::duration elapsed{};
};

/// Dials `address` with `d` on `ioc`, traced by `rec` (its handler marks
/// `rec` complete), and runs `ioc` until the handler has run, 10 s at the
/// most: the peers' pending accepts keep an io_context from running out of
/// work.
inline dial_result run_dial(boost::asio::io_context& ioc, const dialer& d, trace_recorder& rec,
                            const std::string& address, const std::string& network = "tcp") {
    std::optional<dial_result> r;
    const auto start = std::chrono::steady_clock::now();
    d.dial(ioc.get_executor(), rec.attach(), network, address,
           [&](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
               rec.completed();
               r.emplace();
               r->elapsed = std::chrono::steady_clock::now() - start;
               r->ec = ec;
               if (!ec) r->socket.emplace(std::move(s));
           });
    ioc.restart();
    while (!r && ioc.run_one_for(std::chrono::seconds(10))) {}
    BOOST_REQUIRE_MESSAGE(r, "the dial of " << address << " did not complete within 10 s");
    return std::move(*r);
}

}  // namespace nettrace::testing
