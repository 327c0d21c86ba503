// The library as it is, in the network lab (support/netlab.hpp): network
// namespaces the tests make themselves, with routes, addresses and
// interfaces loopback cannot show. Every address used lives in a lab (or is
// its loopback); each lab is removed when its test ends, however it ends.
//
// Without namespaces (not root) every case is skipped with the reason; CI
// sets NETTRACE_REQUIRE_NETNS=1, which makes that a failure.
//
// Timing bounds are generous (this machine is shared and jitters by tens of
// milliseconds) and never decide alone: the trace says which attempt ran,
// how it ended and why.
#define BOOST_TEST_MODULE netlab
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>

#include "support/common.hpp"
#include "support/dns_server.hpp"
#include "support/netlab.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <net/if.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using nettrace::testing::netlab;
using nettrace::testing::trace_recorder;

namespace {

asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

error_code system_error(int e) { return {e, boost::system::system_category()}; }

struct dial_result {
    error_code ec;
    std::optional<tcp::socket> socket;
    std::chrono::steady_clock::duration elapsed{};
};

// One traced dial run to completion on `ioc` (on the calling thread: in a
// lab body, inside the lab).
dial_result run_dial(asio::io_context& ioc, const nettrace::dialer& d, trace_recorder& rec,
                     const std::string& address) {
    dial_result r;
    const auto start = std::chrono::steady_clock::now();
    d.dial(ioc.get_executor(), rec.attach(), "tcp", address, [&](error_code ec, tcp::socket s) {
        rec.completed();
        r.elapsed = std::chrono::steady_clock::now() - start;
        r.ec = ec;
        if (!ec) r.socket.emplace(std::move(s));
        ioc.stop();  // listeners keep the io_context busy
    });
    ioc.restart();
    ioc.run();
    return r;
}

struct resolved {
    error_code ec;
    std::vector<asio::ip::address> addrs;
};

resolved run_resolve(asio::io_context& ioc, const nettrace::dialer& d, trace_recorder& rec, const std::string& host) {
    resolved r;
    d.resolve(ioc.get_executor(), rec.attach(), host, [&](error_code ec, std::vector<asio::ip::address> a) {
        r = {ec, std::move(a)};
        ioc.stop();
    });
    ioc.restart();
    ioc.run();
    return r;
}

nettrace::dialer pinned(const std::string& name, std::vector<asio::ip::address> addrs, nettrace::dial_options o = {}) {
    o.resolver = nettrace::make_static_resolver({{name, std::move(addrs)}});
    return nettrace::dialer(o);
}

std::vector<asio::ip::address> endpoints_of(const std::vector<nettrace::testing::trace_event>& events) {
    std::vector<asio::ip::address> out;
    for (const auto& e : events) out.push_back(e.endpoint.address());
    return out;
}

// Whether `address` can be bound here (on the calling thread's namespace).
bool bindable(const asio::ip::address& address) {
    asio::io_context ioc;
    tcp::acceptor a(ioc);
    error_code ec;
    a.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) a.bind({address, 0}, ec);
    return !ec;
}

ino_t current_namespace() {
    struct stat st {};
    return ::stat("/proc/thread-self/ns/net", &st) == 0 ? st.st_ino : 0;
}

bool task_exists(pid_t tid) {
    struct stat st {};
    return ::stat(("/proc/self/task/" + std::to_string(tid)).c_str(), &st) == 0;
}

}  // namespace

// Says once, in the log meson keeps, why the lab's cases are skipped.
struct say_why_skipped {
    say_why_skipped() {
        if (!netlab::available())
            BOOST_TEST_MESSAGE("no network lab (" << netlab::unavailable_reason() << "): its tests are skipped");
    }
};
BOOST_TEST_GLOBAL_FIXTURE(say_why_skipped);

// What the suites below need, demanded in CI, where skipping them would hide
// the very cases the lab exists for.
BOOST_AUTO_TEST_CASE(the_lab_can_be_made_when_required,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return nettrace::testing::netns_required();
                     })) {
    BOOST_TEST(netlab::available(), "network lab: " << netlab::unavailable_reason());
}

// ---------------------------------------------------------------------------
// The lab itself: isolated, and gone afterwards

BOOST_AUTO_TEST_SUITE(the_lab, *boost::unit_test::precondition(nettrace::testing::netlab_available{}))

BOOST_AUTO_TEST_CASE(is_a_namespace_of_its_own_with_loopback_up) {
    const ino_t host = current_namespace();
    netlab lab;
    lab.add_address("2001:db8:3::1/128");
    lab.add_veth("ntlab0", "ntlab1");
    BOOST_TEST(lab.namespace_inode() != 0u);
    BOOST_TEST(lab.namespace_inode() != host);
    lab.run([&] {
        BOOST_TEST(current_namespace() == lab.namespace_inode());
        BOOST_TEST(bindable(ip("2001:db8:3::1")));
        // lo is up, with both loopback addresses: a dial to each connects.
        asio::io_context ioc;
        for (const char* a : {"127.0.0.1", "::1"}) {
            nettrace::testing::live_listener live(ioc.get_executor(), ip(a));
            trace_recorder rec;
            auto r = run_dial(ioc, nettrace::dialer(), rec, host_port(ip(a), live.port()));
            BOOST_TEST(!r.ec, a << ": " << r.ec.message());
        }
    });
    // None of it is out here: the address, the interfaces, the namespace.
    BOOST_TEST(current_namespace() == host);
    BOOST_TEST(!bindable(ip("2001:db8:3::1")));
    BOOST_TEST(::if_nametoindex("ntlab0") == 0u);
    BOOST_TEST(lab.interface_index("ntlab0") != 0u);
}

BOOST_AUTO_TEST_CASE(is_gone_once_the_netlab_is) {
    ino_t inode = 0;
    pid_t tid = 0;
    {
        netlab lab;
        lab.add_veth("ntlab0", "ntlab1");
        lab.add_address("fd00:6724::1/64");
        lab.add_route("unreachable", "2001:db8:1::/48");
        inode = lab.namespace_inode();
        tid = lab.thread_id();
        lab.run([&] {
            asio::io_context ioc;
            nettrace::testing::lab_listener live(ioc.get_executor(), ip("fd00:6724::1"));
            trace_recorder rec;
            auto r = run_dial(ioc, nettrace::dialer(), rec, host_port(ip("fd00:6724::1"), live.port()));
            BOOST_TEST(!r.ec, r.ec.message());
        });
        BOOST_TEST(!nettrace::testing::netlab::namespace_references(inode).empty());  // its thread, at least
        BOOST_TEST(task_exists(tid));
    }
    // No thread of this process is in it, no descriptor or socket refers to
    // it, and its thread has ended: the kernel has nothing left to keep.
    const auto refs = netlab::namespace_references(inode);
    BOOST_TEST(refs.empty(), refs.size() << " references left, the first: " << (refs.empty() ? "" : refs[0]));
    BOOST_TEST(!task_exists(tid));
}

BOOST_AUTO_TEST_CASE(a_socket_left_open_keeps_it_and_is_seen) {
    // What the check above relies on: a socket made in the lab holds its
    // namespace after the netlab has gone, and namespace_references sees it.
    std::optional<asio::io_context> ioc(std::in_place);
    std::optional<tcp::acceptor> kept;
    ino_t inode = 0;
    {
        netlab lab;
        inode = lab.namespace_inode();
        lab.run([&] { kept.emplace(*ioc, tcp::endpoint(ip("::1"), 0)); });
    }
    const auto refs = netlab::namespace_references(inode);
    BOOST_REQUIRE(refs.size() == 1u);
    BOOST_TEST(refs[0].find("(a socket)") != std::string::npos, refs[0]);
    kept.reset();
    ioc.reset();
    BOOST_TEST(netlab::namespace_references(inode).empty());
}

BOOST_AUTO_TEST_CASE(a_body_that_throws_reaches_the_caller_and_the_lab_still_goes) {
    ino_t inode = 0;
    {
        netlab lab;
        inode = lab.namespace_inode();
        BOOST_CHECK_THROW(lab.run([] { throw std::runtime_error("a failing test body"); }), std::runtime_error);
        BOOST_CHECK_THROW(lab.ip("route add nonsense"), std::runtime_error);
        BOOST_TEST(lab.run([] { return current_namespace(); }) == inode);  // still usable
    }
    BOOST_TEST(netlab::namespace_references(inode).empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Routes: what each kind makes a connect report, and what the racer does

BOOST_AUTO_TEST_SUITE(routes, *boost::unit_test::precondition(nettrace::testing::netlab_available{}))

// A name with an address behind each kind of rejecting route, then a live
// one: every rejected attempt fails at once with the kernel's error for its
// route, the next starts at once (far sooner than the attempt delay), and
// the live one wins. Both families: the kernel reports the same errors.
BOOST_AUTO_TEST_CASE(rejecting_routes_fail_each_attempt_at_once_and_the_next_starts_at_once) {
    netlab lab;
    struct family {
        const char *unreachable, *prohibit, *blackhole, *live;
    };
    const family families[] = {
        {"2001:db8:1::/48", "2001:db8:2::/48", "2001:db8:3::/48", "2001:db8:4::1/128"},
        {"198.51.100.0/26", "198.51.100.64/26", "198.51.100.128/26", "198.51.100.200/32"},
    };
    const family targets[] = {
        {"2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1", "2001:db8:4::1"},
        {"198.51.100.1", "198.51.100.65", "198.51.100.129", "198.51.100.200"},
    };
    for (const auto& f : families) {
        lab.add_route("unreachable", f.unreachable);
        lab.add_route("prohibit", f.prohibit);
        lab.add_route("blackhole", f.blackhole);
        lab.add_address(f.live);
    }
    lab.run([&] {
        for (const auto& t : targets) {
            BOOST_TEST_CONTEXT("live at " << t.live) {
                asio::io_context ioc;
                nettrace::testing::lab_listener live(ioc.get_executor(), ip(t.live));
                nettrace::dial_options o;
                o.attempt_delay = 1s;  // what "at once" must stay far below
                const auto d =
                    pinned("routes.test", {ip(t.unreachable), ip(t.prohibit), ip(t.blackhole), ip(t.live)}, o);
                trace_recorder rec;
                auto r = run_dial(ioc, d, rec, host_port("routes.test", live.port()));
                BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
                BOOST_TEST(r.socket->remote_endpoint().address() == ip(t.live));
                rec.check_contract();

                const auto starts = rec.of("connect_start"), dones = rec.of("connect_done");
                BOOST_REQUIRE(starts.size() == 4u);
                BOOST_REQUIRE(dones.size() == 4u);
                BOOST_TEST((endpoints_of(starts) ==
                            std::vector{ip(t.unreachable), ip(t.prohibit), ip(t.blackhole), ip(t.live)}));
                const error_code expected[] = {system_error(EHOSTUNREACH), system_error(EACCES), system_error(EINVAL)};
                for (std::size_t i = 0; i < 3; ++i) {
                    BOOST_TEST(dones[i].attempt == i);
                    BOOST_TEST((dones[i].outcome == nettrace::connect_outcome::failed));
                    BOOST_TEST(dones[i].error == expected[i], "attempt " << i << ": " << dones[i].error.message());
                    BOOST_TEST(ms(dones[i].at - starts[i].at) < 250.0, "attempt " << i << " took long to fail");
                    BOOST_TEST(ms(starts[i + 1].at - starts[i].at) < 250.0,
                               "attempt " << i + 1 << " waited " << ms(starts[i + 1].at - starts[i].at) << " ms");
                }
                BOOST_TEST((dones[3].outcome == nettrace::connect_outcome::won));
                BOOST_TEST(ms(r.elapsed) < 500.0);
            }
        }
    });
}

// A route whose packets vanish: the attempt hangs, so the next one starts
// when the attempt delay runs out, and wins; the hanging one is superseded.
BOOST_AUTO_TEST_CASE(a_route_that_drops_hangs_the_attempt_until_the_attempt_delay) {
    netlab lab;
    lab.add_veth("ntlab0", "ntlab1");
    lab.add_dropping_route("2001:db8:66::/48", "ntlab0");
    lab.add_address("2001:db8:4::1/128");
    lab.run([&] {
        asio::io_context ioc;
        nettrace::testing::lab_listener live(ioc.get_executor(), ip("2001:db8:4::1"));
        nettrace::dial_options o;
        o.attempt_delay = 250ms;
        const auto d = pinned("drop.test", {ip("2001:db8:66::1"), ip("2001:db8:4::1")}, o);
        trace_recorder rec;
        auto r = run_dial(ioc, d, rec, host_port("drop.test", live.port()));
        BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
        rec.check_contract();
        const auto starts = rec.of("connect_start"), dones = rec.of("connect_done");
        BOOST_REQUIRE(starts.size() == 2u);
        BOOST_TEST(starts[0].endpoint.address() == ip("2001:db8:66::1"));
        const double gap = ms(starts[1].at - starts[0].at);
        BOOST_TEST(gap >= 200.0);
        BOOST_TEST(gap < 1000.0);
        BOOST_REQUIRE(dones.size() == 2u);
        for (const auto& e : dones) {
            if (e.attempt == 0) BOOST_TEST((e.outcome == nettrace::connect_outcome::superseded));
            if (e.attempt == 1) BOOST_TEST((e.outcome == nettrace::connect_outcome::won));
        }
    });
}

// An IPv6-only lab (what the NAT64 tests build on): no IPv4 address at all,
// so an IPv4 literal has no route, while the NAT64-synthesized form of
// 127.0.0.1 (64:ff9b::7f00:1, on lo) is reachable.
BOOST_AUTO_TEST_CASE(an_ipv6_only_lab_has_no_ipv4_route_and_reaches_its_nat64_address) {
    netlab lab;
    lab.remove_ipv4_loopback();
    lab.add_address("64:ff9b::7f00:1/128", "lo");
    lab.run([&] {
        BOOST_TEST(!bindable(ip("127.0.0.1")));
        asio::io_context ioc;
        nettrace::testing::lab_listener live(ioc.get_executor(), ip("64:ff9b::7f00:1"));
        trace_recorder rec;
        auto v4 = run_dial(ioc, nettrace::dialer(), rec, host_port(ip("127.0.0.1"), live.port()));
        BOOST_TEST(v4.ec == system_error(ENETUNREACH), v4.ec.message());
        BOOST_TEST(ms(v4.elapsed) < 250.0);
        trace_recorder rec6;
        auto v6 = run_dial(ioc, nettrace::dialer(), rec6, host_port(ip("64:ff9b::7f00:1"), live.port()));
        BOOST_TEST(!v6.ec, v6.ec.message());
        rec6.check_contract();
    });
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Link-local zones: "[fe80::1%ntlab0]:port" against a listener on a veth

BOOST_AUTO_TEST_SUITE(zones, *boost::unit_test::precondition(nettrace::testing::netlab_available{}))

BOOST_AUTO_TEST_CASE(a_link_local_address_with_its_zone_connects_with_the_scope_id_on_the_endpoint) {
    netlab lab;
    lab.add_veth("ntlab0", "ntlab1");
    const unsigned index = lab.interface_index("ntlab0");
    BOOST_REQUIRE(index != 0u);
    lab.run([&] {
        asio::io_context ioc;
        auto bound = asio::ip::make_address_v6("fe80::1");
        bound.scope_id(index);
        nettrace::testing::lab_listener live(ioc.get_executor(), bound);
        const std::string port = std::to_string(live.port());
        // By name and by number, through the free function.
        for (const std::string& zone : {std::string("ntlab0"), std::to_string(index)}) {
            BOOST_TEST_CONTEXT("zone " << zone) {
                trace_recorder rec;
                std::optional<error_code> done;
                std::optional<tcp::socket> socket;
                nettrace::dial(ioc.get_executor(), rec.attach(), "tcp", "[fe80::1%" + zone + "]:" + port,
                               [&](error_code ec, tcp::socket s) {
                                   rec.completed();
                                   done = ec;
                                   if (!ec) socket.emplace(std::move(s));
                                   ioc.stop();
                               });
                ioc.restart();
                ioc.run();
                BOOST_REQUIRE(done);
                BOOST_REQUIRE_MESSAGE(!*done, done->message());
                rec.check_contract();
                BOOST_TEST(rec.count("dns_start") == 0u);  // a literal
                const auto starts = rec.of("connect_start");
                BOOST_REQUIRE(starts.size() == 1u);
                BOOST_TEST(starts[0].endpoint.address().to_v6().scope_id() == index);
                BOOST_TEST(socket->remote_endpoint().address().to_v6().scope_id() == index);
                BOOST_TEST(socket->local_endpoint().address().to_v6().scope_id() == index);
                // Written in the lab, the scope id names its interface
                // (Asio's to_string asks if_indextoname on this thread).
                BOOST_TEST(nettrace::join_host_port(starts[0].endpoint) == "[fe80::1%ntlab0]:" + port);
            }
        }
    });
}

BOOST_AUTO_TEST_CASE(a_zone_that_names_no_interface_is_invalid_zone) {
    netlab lab;
    lab.add_veth("ntlab0", "ntlab1");
    lab.run([&] {
        asio::io_context ioc;
        for (const char* address : {"[fe80::1%ntlab9]:80", "[fe80::1%4242]:80"}) {
            trace_recorder rec;
            auto r = run_dial(ioc, nettrace::dialer(), rec, address);
            BOOST_TEST((r.ec == nettrace::error::invalid_zone), address << ": " << r.ec.message());
            BOOST_TEST(rec.count("connect_start") == 0u);
        }
        error_code ec;
        BOOST_TEST(nettrace::parse_host_port("[fe80::1%ntlab0]:80", ec).has_value());
    });
    // Zones are interfaces of the namespace the caller is in: out here there
    // is no ntlab0.
    error_code ec;
    BOOST_TEST(!nettrace::parse_host_port("[fe80::1%ntlab0]:80", ec));
    BOOST_TEST((ec == nettrace::error::invalid_zone));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// RFC 6724 within a family, as c-ares gives it
//
// c-ares 1.18's ares_getaddrinfo sorts its answer (ares__sortaddrinfo,
// unless ARES_AI_NOSORT, which nettrace does not pass) by RFC 6724's
// destination rules 1, 2, 5, 6, 8, 9 and 10, finding each destination's
// source address with a connected UDP socket; nettrace keeps the order it is
// given (the static resolver's table order, c-ares' sorted order). With one
// source address per destination nothing of that shows on loopback; in the
// lab, several do.

namespace {
struct c_ares_built {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(nettrace::dns_resolver_available());
        if (!r) r.message() << "built without c-ares: skipped";
        return r;
    }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(rfc6724, *boost::unit_test::precondition(nettrace::testing::netlab_available{}) *
                                   boost::unit_test::precondition(c_ares_built{}))

BOOST_AUTO_TEST_CASE(c_ares_sorts_an_aaaa_answer_by_rfc_6724_and_the_dial_follows_it) {
    netlab lab;
    lab.add_address("2001:db8:6724::1/64");
    lab.add_address("fd00:6724::1/64");
    // A destination the kernel reaches from the ULA source: its label (1)
    // then does not match its source's (13).
    lab.ip("-6 route add 2001:db8:5::/64 dev lo src fd00:6724::1");
    const auto no_route = ip("2001:db8:dead::1"), ula = ip("fd00:6724::1"), mismatched = ip("2001:db8:5::1"),
               documentation = ip("2001:db8:6724::1"), loopback = ip("::1");
    // The order the server sends, which RFC 6724 reverses.
    const std::vector<asio::ip::address> sent{no_route, ula, mismatched, documentation, loopback};
    // Rule 1 (no source: no route) puts no_route last; rule 5 (labels
    // differ) puts mismatched after those whose labels match; rule 6
    // (precedence ::1 50, 2001:db8::/32 40, fc00::/7 3) orders the rest.
    const std::vector<asio::ip::address> sorted{loopback, documentation, ula, mismatched, no_route};
    lab.run([&] {
        asio::io_context ioc;
        nettrace::testing::fake_dns_server dns(ioc.get_executor(), loopback);  // the lab's ::1
        dns.add("order.test", nettrace::testing::query_type::aaaa, {.addresses = sent});
        nettrace::dns_resolver_options ro;
        ro.nameservers = {dns.address()};
        ro.use_hosts_file = false;
        ro.cache = false;
        ro.timeout = 1s;
        nettrace::dial_options o;
        o.resolver = nettrace::make_dns_resolver(ro);
        const nettrace::dialer d(o);

        trace_recorder rec;
        auto r = run_resolve(ioc, d, rec, "order.test");
        BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
        BOOST_TEST(r.addrs == sorted, boost::test_tools::per_element());
        const auto answers = rec.of("dns_answer");
        BOOST_REQUIRE(!answers.empty());
        bool saw_v6 = false;
        for (const auto& a : answers)
            if (!a.addrs.empty() && a.addrs[0].is_v6()) {
                saw_v6 = true;
                BOOST_TEST(a.addrs == sorted, boost::test_tools::per_element());
            }
        BOOST_TEST(saw_v6);
        BOOST_TEST(dns.queries("order.test", nettrace::testing::query_type::aaaa) == 1u);

        // The dial tries them in that order: ::1 and 2001:db8:6724::1 refuse
        // (nothing listens on the port there), the ULA one is live.
        nettrace::testing::lab_listener live(ioc.get_executor(), ula);
        trace_recorder drec;
        auto dialed = run_dial(ioc, d, drec, host_port("order.test", live.port()));
        BOOST_REQUIRE_MESSAGE(!dialed.ec, dialed.ec.message());
        drec.check_contract();
        BOOST_TEST(endpoints_of(drec.of("connect_start")) == (std::vector{loopback, documentation, ula}),
                   boost::test_tools::per_element());
        for (const auto& e : drec.of("connect_done"))
            if (e.attempt < 2) BOOST_TEST(e.error == system_error(ECONNREFUSED), e.error.message());
        BOOST_TEST(dialed.socket->remote_endpoint().address() == ula);

        // The same addresses from the static resolver stay as given: the
        // order above is c-ares', not nettrace's.
        trace_recorder srec;
        auto as_given = run_resolve(ioc, pinned("order.test", sent), srec, "order.test");
        BOOST_REQUIRE_MESSAGE(!as_given.ec, as_given.ec.message());
        BOOST_TEST(as_given.addrs == sent, boost::test_tools::per_element());
    });
}

BOOST_AUTO_TEST_SUITE_END()
