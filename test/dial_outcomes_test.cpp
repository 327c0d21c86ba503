// dial_outcomes_test.cpp — the dialer, on real loopback sockets, ends
// every random fault schedule as its peers and its options say.
//
// Live, refused and black-holed peers on 127.0.0.x and ::1, all on one port;
// random delays, races, caps, timeouts and cancellations (by a timer, right
// after initiation, from inside connect_start), traced. Every schedule must
// complete once, keep the trace contract, connect to a live peer or fail
// with the error that ended it (timeout, operation_aborted after a cancel,
// connection_refused when every peer refused), and leak no descriptor.
//
// A failing run prints its seed; test/support/fault_schedules.hpp says how
// to replay it.
#define BOOST_TEST_MODULE dial_outcomes
#include <boost/test/unit_test.hpp>

#include "support/common.hpp"
#include "support/fault_schedules.hpp"
#include "support/trace_recorder.hpp"

#include <nettrace/nettrace.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace {

using nettrace::connect_outcome;
using nettrace::family_preference;
using namespace nettrace::testing;  // the peers, the recorder, fault_schedules.hpp

// Live, refused and black-holed peers, all on one port.
struct peer_set {
    std::vector<std::unique_ptr<nettrace::testing::live_listener>> live;
    std::vector<std::unique_ptr<nettrace::testing::refused_port>> refused;
    std::vector<std::unique_ptr<nettrace::testing::black_hole>> holes;
    unsigned short port = 0;

    void clear() {
        live.clear();
        refused.clear();
        holes.clear();
        port = 0;
    }

    // Binds every endpoint on one port: the first picks it, the others
    // follow; a port taken on another address starts over.
    bool create(const asio::any_io_executor& ex, const std::vector<real_endpoint>& eps) {
        for (int tries = 0; tries < 50; ++tries) {
            clear();
            try {
                for (const auto& e : eps) {
                    switch (e.kind) {
                        case real_peer::live:
                            live.push_back(std::make_unique<nettrace::testing::live_listener>(ex, e.addr, port));
                            if (!port) port = live.back()->port();
                            break;
                        case real_peer::refused:
                            refused.push_back(std::make_unique<nettrace::testing::refused_port>(e.addr, port));
                            if (!port) port = refused.back()->port();
                            break;
                        case real_peer::hole:
                            holes.push_back(std::make_unique<nettrace::testing::black_hole>(e.addr, port));
                            if (!port) port = holes.back()->port();
                            break;
                    }
                }
                return true;
            } catch (const std::exception&) {}
        }
        clear();
        return false;
    }
};

enum class real_cancel { none, timer, at_once, in_connect_start };
const char* name(real_cancel c) {  // for a failing schedule's printout
    static constexpr const char* names[] = {"none", "timer", "right after initiation", "inside connect_start"};
    return names[static_cast<int>(c)];
}

struct real_schedule {
    std::uint64_t seed = 0;
    std::vector<real_endpoint> eps;
    nettrace::dial_options options;
    real_cancel cancel = real_cancel::none;
    long cancel_ms = 0;              // timer
    std::size_t cancel_attempt = 0;  // in_connect_start
    asio::cancellation_type cancel_type = asio::cancellation_type::terminal;
    bool stop_timer_on_completion = false;  // else the cancel fires after the dial completed, too
};

std::ostream& operator<<(std::ostream& os, const real_schedule& s) {
    os << "seed " << s.seed << ": attempt_delay=" << s.options.attempt_delay.count()
       << " timeout=" << s.options.timeout.count() << " race=" << s.options.race
       << " max_concurrent=" << s.options.max_concurrent_attempts << " preference=" << int(s.options.preference)
       << " cancel=" << name(s.cancel);
    if (s.cancel == real_cancel::timer) os << "@" << s.cancel_ms << "ms";
    if (s.cancel == real_cancel::in_connect_start) os << "#" << s.cancel_attempt;
    os << " type=" << int(s.cancel_type) << "\n  peers:";
    for (const auto& e : s.eps) os << " " << e.addr << "=" << name(e.kind);
    return os;
}

real_schedule random_real_schedule(std::uint64_t seed, bool have_ipv6) {
    rng r(seed);
    real_schedule s;
    s.seed = seed;
    const long n = r.range(1, 6);
    std::set<std::string> used;
    bool v6_used = false;
    while (long(s.eps.size()) < n) {
        asio::ip::address a;
        if (have_ipv6 && !v6_used && r.chance(0.25)) {
            a = asio::ip::address_v6::loopback();
            v6_used = true;
        } else {
            a = asio::ip::make_address("127.0.0." + std::to_string(r.range(1, 250)));
            if (!used.insert(a.to_string()).second) continue;
        }
        s.eps.push_back({a, r.pick(std::vector{real_peer::live, real_peer::refused, real_peer::hole})});
    }
    s.options.attempt_delay = std::chrono::milliseconds(r.range(10, 100));
    s.options.race = r.chance(0.85);
    s.options.max_concurrent_attempts = r.chance(0.7) ? 0u : unsigned(r.range(1, 2));
    s.options.preference = r.chance(0.5) ? family_preference::prefer_ipv6 : family_preference::prefer_ipv4;
    if (r.chance(0.5)) s.options.timeout = std::chrono::milliseconds(r.range(20, 250));
    const long roll = r.range(0, 99);
    s.cancel = roll < 40   ? real_cancel::none
               : roll < 75 ? real_cancel::timer
               : roll < 85 ? real_cancel::at_once
                           : real_cancel::in_connect_start;
    s.cancel_ms = r.range(0, 200);
    s.cancel_attempt = std::size_t(r.range(0, 2));
    s.cancel_type = r.pick(std::vector{asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                       asio::cancellation_type::total});
    s.stop_timer_on_completion = r.chance(0.5);
    // A black hole holds a connect until the kernel gives up (minutes): a
    // schedule with one must end by a timeout or a cancel that surely comes.
    const bool hole = std::any_of(s.eps.begin(), s.eps.end(), [](const auto& e) { return e.kind == real_peer::hole; });
    const bool sure_cancel = s.cancel == real_cancel::timer || s.cancel == real_cancel::at_once;
    if (hole && !sure_cancel && s.options.timeout.count() == 0)
        s.options.timeout = std::chrono::milliseconds(r.range(20, 250));
    return s;
}

struct real_outcome {
    int calls = 0;
    error_code ec;
    std::optional<tcp::socket> socket;
    bool cancel_emitted_before_completion = false;
    steady::duration elapsed{};
};

error_code run_real_schedule(const real_schedule& s) {
    asio::io_context ioc;
    const auto fds_before = nettrace::testing::descriptor_baseline(ioc);
    real_outcome out;
    trace_recorder rec;
    {
        auto peers = std::make_unique<peer_set>();
        BOOST_TEST_REQUIRE(peers->create(ioc.get_executor(), s.eps), "could not bind every peer on one port");

        std::vector<asio::ip::address> addrs;
        for (const auto& e : s.eps) addrs.push_back(e.addr);
        nettrace::dial_options o = s.options;
        o.resolver = nettrace::make_static_resolver({{"fault.test", addrs}});
        const nettrace::dialer d(o);

        asio::cancellation_signal signal;
        bool emitted = false, completed = false, timer_done = s.cancel != real_cancel::timer;
        const auto emit = [&] {
            emitted = true;
            signal.emit(s.cancel_type);
        };
        // Tear the peers down once the dial and the cancel timer are done:
        // then nothing is left for the io_context, and run() returns.
        const auto maybe_teardown = [&] {
            if (completed && timer_done) asio::post(ioc, [&] { peers.reset(); });
        };
        asio::steady_timer cancel_timer(ioc);

        nettrace::client_trace hooks;
        if (s.cancel == real_cancel::in_connect_start)
            hooks.connect_start = [&](const nettrace::connect_start_info& i) {
                if (i.attempt == s.cancel_attempt) emit();
            };
        const auto ctx = nettrace::with_client_trace(rec.attach(), hooks);
        const auto start = steady::now();
        d.dial(ioc.get_executor(), ctx, "tcp", "fault.test:" + std::to_string(peers->port),
               asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, tcp::socket sock) {
                   rec.completed();
                   ++out.calls;
                   out.elapsed = steady::now() - start;
                   out.ec = ec;
                   out.cancel_emitted_before_completion = emitted;
                   if (sock.is_open()) out.socket.emplace(std::move(sock));
                   completed = true;
                   if (s.stop_timer_on_completion) cancel_timer.cancel();
                   maybe_teardown();
               }));
        if (s.cancel == real_cancel::at_once) emit();
        if (s.cancel == real_cancel::timer) {
            cancel_timer.expires_after(std::chrono::milliseconds(s.cancel_ms));
            cancel_timer.async_wait([&](error_code ec) {
                if (!ec) emit();
                timer_done = true;
                maybe_teardown();
            });
        }
        ioc.run_for(20s);
        BOOST_TEST(ioc.stopped(), "the io_context still had work 20 s after the dial started");
        BOOST_TEST(out.calls == 1, "completion handler called " << out.calls << " times");
        if (out.calls != 1) return {};
    }

    // The result.
    rec.check_contract();
    const auto kind_of = [&](const tcp::endpoint& ep) -> std::optional<real_peer> {
        for (const auto& e : s.eps)
            if (e.addr == ep.address()) return e.kind;
        return std::nullopt;
    };
    const auto dones = rec.of("connect_done");
    std::size_t won = 0;
    std::optional<tcp::endpoint> winner;
    for (const auto& d : dones) {
        const auto kind = kind_of(d.endpoint);
        BOOST_TEST_REQUIRE(bool(kind), "attempt to " << d.endpoint << ", not a peer of this schedule");
        const auto o = d.outcome;
        if (o == connect_outcome::won) {
            ++won;
            winner = d.endpoint;
        }
        switch (*kind) {
            case real_peer::live:
                BOOST_TEST((o != connect_outcome::failed), "live " << d.endpoint << " failed: " << d.error.message());
                break;
            case real_peer::refused:
                BOOST_TEST((o == connect_outcome::failed || o == connect_outcome::superseded ||
                            o == connect_outcome::cancelled),
                           "refused " << d.endpoint << ": " << o);
                if (o == connect_outcome::failed)
                    BOOST_TEST(d.error == asio::error::connection_refused, d.error.message());
                break;
            case real_peer::hole:
                BOOST_TEST((o == connect_outcome::superseded || o == connect_outcome::cancelled),
                           "black hole " << d.endpoint << ": " << o << " " << d.error.message());
                break;
        }
        if (o == connect_outcome::cancelled)
            BOOST_TEST((out.ec == aborted || out.ec == timeout), "cancelled attempt, dial: " << out.ec.message());
    }
    if (!out.ec) {
        BOOST_TEST(won == 1u);
        BOOST_TEST_REQUIRE(out.socket.has_value(), "success without a socket");
        error_code e;
        const auto remote = out.socket->remote_endpoint(e);
        BOOST_TEST(!e, e.message());
        BOOST_TEST((kind_of(remote) == real_peer::live), "connected to " << remote << ", not a live peer");
        BOOST_TEST((winner && remote == *winner));
    } else {
        BOOST_TEST(won == 0u);
        BOOST_TEST(!out.socket.has_value(), "a socket with error " << out.ec.message());
        if (out.ec == timeout) {
            BOOST_TEST(s.options.timeout.count() > 0);
            BOOST_TEST(ms(out.elapsed) >= double(s.options.timeout.count()) - 1.0,
                       "timed out after " << ms(out.elapsed));
        } else if (out.ec == aborted) {
            BOOST_TEST(out.cancel_emitted_before_completion, "operation_aborted without a cancel");
        } else {
            // Failed by exhaustion: every peer was tried, and none was live.
            BOOST_TEST(dones.size() == s.eps.size(), "failed with " << out.ec.message() << " after " << dones.size()
                                                                    << " of " << s.eps.size() << " peers");
            for (const auto& e : s.eps)
                BOOST_TEST((e.kind != real_peer::live), "failed although " << e.addr << " is live");
            BOOST_TEST(out.ec == asio::error::connection_refused, out.ec.message());
        }
    }
    // Nothing stopped it, a live peer exists: it connects.
    const bool live = std::any_of(s.eps.begin(), s.eps.end(), [](const auto& e) { return e.kind == real_peer::live; });
    if (live && !out.cancel_emitted_before_completion && s.options.timeout.count() == 0)
        BOOST_TEST(!out.ec, "failed with " << out.ec.message() << " although a live peer exists");
    out.socket.reset();
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");
    return out.ec;
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_loopback_schedules_end_as_their_peers_and_options_say) {
    const auto range = seeds(150);
    const bool have_ipv6 = nettrace::testing::ipv6_loopback_available();
    const auto t0 = steady::now();
    unsigned long ran = 0;
    unsigned failing = 0, connected = 0, timed_out = 0, cancelled = 0, refused = 0;
    for (auto seed = range.first; seed < range.first + range.count && failing < 3; ++seed) {
        const unsigned before = failed_assertions();
        const auto s = random_real_schedule(seed, have_ipv6);
        BOOST_TEST_CONTEXT(s) {
            const auto ec = run_real_schedule(s);
            connected += !ec;
            timed_out += ec == timeout;
            cancelled += ec == aborted;
            refused += ec == asio::error::connection_refused;
        }
        ++ran;
        if (failed_assertions() != before) {
            ++failing;
            BOOST_TEST_MESSAGE("failing seed: " << seed << " (replay: NETTRACE_FAULT_SEED=" << seed << ")");
        }
    }
    BOOST_TEST(failing == 0u);
    BOOST_TEST_MESSAGE("loopback: " << ran << " schedules in " << ms(steady::now() - t0) << " ms"
                                    << (have_ipv6 ? "" : " (no IPv6 loopback)") << "; connected " << connected
                                    << ", timed out " << timed_out << ", cancelled " << cancelled << ", refused "
                                    << refused);
}
