// The c-ares resolver against DNS servers the tests start on loopback: a real
// dnsmasq for ordinary answers, and a scripted fake for what a real server
// will not do on demand (answer late or never, fail, send garbage, count).
#define BOOST_TEST_MODULE dns_resolver
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>

#include "support/common.hpp"
#include "support/dns_resolver_setup.hpp"
#include "support/dns_server.hpp"
#include "support/run_dial.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include <unistd.h>

using namespace nettrace::testing;  // the DNS servers, run_dial, the recorder

namespace {

nettrace::dialer dialer_for(std::shared_ptr<nettrace::resolver> r, nettrace::dial_options o = {}) {
    o.resolver = std::move(r);
    return nettrace::dialer(o);
}

struct resolved {
    error_code ec;
    std::vector<asio::ip::address> addrs;
};

resolved run_resolve(asio::io_context& ioc, const nettrace::dialer& d, const std::string& host,
                     const nettrace::context& ctx = {}) {
    resolved r;
    d.resolve(ioc.get_executor(), ctx, host, [&](error_code ec, std::vector<asio::ip::address> a) {
        r = {ec, std::move(a)};
        ioc.stop();
    });
    ioc.restart();
    ioc.run();
    return r;
}

// An io_context and the scripted server on it, with dialers whose c-ares
// resolver asks that server alone.
struct scripted_server {
    asio::io_context ioc;
    fake_dns_server dns{ioc.get_executor()};

    /// one_server()'s options, for this server.
    nettrace::dns_resolver_options options() const { return one_server(dns.address()); }
    nettrace::dialer dialer(const nettrace::dns_resolver_options& o, nettrace::dial_options d = {}) const {
        return dialer_for(nettrace::make_dns_resolver(o), std::move(d));
    }
    nettrace::dialer dialer(nettrace::dial_options d = {}) const { return dialer(options(), std::move(d)); }
};

}  // namespace

// ---------------------------------------------------------------------------
// Against dnsmasq

BOOST_AUTO_TEST_SUITE(against_dnsmasq, *boost::unit_test::precondition(dnsmasq_present()))

BOOST_AUTO_TEST_CASE(answers_a_aaaa_both_nxdomain_and_cname_chains) {
    dnsmasq_records records;
    records.host_records = {"v4only.test,127.0.0.1", "v6only.test,::1", "dual.test,127.0.0.1,::1",
                            "target.test,127.0.0.2"};
    records.cnames = {"alias.test,middle.test", "middle.test,target.test"};
    records.extra_args = {"--local=/test/"};
    dnsmasq_server dns(records);
    asio::io_context ioc;
    auto d = dialer_for(nettrace::make_dns_resolver(one_server(dns.address())));

    auto r = run_resolve(ioc, d, "v4only.test");
    BOOST_TEST(!r.ec, r.ec.message() << "\n" << dns.log());
    BOOST_TEST(r.addrs == std::vector<asio::ip::address>{v4});
    r = run_resolve(ioc, d, "v6only.test");
    BOOST_TEST(r.addrs == std::vector<asio::ip::address>{v6});
    r = run_resolve(ioc, d, "dual.test");
    BOOST_TEST(r.addrs == (std::vector<asio::ip::address>{v6, v4}));
    r = run_resolve(ioc, d, "alias.test");
    BOOST_TEST(r.addrs == std::vector<asio::ip::address>{v4_other});
    r = run_resolve(ioc, d, "missing.test");
    BOOST_TEST(r.ec == nettrace::error::host_not_found, r.ec.message());
}

BOOST_AUTO_TEST_CASE(dial_by_name_fires_one_dns_start_and_one_dns_done_with_both_families) {
    asio::io_context ioc;
    const auto port = free_dual_stack_port();
    live_listener live(ioc.get_executor(), v4, port);
    dnsmasq_records records;
    records.host_records = {"dual.test,127.0.0.1,::1"};
    records.extra_args = {"--local=/test/"};
    dnsmasq_server dns(records);
    trace_recorder rec;
    auto r = run_dial(ioc, dialer_for(nettrace::make_dns_resolver(one_server(dns.address()))), rec,
                      "dual.test:" + std::to_string(port));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(rec.count("dns_start") == 1u);
    BOOST_REQUIRE(rec.count("dns_done") == 1u);
    BOOST_TEST(rec.of("dns_done")[0].addrs.size() == 2u);
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);  // ::1 refused, 127.0.0.1 live
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Against the scripted server

BOOST_AUTO_TEST_SUITE(against_the_scripted_server)

BOOST_FIXTURE_TEST_CASE(late_aaaa_does_not_hold_back_a_live_ipv4, scripted_server) {
    live_listener live(ioc.get_executor(), v4);
    dns.add("slow6.test", query_type::a, {.addresses = {v4}});
    dns.add("slow6.test", query_type::aaaa, {.addresses = {v6}, .delay = 1000ms});
    trace_recorder rec;
    auto r = run_dial(ioc, dialer(), rec, host_port("slow6.test", live.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    // Connected at about the 50 ms resolution delay, not at the 1 s AAAA.
    BOOST_TEST(ms(r.elapsed) >= 49.0, ms(r.elapsed));
    BOOST_TEST(ms(r.elapsed) < 300.0, ms(r.elapsed));
    BOOST_TEST_MESSAGE("late AAAA: connected over IPv4 in " << ms(r.elapsed) << " ms");
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(unanswered_aaaa_starts_ipv4_at_the_resolution_delay_not_the_dns_timeout, scripted_server) {
    live_listener live(ioc.get_executor(), v4);
    dns.add("black6.test", query_type::a, {.addresses = {v4}});
    dns.add("black6.test", query_type::aaaa, {.never = true});
    auto o = options();
    o.timeout = 2000ms;
    trace_recorder rec;
    auto r = run_dial(ioc, dialer(o), rec, host_port("black6.test", live.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    const auto starts = rec.of("connect_start");
    BOOST_REQUIRE(starts.size() == 1u);
    const double first_attempt = ms(starts[0].at - rec.of("dial_start").at(0).at);
    BOOST_TEST(first_attempt >= 49.0, first_attempt);
    BOOST_TEST(first_attempt < 300.0, first_attempt);
    BOOST_TEST(ms(r.elapsed) < 1000.0);  // not held to the 2 s DNS timeout
    BOOST_TEST(rec.of("dns_answer").at(1).error == asio::error::operation_aborted);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(negative_aaaa_just_after_a_starts_ipv4_at_once, scripted_server) {
    live_listener live(ioc.get_executor(), v4);
    dns.add("only4.test", query_type::a, {.addresses = {v4}});
    dns.add("only4.test", query_type::aaaa, {.delay = 5ms});  // NODATA
    nettrace::dial_options o;
    o.resolution_delay = 1000ms;  // waiting it out would be obvious
    trace_recorder rec;
    auto r = run_dial(ioc, dialer(o), rec, host_port("only4.test", live.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(ms(r.elapsed) < 500.0, ms(r.elapsed));
    BOOST_TEST(rec.of("dns_answer").at(1).error == nettrace::error::no_addresses);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(concurrent_dials_of_one_name_share_one_query_per_family, scripted_server) {
    live_listener live(ioc.get_executor(), v4);
    dns.add("shared.test", query_type::a, {.addresses = {v4}, .delay = 20ms});
    dns.add("shared.test", query_type::aaaa, {.delay = 20ms});
    auto d = dialer();
    constexpr int dials = 100;
    std::vector<trace_recorder> recs(dials);
    int done = 0, ok = 0;
    for (auto& rec : recs)
        d.dial(ioc.get_executor(), rec.attach(), "tcp", host_port("shared.test", live.port()),
               [&](error_code ec, tcp::socket) {
                   rec.completed();
                   ok += !ec;
                   if (++done == dials) ioc.stop();
               });
    ioc.run();
    BOOST_TEST(ok == dials);
    BOOST_TEST(dns.queries("shared.test", query_type::a) == 1u);
    BOOST_TEST(dns.queries("shared.test", query_type::aaaa) == 1u);
    // Exactly one dial started the queries; the other 99 joined them.
    std::size_t starters = 0;
    for (auto& rec : recs) {
        rec.check_contract();
        BOOST_REQUIRE(rec.count("dns_done") == 1u);
        starters += rec.of("dns_done")[0].coalesced ? 0 : 1;
    }
    BOOST_TEST(starters == 1u);
    BOOST_TEST_MESSAGE("100 concurrent dials: " << dns.total_queries() << " queries reached the server");
}

BOOST_FIXTURE_TEST_CASE(cached_answer_is_reused_within_its_ttl_and_refreshed_after, scripted_server) {
    dns.add("ttl.test", query_type::a, {.addresses = {v4}, .ttl = 1});
    dns.add("ttl.test", query_type::aaaa, {.addresses = {v6}, .ttl = 1});
    auto d = dialer();
    trace_recorder first, second, third;
    BOOST_TEST(!run_resolve(ioc, d, "ttl.test", first.attach()).ec);
    BOOST_TEST(dns.total_queries() == 2u);
    BOOST_TEST(run_resolve(ioc, d, "ttl.test", second.attach()).addrs.size() == 2u);
    BOOST_TEST(dns.total_queries() == 2u);  // no query: both families from the cache
    BOOST_TEST(second.of("dns_done").at(0).source == nettrace::dns_source::cache);
    // Let the 1 s TTL run out (a wait on the thing under test, not a sync).
    asio::steady_timer wait(ioc, 1100ms);
    wait.wait();
    BOOST_TEST(run_resolve(ioc, d, "ttl.test", third.attach()).addrs.size() == 2u);
    BOOST_TEST(dns.total_queries() == 4u);
    BOOST_TEST(third.of("dns_done").at(0).source == nettrace::dns_source::dns);
}

BOOST_FIXTURE_TEST_CASE(nxdomain_is_cached_briefly_and_named_in_the_error, scripted_server) {
    auto d = dialer();
    trace_recorder rec;
    auto r = run_dial(ioc, d, rec, "nowhere.test:80");
    BOOST_TEST(r.ec == nettrace::error::host_not_found);
    // Go's wording: the lookup, the server asked, the answer.
    BOOST_TEST(rec.of("dial_done").at(0).description ==
               "dial tcp nowhere.test:80: lookup nowhere.test on " + dns.address() + ": no such host");
    const auto queries = dns.total_queries();
    trace_recorder again;
    BOOST_TEST(run_dial(ioc, d, again, "nowhere.test:80").ec == nettrace::error::host_not_found);
    BOOST_TEST(dns.total_queries() == queries);  // negative answer cached
}

BOOST_FIXTURE_TEST_CASE(cache_can_be_turned_off, scripted_server) {
    dns.add("nocache.test", query_type::a, {.addresses = {v4}});
    dns.add("nocache.test", query_type::aaaa, {.addresses = {v6}});
    auto o = options();
    o.cache = false;
    auto d = dialer(o);
    run_resolve(ioc, d, "nocache.test");
    run_resolve(ioc, d, "nocache.test");
    BOOST_TEST(dns.total_queries() == 4u);
}

BOOST_AUTO_TEST_CASE(server_failures_map_to_distinct_errors) {
    struct row {
        const char* name;
        behaviour b;
        nettrace::error expected;
    };
    const row rows[] = {
        {"servfail.test", {.rcode = dns_rcode::servfail}, nettrace::error::dns_failure},
        {"refused.test", {.rcode = dns_rcode::refused}, nettrace::error::dns_refused},
        {"nodata.test", {}, nettrace::error::no_addresses},
        {"silent.test", {.never = true}, nettrace::error::dns_timeout},
    };
    for (const auto& row : rows) {
        asio::io_context ioc;
        fake_dns_server dns(ioc.get_executor());
        dns.add(row.name, query_type::a, row.b);
        dns.add(row.name, query_type::aaaa, row.b);
        auto o = one_server(dns.address());
        o.timeout = 200ms;
        auto r = run_resolve(ioc, dialer_for(nettrace::make_dns_resolver(o)), row.name);
        BOOST_TEST(r.ec == row.expected, row.name << ": " << r.ec.message());
    }
}

BOOST_AUTO_TEST_CASE(garbage_truncated_and_spoofed_answers_fail_cleanly) {
    const std::pair<const char*, behaviour> rows[] = {
        {"garbage.test", {.garbage = true}},
        {"truncated.test", {.truncated = true}},
        {"spoofed.test", {.wrong_id = true}},
    };
    for (const auto& [name, modifiers] : rows) {
        asio::io_context ioc;
        fake_dns_server dns(ioc.get_executor());
        behaviour b4 = modifiers, b6 = modifiers;
        b4.addresses = {v4};
        b6.addresses = {v6};
        dns.add(name, query_type::a, b4);
        dns.add(name, query_type::aaaa, b6);
        auto o = one_server(dns.address());
        o.timeout = 200ms;
        auto r = run_resolve(ioc, dialer_for(nettrace::make_dns_resolver(o)), name);
        // Never accepted as an address; always an error from the DNS family.
        BOOST_TEST(r.addrs.empty(), name);
        BOOST_TEST((r.ec.category() == nettrace::category()), name << ": " << r.ec.message());
        BOOST_TEST_MESSAGE(name << " -> " << r.ec.message());
    }
}

BOOST_FIXTURE_TEST_CASE(answers_of_the_wrong_family_are_never_used, scripted_server) {
    // A CNAME to a name that only has A records, asked as AAAA: no IPv4 may leak into the IPv6 answer.
    dns.add("mixed.test", query_type::aaaa, {.cname = "v4.test"});
    dns.add("v4.test", query_type::a, {.addresses = {v4}});
    nettrace::dial_options o;
    o.preference = nettrace::family_preference::ipv6_only;
    auto r = run_resolve(ioc, dialer(o), "mixed.test");
    BOOST_TEST(r.addrs.empty());
    BOOST_TEST(r.ec == nettrace::error::no_addresses, r.ec.message());
}

BOOST_AUTO_TEST_CASE(cname_records_that_do_not_chain_from_the_name_asked_are_never_followed) {
    // Found by fuzz/dns_answer_fuzzer: c-ares 1.18 follows every CNAME of an
    // answer, whoever owns it. Here the answer for good.test is
    // "other.test CNAME evil.test" + "evil.test A 127.0.0.66" (all on loopback, never dialed).
    const auto evil4 = asio::ip::make_address("127.0.0.66"), evil6 = asio::ip::make_address("::1");
    for (const auto family : {nettrace::family_preference::ipv4_only, nettrace::family_preference::ipv6_only}) {
        asio::io_context ioc;
        fake_dns_server dns(ioc.get_executor());
        dns.add("good.test", query_type::a, {.cname = "evil.test", .cname_owner = "other.test"});
        dns.add("good.test", query_type::aaaa, {.cname = "evil.test", .cname_owner = "other.test"});
        dns.add("evil.test", query_type::a, {.addresses = {evil4}});
        dns.add("evil.test", query_type::aaaa, {.addresses = {evil6}});
        // A chained CNAME through the same server still resolves.
        dns.add("alias.test", query_type::a, {.cname = "evil.test"});
        dns.add("alias.test", query_type::aaaa, {.cname = "evil.test"});
        nettrace::dial_options o;
        o.preference = family;
        const auto d = dialer_for(nettrace::make_dns_resolver(one_server(dns.address())), o);
        auto r = run_resolve(ioc, d, "good.test");
        BOOST_TEST(r.addrs.empty());
        BOOST_TEST(r.ec == nettrace::error::dns_malformed, r.ec.message());
        auto chained = run_resolve(ioc, d, "alias.test");
        BOOST_TEST(!chained.ec, chained.ec.message());
        BOOST_TEST(chained.addrs.size() == 1u);
    }
}

BOOST_FIXTURE_TEST_CASE(cancelling_a_dial_during_dns_completes_promptly_and_leaves_nothing_behind, scripted_server) {
    dns.add("hang.test", query_type::a, {.addresses = {v4}, .delay = 300ms});
    dns.add("hang.test", query_type::aaaa, {.never = true});
    auto o = options();
    o.timeout = 400ms;
    auto d = dialer(o);
    const auto fds_before = descriptor_baseline(ioc);
    trace_recorder rec;
    timed_cancellation cancel(ioc);
    error_code result;
    steady::time_point completed;
    d.dial(ioc.get_executor(), rec.attach(), "tcp", "hang.test:80", cancel.handler(rec, completed, result));
    cancel.emit_after(50ms);
    // Run until the late answers have come (A at 300 ms) and c-ares gave up on
    // AAAA (400 ms): the abandoned queries must end without touching the dial.
    ioc.run_for(1500ms);
    BOOST_TEST(result == asio::error::operation_aborted);
    BOOST_TEST(ms(completed - cancel.emitted_at()) < 100.0);
    rec.check_contract();
    BOOST_TEST(dns.queries("hang.test", query_type::a) == 1u);
    BOOST_TEST(open_fd_count() == fds_before, "c-ares left a socket open");
}

BOOST_FIXTURE_TEST_CASE(hosts_file_answers_without_dns, scripted_server) {
    const std::string hosts = "/tmp/nettrace-hosts-" + std::to_string(::getpid());
    {
        std::ofstream f(hosts);
        f << "# comment\n127.0.0.2 pinned.test other.alias\n::1 pinned.test\n";
    }
    auto o = options();
    o.use_hosts_file = true;
    o.hosts_file = hosts;
    trace_recorder rec;
    auto r = run_resolve(ioc, dialer(o), "PINNED.test", rec.attach());
    std::remove(hosts.c_str());
    BOOST_TEST(r.addrs == (std::vector<asio::ip::address>{v6, v4_other}));
    BOOST_TEST(dns.total_queries() == 0u);
    BOOST_TEST(rec.of("dns_done").at(0).source == nettrace::dns_source::hosts);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Name-server forms: every form make_dns_resolver accepts is one c-ares 1.18
// can start with; the others are refused up front, naming the form.

BOOST_AUTO_TEST_SUITE(name_server_forms)

BOOST_AUTO_TEST_CASE(nameserver_that_is_not_an_ip_address_is_rejected) {
    nettrace::dns_resolver_options o;
    o.nameservers = {"dns.example:53"};
    BOOST_CHECK_THROW(nettrace::make_dns_resolver(o), boost::system::system_error);
    o.nameservers = {"127.0.0.1:99999"};
    BOOST_CHECK_THROW(nettrace::make_dns_resolver(o), boost::system::system_error);
    o.nameservers = {"[::1]:5353", "127.0.0.1"};
    BOOST_CHECK_NO_THROW(nettrace::make_dns_resolver(o));
}

BOOST_AUTO_TEST_CASE(nameserver_forms_c_ares_cannot_take_are_refused_with_the_form_named) {
    struct row {
        std::string form;
        nettrace::error expected;
        std::string named;  // in what()
    };
    const row rows[] = {
        {"[::1]:", nettrace::error::invalid_port, "\"[::1]:\": the port after ':' is empty"},
        {"127.0.0.1:", nettrace::error::invalid_port, "\"127.0.0.1:\""},
        {"127.0.0.1:0", nettrace::error::invalid_port, "port 0"},
        {"[fe80::1%lo]:53", nettrace::error::invalid_zone, "zone (%lo)"},
        {std::string("127.0.0.1\0:53", 13), nettrace::error::invalid_host, "127.0.0.1\\x00:53"},
        {"[::1]x", nettrace::error::junk_after_bracket, "\"[::1]x\""},
        {"[::1", nettrace::error::unclosed_bracket, "\"[::1\""},
        {"[127.0.0.1]:53", nettrace::error::invalid_host, "\"[127.0.0.1]:53\""},
        {"dns.test", nettrace::error::invalid_host, "an IP address is required"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT("nameserver " << r.form.size() << " bytes") {
            nettrace::dns_resolver_options o;
            o.nameservers = {r.form};
            try {
                nettrace::make_dns_resolver(o);
                BOOST_ERROR("accepted");
            } catch (const boost::system::system_error& e) {
                BOOST_TEST(e.code() == nettrace::make_error_code(r.expected), e.code().message());
                BOOST_TEST(std::string(e.what()).find(r.named) != std::string::npos, e.what());
            }
        }
    }
}

// "::1" and "[::1]" carry no port; c-ares 1.18 cannot start with them as
// written, and the channel that failed to start crashed the io_context's
// shutdown. They mean port 53.
BOOST_AUTO_TEST_CASE(ipv6_nameserver_without_a_port_is_asked_on_port_53) {
    if (!ipv6_loopback_available()) {
        BOOST_TEST_MESSAGE("skipped: no IPv6 loopback here");
        return;
    }
    for (const std::string form : {"::1", "[::1]"}) {
        BOOST_TEST_CONTEXT("nameserver " << form) {
            std::optional<resolved> r;
            std::size_t queries = 0;
            {
                asio::io_context ioc;
                std::optional<fake_dns_server> dns;
                try {
                    dns.emplace(ioc.get_executor(), v6, 53);
                } catch (const std::exception& e) {
                    BOOST_TEST_MESSAGE("skipped: [::1]:53 cannot be had here (" << e.what() << ")");
                    return;
                }
                dns->add("port53.test", query_type::aaaa, {.addresses = {v6}});
                dns->add("port53.test", query_type::a, {.addresses = {v4}});
                auto o = one_server(form);
                r = run_resolve(ioc, dialer_for(nettrace::make_dns_resolver(o)), "port53.test");
                queries = dns->total_queries();
            }  // the io_context, and with it the channel, shuts down here
            BOOST_TEST(!r->ec, r->ec.message());
            BOOST_TEST(r->addrs == (std::vector<asio::ip::address>{v6, v4}));
            BOOST_TEST(queries == 2u);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// What c-ares' timers cost the io_context.

BOOST_AUTO_TEST_SUITE(c_ares_timers)

// A server shutting down, or a CLI exiting, must not wait out the retries
// of a query nobody wants: when the last caller is cancelled, c-ares is told
// to stop, and run() returns as soon as the dial has completed.
BOOST_AUTO_TEST_CASE(cancelling_the_last_caller_lets_run_return_without_waiting_for_c_ares) {
    // The server runs on an io_context of its own, whose receive loop would
    // otherwise keep the dial's run() busy for ever.
    asio::io_context server_io;
    fake_dns_server dns(server_io.get_executor());
    dns.add("silent.test", query_type::a, {.never = true});
    dns.add("silent.test", query_type::aaaa, {.never = true});
    std::thread server_thread([&] { server_io.run(); });
    struct stop_server {
        asio::io_context& io;
        std::thread& t;
        ~stop_server() {
            io.stop();
            t.join();
        }
    } stop{server_io, server_thread};

    asio::io_context ioc;
    auto o = one_server(dns.address());
    o.timeout = 1000ms;
    o.tries = 3;  // c-ares would keep trying for 1 + 2 + 4 = 7 s
    auto d = dialer_for(nettrace::make_dns_resolver(o));
    asio::cancellation_signal signal;
    trace_recorder rec;
    nettrace::client_trace cancel_at_dns_start;
    cancel_at_dns_start.dns_start = [&](const nettrace::dns_start_info&) {
        signal.emit(asio::cancellation_type::terminal);  // the dial posts it: safe from a hook
    };
    error_code result;
    d.dial(ioc.get_executor(), nettrace::with_client_trace(rec.attach(), cancel_at_dns_start), "tcp", "silent.test:80",
           asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket) {
               rec.completed();
               result = ec;
           }));
    const auto start = std::chrono::steady_clock::now();
    ioc.run_for(10s);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST(ioc.stopped(), "run() still had work after 10 s");
    BOOST_TEST(result == asio::error::operation_aborted, result.message());
    BOOST_TEST(ms(took) < 1000.0, "run() returned after " << ms(took) << " ms (c-ares' first try alone is 1000 ms)");
    rec.check_contract();
}

// dns_resolver_options::timeout is the first try's: c-ares 1.18 doubles it
// each round, as the header documents (timeout * (2^tries - 1) in all).
BOOST_FIXTURE_TEST_CASE(the_per_try_timeout_doubles_each_round_as_documented, scripted_server) {
    dns.add("silent.test", query_type::a, {.never = true});
    dns.add("silent.test", query_type::aaaa, {.never = true});
    auto o = options();
    o.timeout = 100ms;
    o.tries = 2;  // 100 + 200 = 300 ms
    const auto start = std::chrono::steady_clock::now();
    auto r = run_resolve(ioc, dialer(o), "silent.test");
    const double took = ms(std::chrono::steady_clock::now() - start);
    BOOST_TEST(r.ec == nettrace::error::dns_timeout, r.ec.message());
    BOOST_TEST(took >= 280.0, "gave up after " << took << " ms, before the doubled second try");
    BOOST_TEST(took < 1000.0, "gave up after " << took << " ms");
}

// A DNS failure's description names the server asked and the cause, which
// "DNS server failure" alone does not.
BOOST_AUTO_TEST_CASE(a_dns_failure_names_the_server_and_the_cause) {
    asio::io_context ioc;
    asio::ip::udp::socket holder(ioc, asio::ip::udp::endpoint(v4, 0));
    const std::string server_address = "127.0.0.1:" + std::to_string(holder.local_endpoint().port());
    holder.close();  // a UDP port nothing listens on
    auto o = one_server(server_address);
    o.tries = 2;  // c-ares reports the refusal itself once it has tried again
    auto d = dialer_for(nettrace::make_dns_resolver(o));
    trace_recorder rec;
    auto r = run_dial(ioc, d, rec, "x.test:80");
    BOOST_TEST(r.ec);
    const auto description = rec.of("dial_done").at(0).description;
    BOOST_TEST(description.find("lookup x.test on " + server_address) != std::string::npos, description);
    BOOST_TEST(description.find("connection refused") != std::string::npos, description);
}

BOOST_AUTO_TEST_SUITE_END()
