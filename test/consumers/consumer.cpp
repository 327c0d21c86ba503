// The program both consumer projects build (test/consumers/installed: nettrace
// found through pkg-config after `meson install`; test/consumers/subproject:
// nettrace as a meson subproject). It proves a consumer can include the
// headers, link the library and dial with it: a listener on 127.0.0.1:0, two
// traced dials to it (co_await, then a callback with an executor) and one
// with bad input. Loopback only. Exit status 0 when every check held.
#include <nettrace/nettrace.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    std::cout << (ok ? "ok:     " : "FAILED: ") << what << '\n';
    if (!ok) ++failures;
}

struct counts {
    int connect_start = 0;
    int connect_done = 0;
    int won = 0;
};

nettrace::context traced(counts& c) {
    nettrace::client_trace trace;
    trace.connect_start = [&c](const nettrace::connect_start_info&) { ++c.connect_start; };
    trace.connect_done = [&c](const nettrace::connect_done_info& i) {
        ++c.connect_done;
        if (i.outcome == nettrace::connect_outcome::won) ++c.won;
    };
    return nettrace::with_client_trace({}, trace);
}

void check_counts(const counts& c, const std::string& which) {
    check(c.connect_start == 1 && c.connect_done == 1 && c.won == 1,
          which + ": connect_start=" + std::to_string(c.connect_start) + " connect_done=" +
              std::to_string(c.connect_done) + " won=" + std::to_string(c.won) + " (expected 1 1 1)");
}

}  // namespace

int main() {
    asio::io_context ioc;
    const auto loopback = asio::ip::make_address("127.0.0.1");
    asio::ip::tcp::acceptor acceptor(ioc, {loopback, 0});
    const auto listening = acceptor.local_endpoint();
    const std::string address = "127.0.0.1:" + std::to_string(listening.port());

    int accepted = 0;
    asio::ip::tcp::socket peers[2] = {asio::ip::tcp::socket(ioc), asio::ip::tcp::socket(ioc)};
    for (auto& peer : peers) acceptor.async_accept(peer, [&](const error_code& ec) { accepted += ec ? 0 : 1; });

    // Nothing here may hang a CI run.
    asio::steady_timer guard(ioc, std::chrono::seconds(20));
    guard.async_wait([&](const error_code& ec) {
        if (!ec) {
            check(false, "finished within 20 s");
            ioc.stop();
        }
    });

    nettrace::dial_options options;
    options.timeout = std::chrono::seconds(10);
    const nettrace::dialer dialer(options);
    counts awaited, called_back;
    bool coroutine_done = false, callback_done = false;

    // 1. co_await, the non-throwing form.
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto [ec, socket] =
                co_await dialer.dial(traced(awaited), "tcp", address, asio::as_tuple(asio::use_awaitable));
            error_code ignored;
            check(!ec && socket.is_open() && socket.remote_endpoint(ignored) == listening,
                  "co_await dial " + address + " connected (" + ec.message() + ")");
            check_counts(awaited, "co_await dial");

            // Bad input fails before any connect, with nettrace's own error.
            counts bad;
            auto [bad_ec, bad_socket] =
                co_await dialer.dial(traced(bad), "tcp", "127.0.0.1", asio::as_tuple(asio::use_awaitable));
            check(bad_ec == nettrace::error::missing_port && bad.connect_start == 0 && !bad_socket.is_open(),
                  "dial without a port fails with nettrace::error::missing_port (" + bad_ec.message() + ")");
            coroutine_done = true;
        },
        [&](std::exception_ptr e) {
            if (e) check(false, "the coroutine threw");
        });

    // 2. A plain callback, with the executor given first.
    nettrace::dial(ioc.get_executor(), traced(called_back), "tcp", address,
                   [&](error_code ec, asio::ip::tcp::socket socket) {
                       error_code ignored;
                       check(!ec && socket.is_open() && socket.remote_endpoint(ignored) == listening,
                             "callback dial " + address + " connected (" + ec.message() + ")");
                       check_counts(called_back, "callback dial");
                       callback_done = true;
                   });

    // Runs until both dials and both accepts are done, then stops.
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer poll(ioc);
            while (!(coroutine_done && callback_done && accepted == 2)) {
                poll.expires_after(std::chrono::milliseconds(5));
                co_await poll.async_wait(asio::use_awaitable);
            }
            guard.cancel();
        },
        asio::detached);

    ioc.run();
    check(coroutine_done && callback_done, "both dials completed");
    check(accepted == 2, "the listener accepted 2 connections (" + std::to_string(accepted) + ")");
    std::cout << (failures == 0 ? "consumer: ok" : "consumer: FAILED") << '\n';
    return failures == 0 ? 0 : 1;
}
