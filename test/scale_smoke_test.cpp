// scale_smoke_test.cpp — the short version of the benchmarks' soak and
// scale runs (benchmarks/soak_bench.cpp, scale_bench.cpp): thousands of
// sequential traced dials sharing one connection_history, then 2,000 dials
// in flight at once, against loopback listeners spread over 127.0.0.1 ..
// 127.0.0.10. Nothing grows: the descriptor count comes back to its
// baseline after every stretch of dials, and the history never holds more
// than its capacity, which the 40 distinct endpoints overflow, so its LRU
// evicts all along. Nothing here is timed.
#define BOOST_TEST_MODULE scale_smoke
#include <boost/test/unit_test.hpp>

#include "support/common.hpp"

#include <nettrace/nettrace.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int addresses = 10, ports_per_address = 4;  // 40 endpoints
constexpr std::size_t capacity = 16;                  // < 40: the LRU evicts

// Accepts and closes at once, on the test's one thread, counting.
class closing_listener {
public:
    closing_listener(asio::io_context& ioc, const asio::ip::address& addr, std::uint64_t& accepted)
        : acceptor_(ioc, tcp::endpoint(addr, 0)), accepted_(accepted) {
        accept();
    }
    tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, tcp::socket s) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) ++accepted_;
            s.close(ec);
            accept();
        });
    }
    tcp::acceptor acceptor_;
    std::uint64_t& accepted_;
};

// Closes with an RST, as the benchmarks do: no TIME_WAIT left behind.
void close_now(tcp::socket& s) {
    error_code ignored;
    s.set_option(asio::socket_base::linger(true, 0), ignored);
    s.close(ignored);
}

struct fixture {
    asio::io_context ioc{1};
    std::uint64_t accepted = 0;
    std::vector<std::unique_ptr<closing_listener>> listeners;
    std::vector<std::string> targets;
    std::shared_ptr<nettrace::connection_history> history;
    nettrace::dialer dialer;
    nettrace::client_trace hooks;
    std::uint64_t dial_starts = 0, connect_starts = 0, connect_dones = 0, dial_dones = 0;

    fixture() : history(std::make_shared<nettrace::connection_history>(nettrace::history_options{capacity})) {
        for (int a = 1; a <= addresses; ++a)
            for (int p = 0; p < ports_per_address; ++p) {
                listeners.push_back(std::make_unique<closing_listener>(
                    ioc, asio::ip::address_v4((127u << 24) | unsigned(a)), accepted));
                targets.push_back(host_port(listeners.back()->endpoint().address(),
                                            listeners.back()->endpoint().port()));
            }
        nettrace::dial_options o;
        o.single_threaded = true;
        o.history = history;
        dialer = nettrace::dialer(o);
        hooks.dial_start = [this](const nettrace::dial_start_info&) { ++dial_starts; };
        hooks.dns_start = [](const nettrace::dns_start_info&) {};
        hooks.dns_answer = [](const nettrace::dns_answer_info&) {};
        hooks.dns_done = [](const nettrace::dns_done_info&) {};
        hooks.connect_start = [this](const nettrace::connect_start_info&) { ++connect_starts; };
        hooks.connect_done = [this](const nettrace::connect_done_info&) { ++connect_dones; };
        hooks.dial_done = [this](const nettrace::dial_done_info&) { ++dial_dones; };
    }

    // Runs the io_context until `done` and until the listeners have accepted
    // (and closed) `connections`: then no descriptor of theirs is open. A
    // guard against a hang only: a wait that finds nothing to do in 30 s fails.
    template <class Done>
    void run_until(Done done, std::uint64_t connections) {
        ioc.restart();
        while (!done() || accepted < connections)
            if (ioc.run_one_for(std::chrono::seconds(30)) == 0) {
                BOOST_FAIL("nothing happened for 30 s: " << accepted << " of " << connections << " accepted");
                return;
            }
    }
};

asio::awaitable<void> sequential(const nettrace::dialer& d, const nettrace::context& ctx,
                                 const std::vector<std::string>& targets, long from, long to, long& connected) {
    for (long i = from; i < to; ++i) {
        tcp::socket s = co_await d.dial(ctx, "tcp", targets[std::size_t(i) % targets.size()]);
        if (s.is_open()) ++connected;
        close_now(s);
    }
}

asio::awaitable<void> one_dial(const nettrace::dialer& d, const std::string& target, long& connected, long& finished) {
    const nettrace::context none;
    try {
        tcp::socket s = co_await d.dial(none, "tcp", target);
        if (s.is_open()) ++connected;
        close_now(s);
    } catch (const std::exception&) {
    }
    ++finished;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(sequential_traced_dials_with_a_history_leave_no_descriptor_and_a_bounded_history, fixture) {
    constexpr long dials = 5000, every = 1000;
    const auto ctx = nettrace::with_client_trace({}, hooks);
    long connected = 0;
    bool done = false;
    // One dial first: the reactor and nettrace's own descriptors are then open.
    asio::co_spawn(ioc, sequential(dialer, ctx, targets, 0, 1, connected), [&](std::exception_ptr e) {
        BOOST_REQUIRE(!e);
        done = true;
    });
    run_until([&] { return done; }, 1);
    const std::size_t baseline = nettrace::testing::open_fd_count();
    for (long from = 1; from < dials; from += every) {
        const long to = std::min(from + every, dials);
        done = false;
        asio::co_spawn(ioc, sequential(dialer, ctx, targets, from, to, connected), [&](std::exception_ptr e) {
            BOOST_REQUIRE(!e);
            done = true;
        });
        run_until([&] { return done; }, std::uint64_t(to));
        BOOST_TEST_CONTEXT("after " << to << " dials") {
            BOOST_TEST(nettrace::testing::open_fd_count() == baseline);
            BOOST_TEST(history->size() <= capacity);
        }
    }
    BOOST_TEST(connected == dials);
    BOOST_TEST(history->size() == capacity);  // 40 endpoints seen: full, never above
    BOOST_TEST(dial_starts == std::uint64_t(dials));
    BOOST_TEST(dial_dones == std::uint64_t(dials));
    BOOST_TEST(connect_starts == std::uint64_t(dials));  // every first attempt won: no second one
    BOOST_TEST(connect_dones == std::uint64_t(dials));
    BOOST_TEST(accepted == std::uint64_t(dials));
}

BOOST_FIXTURE_TEST_CASE(two_thousand_dials_in_flight_sharing_a_history_all_connect_and_leave_no_descriptor,
                        fixture) {
    // 2,000 sockets open at once, plus the listeners' and the process's own.
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    const rlimit saved = r;
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
    ::getrlimit(RLIMIT_NOFILE, &r);
    const long wanted = 2000;
    const long in_flight = std::min<long>(wanted, long(r.rlim_cur) - 200);
    BOOST_REQUIRE_MESSAGE(in_flight >= 500, "RLIMIT_NOFILE " << r.rlim_cur << " is too low");
    if (in_flight < wanted) BOOST_TEST_MESSAGE("RLIMIT_NOFILE " << r.rlim_cur << ": " << in_flight << " in flight");

    long connected = 0, finished = 0;
    long warm = 0, warm_done = 0;
    asio::co_spawn(ioc, one_dial(dialer, targets.front(), warm, warm_done), asio::detached);
    run_until([&] { return warm_done == 1; }, 1);
    const std::size_t baseline = nettrace::testing::open_fd_count();
    for (int round = 0; round < 2; ++round) {
        for (long i = 0; i < in_flight; ++i)
            asio::co_spawn(ioc, one_dial(dialer, targets[std::size_t(i) % targets.size()], connected, finished),
                           asio::detached);
        run_until([&] { return finished == (round + 1) * in_flight; }, std::uint64_t(1 + (round + 1) * in_flight));
        BOOST_TEST_CONTEXT("round " << round) {
            BOOST_TEST(connected == (round + 1) * in_flight);
            BOOST_TEST(nettrace::testing::open_fd_count() == baseline);
            BOOST_TEST(history->size() <= capacity);
        }
    }
    ::setrlimit(RLIMIT_NOFILE, &saved);
}
