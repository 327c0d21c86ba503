// NAT64 (RFC 6052 synthesis, RFC 7050 discovery, HEv3's "Handling NAT64
// Networks") on an IPv6-only host made in the network lab: no IPv4 address
// at all, not even 127.0.0.1, and 64:ff9b::7f00:1 (127.0.0.1 under the
// well-known prefix) on lo, where a NAT64 gateway would answer for
// 127.0.0.1. A DNS server on [::1] answers ipv4only.arpa as a DNS64 network
// does. Also: the prefix arithmetic, and a host with IPv4 where nothing
// changes. The tool's case needs nettrace-dial's path after "--".
#define BOOST_TEST_MODULE nat64
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>
#include <nettrace/nat64.hpp>

#include "support/common.hpp"
#include "support/dns_server.hpp"
#include "support/netlab.hpp"
#include "support/run_tool.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace t = nettrace::testing;
using t::query_type;

namespace {

asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

const auto synthesized = ip("64:ff9b::7f00:1");  // 127.0.0.1 under 64:ff9b::/96

// An IPv6-only lab: lo keeps ::1 and gets 64:ff9b::7f00:1, IPv4 is gone.
struct ipv6_only_host {
    t::netlab lab;
    ipv6_only_host() {
        lab.remove_ipv4_loopback();
        lab.add_address("64:ff9b::7f00:1/128", "lo");
    }
};

struct dial_result {
    error_code ec;
    tcp::endpoint remote;
    std::vector<std::optional<asio::ip::address_v4>> nat64_from;  // per connect_start
    std::vector<tcp::endpoint> started;
};

dial_result run_dial(asio::io_context& ioc, const nettrace::dial_options& o, const std::string& address) {
    dial_result r;
    t::trace_recorder rec;
    nettrace::client_trace mine;
    mine.connect_start = [&](const nettrace::connect_start_info& i) {
        r.nat64_from.push_back(i.nat64_from);
        r.started.push_back(i.endpoint);
    };
    bool done = false;
    nettrace::dialer(o).dial(ioc.get_executor(), nettrace::with_client_trace(rec.attach(), mine), "tcp", address,
                             [&](error_code ec, tcp::socket s) {
                                 rec.completed();
                                 r.ec = ec;
                                 if (!ec) r.remote = s.remote_endpoint();
                                 done = true;
                             });
    ioc.restart();
    while (!done && ioc.run_one_for(5s)) {}
    BOOST_TEST_REQUIRE(done);
    rec.check_contract();
    return r;
}

// A DNS64 network's answer for ipv4only.arpa (RFC 7050: 192.0.0.170 under the prefix).
void serve_ipv4only(t::fake_dns_server& dns) {
    dns.add("ipv4only.arpa", query_type::aaaa, {.addresses = {ip("64:ff9b::c000:aa")}, .ttl = 600});
}

// Inside the lab: a DNS64 network's server on [::1] and a listener at
// 127.0.0.1's synthesized address.
struct dns64_network {
    asio::io_context ioc;
    t::fake_dns_server dns{ioc.get_executor(), v6};
    t::lab_listener live{ioc.get_executor(), synthesized};
    dns64_network() { serve_ipv4only(dns); }
};

nettrace::dial_options through(const t::fake_dns_server& dns) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_dns_resolver({.nameservers = {dns.address()}, .timeout = 1000ms, .tries = 1});
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prefixes)

BOOST_AUTO_TEST_CASE(synthesis_follows_rfc_6052_for_every_prefix_length) {
    // RFC 6052 section 2.4's table, for 192.0.2.33.
    const auto v4 = asio::ip::make_address_v4("192.0.2.33");
    const std::vector<std::pair<const char*, const char*>> table{
        {"2001:db8::/32", "2001:db8:c000:221::"},
        {"2001:db8:100::/40", "2001:db8:1c0:2:21::"},
        {"2001:db8:122::/48", "2001:db8:122:c000:2:2100::"},
        {"2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"},
        {"2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"},
        {"2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"}};
    for (const auto& [prefix, expected] : table) {
        error_code ec;
        const auto p = nettrace::parse_nat64_prefix(prefix, ec);
        BOOST_TEST_REQUIRE(p.has_value(), prefix << ": " << ec.message());
        const auto six = nettrace::synthesize(*p, v4);
        BOOST_TEST(six == asio::ip::make_address_v6(expected), prefix);
        BOOST_TEST((nettrace::desynthesize(*p, six) == std::optional(v4)), prefix);
        // RFC 7050: the well-known address at the same place reveals the prefix.
        const auto probe = nettrace::synthesize(*p, asio::ip::make_address_v4("192.0.0.170"));
        const auto found = nettrace::discover_nat64_prefix(probe);
        BOOST_TEST_REQUIRE(found.has_value(), prefix);
        BOOST_TEST(found->length == p->length, prefix);
    }
}

BOOST_AUTO_TEST_CASE(a_bad_prefix_is_refused_with_its_own_error) {
    for (const char* bad : {"64:ff9b::/33", "64:ff9b::/128", "64:ff9b::1/96", "127.0.0.1/96", "64:ff9b::/x"}) {
        error_code ec;
        BOOST_TEST(!nettrace::parse_nat64_prefix(bad, ec).has_value(), bad);
        BOOST_TEST((ec == nettrace::error::invalid_nat64_prefix || ec == nettrace::error::invalid_host),
                   bad << ": " << ec.message());
    }
    error_code ec;
    BOOST_TEST(nettrace::parse_nat64_prefix("64:ff9b::", ec)->length == 96u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(ipv6_only, ipv6_only_host, *boost::unit_test::precondition(t::netlab_available{}))

BOOST_AUTO_TEST_CASE(an_a_only_name_is_dialed_at_its_synthesized_address) {
    lab.run([&] {
        dns64_network net;
        net.dns.add("v4only.test", query_type::a, {.addresses = {v4}});
        const auto r = run_dial(net.ioc, through(net.dns), host_port("v4only.test", net.live.port()));
        BOOST_TEST(!r.ec, r.ec.message());
        BOOST_TEST(r.remote == tcp::endpoint(synthesized, net.live.port()));
        BOOST_TEST_REQUIRE(r.nat64_from.size() == 1u);
        BOOST_TEST((r.nat64_from[0] == std::optional(v4.to_v4())));
        BOOST_TEST(net.dns.queries("ipv4only.arpa", query_type::aaaa) == 1u);
    });
}

BOOST_AUTO_TEST_CASE(an_ipv4_literal_is_dialed_through_nat64_too) {
    lab.run([&] {
        dns64_network net;
        const auto r = run_dial(net.ioc, through(net.dns), host_port("127.0.0.1", net.live.port()));
        BOOST_TEST(!r.ec, r.ec.message());
        BOOST_TEST(r.remote == tcp::endpoint(synthesized, net.live.port()));
    });
}

BOOST_AUTO_TEST_CASE(the_discovered_prefix_is_asked_once_per_dialer_for_its_ttl) {
    lab.run([&] {
        dns64_network net;
        const auto o = through(net.dns);
        nettrace::dialer d(o);
        for (int i = 0; i < 3; ++i) {
            std::optional<error_code> ec;
            d.dial(net.ioc.get_executor(), {}, "tcp", host_port("127.0.0.1", net.live.port()),
                   [&](error_code e, tcp::socket) { ec = e; });
            net.ioc.restart();
            while (!ec && net.ioc.run_one_for(5s)) {}
            BOOST_TEST_REQUIRE(ec.has_value());
            BOOST_TEST(!*ec, ec->message());
        }
        BOOST_TEST(net.dns.queries("ipv4only.arpa", query_type::aaaa) == 1u);
    });
}

BOOST_AUTO_TEST_CASE(a_configured_prefix_needs_no_discovery) {
    lab.run([&] {
        asio::io_context ioc;
        t::fake_dns_server dns(ioc.get_executor(), v6);  // knows nothing of ipv4only.arpa
        t::lab_listener live(ioc.get_executor(), synthesized);
        auto o = through(dns);
        error_code ec;
        o.nat64 = {.mode = nettrace::nat64_mode::fixed, .prefix = *nettrace::parse_nat64_prefix("64:ff9b::/96", ec)};
        const auto r = run_dial(ioc, o, host_port("127.0.0.1", live.port()));
        BOOST_TEST(!r.ec, r.ec.message());
        BOOST_TEST(r.remote == tcp::endpoint(synthesized, live.port()));
        BOOST_TEST(dns.total_queries() == 0u);
    });
}

BOOST_AUTO_TEST_CASE(with_nat64_off_an_ipv4_address_is_unreachable) {
    lab.run([&] {
        asio::io_context ioc;
        t::lab_listener live(ioc.get_executor(), synthesized);
        nettrace::dial_options o;
        o.nat64.mode = nettrace::nat64_mode::off;
        const auto r = run_dial(ioc, o, host_port("127.0.0.1", live.port()));
        BOOST_TEST(r.ec == asio::error::network_unreachable, r.ec.message());
        BOOST_TEST_REQUIRE(r.started.size() == 1u);
        BOOST_TEST(r.started[0].address() == v4);
    });
}

BOOST_AUTO_TEST_CASE(without_a_prefix_the_dial_fails_as_unreachable) {
    lab.run([&] {
        asio::io_context ioc;
        t::fake_dns_server dns(ioc.get_executor(), v6);
        dns.add("ipv4only.arpa", query_type::aaaa, {});  // NODATA: no DNS64 here
        const auto r = run_dial(ioc, through(dns), "127.0.0.1:9");
        BOOST_TEST(r.ec == asio::error::network_unreachable, r.ec.message());
        BOOST_TEST(dns.queries("ipv4only.arpa", query_type::aaaa) == 1u);
    });
}

BOOST_AUTO_TEST_CASE(nettrace_dial_nat64_auto_connects_through_the_synthesized_address) {
    lab.run([&] {
        dns64_network net;
        net.dns.add("v4only.test", query_type::a, {.addresses = {v4}});
        // The servers answer on a thread of the lab while the tool (a child
        // of this lab thread, so inside too) runs.
        std::thread io([&] { net.ioc.run_for(20s); });
        const auto r = t::run_tool("--json --timeout 5000 --nat64 auto --nameserver " + net.dns.address() +
                                   " v4only.test:" + std::to_string(net.live.port()));
        net.ioc.stop();
        io.join();
        BOOST_TEST(r.status == 0, r.err << r.out());
        std::string start, result;
        for (const auto& l : r.lines) {
            if (l.find("\"event\":\"connect_start\"") != std::string::npos) start = l;
            if (l.find("\"event\":\"result\"") != std::string::npos) result = l;
        }
        BOOST_TEST(start.find("\"address\":\"64:ff9b::7f00:1\"") != std::string::npos, start);
        BOOST_TEST(start.find("\"nat64_from\":\"127.0.0.1\"") != std::string::npos, start);
        BOOST_TEST(result.find("\"remote\":\"[64:ff9b::7f00:1]:" + std::to_string(net.live.port()) + "\"") !=
                       std::string::npos,
                   result);
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_host_with_ipv4_synthesizes_nothing_and_asks_nothing,
                     *boost::unit_test::precondition(t::netlab_available{})) {
    t::netlab lab;  // lo has 127.0.0.1: a route to IPv4
    lab.run([&] {
        asio::io_context ioc;
        t::fake_dns_server dns(ioc.get_executor(), v6);
        serve_ipv4only(dns);
        t::live_listener live(ioc.get_executor(), v4);
        const auto r = run_dial(ioc, through(dns), host_port("127.0.0.1", live.port()));
        BOOST_TEST(!r.ec, r.ec.message());
        BOOST_TEST(r.remote == tcp::endpoint(v4, live.port()));
        BOOST_TEST(dns.total_queries() == 0u);
    });
}
