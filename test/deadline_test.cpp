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

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using nettrace::error;
namespace t = nettrace::testing;

namespace {

const auto v4 = asio::ip::make_address("127.0.0.1");

struct dial_fixture {
    asio::io_context ioc;
    t::trace_recorder rec;

    struct outcome {
        error_code error;
        steady::duration took{};
        std::string description;
    };

    outcome dial(const nettrace::dialer& d, const nettrace::context& ctx, const std::string& address) {
        std::optional<outcome> out;
        const auto started = steady::now();
        d.dial(ioc.get_executor(), rec.attach(ctx), "tcp", address, [&](error_code ec, tcp::socket) {
            rec.completed();
            out = outcome{ec, steady::now() - started, {}};
        });
        while (!out && ioc.run_one_for(10s)) {}
        BOOST_REQUIRE(out);
        rec.check_contract();
        out->description = rec.of("dial_done").at(0).description;
        return *out;
    }
};

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
    const auto r = dial(nettrace::dialer(), nettrace::with_timeout({}, 300ms), t::host_port(v4, hole.port()));
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(t::ms(r.took) >= 250);
    BOOST_TEST(t::ms(r.took) < 3000);
    BOOST_TEST(r.description.find("the context's deadline expired") != std::string::npos, r.description);
}

BOOST_AUTO_TEST_CASE(the_dialers_timeout_applies_when_it_is_earlier) {
    const t::black_hole hole(v4);
    nettrace::dial_options o;
    o.timeout = 200ms;
    const auto r = dial(nettrace::dialer(o), nettrace::with_timeout({}, 5s), t::host_port(v4, hole.port()));
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(t::ms(r.took) >= 150);
    BOOST_TEST(t::ms(r.took) < 2500);  // far from the context's 5 s
    BOOST_TEST(r.description.find("dial_options::timeout expired") != std::string::npos, r.description);
}

BOOST_AUTO_TEST_CASE(a_deadline_already_past_fails_before_any_connect) {
    const t::live_listener live(ioc.get_executor(), v4);
    const auto r =
        dial(nettrace::dialer(), nettrace::with_deadline({}, steady::now() - 1s), t::host_port(v4, live.port()));
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(rec.count("connect_start") == 0u);
    BOOST_TEST(live.accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(a_deadline_that_never_comes_changes_nothing) {
    const t::live_listener live(ioc.get_executor(), v4);
    const auto r = dial(nettrace::dialer(), nettrace::with_timeout({}, 1h), t::host_port(v4, live.port()));
    BOOST_TEST(!r.error, r.error.message());
}

BOOST_AUTO_TEST_CASE(resolve_honours_the_context_deadline) {
    // A name server that never answers: a bound UDP socket nobody reads.
    asio::ip::udp::socket silent(ioc, asio::ip::udp::endpoint(v4, 0));
    nettrace::dns_resolver_options dns;
    dns.nameservers = {t::host_port(v4, silent.local_endpoint().port())};
    dns.use_hosts_file = false;
    dns.timeout = 5s;
    nettrace::dial_options o;
    o.resolver = nettrace::make_dns_resolver(dns);
    std::optional<error_code> done;
    const auto started = steady::now();
    nettrace::dialer(o).resolve(ioc.get_executor(), rec.attach(nettrace::with_timeout({}, 300ms)), "never.test",
                                [&](error_code ec, std::vector<asio::ip::address>) {
                                    rec.completed();
                                    done = ec;
                                });
    while (!done && ioc.run_one_for(10s)) {}
    BOOST_REQUIRE(done);
    BOOST_TEST((*done == error::timeout), done->message());
    BOOST_TEST(t::ms(steady::now() - started) >= 250);
    BOOST_TEST(t::ms(steady::now() - started) < 3000);
    BOOST_TEST(rec.count("dns_start") == rec.count("dns_done"));
    BOOST_TEST(rec.hooks_after_completion() == 0);
}

BOOST_AUTO_TEST_CASE(dial_tls_honours_it_in_a_stalled_handshake) {
    // Accepts and never answers the ClientHello.
    const t::live_listener mute(ioc.get_executor(), v4);
    asio::ssl::context ssl(asio::ssl::context::tls_client);
    std::optional<error_code> done;
    const auto started = steady::now();
    const nettrace::tls_dialer d(ssl);
    d.dial(ioc.get_executor(), rec.attach(nettrace::with_timeout({}, 300ms)), "tcp", t::host_port(v4, mute.port()),
           [&](error_code ec, nettrace::tls_stream) {
               rec.completed();
               done = ec;
           });
    while (!done && ioc.run_one_for(10s)) {}
    BOOST_REQUIRE(done);
    BOOST_TEST((*done == error::timeout), done->message());
    BOOST_TEST(t::ms(steady::now() - started) >= 250);
    BOOST_TEST(t::ms(steady::now() - started) < 3000);
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()
