// Dialing through proxies: real tinyproxy, dante and microsocks started by
// the tests on loopback, inside a private network namespace when one can be
// made (enter_private_network() in netlab.hpp: the whole process, so that
// the proxies, its children, are in it too), and a scripted fake proxy for
// what a hostile or broken proxy does. Each real-proxy suite is skipped,
// with the reason, when its program is missing; CI sets
// NETTRACE_REQUIRE_PROXIES=1, which turns a missing program or namespace
// into a failure.
#define BOOST_TEST_MODULE proxy
#include <boost/test/unit_test.hpp>

#include <nettrace/dial.hpp>
#include <nettrace/error.hpp>
#include <nettrace/export.hpp>
#include <nettrace/recorder.hpp>
#include <nettrace/resolver.hpp>
#include <nettrace/timings.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/netlab.hpp"
#include "support/proxy_servers.hpp"
#include "support/run_tool.hpp"
#include "support/proxy_peers.hpp"
#include "support/tls_server.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

using nettrace::error;
namespace t = nettrace::testing;

namespace {

struct private_network_fixture {
    private_network_fixture() {
        why = t::enter_private_network();
        if (!why.empty()) BOOST_TEST_MESSAGE("no private network namespace (" << why << "): microsocks tests skipped");
    }
    static inline std::string why;
};
BOOST_TEST_GLOBAL_FIXTURE(private_network_fixture);

struct needs {
    bool (*available)();
    const char* what;
    bool namespace_too = false;
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(available() && (!namespace_too || t::in_private_network()));
        if (!available())
            r.message() << what << " is not installed (scripts/setup.sh installs it): skipped";
        else if (!r)
            r.message() << "no private network namespace (" << private_network_fixture::why << "): " << what
                        << " has no target rules, so it runs only there: skipped";
        return r;
    }
};
const needs tinyproxy{&t::tinyproxy_server::available, "tinyproxy"};
const needs dante{&t::dante_server::available, "danted (dante-server)"};
const needs microsocks{&t::microsocks_server::available, "microsocks", true};

// What the suites below need, demanded in CI, where skipping them would
// hide the very tests the proxies are installed for.
BOOST_AUTO_TEST_CASE(required_proxies_are_installed_when_asked,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         const char* v = std::getenv("NETTRACE_REQUIRE_PROXIES");
                         return v && *v == '1';
                     })) {
    BOOST_TEST(t::tinyproxy_server::available());
    BOOST_TEST(t::dante_server::available());
    BOOST_TEST(t::microsocks_server::available());
    BOOST_TEST(t::in_private_network(), "private network namespace: " << private_network_fixture::why);
}

}  // namespace

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(through_tinyproxy, t::proxy_fixture, *boost::unit_test::precondition(tinyproxy))

BOOST_AUTO_TEST_CASE(connect_tunnel_reaches_a_loopback_echo_server) {
    t::tinyproxy_server proxy;
    auto r = dial(via("http://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + echo_port());
    require_echo(r, proxy.log());
    const auto start = rec.of("proxy_connect_start"), done = rec.of("proxy_connect_done");
    BOOST_REQUIRE(start.size() == 1u);
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].status == 200);
    BOOST_TEST(done[0].target == "127.0.0.1:" + echo_port());
    BOOST_TEST((done[0].outcome == nettrace::connect_outcome::won));
    BOOST_TEST(rec.of("dial_done")[0].proxy == "http://127.0.0.1:" + std::to_string(proxy.port()));
    BOOST_TEST(rec.count("dns_start") == 0u);  // the proxy is a literal and resolves the target itself
}

BOOST_AUTO_TEST_CASE(timings_and_exports_show_the_proxy_stage) {
    t::tinyproxy_server proxy;
    nettrace::timings tm;
    nettrace::dial_options o = via("http://127.0.0.1:" + std::to_string(proxy.port()));
    std::optional<error_code> done;
    nettrace::dialer(o).dial(client.get_executor(), nettrace::with_timings(nettrace::with_recording({}, record), tm),
                             "tcp", "127.0.0.1:" + echo_port(), [&](error_code ec, tcp::socket) { done = ec; });
    client.restart();
    while (!done && client.run_one_for(30s)) {}
    BOOST_REQUIRE(done);
    BOOST_TEST(!*done);
    BOOST_TEST(tm.ok());
    BOOST_TEST(tm.proxy_used);
    BOOST_TEST(tm.proxy > std::chrono::steady_clock::duration::zero());
    BOOST_TEST(tm.proxy_done_at >= tm.connected_at);
    BOOST_TEST(nettrace::to_string(tm).find(", proxy ") != std::string::npos, nettrace::to_string(tm));
    std::ostringstream chrome, svg;
    nettrace::write_chrome_trace(chrome, record);
    nettrace::write_svg_waterfall(svg, record);
    BOOST_TEST(chrome.str().find("\"cat\":\"proxy\"") != std::string::npos, chrome.str());
    BOOST_TEST(chrome.str().find("\"nettrace.proxy.status\":200") != std::string::npos);
    BOOST_TEST(svg.str().find("#0 proxy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(basic_auth_is_accepted) {
    t::tinyproxy_server proxy(t::proxy_login{"user", "s3cret"});
    auto r = dial(via("http://user:s3cret@127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + echo_port());
    require_echo(r, proxy.log());
    BOOST_TEST(rec.of("proxy_connect_done")[0].proxy == "http://user:***@127.0.0.1:" + std::to_string(proxy.port()));
    BOOST_TEST(!trace_mentions("s3cret"));
}

BOOST_AUTO_TEST_CASE(refused_credentials_are_proxy_auth_required) {
    t::tinyproxy_server proxy(t::proxy_login{"user", "right"});
    const std::string at = "127.0.0.1:" + std::to_string(proxy.port());
    auto r = dial(via("http://user:wr0ng@" + at), "127.0.0.1:" + echo_port());
    BOOST_TEST((r.error == error::proxy_auth_required), r.error.message());
    BOOST_TEST(!trace_mentions("wr0ng"));
    r = dial(via("http://" + at), "127.0.0.1:" + echo_port());  // none at all: 407
    BOOST_TEST((r.error == error::proxy_auth_required), r.error.message());
    BOOST_TEST(rec.of("proxy_connect_done")[0].status == 407);
}

BOOST_AUTO_TEST_CASE(a_port_the_proxy_forbids_surfaces_its_status) {
    t::tinyproxy_server proxy({}, {echo.port()});
    const t::refused_port other(v4);
    auto r = dial(via("http://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + std::to_string(other.port()));
    BOOST_TEST((r.error == error::proxy_rejected), r.error.message());
    BOOST_REQUIRE(rec.count("proxy_connect_done") == 1u);
    BOOST_TEST(rec.of("proxy_connect_done")[0].status == 403);
    const auto described = rec.of("dial_done")[0].description;
    BOOST_TEST(described.find("403") != std::string::npos, described);
}

BOOST_AUTO_TEST_CASE(bytes_the_target_sends_first_reach_the_caller) {
    t::tinyproxy_server proxy;
    auto r = dial(via("http://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + greeter_port());
    BOOST_REQUIRE_MESSAGE(!r.error, r.error.message());
    BOOST_TEST(read_exactly(r.socket, greeting.size()) == greeting);
}

BOOST_AUTO_TEST_CASE(dial_tls_verifies_the_targets_name_not_the_proxys) {
    t::tinyproxy_server proxy;
    const t::test_certificate cert({"localhost"});
    t::tls_server server(servers.get_executor(), v4, cert);
    asio::ssl::context ssl(asio::ssl::context::tls_client);
    cert.trust_in(ssl);
    const auto r = dial_tls(via("http://127.0.0.1:" + std::to_string(proxy.port())), ssl,
                            "localhost:" + std::to_string(server.port()));
    BOOST_REQUIRE_MESSAGE(!r.error, r.error.message() << "\n" << proxy.log());
    const auto tls = rec.of("tls_handshake_done");
    BOOST_REQUIRE(tls.size() == 1u);
    BOOST_TEST(tls[0].server_name == "localhost");
    BOOST_TEST((tls[0].outcome == nettrace::connect_outcome::won));
    BOOST_TEST((rec.of("proxy_connect_done")[0].outcome == nettrace::connect_outcome::connected));
    // The same certificate does not name the proxy's address: verified
    // against 127.0.0.1, the handshake fails.
    const auto wrong = dial_tls(via("http://127.0.0.1:" + std::to_string(proxy.port())), ssl,
                                "127.0.0.1:" + std::to_string(server.port()));
    BOOST_TEST(wrong.error);
}

BOOST_AUTO_TEST_CASE(a_proxy_name_with_a_dead_ipv6_address_is_raced) {
    const auto port = t::free_dual_stack_port();
    t::tinyproxy_server proxy({}, {}, port);
    const t::black_hole dead(v6, port);
    nettrace::dial_options o = via("http://proxy.test:" + std::to_string(port));
    o.attempt_delay = 100ms;
    o.resolver = nettrace::make_static_resolver({{"proxy.test", {v6, v4}}});
    const auto before = std::chrono::steady_clock::now();
    auto r = dial(o, "127.0.0.1:" + echo_port());
    const auto took = std::chrono::steady_clock::now() - before;
    require_echo(r);
    BOOST_TEST(took >= 90ms);
    BOOST_TEST(took < 3s);  // one attempt delay, with room for a loaded machine
    const auto connects = rec.of("connect_start");
    BOOST_REQUIRE(connects.size() == 2u);
    BOOST_TEST(connects[0].endpoint.address().is_v6());
    const auto tunnels = rec.of("proxy_connect_start");
    BOOST_REQUIRE(tunnels.size() == 1u);
    BOOST_TEST(tunnels[0].attempt == 1u);
    BOOST_TEST(rec.of("dns_start").size() == 1u);  // the proxy's name, not the target's
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(through_dante, t::proxy_fixture, *boost::unit_test::precondition(dante))

BOOST_AUTO_TEST_CASE(socks5_with_a_login_reaches_ipv4_and_ipv6_targets) {
    t::dante_server proxy({"nettrace", "s0cks"});
    const std::string url = "socks5://nettrace:s0cks@127.0.0.1:" + std::to_string(proxy.port());
    for (const std::string& target : {"127.0.0.1:" + echo_port(), "[::1]:" + echo_port()}) {
        auto r = dial(via(url), target);
        BOOST_REQUIRE_MESSAGE(!r.error, target << ": " << r.error.message() << "\n" << proxy.log());
        BOOST_TEST(echo_round_trip(r.socket) == "ping");
        BOOST_TEST(rec.of("proxy_connect_done")[0].status == 0);
        BOOST_TEST(!trace_mentions("s0cks"));
    }
}

BOOST_AUTO_TEST_CASE(refused_login_is_socks_auth_failed) {
    t::dante_server proxy({"nettrace", "s0cks"});
    auto r = dial(via("socks5://nettrace:nope@127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + echo_port());
    BOOST_TEST((r.error == error::socks_auth_failed), r.error.message());
}

BOOST_AUTO_TEST_CASE(a_target_that_refuses_is_connection_refused_through_the_proxy) {
    t::dante_server proxy({"nettrace", "s0cks"});
    const t::refused_port closed(v4);
    auto r = dial(via("socks5://nettrace:s0cks@127.0.0.1:" + std::to_string(proxy.port())),
                  "127.0.0.1:" + std::to_string(closed.port()));
    BOOST_TEST((r.error == error::socks_connection_refused), r.error.message());
    BOOST_TEST((r.error == boost::system::errc::connection_refused));
    BOOST_TEST(rec.of("proxy_connect_done")[0].status == 5);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(through_microsocks, t::proxy_fixture, *boost::unit_test::precondition(microsocks))

BOOST_AUTO_TEST_CASE(socks5h_sends_the_name_and_fires_no_target_dns_hooks) {
    t::microsocks_server proxy;
    auto r = dial(via("socks5h://127.0.0.1:" + std::to_string(proxy.port())), "localhost:" + echo_port());
    require_echo(r, proxy.log());
    BOOST_TEST(rec.count("dns_start") == 0u);
    BOOST_TEST(rec.of("proxy_connect_start")[0].target == "localhost:" + echo_port());
}

BOOST_AUTO_TEST_CASE(socks5_resolves_the_target_here_and_sends_an_address) {
    t::microsocks_server proxy;
    nettrace::dial_options o = via("socks5://127.0.0.1:" + std::to_string(proxy.port()));
    o.resolver = nettrace::make_static_resolver({{"echo.test", {v4}}});
    auto r = dial(o, "echo.test:" + echo_port());
    require_echo(r, proxy.log());
    BOOST_REQUIRE(rec.count("dns_start") == 1u);
    BOOST_TEST(rec.of("proxy_connect_start")[0].target == "127.0.0.1:" + echo_port());
}

BOOST_AUTO_TEST_CASE(socks5_with_a_login_of_microsocks) {
    t::microsocks_server proxy(t::proxy_login{"u", "p4ss"});
    auto r = dial(via("socks5h://u:p4ss@127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + echo_port());
    BOOST_REQUIRE_MESSAGE(!r.error, r.error.message());
    r = dial(via("socks5h://127.0.0.1:" + std::to_string(proxy.port())), "127.0.0.1:" + echo_port());
    BOOST_TEST((r.error == error::socks_no_acceptable_method), r.error.message());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// nettrace-dial --proxy, end to end.

namespace {

std::size_t lines_with(const t::run_result& r, const std::string& a, const std::string& b = {}) {
    std::size_t n = 0;
    for (const auto& l : r.lines) n += l.find(a) != std::string::npos && l.find(b) != std::string::npos ? 1 : 0;
    return n;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(nettrace_dial_through_proxies, t::proxy_fixture)

BOOST_AUTO_TEST_CASE(json_shows_one_paired_http_tunnel, *boost::unit_test::precondition(tinyproxy)) {
    t::tinyproxy_server proxy;
    const auto r = t::run_tool("--json --proxy http://127.0.0.1:" + std::to_string(proxy.port()) +
                               " tcp 127.0.0.1:" + echo_port());
    BOOST_TEST(r.status == 0, r.out() << r.err);
    BOOST_TEST(lines_with(r, "\"event\":\"proxy_connect_start\"") == 1u, r.out());
    BOOST_TEST(lines_with(r, "\"event\":\"proxy_connect_done\"", "\"status\":200") == 1u, r.out());
    BOOST_TEST(lines_with(r, "\"event\":\"result\"", "\"proxy\":\"http://127.0.0.1:") == 1u, r.out());
}

BOOST_AUTO_TEST_CASE(json_shows_one_paired_socks5h_tunnel, *boost::unit_test::precondition(microsocks)) {
    t::microsocks_server proxy;
    const auto r = t::run_tool("--json --proxy socks5h://127.0.0.1:" + std::to_string(proxy.port()) +
                               " tcp 127.0.0.1:" + echo_port());
    BOOST_TEST(r.status == 0, r.out() << r.err);
    BOOST_TEST(lines_with(r, "\"event\":\"proxy_connect_start\"", "\"scheme\":\"socks5h\"") == 1u, r.out());
    BOOST_TEST(lines_with(r, "\"event\":\"proxy_connect_done\"", "\"status\":0") == 1u, r.out());
}

BOOST_AUTO_TEST_CASE(json_shows_one_paired_socks5_tunnel_and_never_the_password,
                     *boost::unit_test::precondition(dante)) {
    t::dante_server proxy({"nettrace", "s0cks"});
    const auto r = t::run_tool("--json --proxy socks5://nettrace:s0cks@127.0.0.1:" + std::to_string(proxy.port()) +
                               " tcp 127.0.0.1:" + echo_port());
    BOOST_TEST(r.status == 0, r.out() << r.err);
    BOOST_TEST(lines_with(r, "\"event\":\"proxy_connect_done\"", "\"status\":0") == 1u, r.out());
    BOOST_TEST(lines_with(r, "nettrace:***@") >= 2u, r.out());
    BOOST_TEST(r.out().find("s0cks") == std::string::npos, r.out());
    BOOST_TEST(r.err.find("s0cks") == std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(the_timeline_shows_connect_then_proxy, *boost::unit_test::precondition(tinyproxy)) {
    t::tinyproxy_server proxy;
    const auto r =
        t::run_tool("--proxy http://127.0.0.1:" + std::to_string(proxy.port()) + " tcp 127.0.0.1:" + echo_port());
    BOOST_TEST(r.status == 0, r.out() << r.err);
    BOOST_TEST(lines_with(r, "proxy start", "http 127.0.0.1:") == 1u, r.out());
    BOOST_TEST(lines_with(r, "proxy won", "200") == 1u, r.out());
}

BOOST_AUTO_TEST_CASE(noproxy_star_dials_directly) {
    const auto r = t::run_tool("--json --proxy http://127.0.0.1:9 --noproxy '*' tcp 127.0.0.1:" + echo_port());
    BOOST_TEST(r.status == 0, r.out() << r.err);
    BOOST_TEST(lines_with(r, "proxy_connect") == 0u, r.out());
}

BOOST_AUTO_TEST_CASE(a_malformed_proxy_url_is_a_usage_error) {
    const auto r = t::run_tool("--proxy ftp://u:topsecret@127.0.0.1:21 tcp 127.0.0.1:" + echo_port());
    BOOST_TEST(r.status == 2, r.err);
    BOOST_TEST(r.err.find("scheme") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("topsecret") == std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
