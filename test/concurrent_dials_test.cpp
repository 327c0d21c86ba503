// concurrent_dials_test.cpp — thousands of concurrent traced dials on an
// io_context run by 2 and by 4 threads each complete once, keep the trace
// contract, end as their peers say, and leak no descriptor. Part of the
// concurrency suite that CI runs under ThreadSanitizer.
//
// Each dial gets a random address list (live, refused and black-holed peers
// on 127.0.0.x and ::1), random delays and timeouts, and perhaps a
// cancellation on its own strand; the dials start from the pool's threads,
// several at once. NETTRACE_STRESS_DIALS=<n> changes how many (2,000).
#define BOOST_TEST_MODULE concurrent_dials
#include <boost/test/unit_test.hpp>

#include "support/common.hpp"
#include "support/fault_schedules.hpp"
#include "support/trace_recorder.hpp"

#include <nettrace/nettrace.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// ThreadSanitizer runs this code several times slower: 2,000 dials started
// at once then take longer to start than their 100-300 ms timeouts, and
// every dial times out before its connect's completion is seen. The
// timeouts stretch by this factor there, so that the stress cases still
// see connects, timeouts and cancellations alike.
#if defined(__SANITIZE_THREAD__)
constexpr long sanitizer_slowdown = 5;
#else
constexpr long sanitizer_slowdown = 1;
#endif

namespace {

using nettrace::connect_outcome;
using namespace nettrace::testing;  // the peers, the recorder, fault_schedules.hpp

// Accepts and closes at once, on its own strand (the acceptor is not thread
// safe; the io_context runs on several threads), so thousands of dials do
// not pile up descriptors on the server side.
class closing_listener {
public:
    closing_listener(asio::io_context& ioc, const asio::ip::address& addr, unsigned short port)
        : strand_(asio::make_strand(ioc)), acceptor_(strand_) {
        const tcp::endpoint ep(addr, port);
        acceptor_.open(ep.protocol());
        if (addr.is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
    }
    unsigned short port() const { return port_; }
    void start() {
        asio::post(strand_, [this] { accept(); });
    }
    void stop() {
        asio::post(strand_, [this] {
            error_code ignored;
            acceptor_.close(ignored);
        });
    }
    std::size_t accepted() const { return accepted_; }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, tcp::socket s) {
            if (ec == aborted || !acceptor_.is_open()) return;
            if (!ec) ++accepted_;
            s.close(ec);
            accept();
        });
    }
    asio::strand<asio::io_context::executor_type> strand_;
    tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::size_t accepted_ = 0;
};

// Raises the soft descriptor limit to the hard one for the stress test,
// and puts it back after.
class raised_fd_limit {
public:
    raised_fd_limit() {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit raised = saved_;
        raised.rlim_cur = saved_.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(saved_.rlim_cur, 65536) : saved_.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            current_ = raised.rlim_cur;
        else
            current_ = saved_.rlim_cur;
    }
    ~raised_fd_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    raised_fd_limit(const raised_fd_limit&) = delete;
    raised_fd_limit& operator=(const raised_fd_limit&) = delete;
    rlim_t current() const { return current_; }

private:
    rlimit saved_{};
    rlim_t current_ = 0;
};

struct stress_dial {
    std::vector<real_endpoint> eps;
    nettrace::dialer dialer;
    trace_recorder rec;
    std::optional<asio::strand<asio::io_context::executor_type>> strand;
    asio::cancellation_signal signal;
    std::optional<asio::steady_timer> cancel_timer;
    long cancel_ms = -1;  // -1: none
    // Written on the dial's strand, read after the threads are joined.
    int calls = 0;
    error_code ec;
    std::optional<tcp::endpoint> remote;
    bool cancel_emitted_before_completion = false;
    bool cancel_emitted = false;
};

void stress(unsigned threads) {
    raised_fd_limit limit;
    asio::io_context ioc{static_cast<int>(threads)};
    const bool have_ipv6 = nettrace::testing::ipv6_loopback_available();
    const auto live4 = asio::ip::make_address("127.0.0.1"), hole4 = asio::ip::make_address("127.0.0.2"),
               refused4 = asio::ip::make_address("127.0.0.3"), live4b = asio::ip::make_address("127.0.0.4"),
               v6 = asio::ip::make_address("::1");

    const auto fds_before = nettrace::testing::descriptor_baseline(ioc);
    // Each dial holds at most three sockets at once, and its peer one more.
    const std::size_t budget = limit.current() > fds_before + 200 ? (limit.current() - fds_before - 200) / 4 : 0;
    const std::size_t count = std::min<std::size_t>(env_number("NETTRACE_STRESS_DIALS").value_or(2000), budget);
    BOOST_TEST_REQUIRE(count >= 50u,
                       "descriptor limit " << limit.current() << " leaves room for " << count << " dials");
    {
        std::optional<closing_listener> l4, l4b, l6;
        std::optional<nettrace::testing::black_hole> h4;
        std::optional<nettrace::testing::refused_port> r4;
        std::optional<nettrace::testing::black_hole> h6;
        for (int tries = 0; tries < 50; ++tries) {
            try {
                l4.emplace(ioc, live4, 0);
                const auto port = l4->port();
                l4b.emplace(ioc, live4b, port);
                h4.emplace(hole4, port);
                r4.emplace(refused4, port);
                if (have_ipv6 && tries % 2) h6.emplace(v6, port);  // ::1 a black hole or live, whichever binds
                if (have_ipv6 && !(tries % 2)) l6.emplace(ioc, v6, port);
                break;
            } catch (const std::exception&) {
                l4.reset(), l4b.reset(), h4.reset(), r4.reset(), h6.reset(), l6.reset();
            }
        }
        BOOST_TEST_REQUIRE(l4.has_value(), "could not bind the peers");
        const auto port = l4->port();
        l4->start();
        l4b->start();
        if (l6) l6->start();

        // Address lists: one peer, or two or three of different kinds.
        std::vector<std::vector<real_endpoint>> lists = {
            {{live4, real_peer::live}},
            {{refused4, real_peer::refused}},
            {{hole4, real_peer::hole}},
            {{hole4, real_peer::hole}, {live4, real_peer::live}},
            {{refused4, real_peer::refused}, {live4b, real_peer::live}},
            {{hole4, real_peer::hole}, {refused4, real_peer::refused}},
            {{live4, real_peer::live}, {live4b, real_peer::live}},
            {{hole4, real_peer::hole}, {refused4, real_peer::refused}, {live4b, real_peer::live}},
        };
        if (have_ipv6) {
            const real_endpoint six{v6, l6 ? real_peer::live : real_peer::hole};
            lists.push_back({six, {live4, real_peer::live}});
            lists.push_back({six, {refused4, real_peer::refused}});
            lists.push_back({six});
        }

        rng r(0x5eed + threads);
        std::vector<std::unique_ptr<stress_dial>> dials;
        dials.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            auto d = std::make_unique<stress_dial>();
            d->eps = r.pick(lists);
            std::vector<asio::ip::address> addrs;
            for (const auto& e : d->eps) addrs.push_back(e.addr);
            nettrace::dial_options o;
            o.attempt_delay = std::chrono::milliseconds(r.range(10, 40));
            o.timeout = std::chrono::milliseconds(r.range(100, 300) * sanitizer_slowdown);
            o.race = r.chance(0.9);
            o.resolver = nettrace::make_static_resolver({{"stress.test", addrs}});
            d->dialer = nettrace::dialer(o);
            d->strand.emplace(asio::make_strand(ioc));
            if (r.chance(0.3)) d->cancel_ms = r.range(0, 150);
            dials.push_back(std::move(d));
        }

        // Started from the pool's threads, several at once; each completes
        // on its own strand, where its cancellation is emitted too.
        std::atomic<std::size_t> outstanding{count};
        const auto finished_one = [&] {
            if (--outstanding == 0) {
                l4->stop();
                l4b->stop();
                if (l6) l6->stop();
            }
        };
        for (auto& dp : dials) {
            stress_dial* d = dp.get();
            asio::post(ioc, [d, port, &finished_one] {
                if (d->cancel_ms >= 0) {
                    d->cancel_timer.emplace(*d->strand, std::chrono::milliseconds(d->cancel_ms));
                    d->cancel_timer->async_wait(asio::bind_executor(*d->strand, [d](error_code ec) {
                        if (ec) return;
                        d->cancel_emitted = true;
                        d->signal.emit(asio::cancellation_type::terminal);
                    }));
                }
                d->dialer.dial(d->rec.attach(), "tcp", "stress.test:" + std::to_string(port),
                               asio::bind_executor(
                                   *d->strand, asio::bind_cancellation_slot(
                                                   d->signal.slot(), [d, &finished_one](error_code ec, tcp::socket s) {
                                                       d->rec.completed();
                                                       ++d->calls;
                                                       d->ec = ec;
                                                       d->cancel_emitted_before_completion = d->cancel_emitted;
                                                       error_code e;
                                                       if (s.is_open()) d->remote = s.remote_endpoint(e);
                                                       s.close(e);
                                                       if (d->cancel_timer) d->cancel_timer->cancel();
                                                       finished_one();
                                                   })));
            });
        }
        const auto t0 = steady::now();
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) pool.emplace_back([&] { ioc.run_for(60s); });
        for (auto& t : pool) t.join();
        const double took = ms(steady::now() - t0);
        BOOST_TEST(ioc.stopped(), "the io_context still had work after 60 s");
        BOOST_TEST(outstanding.load() == 0u, outstanding.load() << " dial(s) never completed");

        unsigned connected = 0, timed_out = 0, cancelled = 0, refused = 0;
        for (std::size_t i = 0; i < dials.size(); ++i) {
            const auto& d = *dials[i];
            BOOST_TEST_CONTEXT("dial " << i) {
                BOOST_TEST(d.calls == 1);
                d.rec.check_contract();
                const auto kind_of = [&](const asio::ip::address& a) -> std::optional<real_peer> {
                    for (const auto& e : d.eps)
                        if (e.addr == a) return e.kind;
                    return std::nullopt;
                };
                std::size_t won = 0;
                for (const auto& c : d.rec.of("connect_done")) {
                    const auto kind = kind_of(c.endpoint.address());
                    BOOST_TEST_REQUIRE(bool(kind));
                    won += c.outcome == connect_outcome::won;
                    if (*kind == real_peer::hole)
                        BOOST_TEST(
                            (c.outcome == connect_outcome::superseded || c.outcome == connect_outcome::cancelled));
                    if (*kind == real_peer::live) BOOST_TEST((c.outcome != connect_outcome::failed), c.error.message());
                    if (*kind == real_peer::refused && c.outcome == connect_outcome::failed)
                        BOOST_TEST(c.error == asio::error::connection_refused);
                }
                if (!d.ec) {
                    ++connected;
                    BOOST_TEST(won == 1u);
                    BOOST_TEST_REQUIRE(d.remote.has_value());
                    BOOST_TEST((kind_of(d.remote->address()) == real_peer::live), "connected to " << *d.remote);
                } else {
                    BOOST_TEST(won == 0u);
                    BOOST_TEST(!d.remote.has_value());
                    timed_out += d.ec == timeout;
                    cancelled += d.ec == aborted;
                    refused += d.ec == asio::error::connection_refused;
                    if (d.ec == aborted) BOOST_TEST(d.cancel_emitted_before_completion);
                    if (d.ec != aborted && d.ec != timeout) {
                        BOOST_TEST(d.ec == asio::error::connection_refused, d.ec.message());
                        for (const auto& e : d.eps) BOOST_TEST((e.kind == real_peer::refused));
                    }
                }
            }
        }
        BOOST_TEST_MESSAGE(threads << " threads: " << count << " dials in " << took << " ms; connected " << connected
                                   << ", timed out " << timed_out << ", cancelled " << cancelled << ", refused "
                                   << refused << "; accepted "
                                   << l4->accepted() + l4b->accepted() + (l6 ? l6->accepted() : 0));
        BOOST_TEST(connected > 0u);
    }
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");
}

}  // namespace

BOOST_AUTO_TEST_CASE(thousands_of_dials_on_two_threads_each_complete_once_as_their_peers_say) { stress(2); }
BOOST_AUTO_TEST_CASE(thousands_of_dials_on_four_threads_each_complete_once_as_their_peers_say) { stress(4); }
