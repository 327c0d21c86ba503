// Deadlines carried in the context (with_deadline, with_timeout), as Go's
// context.WithDeadline: the earliest along the chain wins, it bounds dial,
// dial_tls and resolve beside the dialer's own timeout, and the trace says
// which of the two expired.
#define BOOST_TEST_MODULE deadline
#include <boost/test/unit_test.hpp>

#include <nettrace/context.hpp>
#include <nettrace/dial.hpp>
#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using nettrace::error;
namespace t = nettrace::testing;

namespace {

struct dial_fixture {
    asio::io_context ioc;
    t::trace_recorder rec;

    struct outcome {
        error_code error;
        steady::duration took{};
        std::string description;  // dial(): dial_done's
    };

    // Runs the operation that `start(handler)` begins, the handler taking
    // (error_code, Result), until it completes.
    template <class Result, class Start>
    outcome run(Start start) {
        std::optional<outcome> out;
        const auto started = steady::now();
        start([&](error_code ec, Result) {
            rec.completed();
            out = outcome{ec, steady::now() - started, {}};
        });
        while (!out && ioc.run_one_for(10s)) {}
        BOOST_REQUIRE(out);
        return *out;
    }

    outcome dial(const nettrace::dialer& d, const nettrace::context& ctx, const std::string& address) {
        auto out = run<tcp::socket>(
            [&](auto handler) { d.dial(ioc.get_executor(), rec.attach(ctx), "tcp", address, std::move(handler)); });
        rec.check_contract();
        out.description = rec.of("dial_done").at(0).description;
        return out;
    }
};

// What a context's 300 ms timeout ends an operation with, about 300 ms in.
void expired_at_300ms(const dial_fixture::outcome& r) {
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(ms(r.took) >= 250);
    BOOST_TEST(ms(r.took) < 3000);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(context_deadlines)

BOOST_AUTO_TEST_CASE(the_earliest_deadline_along_the_chain_wins) {
    const nettrace::context background;
    BOOST_TEST(!nettrace::context_deadline(background));
    const auto soon = steady::now() + 100ms, later = steady::now() + 10s;
    const auto a = nettrace::with_deadline(nettrace::with_deadline(background, soon), later);
    const auto b = nettrace::with_deadline(nettrace::with_deadline(background, later), soon);
    BOOST_TEST((nettrace::context_deadline(a) == soon));
    BOOST_TEST((nettrace::context_deadline(b) == soon));
    // Layers of another kind keep it, and the deadline layer keeps the trace.
    int calls = 0;
    nettrace::client_trace trace;
    trace.dial_start = [&](const nettrace::dial_start_info&) { ++calls; };
    const auto traced = nettrace::with_client_trace(a, trace);
    BOOST_TEST((nettrace::context_deadline(traced) == soon));
    const auto bounded = nettrace::with_timeout(traced, 1h);
    BOOST_TEST((nettrace::context_deadline(bounded) == soon));
    BOOST_REQUIRE(nettrace::context_client_trace(bounded));
    nettrace::context_client_trace(bounded)->dial_start({});
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(a_huge_timeout_saturates_instead_of_wrapping) {
    const auto ctx = nettrace::with_timeout({}, steady::duration::max());
    BOOST_REQUIRE(nettrace::context_deadline(ctx));
    BOOST_TEST((*nettrace::context_deadline(ctx) > steady::now() + 24h));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(deadlines_bound_operations, dial_fixture)

BOOST_AUTO_TEST_CASE(with_timeout_bounds_a_black_holed_dial) {
    const t::black_hole hole(v4);
    const auto r = dial(nettrace::dialer(), nettrace::with_timeout({}, 300ms), host_port(v4, hole.port()));
    expired_at_300ms(r);
    BOOST_TEST(r.description.find("the context's deadline expired") != std::string::npos, r.description);
}

BOOST_AUTO_TEST_CASE(the_dialers_timeout_applies_when_it_is_earlier) {
    const t::black_hole hole(v4);
    nettrace::dial_options o;
    o.timeout = 200ms;
    const auto r = dial(nettrace::dialer(o), nettrace::with_timeout({}, 5s), host_port(v4, hole.port()));
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(ms(r.took) >= 150);
    BOOST_TEST(ms(r.took) < 2500);  // far from the context's 5 s
    BOOST_TEST(r.description.find("dial_options::timeout expired") != std::string::npos, r.description);
}

BOOST_AUTO_TEST_CASE(a_deadline_already_past_fails_before_any_connect) {
    const t::live_listener live(ioc.get_executor(), v4);
    const auto r =
        dial(nettrace::dialer(), nettrace::with_deadline({}, steady::now() - 1s), host_port(v4, live.port()));
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(rec.count("connect_start") == 0u);
    BOOST_TEST(live.accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(a_deadline_that_never_comes_changes_nothing) {
    const t::live_listener live(ioc.get_executor(), v4);
    const auto r = dial(nettrace::dialer(), nettrace::with_timeout({}, 1h), host_port(v4, live.port()));
    BOOST_TEST(!r.error, r.error.message());
}

BOOST_AUTO_TEST_CASE(resolve_honours_the_context_deadline) {
    // A name server that never answers: a bound UDP socket nobody reads.
    asio::ip::udp::socket silent(ioc, asio::ip::udp::endpoint(v4, 0));
    nettrace::dns_resolver_options dns;
    dns.nameservers = {host_port(v4, silent.local_endpoint().port())};
    dns.use_hosts_file = false;
    dns.timeout = 5s;
    nettrace::dial_options o;
    o.resolver = nettrace::make_dns_resolver(dns);
    const auto r = run<std::vector<asio::ip::address>>([&](auto handler) {
        nettrace::dialer(o).resolve(ioc.get_executor(), rec.attach(nettrace::with_timeout({}, 300ms)), "never.test",
                                    std::move(handler));
    });
    expired_at_300ms(r);
    BOOST_TEST(rec.count("dns_start") == rec.count("dns_done"));
    BOOST_TEST(rec.hooks_after_completion() == 0);
}

BOOST_AUTO_TEST_CASE(dial_tls_honours_it_in_a_stalled_handshake) {
    // Accepts and never answers the ClientHello.
    const t::live_listener mute(ioc.get_executor(), v4);
    asio::ssl::context ssl(asio::ssl::context::tls_client);
    const nettrace::tls_dialer d(ssl);
    const auto r = run<nettrace::tls_stream>([&](auto handler) {
        d.dial(ioc.get_executor(), rec.attach(nettrace::with_timeout({}, 300ms)), "tcp", host_port(v4, mute.port()),
               std::move(handler));
    });
    expired_at_300ms(r);
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()
