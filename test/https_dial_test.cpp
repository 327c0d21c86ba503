// dial_tls with HTTPS records (RFC 9460, as HEv3 uses them) served by the
// scripted fake DNS server on loopback: the record's port, its hints, its
// priorities, AliasMode, ALPN that rules a record out or narrows the offer,
// a malformed record, and a record that never comes.
#define BOOST_TEST_MODULE https_dial
#include <boost/test/unit_test.hpp>

#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>
#include <nettrace/tls.hpp>

#include "support/common.hpp"
#include "support/dns_server.hpp"
#include "support/svcb_rdata.hpp"
#include "support/tls_server.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ssl = asio::ssl;
namespace t = nettrace::testing;
using t::query_type;
using t::svcb_rdata;

namespace {

const t::test_certificate& certificate() {
    static const t::test_certificate cert({"svc.test", "alias.test", "IP:127.0.0.1", "IP:::1"});
    return cert;
}

// What the fixture's own hooks see beside the contract recorder: the
// HTTPS answers and each connect_start's record fields.
struct seen {
    struct https_answer {
        std::string host;
        std::size_t records = 0;
        error_code error;
    };
    struct start {
        tcp::endpoint endpoint;
        std::uint16_t priority = 0;
        std::vector<std::string> alpn;
        steady::time_point at;
    };
    std::vector<https_answer> https;
    std::vector<start> starts;
};

// A fake DNS server, a c-ares resolver that asks only it, a client
// context trusting the test certificate; dial() runs one traced dial_tls.
struct https_fixture {
    asio::io_context ioc;
    t::fake_dns_server dns{ioc.get_executor()};
    ssl::context client{ssl::context::tls_client};
    t::trace_recorder rec;
    seen saw;
    steady::time_point began;

    https_fixture() { certificate().trust_in(client); }

    std::unique_ptr<t::tls_server> server(const asio::ip::address& a, std::vector<std::string> alpn = {}) {
        return std::make_unique<t::tls_server>(ioc.get_executor(), a, certificate(),
                                               t::tls_server::options{.alpn = std::move(alpn)});
    }

    void https(const std::string& name, std::vector<std::string> records, t::behaviour b = {}) {
        for (const auto& r : records) b.rdata.push_back(svcb_rdata(r));
        dns.add(name, query_type::https, std::move(b));
    }
    void a(const std::string& name, t::behaviour b = {}) {
        if (b.addresses.empty()) b.addresses = {v4};
        dns.add(name, query_type::a, std::move(b));
    }
    void aaaa(const std::string& name, t::behaviour b) { dns.add(name, query_type::aaaa, std::move(b)); }

    struct result {
        error_code ec;
        std::optional<nettrace::tls_stream> stream;
    };

    result dial(const std::string& address, nettrace::tls_options o = {}, nettrace::dial_options d = {}) {
        d.resolver = nettrace::make_dns_resolver({.nameservers = {dns.address()}, .timeout = 2000ms, .tries = 1});
        nettrace::client_trace mine;
        mine.dns_answer = [this](const nettrace::dns_answer_info& i) {
            if (i.https) saw.https.push_back({std::string(i.host), i.records.size(), i.error});
        };
        mine.connect_start = [this](const nettrace::connect_start_info& i) {
            saw.starts.push_back({i.endpoint, i.priority, {i.alpn.begin(), i.alpn.end()}, steady::now()});
        };
        const auto ctx = nettrace::with_client_trace(rec.attach(), mine);
        result r;
        began = steady::now();
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                const nettrace::tls_dialer tls(client, o, nettrace::dialer(d));
                auto [ec, s] = co_await tls.dial(ctx, "tcp", address, asio::as_tuple(asio::use_awaitable));
                rec.completed();
                r.ec = ec;
                if (!ec) r.stream.emplace(std::move(s));
                ioc.stop();  // the servers keep accepting
            },
            asio::detached);
        ioc.run_for(10s);
        ioc.restart();
        rec.check_contract();
        return r;
    }

    tcp::endpoint remote(const result& r) const { return r.stream->lowest_layer().remote_endpoint(); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(https_records, https_fixture)

BOOST_AUTO_TEST_CASE(a_record_s_port_is_dialed_instead_of_the_dialed_port) {
    const auto live = server(v4);
    https("svc.test", {"1 . alpn=h2 port=" + std::to_string(live->port())});
    a("svc.test");
    auto r = dial("svc.test:443");
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r) == tcp::endpoint(v4, live->port()));
    BOOST_TEST_REQUIRE(saw.https.size() == 1u);
    BOOST_TEST(saw.https[0].host == "svc.test");  // port 443: the host itself (RFC 9460 section 9.1)
    BOOST_TEST(saw.https[0].records == 1u);
    BOOST_TEST_REQUIRE(!saw.starts.empty());
    BOOST_TEST(saw.starts[0].endpoint.port() == live->port());
    BOOST_TEST(saw.starts[0].priority == 1);
}

BOOST_AUTO_TEST_CASE(another_port_asks_the_underscore_name_whose_target_is_the_host) {
    const auto live = server(v4);
    t::refused_port p1(v4);
    https("_" + std::to_string(p1.port()) + "._https.svc.test",
          {"1 svc.test. port=" + std::to_string(live->port())});
    a("svc.test");
    auto r = dial(host_port("svc.test", p1.port()));
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r) == tcp::endpoint(v4, live->port()));
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 0u);
}

BOOST_AUTO_TEST_CASE(an_ipv6_hint_is_used_while_the_aaaa_answer_is_late, *boost::unit_test::precondition(ipv6_available())) {
    const auto live6 = server(v6);
    https("svc.test", {"1 . port=" + std::to_string(live6->port()) + " ipv6hint=::1"});
    a("svc.test", {.addresses = {v4_other}});  // nothing listens there on that port
    aaaa("svc.test", {.addresses = {v6}, .delay = 1500ms});
    auto r = dial("svc.test:443");
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r) == tcp::endpoint(v6, live6->port()));
    BOOST_TEST_REQUIRE(!saw.starts.empty());
    BOOST_TEST(saw.starts[0].endpoint == tcp::endpoint(v6, live6->port()));
    // Connected through the hint, long before the AAAA answer's 1.5 s.
    BOOST_TEST(ms(saw.starts[0].at - began) < 1000.0);
}

BOOST_AUTO_TEST_CASE(the_lower_priority_is_tried_first) {
    const auto second = server(v4);
    const auto first = server(v4);
    https("svc.test", {"2 . port=" + std::to_string(second->port()), "1 . port=" + std::to_string(first->port())});
    a("svc.test");
    auto r = dial("svc.test:443");
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r).port() == first->port());
    BOOST_TEST_REQUIRE(!saw.starts.empty());
    BOOST_TEST(saw.starts[0].priority == 1);
}

BOOST_AUTO_TEST_CASE(alias_mode_is_followed_to_the_alias_s_records_and_addresses) {
    const auto live = server(v4_other);
    https("svc.test", {"0 alias.test."});
    https("alias.test", {"1 . port=" + std::to_string(live->port())});
    a("svc.test");
    a("alias.test", {.addresses = {v4_other}});
    auto r = dial("svc.test:443");
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r) == tcp::endpoint(v4_other, live->port()));
    BOOST_TEST_REQUIRE(saw.https.size() == 2u);
    BOOST_TEST(saw.https[1].host == "alias.test");
    BOOST_TEST(dns.queries("alias.test", query_type::a) == 1u);
}

BOOST_AUTO_TEST_CASE(an_alias_loop_is_given_up_and_the_host_is_dialed) {
    const auto live = server(v4);
    https("svc.test", {"0 alias.test."});
    https("alias.test", {"0 svc.test."});
    a("svc.test");
    auto r = dial(host_port("svc.test", live->port()));
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r) == tcp::endpoint(v4, live->port()));
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 0u);  // the query name is _PORT._https.svc.test
}

BOOST_AUTO_TEST_CASE(an_h3_only_record_without_default_alpn_is_skipped) {
    const auto live = server(v4);
    t::refused_port h3(v4);
    https("_" + std::to_string(live->port()) + "._https.svc.test",
          {"1 svc.test. alpn=h3 no-default-alpn port=" + std::to_string(h3.port())});
    a("svc.test");
    auto r = dial(host_port("svc.test", live->port()), {.alpn = {"h2", "http/1.1"}});
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r).port() == live->port());
    for (const auto& s : saw.starts) BOOST_TEST(s.endpoint.port() != h3.port());
}

BOOST_AUTO_TEST_CASE(a_malformed_record_is_ignored_and_the_addresses_are_dialed) {
    const auto live = server(v4);
    t::behaviour b;
    // ipv4hint of 5 bytes: the record is dropped whole (never its port).
    b.rdata.push_back(t::svcb_rdata(1, ".", {{3, {0x00, 0x50}}, {4, {127, 0, 0, 1, 9}}}));
    dns.add("_" + std::to_string(live->port()) + "._https.svc.test", query_type::https, b);
    a("svc.test");
    auto r = dial(host_port("svc.test", live->port()));
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST(remote(r) == tcp::endpoint(v4, live->port()));
    BOOST_TEST_REQUIRE(saw.https.size() == 1u);
    BOOST_TEST(saw.https[0].records == 0u);
    BOOST_TEST(saw.https[0].error == nettrace::error::malformed_service_record);
}

BOOST_AUTO_TEST_CASE(an_https_answer_that_never_comes_delays_the_dial_by_the_resolution_delay) {
    const auto live = server(v4);
    https("_" + std::to_string(live->port()) + "._https.svc.test", {}, {.never = true});
    a("svc.test");
    aaaa("svc.test", {});  // NODATA: the preferred family has answered
    auto r = dial(host_port("svc.test", live->port()), {}, {.resolution_delay = 100ms});
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    BOOST_TEST_REQUIRE(!saw.starts.empty());
    const double first = ms(saw.starts[0].at - began);
    BOOST_TEST(first >= 90.0, first);    // waited for HTTPS ...
    BOOST_TEST(first < 1000.0, first);   // ... no longer than the resolution delay, give or take jitter
    BOOST_TEST_REQUIRE(saw.https.size() == 1u);
    BOOST_TEST(saw.https[0].error == asio::error::operation_aborted);  // abandoned once the dial was done
}

BOOST_AUTO_TEST_CASE(the_handshake_offers_only_the_alpn_the_record_allows) {
    // The server would pick http/1.1 over h2 if offered it.
    const auto live = server(v4, {"http/1.1", "h2"});
    https("svc.test", {"1 . alpn=h2 no-default-alpn port=" + std::to_string(live->port())});
    a("svc.test");
    auto r = dial("svc.test:443", {.alpn = {"h2", "http/1.1"}});
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    const auto done = rec.of("tls_handshake_done");
    BOOST_TEST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].alpn == "h2");
    BOOST_TEST_REQUIRE(!saw.starts.empty());
    BOOST_TEST(saw.starts[0].alpn == (std::vector<std::string>{"h2"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_plain_dial_asks_for_no_https_record_unless_told) {
    t::live_listener live(ioc.get_executor(), v4);
    a("svc.test");
    std::optional<error_code> ec;
    nettrace::dial_options o;
    o.resolver = nettrace::make_dns_resolver({.nameservers = {dns.address()}});
    nettrace::dialer(o).dial(ioc.get_executor(), {}, "tcp", host_port("svc.test", live.port()),
                             [&](error_code e, tcp::socket) { ec = e; });
    ioc.run_for(5s);
    ioc.restart();
    BOOST_TEST_REQUIRE(ec.has_value());
    BOOST_TEST(!*ec);
    BOOST_TEST(dns.queries("_" + std::to_string(live.port()) + "._https.svc.test", query_type::https) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
