// fault_schedule_test.cpp — randomized fault schedules.
//
// 1. The racer on the virtual clock (test/support/racer_sim.hpp), for many
//    seeds: random addresses of both families, each live, refused,
//    black-holed, failing late or failing at socket(); random DNS timings per
//    family; random delays, caps, timeouts and cancellation moments (during
//    DNS, between attempts, at the exact instant of a success). Every run
//    checks the racer's invariants.
// 2. The real dialer on loopback sockets, a smaller set of random schedules:
//    live, refused and black-holed peers on 127.0.0.x and ::1, random
//    timeouts and cancellation moments, traced.
// 3. Stress: thousands of concurrent traced dials on an io_context run by 2
//    and by 4 threads (also run under ThreadSanitizer in CI).
//
// A failing run prints its seed. To replay one:
//   NETTRACE_FAULT_SEED=<seed> fault_schedule_test -t <test case>
// NETTRACE_FAULT_RUNS=<n> changes how many schedules a test runs.
#define BOOST_TEST_MODULE fault_schedule
#include <boost/test/unit_test.hpp>
#include <boost/test/results_collector.hpp>

#include "support/loopback.hpp"
#include "support/racer_sim.hpp"
#include "support/trace_recorder.hpp"

#include <nettrace/nettrace.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using nettrace::testing::open_reactor;

// ThreadSanitizer runs this code several times slower: 2,000 dials started
// at once then take longer to start than their 100-300 ms timeouts, and
// every dial times out before its connect's completion is seen. The
// timeouts stretch by this factor there, so that the stress cases still
// see connects, timeouts and cancellations alike.
#if defined(__SANITIZE_THREAD__)
constexpr long sanitizer_slowdown = 5;
#else
constexpr long sanitizer_slowdown = 1;
#endif

namespace {

namespace sim = nettrace::testing::racer_sim;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using nettrace::address_family;
using nettrace::connect_outcome;
using nettrace::family_preference;
using nettrace::testing::trace_recorder;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

const error_code aborted = asio::error::operation_aborted;
const error_code timeout = nettrace::error::timeout;

std::optional<unsigned long> env_number(const char* name) {
    if (const char* v = std::getenv(name); v && *v) return std::strtoul(v, nullptr, 10);
    return std::nullopt;
}

// The seeds a test runs: [first, first + count), or the one seed of
// NETTRACE_FAULT_SEED.
struct seed_range {
    unsigned long first, count;
};
seed_range seeds(unsigned long default_count) {
    if (auto one = env_number("NETTRACE_FAULT_SEED")) return {*one, 1};
    return {1, env_number("NETTRACE_FAULT_RUNS").value_or(default_count)};
}

unsigned failed_assertions() {
    namespace ut = boost::unit_test;
    return static_cast<unsigned>(ut::results_collector.results(ut::framework::current_test_case().p_id).p_assertions_failed);
}

long ms_count(sim::clock::duration d) { return long(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }
double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// ===========================================================================
// 1. The racer on the virtual clock

class rng {
public:
    explicit rng(std::uint64_t seed) : g_(seed) {}
    long range(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(g_); }  // inclusive
    bool chance(double p) { return std::bernoulli_distribution(p)(g_); }
    template <class T> const T& pick(const std::vector<T>& v) { return v[std::size_t(range(0, long(v.size()) - 1))]; }
    std::mt19937_64& engine() { return g_; }

private:
    std::mt19937_64 g_;
};

enum class peer { live, refused, hole, fails_late, sockfail };
const char* name(peer p) {
    switch (p) {
    case peer::live: return "live";
    case peer::refused: return "refused";
    case peer::hole: return "hole";
    case peer::fails_late: return "fails-late";
    case peer::sockfail: return "sockfail";
    }
    return "?";
}

enum class dns_kind { answers, negative, never };
enum class cancel_kind { none, during_dns, between_attempts, at_success, anytime };
const char* name(cancel_kind c) {
    switch (c) {
    case cancel_kind::none: return "none";
    case cancel_kind::during_dns: return "during DNS";
    case cancel_kind::between_attempts: return "between attempts";
    case cancel_kind::at_success: return "at the instant of a success";
    case cancel_kind::anytime: return "anytime";
    }
    return "?";
}

// One random schedule: the scenario for the simulator, plus what the
// checks need to know about it.
struct schedule {
    std::uint64_t seed = 0;
    sim::scenario s;
    std::map<std::string, peer> kinds;   // address -> what it is
    std::map<std::string, long> answered_at;  // address -> when its family's positive answer arrives
    std::vector<std::string> order;      // addresses as generated
    dns_kind dns[2] = {dns_kind::never, dns_kind::never};  // by family index (v6, v4); never if not looked up
    bool looked_up[2] = {false, false};
    cancel_kind cancel = cancel_kind::none;
};

std::size_t fam(address_family f) { return f == address_family::ipv6 ? 0 : 1; }

std::ostream& operator<<(std::ostream& os, const schedule& sc) {
    const auto& c = sc.s.config;
    os << "seed " << sc.seed << ": attempt_delay=" << std::chrono::duration_cast<std::chrono::milliseconds>(c.attempt_delay).count()
       << " race=" << c.race << " resolution_delay=" << std::chrono::duration_cast<std::chrono::milliseconds>(c.resolution_delay).count()
       << " first_family_count=" << c.first_family_count << " preference=" << int(c.preference)
       << " max_concurrent=" << c.max_concurrent
       << " timeout=" << std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout).count();
    os << " cancel=" << name(sc.cancel);
    if (sc.s.cancel_at) os << "@" << *sc.s.cancel_at << (sc.s.cancel_after_peers ? " (after peers)" : " (first)");
    os << "\n  dns:";
    for (const auto& a : sc.s.dns) {
        os << " [" << a.family << " ";
        if (!a.at) os << "never";
        else os << "@" << *a.at << (a.ec ? " " + a.ec.message() : "");
        for (const auto& x : a.addrs) os << " " << x;
        os << "]";
    }
    os << "\n  peers:";
    for (const auto& a : sc.order) {
        const auto& b = sc.s.net.at(a);
        os << " " << a << "=" << name(sc.kinds.at(a));
        if (b.what == sim::behaviour::connects || b.what == sim::behaviour::fails) os << "+" << b.after;
        if (b.ec) os << "(" << b.ec.message() << ")";
        if (b.ignores_cancel) os << "!cancel";
    }
    return os;
}

schedule random_schedule(std::uint64_t seed) {
    rng r(seed);
    schedule sc;
    sc.seed = seed;
    auto& cfg = sc.s.config;
    cfg.attempt_delay = std::chrono::milliseconds(r.range(10, 500));
    cfg.race = r.chance(0.8);
    cfg.resolution_delay = std::chrono::milliseconds(r.range(0, 300));
    cfg.first_family_count = unsigned(r.range(1, 3));
    cfg.preference = r.pick(std::vector{family_preference::prefer_ipv6, family_preference::prefer_ipv6,
                                        family_preference::prefer_ipv4, family_preference::ipv6_only,
                                        family_preference::ipv4_only});
    cfg.max_concurrent = r.chance(0.5) ? 0u : unsigned(r.range(1, 4));
    if (r.chance(0.5)) cfg.timeout = std::chrono::milliseconds(r.range(1, 3000));

    sc.looked_up[0] = cfg.preference != family_preference::ipv4_only;
    sc.looked_up[1] = cfg.preference != family_preference::ipv6_only;

    const long n = r.range(1, 12);
    std::vector<std::string> addrs[2];
    for (long i = 0; i < n; ++i) {
        const bool six = r.chance(0.5);
        std::string a = six ? "2001:db8::" + std::to_string(i + 1) : "192.0.2." + std::to_string(i + 1);
        addrs[six ? 0 : 1].push_back(a);
        sc.order.push_back(a);
        sim::behaviour b;
        peer k = r.pick(std::vector{peer::live, peer::live, peer::refused, peer::hole, peer::hole, peer::fails_late,
                                    peer::sockfail});
        switch (k) {
        case peer::live: b = sim::ok(r.range(0, 600)); break;
        case peer::refused: b = sim::rst(r.range(0, 300)); break;
        case peer::hole: b = sim::hole; break;
        case peer::fails_late:
            b = sim::fail(r.range(300, 5000), r.pick(std::vector<error_code>{
                                                   asio::error::timed_out, asio::error::connection_reset,
                                                   asio::error::host_unreachable, asio::error::network_unreachable}));
            break;
        case peer::sockfail:
            b = sim::sockfail;
            b.ec = r.pick(std::vector<error_code>{asio::error::address_family_not_supported,
                                                  asio::error::no_descriptors,
                                                  make_error_code(nettrace::error::no_local_address)});
            break;
        }
        if ((k == peer::live || k == peer::refused || k == peer::fails_late) && r.chance(0.1)) b.ignores_cancel = true;
        sc.s.net[a] = b;
        sc.kinds[a] = k;
    }

    for (auto f : {address_family::ipv6, address_family::ipv4}) {
        const std::size_t i = fam(f);
        if (!sc.looked_up[i]) continue;
        const long roll = r.range(0, 99);
        sc.dns[i] = roll < 70 ? dns_kind::answers : roll < 85 ? dns_kind::negative : dns_kind::never;
        const long at = r.chance(0.2) ? 0 : r.range(0, 400);
        switch (sc.dns[i]) {
        case dns_kind::answers:
            if (addrs[i].empty()) {
                sc.s.dns.push_back(sim::negative(f, at));  // NODATA
                sc.dns[i] = dns_kind::negative;
            } else {
                sc.s.dns.push_back({f, at, addrs[i], {}});
                for (const auto& a : addrs[i]) sc.answered_at[a] = at;
            }
            break;
        case dns_kind::negative:
            sc.s.dns.push_back(sim::negative(f, at, r.pick(std::vector{nettrace::error::no_addresses,
                                                                          nettrace::error::host_not_found,
                                                                          nettrace::error::dns_failure,
                                                                          nettrace::error::dns_timeout})));
            break;
        case dns_kind::never: sc.s.dns.push_back(sim::never(f)); break;
        }
    }
    if (sc.s.dns.size() == 2 && r.chance(0.5)) std::swap(sc.s.dns[0], sc.s.dns[1]);  // delivery order at one instant

    const long roll = r.range(0, 99);
    sc.cancel = roll < 30 ? cancel_kind::none
              : roll < 45 ? cancel_kind::during_dns
              : roll < 65 ? cancel_kind::between_attempts
              : roll < 85 ? cancel_kind::at_success
                          : cancel_kind::anytime;
    sc.s.cancel_after_peers = r.chance(0.5);
    if (sc.cancel == cancel_kind::during_dns) {
        long first = 1000;
        for (const auto& a : sc.s.dns)
            if (a.at) first = std::min(first, *a.at);
        sc.s.cancel_at = r.range(0, first);
    } else if (sc.cancel == cancel_kind::anytime) {
        sc.s.cancel_at = r.range(0, 3000);
    }
    // between_attempts and at_success are placed from a run without cancel.
    sc.s.may_stall = true;
    sc.s.late_events = true;
    return sc;
}

// Whether the racer, stalled with nothing left to happen, is legitimately
// waiting: on black holes it may not race past (race off, or the cap
// reached), with no address left, or on a DNS answer that never comes.
void check_stall(const schedule& sc, const sim::result& r) {
    const auto& cfg = sc.s.config;
    BOOST_TEST(ms_count(cfg.timeout) == 0, "stalled at " << r.stalled_at << " although a timeout is set");
    BOOST_TEST(!sc.s.cancel_at, "stalled at " << r.stalled_at << " although a cancel is scheduled");
    std::size_t running = 0;
    for (std::size_t i = 0; i < r.addrs.size(); ++i) {
        if (r.ends[i] != -1) continue;
        ++running;
        BOOST_TEST((sc.kinds.at(r.addrs[i]) == peer::hole), r.addrs[i] << " still running at a stall");
    }
    std::size_t known = 0;  // addresses the racer has (answered families)
    for (const auto& [a, at] : sc.answered_at) known += at <= r.stalled_at ? 1 : 0;
    const std::size_t untried = known - r.addrs.size();
    bool dns_pending = false;
    for (std::size_t f = 0; f < 2; ++f) dns_pending = dns_pending || (sc.looked_up[f] && sc.dns[f] == dns_kind::never);
    if (running == 0) {
        BOOST_TEST(untried == 0u, "stalled with nothing running and " << untried << " untried address(es)");
        BOOST_TEST(dns_pending, "stalled with nothing running, nothing to try and no DNS answer pending");
    } else if (untried > 0) {
        const bool held = !cfg.race || (cfg.max_concurrent != 0 && running >= cfg.max_concurrent);
        BOOST_TEST(held, "stalled with " << untried << " untried address(es) beside " << running
                                         << " black hole(s), racing and below the cap");
    }
}

void check_completed(const schedule& sc, sim::virtual_network& net, const sim::result& r) {
    const auto& cfg = sc.s.config;
    BOOST_TEST(r.after_complete.empty(), r.after_complete.size() << " action(s) after complete, first "
                                                                  << (r.after_complete.empty() ? -1 : int(r.after_complete[0])));
    const std::size_t n = r.addrs.size();
    BOOST_TEST_REQUIRE(r.outcomes.size() == n);
    bool ignoring = false;  // an attempt that finishes as scheduled despite a cancel: the dial waits for it
    for (const auto& a : r.addrs) ignoring = ignoring || sc.s.net.at(a).ignores_cancel;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& a = r.addrs[i];
        BOOST_TEST(seen.insert(a).second, a << " attempted twice");
        BOOST_TEST_REQUIRE(sc.answered_at.count(a) == 1u, a << " attempted but never answered by DNS");
        BOOST_TEST(r.starts[i] >= sc.answered_at.at(a), a << " started at " << r.starts[i] << " before its answer");
        if (i) BOOST_TEST(r.starts[i] >= r.starts[i - 1]);
        BOOST_TEST(r.ends[i] >= r.starts[i]);
        BOOST_TEST(r.ends[i] <= r.done_at);
        const auto& b = sc.s.net.at(a);
        const connect_outcome o = r.outcomes[i];
        switch (o) {
        case connect_outcome::won:
            BOOST_TEST((b.what == sim::behaviour::connects), a << " won but does not connect");
            BOOST_TEST(r.ends[i] == r.starts[i] + b.after);
            if (!ignoring) BOOST_TEST(r.ends[i] == r.done_at, "won at " << r.ends[i] << ", done at " << r.done_at);
            BOOST_TEST(r.winner == a);
            break;
        case connect_outcome::lost:
            BOOST_TEST((b.what == sim::behaviour::connects), a << " lost but does not connect");
            BOOST_TEST(r.ends[i] == r.starts[i] + b.after);
            break;
        case connect_outcome::failed:
            BOOST_TEST((b.what == sim::behaviour::fails || b.what == sim::behaviour::sockfail), a << " failed");
            BOOST_TEST(r.errors[i] == b.ec, a << " failed with " << r.errors[i].message());
            BOOST_TEST(r.ends[i] == r.starts[i] + (b.what == sim::behaviour::fails ? b.after : 0));
            break;
        case connect_outcome::superseded:
            BOOST_TEST(!r.winner.empty(), a << " superseded without a winner");
            BOOST_TEST(r.errors[i] == aborted);
            if (!ignoring) BOOST_TEST(r.ends[i] == r.done_at, a << " superseded at " << r.ends[i] << ", done at " << r.done_at);
            break;
        case connect_outcome::cancelled:
            BOOST_TEST((r.error == aborted || r.error == timeout), a << " cancelled but the dial ended with "
                                                                       << r.error.message());
            BOOST_TEST(r.errors[i] == aborted);
            if (!ignoring) BOOST_TEST(r.ends[i] == r.done_at, a << " cancelled at " << r.ends[i] << ", done at " << r.done_at);
            break;
        case connect_outcome::connected:  // an intermediate state, never an attempt's last
            BOOST_ERROR(a << " ended as 'connected'");
            break;
        }
    }
    if (!r.winner.empty()) BOOST_TEST(!r.error);
    if (cfg.max_concurrent) BOOST_TEST(r.max_in_flight <= cfg.max_concurrent);
    if (!cfg.race) BOOST_TEST(r.max_in_flight <= 1u);

    // Cancellation and timeout: the dial ends at that instant (when every
    // cancel is acknowledged at once), with every attempt already done or
    // cancelled, and nothing starts after it.
    long deadline = std::numeric_limits<long>::max();
    if (sc.s.cancel_at) deadline = *sc.s.cancel_at;
    if (ms_count(cfg.timeout)) deadline = std::min(deadline, ms_count(cfg.timeout));
    for (std::size_t i = 0; i < n; ++i) BOOST_TEST(r.starts[i] <= deadline, r.addrs[i] << " started after the deadline");
    if (r.error == aborted) {
        BOOST_TEST_REQUIRE(bool(sc.s.cancel_at), "operation_aborted without a cancel");
        BOOST_TEST(r.done_at >= *sc.s.cancel_at);
        if (!ignoring) BOOST_TEST(r.done_at == *sc.s.cancel_at, "cancelled at " << *sc.s.cancel_at << ", done at " << r.done_at);
    }
    if (r.error == timeout) {
        BOOST_TEST_REQUIRE(ms_count(cfg.timeout) > 0, "timeout without a timeout set");
        BOOST_TEST(r.done_at >= ms_count(cfg.timeout));
        if (!ignoring) BOOST_TEST(r.done_at == ms_count(cfg.timeout), "timeout " << ms_count(cfg.timeout) << ", done at " << r.done_at);
        if (sc.s.cancel_at) BOOST_TEST(*sc.s.cancel_at >= ms_count(cfg.timeout), "timeout reported after an earlier cancel");
    }
    if (!ignoring) BOOST_TEST(r.done_at <= deadline, "done at " << r.done_at << ", after the deadline " << deadline);
    if (r.error && r.error != aborted && r.error != timeout) {
        // Failed by exhaustion: every family answered, and every address was tried.
        for (const auto& a : sc.s.dns)
            BOOST_TEST((a.at && *a.at <= r.done_at), "failed with " << r.error.message() << " at " << r.done_at
                                                                     << " before the " << a.family << " answer");
        BOOST_TEST(n == sc.answered_at.size(), "failed with " << r.error.message() << " after " << n << " of "
                                                             << sc.answered_at.size() << " addresses");
        if (n == 0) {
            error_code e[2];
            for (const auto& a : sc.s.dns) e[fam(a.family)] = a.ec;
            BOOST_TEST(r.error == nettrace::detail::combine_lookup_errors(e[0], e[1]));
        } else {
            std::vector<sim::racer::attempt> at(n);
            for (std::size_t i = 0; i < n; ++i) at[i].error = r.errors[i];
            BOOST_TEST(r.error == nettrace::detail::most_telling_error(at));
        }
    }
    // A family whose answer was still outstanding was stopped.
    for (const auto& a : sc.s.dns)
        if (!a.at || *a.at > r.done_at) BOOST_TEST(r.stopped_resolving_at != -1, "a pending lookup was never stopped");

    // Late events after completion change nothing and queue nothing.
    auto& he = net.machine();
    const auto error = he.error();
    const auto winner = he.winner();
    const auto size = he.attempts().size();
    const auto late = sim::at_ms(r.done_at + 1);
    for (const auto& a : sc.s.dns) {
        std::vector<boost::asio::ip::address> addrs;
        for (const auto& x : a.addrs) addrs.push_back(boost::asio::ip::make_address(x));
        he.on_answer(a.family, addrs, {}, late);
    }
    for (std::size_t i = 0; i < n; ++i) {
        he.on_attempt_done(i, {}, late);
        he.on_attempt_done(i, asio::error::connection_refused, late);
    }
    he.on_timer(late + std::chrono::hours(1));
    he.cancel(aborted, late);
    const auto act = he.next();
    BOOST_TEST(!act, "the racer queued action " << (act ? int(act->kind()) : -1) << " after completing");
    BOOST_TEST(he.error() == error);
    BOOST_TEST((he.winner() == winner));
    BOOST_TEST(he.attempts().size() == size);
}

// A dial that can reach a live address, with no timeout and no cancel, connects.
bool must_connect(const schedule& sc) {
    const auto& cfg = sc.s.config;
    if (ms_count(cfg.timeout) || sc.s.cancel_at) return false;
    bool live = false, holes = false;
    for (const auto& [a, at] : sc.answered_at) {
        live = live || sc.kinds.at(a) == peer::live;
        holes = holes || sc.kinds.at(a) == peer::hole;
    }
    return live && ((cfg.race && cfg.max_concurrent == 0) || !holes);
}

sim::result run_checked(const schedule& sc) {
    sim::virtual_network net(sc.s);
    auto r = net.run();
    if (r.stalled) {
        check_stall(sc, r);
    } else {
        check_completed(sc, net, r);
    }
    if (must_connect(sc)) {
        BOOST_TEST(!r.stalled, "stalled although a live address is reachable");
        BOOST_TEST(!r.error, "failed with " << r.error.message() << " although a live address is reachable");
        BOOST_TEST(!r.winner.empty());
    }
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(virtual_clock_random_schedules) {
    const auto range = seeds(20000);
    const auto t0 = steady::now();
    unsigned long ran = 0;
    unsigned runs = 0, failing = 0, stalls = 0, connected = 0, cancelled = 0, timed_out = 0;
    for (auto seed = range.first; seed < range.first + range.count && failing < 5; ++seed) {
        const unsigned before = failed_assertions();
        ++ran;
        schedule sc = random_schedule(seed);
        // First without the cancel: where it lands depends on this run.
        schedule plain = sc;
        plain.s.cancel_at.reset();
        plain.cancel = cancel_kind::none;
        sim::result r0;
        BOOST_TEST_CONTEXT(plain) {
            r0 = run_checked(plain);
            ++runs;
        }
        if (sc.cancel == cancel_kind::between_attempts && !r0.starts.empty()) {
            const long end = r0.stalled ? r0.starts.back() + 1000 : r0.done_at;
            rng r(seed ^ 0x9e3779b97f4a7c15ULL);
            sc.s.cancel_at = r.range(r0.starts.front(), end);
        } else if (sc.cancel == cancel_kind::at_success && !r0.winner.empty()) {
            const auto won = std::find(r0.outcomes.begin(), r0.outcomes.end(), connect_outcome::won);
            sc.s.cancel_at = r0.ends.at(std::size_t(won - r0.outcomes.begin()));  // the instant of the success
        } else if (sc.cancel == cancel_kind::between_attempts || sc.cancel == cancel_kind::at_success) {
            sc.cancel = cancel_kind::anytime;  // no attempt, or no success, to aim at
            sc.s.cancel_at = long(seed % 1000);
        }
        if (sc.cancel != cancel_kind::none) {
            BOOST_TEST_CONTEXT(sc) {
                const auto r = run_checked(sc);
                ++runs;
                if (sc.cancel == cancel_kind::at_success && !sc.s.cancel_after_peers) {
                    // Cancel handled first: the success in the same instant is lost.
                    BOOST_TEST(r.error == aborted, "cancel at the instant of success, handled first: "
                                                       << r.error.message());
                    BOOST_TEST(r.winner.empty());
                }
                if (sc.cancel == cancel_kind::at_success && sc.s.cancel_after_peers) {
                    BOOST_TEST(!r.error, "cancel at the instant of success, handled after it: " << r.error.message());
                    BOOST_TEST(r.winner == r0.winner);
                }
                stalls += r.stalled;
                cancelled += r.error == aborted;
                timed_out += r.error == timeout;
                connected += !r.stalled && !r.error;
            }
        } else {
            stalls += r0.stalled;
            timed_out += r0.error == timeout;
            connected += !r0.stalled && !r0.error;
        }
        if (failed_assertions() != before) {
            ++failing;
            BOOST_TEST_MESSAGE("failing seed: " << seed << " (replay: NETTRACE_FAULT_SEED=" << seed << ")");
        }
    }
    BOOST_TEST(failing == 0u);
    BOOST_TEST_MESSAGE("virtual clock: " << ran << " seeds, " << runs << " runs in " << ms(steady::now() - t0)
                                         << " ms; connected " << connected << ", cancelled " << cancelled
                                         << ", timed out " << timed_out << ", stalled (legitimately) " << stalls);
    // The generator must reach every kind of ending, or the checks check little.
    if (range.count >= 1000) {
        BOOST_TEST(connected > 0u);
        BOOST_TEST(cancelled > 0u);
        BOOST_TEST(timed_out > 0u);
    }
}

// ===========================================================================
// 2. The dialer on real loopback sockets

namespace {

enum class real_peer { live, refused, hole };
const char* name(real_peer p) { return p == real_peer::live ? "live" : p == real_peer::refused ? "refused" : "hole"; }

struct real_endpoint {
    asio::ip::address addr;
    real_peer kind;
};


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
            } catch (const std::exception&) {
            }
        }
        clear();
        return false;
    }
};

enum class real_cancel { none, timer, at_once, in_connect_start };
const char* name(real_cancel c) {
    switch (c) {
    case real_cancel::none: return "none";
    case real_cancel::timer: return "timer";
    case real_cancel::at_once: return "right after initiation";
    case real_cancel::in_connect_start: return "inside connect_start";
    }
    return "?";
}

struct real_schedule {
    std::uint64_t seed = 0;
    std::vector<real_endpoint> eps;
    nettrace::dial_options options;
    real_cancel cancel = real_cancel::none;
    long cancel_ms = 0;               // timer
    std::size_t cancel_attempt = 0;   // in_connect_start
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
    s.cancel = roll < 40 ? real_cancel::none : roll < 75 ? real_cancel::timer : roll < 85 ? real_cancel::at_once
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
    if (hole && !sure_cancel && s.options.timeout.count() == 0) s.options.timeout = std::chrono::milliseconds(r.range(20, 250));
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
    open_reactor(ioc);
    const auto fds_before = nettrace::testing::open_fd_count();
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
            BOOST_TEST((o == connect_outcome::failed || o == connect_outcome::superseded || o == connect_outcome::cancelled),
                       "refused " << d.endpoint << ": " << o);
            if (o == connect_outcome::failed) BOOST_TEST(d.error == asio::error::connection_refused, d.error.message());
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
            BOOST_TEST(ms(out.elapsed) >= double(s.options.timeout.count()) - 1.0, "timed out after " << ms(out.elapsed));
        } else if (out.ec == aborted) {
            BOOST_TEST(out.cancel_emitted_before_completion, "operation_aborted without a cancel");
        } else {
            // Failed by exhaustion: every peer was tried, and none was live.
            BOOST_TEST(dones.size() == s.eps.size(), "failed with " << out.ec.message() << " after " << dones.size()
                                                                   << " of " << s.eps.size() << " peers");
            for (const auto& e : s.eps) BOOST_TEST((e.kind != real_peer::live), "failed although " << e.addr << " is live");
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

BOOST_AUTO_TEST_CASE(loopback_random_schedules) {
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

// ===========================================================================
// 3. Many concurrent dials on an io_context run by several threads

namespace {

// Accepts and closes at once, on its own strand (the acceptor is not thread
// safe; the io_context runs on several threads), so thousands of dials do
// not pile up descriptors on the server side.
class closing_listener {
public:
    closing_listener(asio::io_context& ioc, const asio::ip::address& addr, unsigned short port)
        : strand_(asio::make_strand(ioc)), acceptor_(strand_) {
        const tcp::endpoint ep(addr, port);
        acceptor_.open(ep.protocol());
        if (addr.is_v6()) acceptor_.set_option(asio::ip::v6_only(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
    }
    unsigned short port() const { return port_; }
    void start() { asio::post(strand_, [this] { accept(); }); }
    void stop() {
        asio::post(strand_, [this] {
            error_code ignored;
            acceptor_.close(ignored);
        });
    }
    std::size_t accepted() const { return accepted_; }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, tcp::socket s) {
            if (ec == aborted || !acceptor_.is_open()) return;
            if (!ec) ++accepted_;
            s.close(ec);
            accept();
        });
    }
    asio::strand<asio::io_context::executor_type> strand_;
    tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::size_t accepted_ = 0;
};

// Raises the soft descriptor limit to the hard one for the stress test,
// and puts it back after.
class raised_fd_limit {
public:
    raised_fd_limit() {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        rlimit raised = saved_;
        raised.rlim_cur = saved_.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(saved_.rlim_cur, 65536) : saved_.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) current_ = raised.rlim_cur;
        else current_ = saved_.rlim_cur;
    }
    ~raised_fd_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    raised_fd_limit(const raised_fd_limit&) = delete;
    raised_fd_limit& operator=(const raised_fd_limit&) = delete;
    rlim_t current() const { return current_; }

private:
    rlimit saved_{};
    rlim_t current_ = 0;
};

struct stress_dial {
    std::vector<real_endpoint> eps;
    nettrace::dialer dialer;
    trace_recorder rec;
    std::optional<asio::strand<asio::io_context::executor_type>> strand;
    asio::cancellation_signal signal;
    std::optional<asio::steady_timer> cancel_timer;
    long cancel_ms = -1;  // -1: none
    // Written on the dial's strand, read after the threads are joined.
    int calls = 0;
    error_code ec;
    std::optional<tcp::endpoint> remote;
    bool cancel_emitted_before_completion = false;
    bool cancel_emitted = false;
};

void stress(unsigned threads) {
    raised_fd_limit limit;
    asio::io_context ioc{static_cast<int>(threads)};
    open_reactor(ioc);
    const bool have_ipv6 = nettrace::testing::ipv6_loopback_available();
    const auto live4 = asio::ip::make_address("127.0.0.1"), hole4 = asio::ip::make_address("127.0.0.2"),
               refused4 = asio::ip::make_address("127.0.0.3"), live4b = asio::ip::make_address("127.0.0.4"),
               v6 = asio::ip::make_address("::1");

    const auto fds_before = nettrace::testing::open_fd_count();
    // Each dial holds at most three sockets at once, and its peer one more.
    const std::size_t budget = limit.current() > fds_before + 200 ? (limit.current() - fds_before - 200) / 4 : 0;
    const std::size_t count = std::min<std::size_t>(env_number("NETTRACE_STRESS_DIALS").value_or(2000), budget);
    BOOST_TEST_REQUIRE(count >= 50u, "descriptor limit " << limit.current() << " leaves room for " << count << " dials");
    {
        std::optional<closing_listener> l4, l4b, l6;
        std::optional<nettrace::testing::black_hole> h4;
        std::optional<nettrace::testing::refused_port> r4;
        std::optional<nettrace::testing::black_hole> h6;
        for (int tries = 0; tries < 50; ++tries) {
            try {
                l4.emplace(ioc, live4, 0);
                const auto port = l4->port();
                l4b.emplace(ioc, live4b, port);
                h4.emplace(hole4, port);
                r4.emplace(refused4, port);
                if (have_ipv6 && tries % 2) h6.emplace(v6, port);  // ::1 a black hole or live, whichever binds
                if (have_ipv6 && !(tries % 2)) l6.emplace(ioc, v6, port);
                break;
            } catch (const std::exception&) {
                l4.reset(), l4b.reset(), h4.reset(), r4.reset(), h6.reset(), l6.reset();
            }
        }
        BOOST_TEST_REQUIRE(l4.has_value(), "could not bind the peers");
        const auto port = l4->port();
        l4->start();
        l4b->start();
        if (l6) l6->start();

        // Address lists: one peer, or two or three of different kinds.
        std::vector<std::vector<real_endpoint>> lists = {
            {{live4, real_peer::live}},
            {{refused4, real_peer::refused}},
            {{hole4, real_peer::hole}},
            {{hole4, real_peer::hole}, {live4, real_peer::live}},
            {{refused4, real_peer::refused}, {live4b, real_peer::live}},
            {{hole4, real_peer::hole}, {refused4, real_peer::refused}},
            {{live4, real_peer::live}, {live4b, real_peer::live}},
            {{hole4, real_peer::hole}, {refused4, real_peer::refused}, {live4b, real_peer::live}},
        };
        if (have_ipv6) {
            const real_endpoint six{v6, l6 ? real_peer::live : real_peer::hole};
            lists.push_back({six, {live4, real_peer::live}});
            lists.push_back({six, {refused4, real_peer::refused}});
            lists.push_back({six});
        }

        rng r(0x5eed + threads);
        std::vector<std::unique_ptr<stress_dial>> dials;
        dials.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            auto d = std::make_unique<stress_dial>();
            d->eps = r.pick(lists);
            std::vector<asio::ip::address> addrs;
            for (const auto& e : d->eps) addrs.push_back(e.addr);
            nettrace::dial_options o;
            o.attempt_delay = std::chrono::milliseconds(r.range(10, 40));
            o.timeout = std::chrono::milliseconds(r.range(100, 300) * sanitizer_slowdown);
            o.race = r.chance(0.9);
            o.resolver = nettrace::make_static_resolver({{"stress.test", addrs}});
            d->dialer = nettrace::dialer(o);
            d->strand.emplace(asio::make_strand(ioc));
            if (r.chance(0.3)) d->cancel_ms = r.range(0, 150);
            dials.push_back(std::move(d));
        }

        // Started from the pool's threads, several at once; each completes
        // on its own strand, where its cancellation is emitted too.
        std::atomic<std::size_t> outstanding{count};
        const auto finished_one = [&] {
            if (--outstanding == 0) {
                l4->stop();
                l4b->stop();
                if (l6) l6->stop();
            }
        };
        for (auto& dp : dials) {
            stress_dial* d = dp.get();
            asio::post(ioc, [d, port, &finished_one] {
                if (d->cancel_ms >= 0) {
                    d->cancel_timer.emplace(*d->strand, std::chrono::milliseconds(d->cancel_ms));
                    d->cancel_timer->async_wait(asio::bind_executor(*d->strand, [d](error_code ec) {
                        if (ec) return;
                        d->cancel_emitted = true;
                        d->signal.emit(asio::cancellation_type::terminal);
                    }));
                }
                d->dialer.dial(d->rec.attach(), "tcp", "stress.test:" + std::to_string(port),
                               asio::bind_executor(*d->strand,
                                                   asio::bind_cancellation_slot(d->signal.slot(), [d, &finished_one](
                                                                                                      error_code ec, tcp::socket s) {
                                                       d->rec.completed();
                                                       ++d->calls;
                                                       d->ec = ec;
                                                       d->cancel_emitted_before_completion = d->cancel_emitted;
                                                       error_code e;
                                                       if (s.is_open()) d->remote = s.remote_endpoint(e);
                                                       s.close(e);
                                                       if (d->cancel_timer) d->cancel_timer->cancel();
                                                       finished_one();
                                                   })));
            });
        }
        const auto t0 = steady::now();
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t) pool.emplace_back([&] { ioc.run_for(60s); });
        for (auto& t : pool) t.join();
        const double took = ms(steady::now() - t0);
        BOOST_TEST(ioc.stopped(), "the io_context still had work after 60 s");
        BOOST_TEST(outstanding.load() == 0u, outstanding.load() << " dial(s) never completed");

        unsigned connected = 0, timed_out = 0, cancelled = 0, refused = 0;
        for (std::size_t i = 0; i < dials.size(); ++i) {
            const auto& d = *dials[i];
            BOOST_TEST_CONTEXT("dial " << i) {
                BOOST_TEST(d.calls == 1);
                d.rec.check_contract();
                const auto kind_of = [&](const asio::ip::address& a) -> std::optional<real_peer> {
                    for (const auto& e : d.eps)
                        if (e.addr == a) return e.kind;
                    return std::nullopt;
                };
                std::size_t won = 0;
                for (const auto& c : d.rec.of("connect_done")) {
                    const auto kind = kind_of(c.endpoint.address());
                    BOOST_TEST_REQUIRE(bool(kind));
                    won += c.outcome == connect_outcome::won;
                    if (*kind == real_peer::hole)
                        BOOST_TEST((c.outcome == connect_outcome::superseded || c.outcome == connect_outcome::cancelled));
                    if (*kind == real_peer::live) BOOST_TEST((c.outcome != connect_outcome::failed), c.error.message());
                    if (*kind == real_peer::refused && c.outcome == connect_outcome::failed)
                        BOOST_TEST(c.error == asio::error::connection_refused);
                }
                if (!d.ec) {
                    ++connected;
                    BOOST_TEST(won == 1u);
                    BOOST_TEST_REQUIRE(d.remote.has_value());
                    BOOST_TEST((kind_of(d.remote->address()) == real_peer::live), "connected to " << *d.remote);
                } else {
                    BOOST_TEST(won == 0u);
                    BOOST_TEST(!d.remote.has_value());
                    timed_out += d.ec == timeout;
                    cancelled += d.ec == aborted;
                    refused += d.ec == asio::error::connection_refused;
                    if (d.ec == aborted) BOOST_TEST(d.cancel_emitted_before_completion);
                    if (d.ec != aborted && d.ec != timeout) {
                        BOOST_TEST(d.ec == asio::error::connection_refused, d.ec.message());
                        for (const auto& e : d.eps) BOOST_TEST((e.kind == real_peer::refused));
                    }
                }
            }
        }
        BOOST_TEST_MESSAGE(threads << " threads: " << count << " dials in " << took << " ms; connected " << connected
                                   << ", timed out " << timed_out << ", cancelled " << cancelled << ", refused "
                                   << refused << "; accepted " << l4->accepted() + l4b->accepted() + (l6 ? l6->accepted() : 0));
        BOOST_TEST(connected > 0u);
    }
    BOOST_TEST(nettrace::testing::open_fd_count() == fds_before, "descriptors leaked");
}

}  // namespace

BOOST_AUTO_TEST_CASE(stress_two_threads) { stress(2); }
BOOST_AUTO_TEST_CASE(stress_four_threads) { stress(4); }
