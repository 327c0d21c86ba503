// Real sockets on loopback: live, refused and black-holed peers. Exact timing
// lives in happy_eyeballs_test.cpp on a virtual clock; here bounds are
// generous (this machine is shared) and never decide correctness alone: the
// trace says which attempt won and why the others ended.
//
// Most cases dial from the loopback_dial fixture (an io_context and a
// recorder), or from live_ipv4 (the same with a live listener on
// 127.0.0.1, which race.test may be pinned to).
#define BOOST_TEST_MODULE dial
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>

#include "support/common.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <optional>

using nettrace::testing::trace_recorder;

namespace {

struct dial_result {
    error_code ec;
    std::optional<tcp::socket> socket;
    std::chrono::steady_clock::duration elapsed{};
};

// Runs one dial to completion on `ioc` with the as_tuple token, marking the
// recorder complete inside the completion handler.
dial_result run_dial(asio::io_context& ioc, const nettrace::dialer& d, trace_recorder& rec, const std::string& network,
                     const std::string& address) {
    dial_result r;
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto [ec, s] = co_await d.dial(rec.attach(), network, address, asio::as_tuple(asio::use_awaitable));
            rec.completed();
            r.elapsed = std::chrono::steady_clock::now() - start;
            r.ec = ec;
            if (!ec) r.socket.emplace(std::move(s));
            ioc.stop();  // listeners keep accepting: the io_context never runs out of work
        },
        asio::detached);
    ioc.run();
    ioc.restart();
    return r;
}

nettrace::dialer pinned(std::vector<asio::ip::address> addrs, nettrace::dial_options o = {}) {
    o.resolver = nettrace::make_static_resolver({{"race.test", std::move(addrs)}});
    return nettrace::dialer(o);
}

// An io_context and a recorder; dial() runs one traced dial on them.
struct loopback_dial {
    asio::io_context ioc;
    trace_recorder rec;

    dial_result dial(const nettrace::dialer& d, const std::string& address, const std::string& network = "tcp") {
        return run_dial(ioc, d, rec, network, address);
    }
};

// ... and a live listener on 127.0.0.1.
struct live_ipv4 : loopback_dial {
    nettrace::testing::live_listener live{ioc.get_executor(), v4};

    std::string literal() const { return host_port(v4, live.port()); }
    std::string race_test() const { return host_port("race.test", live.port()); }
};

// ... or two black holes, on 127.0.0.2 and 127.0.0.3 at one port, and the
// descriptor count a dial of them must leave behind.
struct two_black_holes : loopback_dial {
    nettrace::testing::black_hole first{v4_other};
    nettrace::testing::black_hole second{v4_third, first.port()};
    const std::size_t fds_before = descriptor_baseline(ioc);

    std::string race_test() const { return host_port("race.test", first.port()); }
};

}  // namespace

// ---------------------------------------------------------------------------
// One address

BOOST_AUTO_TEST_SUITE(one_address)

BOOST_FIXTURE_TEST_CASE(literal_address_connects_without_dns_hooks, live_ipv4) {
    auto r = dial(nettrace::dialer(), literal());
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(r.socket->remote_endpoint().port() == live.port());
    BOOST_TEST(rec.count("dns_start") == 0u);
    BOOST_TEST(rec.count("connect_start") == 1u);
    BOOST_TEST(rec.of("connect_done").at(0).outcome == nettrace::connect_outcome::won);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(socket_uses_the_callers_executor, live_ipv4) {
    auto r = dial(nettrace::dialer(), literal());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST((r.socket->get_executor() == asio::any_io_executor(ioc.get_executor())));
}

BOOST_FIXTURE_TEST_CASE(refused_port_fails_with_go_style_message, loopback_dial) {
    nettrace::testing::refused_port refused(v4);
    auto r = dial(nettrace::dialer(), host_port(v4, refused.port()));
    BOOST_TEST(r.ec == asio::error::connection_refused);
    BOOST_TEST(!r.socket);
    const auto done = rec.of("dial_done").at(0);
    BOOST_TEST(done.description == "dial tcp " + host_port(v4, refused.port()) + ": connect " +
                                       host_port(v4, refused.port()) + ": " + r.ec.message());
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// The race between addresses

BOOST_AUTO_TEST_SUITE(race)

BOOST_FIXTURE_TEST_CASE(refused_first_address_starts_the_next_at_once, live_ipv4) {
    nettrace::testing::refused_port refused(v4_other, live.port());
    nettrace::dial_options o;
    o.attempt_delay = 2s;  // waiting for the delay would take 2 s
    auto r = dial(pinned({v4_other, v4}, o), race_test());
    BOOST_TEST(!r.ec, r.ec.message());
    const auto dones = rec.of("connect_done");
    BOOST_REQUIRE(dones.size() == 2u);
    BOOST_TEST(dones[0].outcome == nettrace::connect_outcome::failed);
    BOOST_TEST(dones[0].error == asio::error::connection_refused);
    BOOST_TEST(dones[1].outcome == nettrace::connect_outcome::won);
    BOOST_TEST(ms(r.elapsed) < 1000.0, "took " << ms(r.elapsed) << " ms");
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(black_holed_first_address_loses_to_the_next_after_the_attempt_delay, live_ipv4) {
    nettrace::testing::black_hole hole(v4_other, live.port());
    auto r = dial(pinned({v4_other, v4}), race_test());
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    const auto starts = rec.of("connect_start");
    BOOST_REQUIRE(starts.size() == 2u);
    // The recorder stamps a hook when it runs, after the racer armed the
    // 250 ms timer; under a sanitizer that lag is milliseconds, so the gap
    // between two stamps gets a generous bound, not the exact delay.
    const double gap = ms(starts[1].at - starts[0].at);
    BOOST_TEST(gap >= 200.0, "second attempt after " << gap << " ms");
    BOOST_TEST(gap < 1500.0, "second attempt after " << gap << " ms");
    const auto dones = rec.of("connect_done");
    BOOST_TEST(dones.at(0).kind == "connect_done");
    for (auto& d : dones)
        BOOST_TEST((d.attempt == 1 ? d.outcome == nettrace::connect_outcome::won
                                   : d.outcome == nettrace::connect_outcome::superseded));
    rec.check_contract();
}

// Go and hyper-util are serial within a family: there they wait for the
// kernel's SYN timeout. RFC 8305 races the whole list.
BOOST_FIXTURE_TEST_CASE(two_black_holes_then_live_in_one_family_connect_after_two_delays, live_ipv4) {
    nettrace::testing::black_hole hole1(v4_other, live.port());
    nettrace::testing::black_hole hole2(v4_third, live.port());
    auto r = dial(pinned({v4_other, v4_third, v4}), race_test());
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    BOOST_TEST(rec.count("connect_start") == 3u);
    BOOST_TEST(ms(r.elapsed) >= 499.0, "connected after " << ms(r.elapsed) << " ms");
    BOOST_TEST(ms(r.elapsed) < 2500.0, "connected after " << ms(r.elapsed) << " ms");
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(black_holed_ipv6_loses_to_live_ipv4_on_the_same_port, loopback_dial,
                        *boost::unit_test::precondition(ipv6_available())) {
    const auto port = nettrace::testing::free_dual_stack_port();
    nettrace::testing::live_listener live(ioc.get_executor(), v4, port);
    nettrace::testing::black_hole hole(v6, port);
    auto r = dial(pinned({v4, v6}), host_port("race.test", port));
    BOOST_TEST(!r.ec, r.ec.message());
    const auto starts = rec.of("connect_start");
    BOOST_REQUIRE(starts.size() == 2u);
    // IPv6 goes first although the table lists IPv4 first (prefer IPv6).
    BOOST_TEST(starts[0].endpoint.address() == v6);
    BOOST_TEST(starts[1].endpoint.address() == v4);
    const double gap = ms(starts[1].at - starts[0].at);
    BOOST_TEST(gap >= 200.0, "second attempt after " << gap << " ms");
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(local_bind_with_only_ipv4_fails_ipv6_attempts_at_once, loopback_dial,
                        *boost::unit_test::precondition(ipv6_available())) {
    const auto port = nettrace::testing::free_dual_stack_port();
    nettrace::testing::live_listener live(ioc.get_executor(), v4, port);
    nettrace::dial_options o;
    o.local_ipv4 = asio::ip::make_address_v4("127.0.0.1");
    o.attempt_delay = 2s;
    auto r = dial(pinned({v6, v4}, o), host_port("race.test", port));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(rec.of("connect_done").at(0).error == nettrace::error::no_local_address);
    BOOST_TEST(ms(r.elapsed) < 1000.0);
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Timeouts and cancellation

BOOST_AUTO_TEST_SUITE(timeouts_and_cancellation)

BOOST_FIXTURE_TEST_CASE(all_black_holed_fails_at_the_timeout_with_every_attempt_closed, two_black_holes) {
    nettrace::dial_options o;
    o.timeout = 400ms;
    o.attempt_delay = 100ms;
    auto r = dial(pinned({v4_other, v4_third}, o), race_test());
    BOOST_TEST(r.ec == nettrace::error::timeout);
    BOOST_TEST(ms(r.elapsed) >= 399.0);
    BOOST_TEST(ms(r.elapsed) < 2000.0);
    const auto dones = rec.of("connect_done");
    BOOST_TEST(dones.size() == 2u);
    for (auto& d : dones) BOOST_TEST((d.outcome == nettrace::connect_outcome::cancelled));
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(cancellation_mid_race_completes_promptly_and_closes_everything, two_black_holes) {
    nettrace::dial_options o;
    o.attempt_delay = 50ms;
    auto d = pinned({v4_other, v4_third}, o);
    timed_cancellation cancel(ioc);
    error_code result;
    steady::time_point completed_at;
    d.dial(ioc.get_executor(), rec.attach(), "tcp", race_test(), cancel.handler(rec, completed_at, result));
    // Cancel once the second attempt is under way: between attempts, both in flight.
    cancel.emit_after(120ms);
    ioc.run();
    BOOST_TEST(result == asio::error::operation_aborted);
    BOOST_TEST(rec.count("connect_start") == 2u);
    BOOST_TEST(ms(completed_at - cancel.emitted_at()) < 100.0);
    for (auto& e : rec.of("connect_done")) BOOST_TEST((e.outcome == nettrace::connect_outcome::cancelled));
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before);
    rec.check_contract();
}

BOOST_AUTO_TEST_CASE(cancellation_emitted_right_after_initiation_completes_once) {
    asio::io_context ioc;
    nettrace::testing::black_hole hole(v4);
    for (auto type :
         {asio::cancellation_type::terminal, asio::cancellation_type::partial, asio::cancellation_type::total}) {
        asio::cancellation_signal signal;
        int calls = 0;
        error_code result;
        nettrace::dial(ioc.get_executor(), {}, "tcp", host_port(v4, hole.port()),
                       asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket) {
                           ++calls;
                           result = ec;
                       }));
        signal.emit(type);
        ioc.restart();
        ioc.run();
        BOOST_TEST(calls == 1);
        BOOST_TEST(result == asio::error::operation_aborted);
    }
    // A cancellation for an operation that cannot start either.
    asio::cancellation_signal signal;
    int calls = 0;
    nettrace::dial(ioc.get_executor(), {}, "tcp4", "[::1]:80",
                   asio::bind_cancellation_slot(signal.slot(), [&](error_code, tcp::socket) { ++calls; }));
    signal.emit(asio::cancellation_type::terminal);
    ioc.restart();
    ioc.run();
    BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(cancelling_from_inside_a_hook_completes_promptly) {
    asio::io_context ioc;
    nettrace::testing::black_hole hole(v4);
    asio::cancellation_signal signal;
    nettrace::client_trace t;
    t.connect_start = [&](const nettrace::connect_start_info&) { signal.emit(asio::cancellation_type::terminal); };
    error_code result;
    const auto start = std::chrono::steady_clock::now();
    nettrace::dial(ioc.get_executor(), nettrace::with_client_trace({}, t), "tcp", host_port(v4, hole.port()),
                   asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket) { result = ec; }));
    ioc.run_for(5s);
    BOOST_TEST(result == asio::error::operation_aborted);
    BOOST_TEST(ms(std::chrono::steady_clock::now() - start) < 1000.0);
}

// With dial_options::single_threaded the caller promises that one thread
// runs the io_context (here: one made with concurrency hint 1), and dials
// make no strand: the race, the trace contract and cancellation from inside
// a hook must work the same without it.
BOOST_AUTO_TEST_CASE(single_threaded_io_context_races_and_keeps_the_trace_contract) {
    asio::io_context ioc(1);
    nettrace::testing::live_listener live(ioc.get_executor(), v4);
    nettrace::testing::black_hole hole(v4_other, live.port());
    nettrace::dial_options o;
    o.attempt_delay = 50ms;
    o.single_threaded = true;
    trace_recorder rec;
    auto r = run_dial(ioc, pinned({v4_other, v4}, o), rec, "tcp", host_port("race.test", live.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    BOOST_TEST(rec.count("connect_start") == 2u);
    rec.check_contract();

    asio::cancellation_signal signal;
    nettrace::client_trace t;
    t.connect_start = [&](const nettrace::connect_start_info&) { signal.emit(asio::cancellation_type::terminal); };
    trace_recorder cancelled;
    int calls = 0;
    error_code result;
    pinned({v4_other, v4}, o)
        .dial(ioc.get_executor(), nettrace::with_client_trace(cancelled.attach(), t), "tcp",
              host_port("race.test", live.port()),
              asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket) {
                  cancelled.completed();
                  ++calls;
                  result = ec;
                  ioc.stop();
              }));
    BOOST_TEST(calls == 0);  // never inside the initiating function
    ioc.run_for(5s);
    BOOST_TEST(calls == 1);
    BOOST_TEST(result == asio::error::operation_aborted, result.message());
    BOOST_TEST(cancelled.count("connect_start") == 1u);
    cancelled.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Input, names and errors

BOOST_AUTO_TEST_SUITE(input_names_and_errors)

BOOST_AUTO_TEST_CASE(bad_input_fails_before_any_dns_or_connect) {
    struct row {
        const char* network;
        const char* address;
        nettrace::error expected;
    };
    const row rows[] = {
        {"udp", "127.0.0.1:80", nettrace::error::unknown_network},
        {"tcp", "example.com", nettrace::error::missing_port},
        {"tcp", "example.com:99999", nettrace::error::invalid_port},
        {"tcp", "[::1:80", nettrace::error::unclosed_bracket},
        {"tcp", ":80", nettrace::error::missing_host},
        {"tcp4", "[::1]:80", nettrace::error::no_suitable_address},
        {"tcp6", "127.0.0.1:80", nettrace::error::no_suitable_address},
    };
    for (const auto& r : rows) {
        asio::io_context ioc;
        trace_recorder rec;
        auto result = run_dial(ioc, nettrace::dialer(), rec, r.network, r.address);
        BOOST_TEST(result.ec == r.expected, r.network << " " << r.address << ": " << result.ec.message());
        BOOST_TEST(rec.count("dns_start") == 0u);
        BOOST_TEST(rec.count("connect_start") == 0u);
        BOOST_TEST(rec.of("dial_done").at(0).description.find(r.address) != std::string::npos);
        rec.check_contract();
    }
}

BOOST_FIXTURE_TEST_CASE(static_resolver_reports_both_families_and_ipv6_first, loopback_dial) {
    auto d = pinned({v4, v6});
    std::vector<asio::ip::address> got;
    asio::co_spawn(
        ioc, [&]() -> asio::awaitable<void> { got = co_await d.resolve(rec.attach(), "RACE.test"); }, asio::detached);
    ioc.run();
    BOOST_TEST(got == (std::vector<asio::ip::address>{v6, v4}));
    BOOST_TEST(rec.count("dns_start") == 1u);
    BOOST_TEST(rec.count("dns_answer") == 2u);
    BOOST_TEST(rec.of("dns_done").at(0).addrs.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(unknown_host_in_static_table_names_the_problem, loopback_dial) {
    auto r = dial(pinned({v4}), "other.test:80");
    BOOST_TEST(r.ec == nettrace::error::no_resolver);
    BOOST_TEST(rec.of("dns_done").at(0).error == nettrace::error::no_resolver);
    BOOST_TEST(rec.of("dial_done").at(0).description.find("other.test:80") != std::string::npos);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(system_resolver_dials_localhost_from_the_hosts_file, live_ipv4) {
    nettrace::dial_options o;
    o.preference = nettrace::family_preference::ipv4_only;
    o.resolver = nettrace::make_system_resolver();
    auto r = dial(nettrace::dialer(o), host_port("localhost", live.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_TEST(rec.count("dns_start") == 1u);
    BOOST_TEST(rec.of("dns_done").at(0).addrs.size() >= 1u);
    rec.check_contract();
}

// getaddrinfo takes inet_aton's shorthands for addresses; nettrace's parser
// does not, and neither does DNS, so the system resolver refuses them too.
BOOST_AUTO_TEST_CASE(system_resolver_refuses_numeric_looking_names) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_system_resolver();
    const nettrace::dialer d(o);
    for (const char* host : {"127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "127.0.0.1."}) {
        asio::io_context ioc;
        error_code result;
        std::vector<asio::ip::address> addrs;
        d.resolve(ioc.get_executor(), {}, host, [&](error_code ec, std::vector<asio::ip::address> a) {
            result = ec;
            addrs = std::move(a);
        });
        ioc.run();
        BOOST_TEST(result == nettrace::error::host_not_found, host << ": " << result.message());
        BOOST_TEST(addrs.empty(), host);
    }
}

BOOST_AUTO_TEST_CASE(timeout_compares_equal_to_the_portable_condition) {
    BOOST_TEST((make_error_code(nettrace::error::timeout) == boost::system::errc::timed_out));
    BOOST_TEST((make_error_code(nettrace::error::missing_port) == boost::system::errc::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// The DNS side, driven by a scripted resolver

namespace {

// A resolver scripted per family: answers after a delay on an Asio timer,
// or never (until cancelled), to drive the DNS side of the dialer.
class scripted_resolver final : public nettrace::resolver {
public:
    struct script {
        std::optional<std::chrono::milliseconds> delay;  // nullopt: never answers
        std::vector<asio::ip::address> addrs;
    };
    scripted_resolver(script ipv6, script ipv4) : scripts_{std::move(ipv6), std::move(ipv4)} {}
    int cancels = 0;

    std::shared_ptr<nettrace::pending_lookup> lookup(const asio::any_io_executor& ex, std::string_view,
                                                     nettrace::address_family family, callback done) override {
        const script& s = scripts_[family == nettrace::address_family::ipv6 ? 0 : 1];
        auto l = std::make_shared<lookup_op>(ex, std::move(done), this);
        l->timer.expires_after(s.delay.value_or(std::chrono::hours(1)));
        nettrace::lookup_result r;
        r.addrs = s.addrs;
        r.source = nettrace::dns_source::dns;
        if (r.addrs.empty()) r.error = nettrace::error::no_addresses;
        l->timer.async_wait([l, r](error_code ec) mutable {
            if (ec) {
                r.addrs.clear();
                r.error = asio::error::operation_aborted;
            }
            l->done(std::move(r));
        });
        return l;
    }

private:
    struct lookup_op final : nettrace::pending_lookup {
        lookup_op(const asio::any_io_executor& ex, callback d, scripted_resolver* o)
            : timer(ex), done(std::move(d)), owner(o) {}
        void cancel() noexcept override {
            ++owner->cancels;
            timer.cancel();
        }
        asio::steady_timer timer;
        callback done;
        scripted_resolver* owner;
    };
    script scripts_[2];
};

// A dialer whose resolver never answers either family.
struct unanswered_dns : loopback_dial {
    std::shared_ptr<scripted_resolver> never = std::make_shared<scripted_resolver>(
        scripted_resolver::script{std::nullopt, {v6}}, scripted_resolver::script{std::nullopt, {v4}});

    nettrace::dialer dialer(nettrace::dial_options o = {}) const {
        o.resolver = never;
        return nettrace::dialer(o);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(scripted_dns)

// RFC 8305 section 3 on the real driver: AAAA never answers, A does at once;
// IPv4 connects after the 50 ms resolution delay, not at a DNS timeout, and
// the abandoned AAAA query still gets its dns_answer and dns_done.
BOOST_FIXTURE_TEST_CASE(unanswered_aaaa_delays_ipv4_only_by_the_resolution_delay, live_ipv4) {
    auto r6 = std::make_shared<scripted_resolver>(scripted_resolver::script{std::nullopt, {v6}},
                                                  scripted_resolver::script{0ms, {v4}});
    nettrace::dial_options o;
    o.resolver = r6;
    auto r = dial(nettrace::dialer(o), host_port("slow6.test", live.port()));
    BOOST_TEST(!r.ec, r.ec.message());
    const auto starts = rec.of("connect_start");
    BOOST_REQUIRE(starts.size() == 1u);
    BOOST_TEST(starts[0].endpoint.address() == v4);
    const double wait = ms(starts[0].at - rec.of("dns_answer").at(0).at);
    BOOST_TEST(wait >= 49.0, "IPv4 started " << wait << " ms after its answer");
    BOOST_TEST(ms(r.elapsed) < 1000.0);
    BOOST_TEST(r6->cancels == 1);
    const auto answers = rec.of("dns_answer");
    BOOST_REQUIRE(answers.size() == 2u);
    BOOST_TEST(answers[1].error == asio::error::operation_aborted);
    BOOST_TEST(rec.of("dns_done").at(0).addrs == std::vector<asio::ip::address>{v4});
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(cancellation_during_dns_completes_promptly, unanswered_dns) {
    const auto d = dialer();
    asio::cancellation_signal signal;
    error_code result;
    d.dial(ioc.get_executor(), rec.attach(), "tcp", "never.test:80",
           asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket) {
               rec.completed();
               result = ec;
           }));
    asio::post(ioc, [&] { signal.emit(asio::cancellation_type::terminal); });
    const auto start = std::chrono::steady_clock::now();
    ioc.run();
    BOOST_TEST(result == asio::error::operation_aborted);
    BOOST_TEST(ms(std::chrono::steady_clock::now() - start) < 500.0);
    BOOST_TEST(never->cancels == 2);
    BOOST_TEST(rec.count("connect_start") == 0u);
    rec.check_contract();
}

BOOST_FIXTURE_TEST_CASE(timeout_during_dns_fails_with_timeout, unanswered_dns) {
    nettrace::dial_options o;
    o.timeout = 100ms;
    auto r = dial(dialer(o), "never.test:80");
    BOOST_TEST(r.ec == nettrace::error::timeout);
    BOOST_TEST(ms(r.elapsed) >= 99.0);
    BOOST_TEST(ms(r.elapsed) < 1000.0);
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Completion tokens and handlers

BOOST_AUTO_TEST_SUITE(completion)

BOOST_AUTO_TEST_CASE(deferred_token_throws_system_error_from_a_coroutine) {
    asio::io_context ioc;
    nettrace::testing::refused_port refused(v4);
    std::optional<boost::system::system_error> caught;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            try {
                co_await nettrace::dial({}, "tcp", host_port(v4, refused.port()));
            } catch (const boost::system::system_error& e) {
                caught = e;
            }
        },
        asio::detached);
    ioc.run();
    BOOST_REQUIRE(caught);
    BOOST_TEST(caught->code() == asio::error::connection_refused);
}

BOOST_FIXTURE_TEST_CASE(a_callback_and_use_future_both_get_a_connected_socket, live_ipv4) {
    // A callback needs an executor: the overload taking one.
    bool called = false;
    nettrace::dial(ioc.get_executor(), {}, "tcp", literal(), [&](error_code ec, tcp::socket s) {
        called = !ec && s.is_open();
        ioc.stop();
    });
    ioc.run();
    BOOST_TEST(called);

    ioc.restart();
    auto fut = nettrace::dial(ioc.get_executor(), {}, "tcp", literal(), asio::use_future);
    while (fut.wait_for(0s) != std::future_status::ready) ioc.run_one();
    BOOST_TEST(fut.get().is_open());
}

// Asio's rule: a completion handler never runs inside the initiating
// function, even when the operation fails at once.
BOOST_AUTO_TEST_CASE(handler_never_runs_inside_the_initiating_function) {
    asio::io_context ioc;
    bool returned = false, called_early = false, called = false;
    asio::post(ioc, [&] {
        nettrace::dial(ioc.get_executor(), {}, "tcp", "bogus", [&](error_code ec, tcp::socket) {
            called_early = !returned;
            called = ec == nettrace::error::missing_port;
        });
        returned = true;
    });
    ioc.run();
    BOOST_TEST(called);
    BOOST_TEST(!called_early);
}

BOOST_AUTO_TEST_CASE(a_long_loop_of_failing_dials_does_not_grow_the_stack) {
    asio::io_context ioc;
    // Bad input fails synchronously inside the op: 20,000 of them in a row
    // would overflow the stack if each completed inline.
    int completed = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 20000; ++i) {
                auto [ec, s] = co_await nettrace::dial({}, "tcp", "no-port", asio::as_tuple(asio::deferred));
                completed += ec == nettrace::error::missing_port;
            }
        },
        asio::detached);
    ioc.run();
    BOOST_TEST(completed == 20000);
}

BOOST_AUTO_TEST_CASE(dial_report_gives_every_attempt_to_a_caller_without_a_trace) {
    asio::io_context ioc;
    nettrace::testing::refused_port r1(v4_other);
    nettrace::testing::refused_port r2(v4_third, r1.port());
    nettrace::dial_report report;
    std::optional<boost::system::system_error> caught;
    auto d = pinned({v4_other, v4_third});
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            try {
                co_await d.dial(nettrace::with_dial_report({}, report), "tcp", host_port("race.test", r1.port()));
            } catch (const boost::system::system_error& e) {
                caught = e;
            }
        },
        asio::detached);
    ioc.run();
    BOOST_REQUIRE(caught);
    BOOST_TEST(report.error == caught->code());
    BOOST_REQUIRE(report.attempts.size() == 2u);
    BOOST_TEST(report.attempts[1].endpoint.address() == v4_third);
    BOOST_TEST(report.description.find(host_port("race.test", r1.port())) != std::string::npos);
    BOOST_TEST(report.description.find("127.0.0.3") != std::string::npos, report.description);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Descriptors

BOOST_AUTO_TEST_SUITE(descriptors)

BOOST_AUTO_TEST_CASE(many_concurrent_dials_leave_no_descriptor_behind,
                     *boost::unit_test::precondition(ipv6_available())) {
    asio::io_context ioc;
    const auto port = nettrace::testing::free_dual_stack_port();
    nettrace::testing::live_listener live4(ioc.get_executor(), v4, port);
    nettrace::testing::live_listener live6(ioc.get_executor(), v6, port);
    const auto fds_before = nettrace::testing::open_fd_count();
    auto d = pinned({v6, v4});
    int ok = 0;
    {
        std::vector<tcp::socket> kept;
        for (int i = 0; i < 10; ++i)
            d.dial(ioc.get_executor(), {}, "tcp", host_port("race.test", port), [&](error_code ec, tcp::socket s) {
                ok += !ec;
                kept.push_back(std::move(s));
                if (kept.size() == 10) ioc.stop();
            });
        ioc.restart();
        ioc.run();
        // Let the listeners take every connection off their queues.
        ioc.restart();
        while (live4.accepted() + live6.accepted() < 10) ioc.run_one();
        BOOST_TEST(ok == 10);
        BOOST_TEST(live6.accepted() == 10u);  // IPv6 preferred and live: IPv4 never needed
        BOOST_TEST(nettrace::testing::open_fd_count() == fds_before + 20);
    }
    live4.connections().clear();
    live6.connections().clear();
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before);
}

BOOST_AUTO_TEST_CASE(destroying_the_io_context_with_dials_in_flight_is_safe) {
    nettrace::testing::black_hole hole(v4);
    const auto fds_before = nettrace::testing::open_fd_count();
    int calls = 0;
    {
        asio::io_context ioc;
        for (int i = 0; i < 5; ++i)
            nettrace::dial(ioc.get_executor(), {}, "tcp", host_port(v4, hole.port()),
                           [&](error_code, tcp::socket) { ++calls; });
        ioc.run_for(50ms);  // the connects are in flight, hanging on the black hole
    }
    BOOST_TEST(calls == 0);  // abandoned handlers are destroyed, not invoked
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Durations at the edge of what std::chrono can hold: "very long" stays very
// long, and never wraps into a deadline in the past or signed overflow.

BOOST_AUTO_TEST_SUITE(extreme_durations)

BOOST_AUTO_TEST_CASE(extreme_durations_are_clamped_or_saturate) {
    using std::chrono::milliseconds;
    struct row {
        const char* what;
        nettrace::dial_options o;
        milliseconds attempt_delay;  // as options() reports it
    };
    nettrace::dial_options longest_timeout, ns_max_timeout, min_timeout, max_delay, min_delay, max_resolution;
    longest_timeout.timeout = milliseconds::max();
    ns_max_timeout.timeout = std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds::max());
    min_timeout.timeout = milliseconds::min();
    max_delay.attempt_delay = milliseconds::max();
    min_delay.attempt_delay = milliseconds::min();
    max_resolution.resolution_delay = milliseconds::max();
    const row rows[] = {
        {"timeout = milliseconds::max()", longest_timeout, 250ms},
        {"timeout = nanoseconds::max() in ms", ns_max_timeout, 250ms},
        {"timeout = milliseconds::min()", min_timeout, 250ms},
        {"attempt_delay = milliseconds::max()", max_delay, nettrace::max_attempt_delay},
        {"attempt_delay = milliseconds::min()", min_delay, nettrace::min_attempt_delay},
        {"resolution_delay = milliseconds::max()", max_resolution, 250ms},
    };
    nettrace::testing::refused_port refused(v4);
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.what) {
            const nettrace::dialer d = pinned({v4}, r.o);
            BOOST_TEST(d.options().attempt_delay.count() == r.attempt_delay.count());
            BOOST_TEST(d.options().timeout.count() >= 0);
            // A refused port fails with the refusal, never with a timeout
            // that a wrapped deadline would fire at once.
            asio::io_context ioc;
            trace_recorder rec;
            const auto res = run_dial(ioc, d, rec, "tcp", host_port("race.test", refused.port()));
            BOOST_TEST(res.ec == asio::error::connection_refused, res.ec.message());
            rec.check_contract();
        }
    }
}

// An attempt delay the clock cannot hold once started the next attempt at
// once; clamped to 2 s, a black hole holds the live address back that long.
BOOST_FIXTURE_TEST_CASE(the_longest_attempt_delay_is_two_seconds, live_ipv4) {
    nettrace::testing::black_hole hole(v4_other, live.port());
    nettrace::dial_options o;
    o.attempt_delay = std::chrono::milliseconds::max();
    auto r = dial(pinned({v4_other, v4}, o), race_test());
    BOOST_TEST(!r.ec, r.ec.message());
    const auto starts = rec.of("connect_start");
    BOOST_REQUIRE(starts.size() == 2u);
    const double gap = ms(starts[1].at - starts[0].at);
    BOOST_TEST(gap >= 1999.0, "second attempt after " << gap << " ms");
    BOOST_TEST(gap < 3500.0, "second attempt after " << gap << " ms");
    rec.check_contract();
}

// A timeout whose nanoseconds wrap to a tiny positive value (18,446,744,073,710
// ms is 2^64 ns + 0.45 ms) must not fire at once: it saturates to "never",
// and only the caller's cancellation ends the dial of a black hole.
BOOST_FIXTURE_TEST_CASE(a_timeout_whose_nanoseconds_would_wrap_never_fires, loopback_dial) {
    nettrace::testing::black_hole hole(v4_other);
    nettrace::dial_options o;
    o.timeout = std::chrono::milliseconds(18446744073710LL);
    const nettrace::dialer d = pinned({v4_other}, o);
    timed_cancellation cancel(ioc);
    error_code result;
    d.dial(ioc.get_executor(), rec.attach(), "tcp", host_port("race.test", hole.port()),
           asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, tcp::socket) {
               rec.completed();
               result = ec;
           }));
    cancel.emit_after(300ms);
    ioc.run_for(10s);
    BOOST_TEST(result == asio::error::operation_aborted, result.message());
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()
