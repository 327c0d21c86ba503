// racer_invariants_test.cpp — the racer keeps its invariants under random
// fault schedules, on the virtual clock (test/support/racer_sim.hpp).
//
// For many seeds: random addresses of both families, each live, refused,
// black-holed, failing late or failing at socket(); random DNS timings per
// family; random delays, caps, timeouts and cancellation moments (during
// DNS, between attempts, at the exact instant of a success). Every run
// checks the racer's invariants: what started when, how each attempt ended,
// the dial's end and error, nothing after completion, and that a dial that
// can reach a live address connects.
//
// A failing run prints its seed; test/support/fault_schedules.hpp says how
// to replay it.
#define BOOST_TEST_MODULE racer_invariants
#include <boost/test/unit_test.hpp>

#include "support/common.hpp"
#include "support/fault_schedules.hpp"
#include "support/racer_sim.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace {

namespace sim = nettrace::testing::racer_sim;
using nettrace::address_family;
using nettrace::connect_outcome;
using nettrace::family_preference;
using namespace nettrace::testing;  // fault_schedules.hpp

long ms_count(sim::clock::duration d) { return long(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()); }

// The enums' names for a failing schedule's printout, in enumerator order.
enum class peer { live, refused, hole, fails_late, sockfail };
const char* name(peer p) {
    static constexpr const char* names[] = {"live", "refused", "hole", "fails-late", "sockfail"};
    return names[static_cast<int>(p)];
}

enum class dns_kind { answers, negative, never };
enum class cancel_kind { none, during_dns, between_attempts, at_success, anytime };
const char* name(cancel_kind c) {
    static constexpr const char* names[] = {"none", "during DNS", "between attempts", "at the instant of a success",
                                            "anytime"};
    return names[static_cast<int>(c)];
}

// One random schedule: the scenario for the simulator, plus what the
// checks need to know about it.
struct schedule {
    std::uint64_t seed = 0;
    sim::scenario s;
    std::map<std::string, peer> kinds;                     // address -> what it is
    std::map<std::string, long> answered_at;               // address -> when its family's positive answer arrives
    std::vector<std::string> order;                        // addresses as generated
    dns_kind dns[2] = {dns_kind::never, dns_kind::never};  // by family index (v6, v4); never if not looked up
    bool looked_up[2] = {false, false};
    cancel_kind cancel = cancel_kind::none;
};

std::size_t fam(address_family f) { return f == address_family::ipv6 ? 0 : 1; }

std::ostream& operator<<(std::ostream& os, const schedule& sc) {
    const auto& c = sc.s.config;
    os << "seed " << sc.seed
       << ": attempt_delay=" << std::chrono::duration_cast<std::chrono::milliseconds>(c.attempt_delay).count()
       << " race=" << c.race
       << " resolution_delay=" << std::chrono::duration_cast<std::chrono::milliseconds>(c.resolution_delay).count()
       << " first_family_count=" << c.first_family_count << " preference=" << int(c.preference)
       << " max_concurrent=" << c.max_concurrent
       << " timeout=" << std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout).count();
    os << " cancel=" << name(sc.cancel);
    if (sc.s.cancel_at) os << "@" << *sc.s.cancel_at << (sc.s.cancel_after_peers ? " (after peers)" : " (first)");
    os << "\n  dns:";
    for (const auto& a : sc.s.dns) {
        os << " [" << a.family << " ";
        if (!a.at)
            os << "never";
        else
            os << "@" << *a.at << (a.ec ? " " + a.ec.message() : "");
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
    cfg.preference =
        r.pick(std::vector{family_preference::prefer_ipv6, family_preference::prefer_ipv6,
                           family_preference::prefer_ipv4, family_preference::ipv6_only, family_preference::ipv4_only});
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
            case peer::live:
                b = sim::ok(r.range(0, 600));
                break;
            case peer::refused:
                b = sim::rst(r.range(0, 300));
                break;
            case peer::hole:
                b = sim::hole;
                break;
            case peer::fails_late:
                b = sim::fail(
                    r.range(300, 5000),
                    r.pick(std::vector<error_code>{asio::error::timed_out, asio::error::connection_reset,
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
                sc.s.dns.push_back(
                    sim::negative(f, at,
                                  r.pick(std::vector{nettrace::error::no_addresses, nettrace::error::host_not_found,
                                                     nettrace::error::dns_failure, nettrace::error::dns_timeout})));
                break;
            case dns_kind::never:
                sc.s.dns.push_back(sim::never(f));
                break;
        }
    }
    if (sc.s.dns.size() == 2 && r.chance(0.5)) std::swap(sc.s.dns[0], sc.s.dns[1]);  // delivery order at one instant

    const long roll = r.range(0, 99);
    sc.cancel = roll < 30   ? cancel_kind::none
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
    BOOST_TEST(r.after_complete.empty(), r.after_complete.size()
                                             << " action(s) after complete, first "
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
                if (!ignoring)
                    BOOST_TEST(r.ends[i] == r.done_at,
                               a << " superseded at " << r.ends[i] << ", done at " << r.done_at);
                break;
            case connect_outcome::cancelled:
                BOOST_TEST((r.error == aborted || r.error == timeout),
                           a << " cancelled but the dial ended with " << r.error.message());
                BOOST_TEST(r.errors[i] == aborted);
                if (!ignoring)
                    BOOST_TEST(r.ends[i] == r.done_at, a << " cancelled at " << r.ends[i] << ", done at " << r.done_at);
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
    for (std::size_t i = 0; i < n; ++i)
        BOOST_TEST(r.starts[i] <= deadline, r.addrs[i] << " started after the deadline");
    if (r.error == aborted) {
        BOOST_TEST_REQUIRE(bool(sc.s.cancel_at), "operation_aborted without a cancel");
        BOOST_TEST(r.done_at >= *sc.s.cancel_at);
        if (!ignoring)
            BOOST_TEST(r.done_at == *sc.s.cancel_at, "cancelled at " << *sc.s.cancel_at << ", done at " << r.done_at);
    }
    if (r.error == timeout) {
        BOOST_TEST_REQUIRE(ms_count(cfg.timeout) > 0, "timeout without a timeout set");
        BOOST_TEST(r.done_at >= ms_count(cfg.timeout));
        if (!ignoring)
            BOOST_TEST(r.done_at == ms_count(cfg.timeout),
                       "timeout " << ms_count(cfg.timeout) << ", done at " << r.done_at);
        if (sc.s.cancel_at)
            BOOST_TEST(*sc.s.cancel_at >= ms_count(cfg.timeout), "timeout reported after an earlier cancel");
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

BOOST_AUTO_TEST_CASE(random_schedules_keep_the_racers_invariants) {
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
                    BOOST_TEST(r.error == aborted,
                               "cancel at the instant of success, handled first: " << r.error.message());
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
