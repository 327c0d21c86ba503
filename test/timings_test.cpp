// with_timings on loopback: literal, raced, refused and unresolvable dials,
// and dial_tls against a loopback TLS server. Bounds on durations are
// generous (the machine is shared); the orderings between the phases are
// exact, since every offset is read by the hooks in event order.
#define BOOST_TEST_MODULE timings
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/tls_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <optional>
#include <sstream>

namespace ssl = asio::ssl;
using nettrace::timings;

namespace {

struct result {
    error_code ec;
    timings seen;  // as the completion handler saw it
};

// Runs `op(ctx)` (a dial or dial_tls with the as_tuple token) to completion,
// copying `t` inside the coroutine the completion resumes: what a caller
// reading the timings in its completion handler would see.
template <class Op>
result run(asio::io_context& ioc, const nettrace::context& ctx, const timings& t, Op op) {
    result r;
    bool completed = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto [ec, stream] = co_await op(ctx);
            r.ec = ec;
            r.seen = t;
            completed = true;
            ioc.stop();  // the listeners keep accepting
        },
        asio::detached);
    ioc.run();
    ioc.restart();
    BOOST_REQUIRE(completed);
    return r;
}

auto plain_dial(const nettrace::dialer& d, std::string address) {
    return [d, address](const nettrace::context& ctx) {
        return d.dial(ctx, "tcp", address, asio::as_tuple(asio::use_awaitable));
    };
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const nettrace::testing::test_certificate& certificate() {
    static const nettrace::testing::test_certificate cert({"tls.test", "IP:127.0.0.1"});
    return cert;
}

// An io_context and the timings one dial fills in; run() runs `op` with a
// context carrying only those timings.
struct timed_dial {
    asio::io_context ioc;
    timings t;

    template <class Op>
    result run(Op op) {
        return ::run(ioc, nettrace::with_timings({}, t), t, std::move(op));
    }
};

// ... and a live listener on 127.0.0.1.
struct timed_dial_to_a_live_ipv4 : timed_dial {
    nettrace::testing::live_listener live{ioc.get_executor(), v4};
};

// ... or a TLS server there, and a client context trusting its certificate.
struct timed_dial_tls : timed_dial {
    nettrace::testing::tls_server server{ioc.get_executor(), v4, certificate()};
    ssl::context client{ssl::context::tls_client};

    timed_dial_tls() { certificate().trust_in(client); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(plain_dials)

BOOST_FIXTURE_TEST_CASE(literal_dial_has_no_dns_phase_and_one_ipv4_attempt, timed_dial_to_a_live_ipv4) {
    t.attempts = 99;  // stale values are reset at dial_start
    t.tls_used = true;
    auto r = run(plain_dial(nettrace::dialer(), host_port("127.0.0.1", live.port())));
    BOOST_TEST(!r.ec, r.ec.message());
    const timings& s = r.seen;
    BOOST_TEST(s.ok());
    BOOST_TEST(!s.error);
    BOOST_TEST((s.dns == timings::duration::zero()));
    BOOST_TEST((s.name_lookup_at == timings::duration::zero()));
    BOOST_TEST((s.source == nettrace::dns_source::none));
    BOOST_TEST(s.attempts == 1u);
    BOOST_REQUIRE(s.winner.has_value());
    BOOST_TEST((*s.winner == nettrace::address_family::ipv4));
    BOOST_TEST(s.remote == tcp::endpoint(v4, live.port()));
    BOOST_TEST(s.connect > timings::duration::zero());
    BOOST_TEST((s.connected_at == s.connect));  // no lookup: connect starts at dial start
    BOOST_TEST(s.total >= s.connect);
    BOOST_TEST(!s.tls_used);
    BOOST_TEST((s.tls == timings::duration::zero()));
    BOOST_TEST((s.tls_done_at == timings::duration::zero()));
    BOOST_TEST(ms(s.total) < 1000.0);

    const auto line = to_string(s);
    BOOST_TEST(line.rfind("dns 0 ms, connect ", 0) == 0u, line);
    BOOST_TEST(contains(line, "(1 attempt, won by ipv4), total "), line);
    BOOST_TEST(!contains(line, "tls"), line);
    BOOST_TEST(!contains(line, "error"), line);
    std::ostringstream os;
    os << s;
    BOOST_TEST(os.str() == line);
}

BOOST_FIXTURE_TEST_CASE(black_holed_first_address_makes_connect_last_about_the_attempt_delay,
                        timed_dial_to_a_live_ipv4) {
    nettrace::testing::black_hole hole(v4_other, live.port());
    nettrace::dial_options o;
    o.attempt_delay = 50ms;
    o.resolver = nettrace::make_static_resolver({{"race.test", {v4_other, v4}}});
    auto r = run(plain_dial(nettrace::dialer(o), host_port("race.test", live.port())));
    BOOST_TEST(!r.ec, r.ec.message());
    const timings& s = r.seen;
    BOOST_TEST(s.ok());
    BOOST_TEST(s.attempts == 2u);
    BOOST_REQUIRE(s.winner.has_value());
    BOOST_TEST((*s.winner == nettrace::address_family::ipv4));
    BOOST_TEST(s.remote == tcp::endpoint(v4, live.port()));  // the live one, not the hole
    BOOST_TEST((s.source == nettrace::dns_source::static_table));
    BOOST_TEST(!s.coalesced);
    BOOST_TEST(s.name_lookup_at >= s.dns);
    BOOST_TEST(ms(s.dns) < 1000.0);
    // The second attempt starts after the 50 ms attempt delay and wins.
    // From the end of the lookup, which may come just after the first attempt started.
    BOOST_TEST(ms(s.connect) >= 45.0, "connect " << ms(s.connect) << " ms");
    BOOST_TEST(ms(s.connect) < 1500.0, "connect " << ms(s.connect) << " ms");
    BOOST_TEST((s.connected_at == s.name_lookup_at + s.connect));
    BOOST_TEST(s.total >= s.connected_at);
    BOOST_TEST(!s.tls_used);

    const auto line = to_string(s);
    BOOST_TEST(contains(line, "(2 attempts, won by ipv4)"), line);
}

BOOST_FIXTURE_TEST_CASE(refused_dial_sets_the_error_and_no_winner, timed_dial) {
    nettrace::testing::refused_port refused(v4);
    auto r = run(plain_dial(nettrace::dialer(), host_port("127.0.0.1", refused.port())));
    BOOST_TEST(r.ec == asio::error::connection_refused);
    const timings& s = r.seen;
    BOOST_TEST(!s.ok());
    BOOST_TEST(s.error == asio::error::connection_refused);
    BOOST_TEST(!s.winner.has_value());
    BOOST_TEST(s.remote == tcp::endpoint());
    BOOST_TEST(s.attempts == 1u);
    BOOST_TEST((s.connected_at == timings::duration::zero()));
    // A failed dial's connect phase runs to the dial's end.
    BOOST_TEST((s.connect == s.total));
    BOOST_TEST(s.total > timings::duration::zero());

    const auto line = to_string(s);
    BOOST_TEST(contains(line, "(1 attempt), total "), line);
    BOOST_TEST(contains(line, ", error: " + asio::error::make_error_code(asio::error::connection_refused).message()),
               line);
}

BOOST_FIXTURE_TEST_CASE(unresolvable_name_has_a_dns_phase_and_no_attempts, timed_dial) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"known.test", {v4}}});  // no fallback
    auto r = run(plain_dial(nettrace::dialer(o), "unknown.test:80"));
    BOOST_TEST(r.ec);
    const timings& s = r.seen;
    BOOST_TEST(s.error == r.ec);
    BOOST_TEST(s.attempts == 0u);
    BOOST_TEST(!s.winner.has_value());
    BOOST_TEST((s.connect == timings::duration::zero()));
    BOOST_TEST(s.name_lookup_at >= s.dns);
    BOOST_TEST(s.total >= s.name_lookup_at);
}

BOOST_FIXTURE_TEST_CASE(layers_compose_and_a_reused_context_holds_the_last_dial, timed_dial_to_a_live_ipv4) {
    nettrace::testing::refused_port refused(v4);
    int parent_dial_dones = 0;
    nettrace::client_trace parent;
    parent.dial_done = [&](const nettrace::dial_done_info&) { ++parent_dial_dones; };
    const auto ctx = nettrace::with_timings(nettrace::with_client_trace({}, parent), t);

    auto r = ::run(ioc, ctx, t, plain_dial(nettrace::dialer(), host_port("127.0.0.1", refused.port())));
    BOOST_TEST(r.seen.error == asio::error::connection_refused);
    r = ::run(ioc, ctx, t, plain_dial(nettrace::dialer(), host_port("127.0.0.1", live.port())));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(parent_dial_dones == 2);  // the parent's hooks still run
    BOOST_TEST(!r.seen.error);           // the first dial's error is gone
    BOOST_TEST(r.seen.attempts == 1u);   // not 2: counted per dial
    BOOST_TEST(r.seen.remote == tcp::endpoint(v4, live.port()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tls_dials)

BOOST_FIXTURE_TEST_CASE(dial_tls_adds_a_tls_phase_inside_the_total, timed_dial_tls) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({{"tls.test", {v4}}});
    const nettrace::dialer d(o);
    auto r = run([&](const nettrace::context& ctx) {
        return nettrace::tls_dialer(client, {}, d)
            .dial(ctx, "tcp", host_port("tls.test", server.port()), asio::as_tuple(asio::use_awaitable));
    });
    BOOST_TEST(!r.ec, r.ec.message());
    const timings& s = r.seen;
    BOOST_TEST(s.ok());
    BOOST_TEST(s.tls_used);
    BOOST_TEST(s.tls > timings::duration::zero());
    BOOST_TEST((s.source == nettrace::dns_source::static_table));
    BOOST_TEST(s.attempts == 1u);
    BOOST_TEST(s.remote == tcp::endpoint(v4, server.port()));
    // The handshake runs after the winner connected; dial_done ends the operation.
    BOOST_TEST((s.tls_done_at <= s.total));
    BOOST_TEST((s.tls_done_at > s.connected_at));
    BOOST_TEST(s.total >= s.tls);
    BOOST_TEST(s.total >= s.connected_at + s.tls);
    BOOST_TEST(s.connected_at >= s.name_lookup_at);
    BOOST_TEST(ms(s.total) < 5000.0);
    BOOST_TEST(server.accepted() == 1u);  // its handshake's end may not have run yet

    const auto line = to_string(s);
    BOOST_TEST(contains(line, "(1 attempt, won by ipv4), tls "), line);
    BOOST_TEST(!contains(line, "error"), line);
}

BOOST_FIXTURE_TEST_CASE(failed_verification_is_the_timings_error_and_leaves_no_winner, timed_dial_tls) {
    ssl::context untrusting(ssl::context::tls_client);  // trusts nothing
    auto r = run([&](const nettrace::context& ctx) {
        return nettrace::dial_tls(ctx, "tcp", host_port("127.0.0.1", server.port()), untrusting,
                                  asio::as_tuple(asio::use_awaitable));
    });
    BOOST_TEST(r.ec);
    BOOST_TEST((r.ec.category() == asio::error::get_ssl_category()), r.ec.message());
    const timings& s = r.seen;
    BOOST_TEST(!s.ok());
    BOOST_TEST(s.error == r.ec);
    BOOST_TEST(s.tls_used);
    // TCP connected, the handshake failed: with the handshake in the race,
    // the only attempt failed, so nothing won.
    BOOST_TEST(!s.winner.has_value());
    BOOST_TEST(s.tls > timings::duration::zero());
    BOOST_TEST((s.tls_done_at <= s.total));
    const auto line = to_string(s);
    BOOST_TEST(contains(line, ", tls "), line);
    BOOST_TEST(contains(line, ", error: " + r.ec.message()), line);
}

BOOST_AUTO_TEST_SUITE_END()
