// dns_service_test.cpp — resolver::lookup_service on the c-ares resolver:
// the HTTPS query (type 65) against the scripted fake DNS server (records,
// failures, caching, coalescing, cancellation, CNAMEs) and against a real
// dnsmasq serving records with --dns-rr. Every server is the test's own, on
// loopback.
#define BOOST_TEST_MODULE dns_service
#include <boost/test/unit_test.hpp>

#include <nettrace/dns_resolver.hpp>
#include <nettrace/error.hpp>
#include <nettrace/service.hpp>

#include "support/common.hpp"
#include "support/dns_resolver_setup.hpp"
#include "support/dns_server.hpp"
#include "support/svcb_rdata.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nettrace::error;
using nettrace::service_result;
using namespace nettrace::testing;  // the DNS servers, svcb_rdata, ms

namespace {

// Runs `ioc` until the lookup of `name` completes (at most 10 s).
service_result run_service(asio::io_context& ioc, nettrace::resolver& r, const std::string& name) {
    std::optional<service_result> got;
    auto pending = r.lookup_service(ioc.get_executor(), name, [&](service_result res) {
        got = std::move(res);
        ioc.stop();
    });
    BOOST_TEST_REQUIRE(pending != nullptr);
    ioc.restart();
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE(got.has_value(), "no answer within 10 s for " << name);
    return std::move(*got);
}

std::vector<std::string> presentation(const service_result& r) {
    std::vector<std::string> out;
    for (const auto& rec : r.records) out.push_back(nettrace::to_string(rec));
    return out;
}

// An io_context and the scripted server on it, with a c-ares resolver that
// asks that server alone.
struct scripted_server {
    asio::io_context ioc;
    fake_dns_server dns{ioc.get_executor()};

    nettrace::dns_resolver_options options() const { return one_server(dns.address()); }
    std::shared_ptr<nettrace::resolver> resolver(const nettrace::dns_resolver_options& o) const {
        return nettrace::make_dns_resolver(o);
    }
    std::shared_ptr<nettrace::resolver> resolver() const { return resolver(options()); }
    service_result lookup(nettrace::resolver& r, const std::string& name) { return run_service(ioc, r, name); }
};

const std::string first = "1 . alpn=h2 port=8443 ipv4hint=127.0.0.1";
const std::string second = "2 alt.test. alpn=h3,h2 ipv6hint=::1";
const auto malformed = svcb_rdata(3, ".", {{4, {127, 0, 0, 1, 9}}});

}  // namespace

// ---------------------------------------------------------------------------
// Against the scripted server

BOOST_AUTO_TEST_SUITE(against_the_fake_server)

BOOST_FIXTURE_TEST_CASE(records_are_parsed_in_the_servers_order_with_their_ttl, scripted_server) {
    dns.add("svc.test", query_type::https, {.rdata = {svcb_rdata(first), svcb_rdata(second)}, .ttl = 120});
    auto r = resolver();
    const auto got = lookup(*r, "svc.test");
    BOOST_TEST(!got.error, got.error.message() << ": " << got.cause);
    BOOST_TEST(presentation(got) == (std::vector<std::string>{first, second}));
    BOOST_TEST(got.records.at(0).ttl == 120u);
    BOOST_TEST(got.ttl.count() == 120);
    BOOST_TEST((got.source == nettrace::dns_source::dns));
    BOOST_TEST(!got.coalesced);
    BOOST_TEST(got.rejected == 0u);
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 1u);
    BOOST_TEST(dns.queries("svc.test", query_type::a) == 0u);  // an HTTPS lookup asks for HTTPS only
}

BOOST_FIXTURE_TEST_CASE(a_port_other_than_443_is_asked_under_its_underscore_name, scripted_server) {
    const auto qname = nettrace::https_query_name("svc.test", 8443);
    dns.add(qname, query_type::https, {.rdata = {svcb_rdata("1 svc.test. alpn=h2")}});
    auto r = resolver();
    const auto got = lookup(*r, qname);
    BOOST_TEST(!got.error, got.error.message() << ": " << got.cause);
    BOOST_TEST(presentation(got) == std::vector<std::string>{"1 svc.test. alpn=h2"});
    BOOST_TEST(dns.queries("_8443._https.svc.test", query_type::https) == 1u);
}

BOOST_FIXTURE_TEST_CASE(nodata_is_no_service_record_and_nxdomain_host_not_found, scripted_server) {
    dns.add("plain.test", query_type::a, {.addresses = {asio::ip::make_address("127.0.0.1")}});
    auto r = resolver();
    auto got = lookup(*r, "plain.test");
    BOOST_TEST(got.error == error::no_service_record, got.error.message());
    BOOST_TEST(got.records.empty());
    BOOST_TEST(got.servers == dns.address());
    got = lookup(*r, "nowhere.test");
    BOOST_TEST(got.error == error::host_not_found, got.error.message());
    BOOST_TEST(got.servers == dns.address());
}

BOOST_FIXTURE_TEST_CASE(server_failures_map_to_their_errors_with_the_cause, scripted_server) {
    dns.add("fail.test", query_type::https, {.rcode = dns_rcode::servfail});
    dns.add("refused.test", query_type::https, {.rcode = dns_rcode::refused});
    dns.add("silent.test", query_type::https, {.never = true});
    dns.add("garbage.test", query_type::https, {.garbage = true});
    auto o = options();
    o.timeout = 100ms;
    auto r = resolver(o);
    auto got = lookup(*r, "fail.test");
    BOOST_TEST(got.error == error::dns_failure, got.error.message());
    BOOST_TEST(got.cause == "the server answered SERVFAIL");
    got = lookup(*r, "refused.test");
    BOOST_TEST(got.error == error::dns_refused, got.error.message());
    got = lookup(*r, "silent.test");
    BOOST_TEST(got.error == error::dns_timeout, got.error.message());
    BOOST_TEST(got.cause == "no answer after 1 try");
    got = lookup(*r, "garbage.test");
    BOOST_TEST(got.records.empty());
    BOOST_TEST((got.error.category() == nettrace::category()), got.error.message());
}

BOOST_FIXTURE_TEST_CASE(a_malformed_record_is_dropped_with_its_cause_and_the_good_ones_kept, scripted_server) {
    dns.add("mixed.test", query_type::https, {.rdata = {svcb_rdata(first), malformed}});
    dns.add("broken.test", query_type::https, {.rdata = {malformed}});
    auto r = resolver();
    auto got = lookup(*r, "mixed.test");
    BOOST_TEST(!got.error, got.error.message());
    BOOST_TEST(presentation(got) == std::vector<std::string>{first});
    BOOST_TEST(got.rejected == 1u);
    BOOST_TEST(got.cause == "HTTPS record 2 of mixed.test: ipv4hint length 5 is not a multiple of 4");
    got = lookup(*r, "broken.test");
    BOOST_TEST(got.error == error::malformed_service_record, got.error.message());
    BOOST_TEST(got.rejected == 1u);
    BOOST_TEST(got.cause == "HTTPS record 1 of broken.test: ipv4hint length 5 is not a multiple of 4");
}

BOOST_FIXTURE_TEST_CASE(a_cname_is_followed_and_a_dot_target_becomes_the_cname_target, scripted_server) {
    dns.add("_8443._https.svc.test", query_type::https, {.cname = "pool.test"});
    dns.add("pool.test", query_type::https, {.rdata = {svcb_rdata("1 . port=9000")}});
    auto r = resolver();
    const auto got = lookup(*r, "_8443._https.svc.test");
    BOOST_TEST(!got.error, got.error.message() << ": " << got.cause);
    BOOST_TEST(presentation(got) == std::vector<std::string>{"1 pool.test. port=9000"});
}

BOOST_FIXTURE_TEST_CASE(a_cached_answer_reports_the_cache_and_sends_no_query, scripted_server) {
    dns.add("svc.test", query_type::https, {.rdata = {svcb_rdata(first)}, .ttl = 300});
    auto o = options();
    o.max_ttl = 60s;
    auto r = resolver(o);
    const auto fresh = lookup(*r, "svc.test");
    BOOST_TEST(fresh.ttl.count() == 60);  // bounded by max_ttl
    const auto cached = lookup(*r, "svc.test");
    BOOST_TEST((cached.source == nettrace::dns_source::cache));
    BOOST_TEST(presentation(cached) == std::vector<std::string>{first});
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 1u);

    // NODATA is cached too (negative_ttl).
    dns.add("plain.test", query_type::a, {.addresses = {asio::ip::make_address("127.0.0.1")}});
    BOOST_TEST(lookup(*r, "plain.test").error == error::no_service_record);
    const auto negative = lookup(*r, "plain.test");
    BOOST_TEST(negative.error == error::no_service_record);
    BOOST_TEST((negative.source == nettrace::dns_source::cache));
    BOOST_TEST(dns.queries("plain.test", query_type::https) == 1u);

    // Without the cache, every lookup asks.
    o.cache = false;
    auto uncached = resolver(o);
    lookup(*uncached, "svc.test");
    lookup(*uncached, "svc.test");
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 3u);
}

BOOST_FIXTURE_TEST_CASE(two_concurrent_lookups_share_one_query, scripted_server) {
    dns.add("svc.test", query_type::https, {.rdata = {svcb_rdata(first)}, .delay = 20ms});
    auto r = resolver();
    std::vector<service_result> got;
    std::vector<std::shared_ptr<nettrace::pending_lookup>> pending;
    for (int i = 0; i < 2; ++i)
        pending.push_back(r->lookup_service(ioc.get_executor(), "svc.test", [&](service_result res) {
            got.push_back(std::move(res));
            if (got.size() == 2) ioc.stop();
        }));
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 1u);
    BOOST_TEST(presentation(got[0]) == presentation(got[1]));
    BOOST_TEST(got[0].coalesced + got[1].coalesced == 1);  // one started the query, one joined it
}

BOOST_FIXTURE_TEST_CASE(https_and_address_lookups_of_one_name_never_share_a_query_or_an_answer, scripted_server) {
    const auto v4 = asio::ip::make_address("127.0.0.1");
    dns.add("svc.test", query_type::a, {.addresses = {v4}, .delay = 20ms});
    dns.add("svc.test", query_type::https, {.rdata = {svcb_rdata(first)}, .delay = 20ms});
    auto r = resolver();
    std::optional<nettrace::lookup_result> addresses;
    std::optional<service_result> services;
    const auto both = [&] {
        if (addresses && services) ioc.stop();
    };
    auto p1 =
        r->lookup(ioc.get_executor(), "svc.test", nettrace::address_family::ipv4, [&](nettrace::lookup_result res) {
            addresses = std::move(res);
            both();
        });
    auto p2 = r->lookup_service(ioc.get_executor(), "svc.test", [&](service_result res) {
        services = std::move(res);
        both();
    });
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE((addresses && services));
    BOOST_TEST(addresses->addrs == std::vector<asio::ip::address>{v4});
    BOOST_TEST(!addresses->coalesced);
    BOOST_TEST(services->records.size() == 1u);
    BOOST_TEST(!services->coalesced);
    BOOST_TEST(dns.queries("svc.test", query_type::a) == 1u);
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 1u);

    // Nor a cache entry: a cached A answer is no HTTPS answer.
    dns.add("seq.test", query_type::a, {.addresses = {v4}});
    dns.add("seq.test", query_type::https, {.rdata = {svcb_rdata(first)}});
    std::optional<nettrace::lookup_result> cached_a;
    auto p3 =
        r->lookup(ioc.get_executor(), "seq.test", nettrace::address_family::ipv4, [&](nettrace::lookup_result res) {
            cached_a = std::move(res);
            ioc.stop();
        });
    ioc.restart();
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE(cached_a.has_value());
    const auto after = run_service(ioc, *r, "seq.test");
    BOOST_TEST((after.source == nettrace::dns_source::dns));
    BOOST_TEST(after.records.size() == 1u);
    BOOST_TEST(dns.queries("seq.test", query_type::https) == 1u);
}

BOOST_FIXTURE_TEST_CASE(cancel_completes_with_operation_aborted_at_once, scripted_server) {
    dns.add("silent.test", query_type::https, {.never = true});
    auto o = options();
    o.timeout = 2000ms;  // what the caller would wait without the cancel
    auto r = resolver(o);
    std::optional<service_result> got;
    std::chrono::steady_clock::time_point completed;
    auto pending = r->lookup_service(ioc.get_executor(), "silent.test", [&](service_result res) {
        completed = std::chrono::steady_clock::now();
        got = std::move(res);
    });
    // Cancel once the query has reached the server.
    while (dns.queries("silent.test", query_type::https) == 0 && ioc.run_one_for(5s)) {}
    BOOST_TEST_REQUIRE(dns.queries("silent.test", query_type::https) == 1u);
    const auto cancelled = std::chrono::steady_clock::now();
    pending->cancel();
    pending->cancel();  // twice is harmless
    while (!got && ioc.run_one_for(5s)) {}
    BOOST_TEST_REQUIRE(got.has_value());
    BOOST_TEST(got->error == asio::error::operation_aborted, got->error.message());
    BOOST_TEST(ms(completed - cancelled) < 500.0);
}

BOOST_FIXTURE_TEST_CASE(a_cancelled_caller_leaves_the_query_to_the_other, scripted_server) {
    dns.add("svc.test", query_type::https, {.rdata = {svcb_rdata(first)}, .delay = 50ms});
    auto r = resolver();
    std::optional<service_result> cancelled, kept;
    auto p1 =
        r->lookup_service(ioc.get_executor(), "svc.test", [&](service_result res) { cancelled = std::move(res); });
    auto p2 = r->lookup_service(ioc.get_executor(), "svc.test", [&](service_result res) {
        kept = std::move(res);
        ioc.stop();
    });
    p1->cancel();
    ioc.run_for(10s);
    BOOST_TEST_REQUIRE((cancelled && kept));
    BOOST_TEST(cancelled->error == asio::error::operation_aborted);
    BOOST_TEST(!kept->error, kept->error.message());
    BOOST_TEST(kept->records.size() == 1u);
    BOOST_TEST(dns.queries("svc.test", query_type::https) == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_name_in_the_hosts_file_has_no_service_record_and_sends_no_query, scripted_server) {
    const std::string hosts = "/tmp/nettrace-hosts-svc-" + std::to_string(::getpid());
    {
        std::ofstream f(hosts);
        f << "127.0.0.2 pinned.test\n";
    }
    dns.add("pinned.test", query_type::https, {.rdata = {svcb_rdata(first)}});
    auto o = options();
    o.use_hosts_file = true;
    o.hosts_file = hosts;
    auto r = resolver(o);
    const auto direct = lookup(*r, "PINNED.test");
    const auto underscored = lookup(*r, nettrace::https_query_name("pinned.test", 8443));
    std::remove(hosts.c_str());
    for (const auto& got : {direct, underscored}) {
        BOOST_TEST(got.error == error::no_service_record, got.error.message());
        BOOST_TEST((got.source == nettrace::dns_source::hosts));
    }
    BOOST_TEST(dns.total_queries() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Against dnsmasq (--dns-rr)

BOOST_AUTO_TEST_SUITE(against_dnsmasq, *boost::unit_test::precondition(dnsmasq_present()))

BOOST_AUTO_TEST_CASE(dnsmasq_records_nodata_nxdomain_and_a_malformed_record) {
    dnsmasq_records records;
    records.host_records = {"plain.test,127.0.0.1"};
    records.extra_args = {
        "--local=/test/",
        "--dns-rr=svc.test,65," + hex(svcb_rdata(first)),
        "--dns-rr=svc.test,65," + hex(svcb_rdata(second)),
        "--dns-rr=_8443._https.svc.test,65," + hex(svcb_rdata("1 svc.test. alpn=h2 port=8443")),
        "--dns-rr=broken.test,65," + hex(malformed),
    };
    dnsmasq_server dnsmasq(records);
    asio::io_context ioc;
    auto r = nettrace::make_dns_resolver(one_server(dnsmasq.address()));

    auto got = run_service(ioc, *r, "svc.test");
    BOOST_TEST(!got.error, got.error.message() << ": " << got.cause << "\n" << dnsmasq.log());
    // dnsmasq may rotate records of one name: compare as a set.
    auto texts = presentation(got);
    std::sort(texts.begin(), texts.end());
    BOOST_TEST(texts == (std::vector<std::string>{first, second}));

    got = run_service(ioc, *r, "_8443._https.svc.test");
    BOOST_TEST(presentation(got) == std::vector<std::string>{"1 svc.test. alpn=h2 port=8443"}, dnsmasq.log());

    got = run_service(ioc, *r, "plain.test");
    BOOST_TEST(got.error == error::no_service_record, got.error.message() << "\n" << dnsmasq.log());

    got = run_service(ioc, *r, "nowhere.test");
    BOOST_TEST(got.error == error::host_not_found, got.error.message() << "\n" << dnsmasq.log());

    got = run_service(ioc, *r, "broken.test");
    BOOST_TEST(got.error == error::malformed_service_record, got.error.message() << "\n" << dnsmasq.log());
    BOOST_TEST(got.cause == "HTTPS record 1 of broken.test: ipv4hint length 5 is not a multiple of 4");
}

BOOST_AUTO_TEST_SUITE_END()
