// happy_eyeballs_test.cpp — the sans-I/O RFC 8305 racer on a virtual clock.
//
// A small simulator (a "virtual network", test/support/racer_sim.hpp) drives
// src/racer.{hpp,cpp}: every endpoint has a scripted behaviour, every
// DNS answer a scripted time, and virtual time jumps from one event to the
// next. Each run checks the racer's invariants; each test asserts exact
// start times, outcomes, winner and completion time; docs/happy-eyeballs.md
// states the rules. A scenario id (T3, C10, N4, ...) names where a case
// comes from: G Go's net dial tests, C curl's unit2600, T trio's
// open_tcp_stream tests, H hyper-util's, D the DNS timelines of Happy
// Eyeballs v3 (section 4.2.2), N a pitfall another implementation hit (and
// "6.n", that pitfall among the known bugs). The ids and their numbering
// are those of the project's design notes, which this repository does not
// hold: each case's comment says what its scenario is.
#define BOOST_TEST_MODULE happy_eyeballs
#include <boost/test/unit_test.hpp>

#include "support/racer_sim.hpp"

#include <nettrace/error.hpp>
#include <nettrace/trace.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace nettrace::testing::racer_sim;

// The defaults of dial_options: D = 250 ms, RD = 50 ms, prefer IPv6.
racer_config delay(std::chrono::milliseconds d) { return racer_config{.attempt_delay = d}; }
racer_config prefer4(std::chrono::milliseconds d = 250ms) {
    return racer_config{.attempt_delay = d, .preference = family_preference::prefer_ipv4};
}

const error_code aborted = asio_error::operation_aborted;
const error_code refused = asio_error::connection_refused;
const error_code timeout = nettrace::error::timeout;
const error_code no_addresses = nettrace::error::no_addresses;

#define CHECK_LINES(got, ...) BOOST_TEST((got) == (lines{__VA_ARGS__}), tt::per_element())
#define CHECK_TIMES(got, ...) BOOST_TEST((got) == (times{__VA_ARGS__}), tt::per_element())

}  // namespace

// ---------------------------------------------------------------------------
// trio (4.C): one family, all addresses known at once, D = 250 ms

BOOST_AUTO_TEST_CASE(single_address_connects_when_its_handshake_completes) {
    // T1, G1, G2
    auto r = run({.dns = resolved_at(0, {"1.2.3.4"}), .net = {{"1.2.3.4", ok(123)}}});
    CHECK_LINES(r.attempts, "1.2.3.4 0..123 won");
    BOOST_TEST(r.winner == "1.2.3.4");
    BOOST_TEST(!r.error);
    BOOST_TEST(r.done_at == 123);
    BOOST_TEST(r.stopped_resolving_at == -1);  // nothing was pending

    r = run({.dns = resolved_at(0, {"::1"}), .net = {{"::1", ok(0)}}});
    CHECK_LINES(r.attempts, "::1 0..0 won");
    BOOST_TEST(r.done_at == 0);
}

BOOST_AUTO_TEST_CASE(single_failure_is_the_dial_error) {
    // T2, G11
    auto r = run({.dns = resolved_at(0, {"1.2.3.4"}), .net = {{"1.2.3.4", rst(123)}}});
    CHECK_LINES(r.attempts, "1.2.3.4 0..123 failed");
    BOOST_TEST(r.error == refused);
    BOOST_TEST(r.winner.empty());
    BOOST_TEST(r.done_at == 123);
}

BOOST_AUTO_TEST_CASE(attempts_are_staggered_by_the_attempt_delay) {
    // T3: an attempt runs alone for D before the next joins it; none is aborted.
    auto r = run({.dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3"}),
                  .net = {{"1.1.1.1", ok(1000)}, {"2.2.2.2", ok(1000)}, {"3.3.3.3", ok(200)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..700 superseded", "2.2.2.2 250..700 superseded", "3.3.3.3 500..700 won");
    BOOST_TEST(r.winner == "3.3.3.3");
    BOOST_TEST(r.done_at == 700);
    // One timer per pending start, none once the list is exhausted (curl #18767).
    BOOST_TEST(r.timers.size() == 2u);
    BOOST_TEST(r.armed(0, 250));
    BOOST_TEST(r.armed(250, 500));
}

BOOST_AUTO_TEST_CASE(a_win_starts_no_further_attempt) {
    // T4: 3.3.3.3 would start at 500; 2.2.2.2 wins at 350.
    auto r = run({.dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3"}),
                  .net = {{"1.1.1.1", ok(1000)}, {"2.2.2.2", ok(100)}, {"3.3.3.3", ok(200)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..350 superseded", "2.2.2.2 250..350 won");
    BOOST_TEST(r.done_at == 350);
}

BOOST_AUTO_TEST_CASE(a_longer_attempt_delay_spaces_attempts_further) {
    // T5: as T3 with D = 450.
    auto r = run({.config = delay(450ms),
                  .dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3"}),
                  .net = {{"1.1.1.1", ok(1000)}, {"2.2.2.2", ok(1000)}, {"3.3.3.3", ok(200)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..1000 won", "2.2.2.2 450..1000 superseded", "3.3.3.3 900..1000 superseded");
    BOOST_TEST(r.done_at == 1000);
}

BOOST_AUTO_TEST_CASE(failure_starts_next_attempt_at_once) {
    // T6: failures at 100 and 300 start the next at once; the delay then
    // counts from the last start (300 + 250 = 550).
    auto r = run({.dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}),
                  .net = {{"1.1.1.1", rst(100)}, {"2.2.2.2", rst(200)}, {"3.3.3.3", ok(10000)}, {"4.4.4.4", ok(250)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..100 failed", "2.2.2.2 100..300 failed", "3.3.3.3 300..800 superseded",
                "4.4.4.4 550..800 won");
    BOOST_TEST(r.winner == "4.4.4.4");
    BOOST_TEST(r.done_at == 800);
}

BOOST_AUTO_TEST_CASE(all_failed_dial_waits_for_the_slowest_attempt) {
    // T7, N7: the dial fails only when the slowest attempt has failed; every
    // attempt keeps its own error, and the dial reports the most telling one
    // (the first the peer caused, not the local ENETUNREACH).
    auto r = run({.dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}),
                  .net = {{"1.1.1.1", fail(100, asio_error::network_unreachable)},
                          {"2.2.2.2", rst(200)},
                          {"3.3.3.3", fail(10000, asio_error::timed_out)},
                          {"4.4.4.4", fail(250, asio_error::connection_reset)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..100 failed", "2.2.2.2 100..300 failed", "3.3.3.3 300..10300 failed",
                "4.4.4.4 550..800 failed");
    BOOST_TEST(r.done_at == 10300);
    BOOST_TEST(r.errors == (std::vector<error_code>{asio_error::network_unreachable, refused, asio_error::timed_out,
                                                    asio_error::connection_reset}),
               tt::per_element());
    BOOST_TEST(r.error == refused);
}

BOOST_AUTO_TEST_CASE(simultaneous_successes_leave_one_winner_and_the_rest_lost) {
    // T8, N9: three handshakes complete at 10 500 before any cancel lands.
    // Exactly one wins (the first delivered); the others are lost (closed).
    auto r = run({.config = delay(1000ms),
                  .dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"}),
                  .net = {{"1.1.1.1", rst(500)},
                          {"2.2.2.2", ok(10000)},
                          {"3.3.3.3", ok(9000)},
                          {"4.4.4.4", ok(8000)},
                          {"5.5.5.5", rst(500)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..500 failed", "2.2.2.2 500..10500 won", "3.3.3.3 1500..10500 lost",
                "4.4.4.4 2500..10500 lost", "5.5.5.5 3500..4000 failed");
    BOOST_TEST(r.winner == "2.2.2.2");
    BOOST_TEST(r.done_at == 10500);
}

BOOST_AUTO_TEST_CASE(interleaved_family_is_the_second_attempt) {
    // T9 (trio puts the first address's family first: prefer_ipv4 here):
    // 1.1.1.1, ::3, 2.2.2.2; ::3 wins at 1500 and 2.2.2.2 is never started.
    auto r = run({.config = prefer4(1000ms),
                  .dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "::3"}),
                  .net = {{"1.1.1.1", rst(10000)}, {"2.2.2.2", ok(1000)}, {"::3", ok(500)}}});
    CHECK_LINES(r.attempts, "1.1.1.1 0..1500 superseded", "::3 1000..1500 won");
    BOOST_TEST(r.done_at == 1500);
}

BOOST_AUTO_TEST_CASE(socket_failure_does_not_use_up_a_delay_slot) {
    // T10: no IPv4 stack. 2.2.2.2's socket() fails inside its start at 1000,
    // and ::3 starts in the same instant instead of at 2000.
    auto r = run({.config = delay(1000ms),
                  .dns = resolved_at(0, {"::1", "2.2.2.2", "::3", "4.4.4.4"}),
                  .net = {{"::1", ok(10000)}, {"2.2.2.2", sockfail}, {"::3", ok(100)}, {"4.4.4.4", sockfail}}});
    CHECK_LINES(r.attempts, "::1 0..1100 superseded", "2.2.2.2 1000..1000 failed", "::3 1000..1100 won");
    BOOST_TEST(r.errors[1] == asio_error::address_family_not_supported);
    BOOST_TEST(r.done_at == 1100);
}

BOOST_AUTO_TEST_CASE(socket_failure_without_ipv6_stack_moves_to_ipv4_at_once) {
    // T11, mirror of T10 with no IPv6 stack (IPv6 still preferred). The A
    // answer is handled first, so both families are known when ::1 starts.
    const std::map<std::string, behaviour> net{
        {"::1", sockfail}, {"2.2.2.2", ok(10000)}, {"::3", sockfail}, {"4.4.4.4", ok(100)}};
    auto r = run({.config = delay(1000ms), .dns = {A(0, {"2.2.2.2", "4.4.4.4"}), AAAA(0, {"::1", "::3"})}, .net = net});
    CHECK_LINES(r.attempts, "::1 0..0 failed", "2.2.2.2 0..1100 superseded", "::3 1000..1000 failed",
                "4.4.4.4 1000..1100 won");
    BOOST_TEST(r.winner == "4.4.4.4");
    BOOST_TEST(r.done_at == 1100);
    // With the AAAA answer handled first, ::3 is the only address known when
    // ::1 fails, so it is tried at once; the outcome is the same.
    r = run({.config = delay(1000ms), .dns = {AAAA(0, {"::1", "::3"}), A(0, {"2.2.2.2", "4.4.4.4"})}, .net = net});
    CHECK_LINES(r.attempts, "::1 0..0 failed", "::3 0..0 failed", "2.2.2.2 0..1100 superseded",
                "4.4.4.4 1000..1100 won");
    BOOST_TEST(r.done_at == 1100);
}

BOOST_AUTO_TEST_CASE(missing_local_address_fails_that_family_without_delay) {
    // N11: only an IPv4 local address is configured; src/dial.cpp fails each
    // IPv6 attempt at once with no_local_address, which frees its slot.
    behaviour no_local = sockfail;
    no_local.ec = nettrace::error::no_local_address;
    auto r = run({.dns = {A(0, {"192.0.2.1"}), AAAA(0, {"2001:db8::1", "2001:db8::2"})},
                  .net = {{"2001:db8::1", no_local}, {"2001:db8::2", no_local}, {"192.0.2.1", ok(20)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..0 failed", "192.0.2.1 0..20 won");
    BOOST_TEST(r.errors[0] == nettrace::error::no_local_address);
    // With nothing else, the local failure is the dial's error.
    r = run({.dns = resolved_at(0, {"2001:db8::1"}), .net = {{"2001:db8::1", no_local}}});
    BOOST_TEST(r.error == nettrace::error::no_local_address);
    BOOST_TEST(r.done_at == 0);
}

BOOST_AUTO_TEST_CASE(no_addresses_fails_at_once) {
    // T12, G12
    auto r = run({.dns = resolved_at(0, {})});
    BOOST_TEST(r.attempts.empty());
    BOOST_TEST(r.error == no_addresses);
    BOOST_TEST(r.done_at == 0);

    // The dial fails when the last family answers, not before.
    r = run({.dns = {negative(v6, 10), negative(v4, 20)}});
    BOOST_TEST(r.error == no_addresses);
    BOOST_TEST(r.done_at == 20);
}

BOOST_AUTO_TEST_CASE(real_lookup_failure_wins_over_no_addresses) {
    // NXDOMAIN for one family and NODATA for the other: the dial says NXDOMAIN,
    // whichever family it came from and in whichever order.
    auto r = run({.dns = {negative(v6, 10, nettrace::error::host_not_found), negative(v4, 20)}});
    BOOST_TEST(r.error == nettrace::error::host_not_found);
    BOOST_TEST(r.done_at == 20);
    r = run({.dns = {negative(v6, 10), negative(v4, 20, nettrace::error::dns_failure)}});
    BOOST_TEST(r.error == nettrace::error::dns_failure);
    r = run({.dns = {negative(v4, 5, nettrace::error::host_not_found), negative(v6, 30)}});
    BOOST_TEST(r.error == nettrace::error::host_not_found);
    BOOST_TEST(r.done_at == 30);
}

BOOST_AUTO_TEST_CASE(cancel_ends_every_attempt_at_the_instant) {
    // T13: outer cancel at 5000; every attempt is cancelled and reported.
    auto r = run({.dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}),
                  .otherwise = ok(10000),
                  .cancel_at = 5000});
    CHECK_LINES(r.attempts, "1.1.1.1 0..5000 cancelled", "2.2.2.2 250..5000 cancelled", "3.3.3.3 500..5000 cancelled",
                "4.4.4.4 750..5000 cancelled");
    BOOST_TEST(r.error == aborted);
    BOOST_TEST(r.winner.empty());
    BOOST_TEST(r.done_at == 5000);
}

// ---------------------------------------------------------------------------
// Go (4.A) in virtual time: D = 200 ms (Go's fallbackDelay), refused after
// cp = 50 ms, loopback handshakes complete at once. Go's "primaries" family is
// the preferred one here. Go dials serially within a family and starts the
// other family only after D; we race every address (RFC 8305 section 4).

namespace {

struct go_case {
    const char* id;
    family_preference preference;
    std::vector<std::string> addrs;
    std::map<std::string, behaviour> net;
    lines expect;
    long done_at;
    error_code error = {};
};

std::vector<go_case> go_cases() {
    const auto v6first = family_preference::prefer_ipv6, v4first = family_preference::prefer_ipv4;
    return {
        {"G1", v4first, {"127.0.0.1"}, {{"127.0.0.1", ok(0)}}, {"127.0.0.1 0..0 won"}, 0},
        {"G2", v6first, {"::1"}, {{"::1", ok(0)}}, {"::1 0..0 won"}, 0},
        // G3, G4: the fallback (a black hole) is never needed, never started.
        {"G3", v4first, {"127.0.0.1", "2001:db8::6"}, {{"127.0.0.1", ok(0)}}, {"127.0.0.1 0..0 won"}, 0},
        {"G4", v6first, {"::1", "192.0.2.4"}, {{"::1", ok(0)}}, {"::1 0..0 won"}, 0},
        // G5: the fallback starts at D.
        {"G5",
         v4first,
         {"192.0.2.4", "::1"},
         {{"::1", ok(0)}},
         {"192.0.2.4 0..200 superseded", "::1 200..200 won"},
         200},
        // G6, G7: a refused address is skipped at once within a family.
        {"G6",
         v4first,
         {"127.0.0.1", "127.0.0.2"},
         {{"127.0.0.1", rst(50)}, {"127.0.0.2", ok(0)}},
         {"127.0.0.1 0..50 failed", "127.0.0.2 50..50 won"},
         50},
        {"G7", v6first, {"::1", "::2"}, {{"::1", rst(50)}, {"::2", ok(0)}}, {"::1 0..50 failed", "::2 50..50 won"}, 50},
        // G8: two black holes stall nothing; the refusal advances at once. Go
        // gets D + cp with its two-list shape; with all four addresses in RFC
        // 8305 order (hole, hole, refused, ok) it is 2D + cp.
        {"G8",
         v6first,
         {"2001:db8::6", "::1", "192.0.2.4", "127.0.0.1"},
         {{"::1", rst(50)}, {"127.0.0.1", ok(0)}},
         {"2001:db8::6 0..450 superseded", "192.0.2.4 200..450 superseded", "::1 400..450 failed",
          "127.0.0.1 450..450 won"},
         450},
        // G9, G10: a primary failure starts the fallback at once: min(cp, D).
        {"G9",
         v4first,
         {"127.0.0.1", "::1"},
         {{"127.0.0.1", rst(50)}, {"::1", ok(0)}},
         {"127.0.0.1 0..50 failed", "::1 50..50 won"},
         50},
        {"G10",
         v6first,
         {"::1", "127.0.0.1"},
         {{"::1", rst(50)}, {"127.0.0.1", ok(0)}},
         {"::1 0..50 failed", "127.0.0.1 50..50 won"},
         50},
        {"G11", v4first, {"127.0.0.1"}, {{"127.0.0.1", rst(50)}}, {"127.0.0.1 0..50 failed"}, 50, refused},
        {"G12", v6first, {}, {}, {}, 0, no_addresses},
    };
}

scenario go_scenario(const go_case& c) {
    return {
        .config = {.attempt_delay = 200ms, .preference = c.preference}, .dns = resolved_at(0, c.addrs), .net = c.net};
}

}  // namespace

BOOST_AUTO_TEST_CASE(go_primary_and_fallback_cases) {
    // G1-G12
    for (const auto& c : go_cases()) {
        BOOST_TEST_CONTEXT(c.id) {
            auto r = run(go_scenario(c));
            BOOST_TEST(r.attempts == c.expect, tt::per_element());
            BOOST_TEST(r.done_at == c.done_at);
            BOOST_TEST(r.error == c.error);
        }
    }
}

BOOST_AUTO_TEST_CASE(go_cases_cancelled_after_5ms_end_at_5ms) {
    // G14: cancelled 5 ms after the start, every dial not yet over ends at
    // exactly 5 ms (Go allows 100 ms), with every attempt cancelled.
    for (const auto& c : go_cases()) {
        BOOST_TEST_CONTEXT(c.id) {
            auto s = go_scenario(c);
            s.cancel_at = 5;
            auto r = run(s);
            if (c.done_at < 5) {
                BOOST_TEST(r.attempts == c.expect, tt::per_element());
                BOOST_TEST(r.done_at == c.done_at);
                continue;
            }
            BOOST_TEST(r.done_at == 5);
            BOOST_TEST(r.error == aborted);
            CHECK_TIMES(r.starts, 0);
            BOOST_TEST(r.attempts[0] == c.expect[0].substr(0, c.expect[0].find(' ')) + " 0..5 cancelled");
        }
    }
}

BOOST_AUTO_TEST_CASE(attempt_delay_decides_when_the_next_address_starts) {
    // Go TestDialerFallbackDelay: [slow6 hole, 127.0.0.1 ok]. Go: 1 ns -> 0,
    // 200 ms -> 200, default -> 300. Here: the delay as configured, with the
    // 10 ms floor (N6) and our 250 ms default.
    for (long d : {10L, 200L, 250L}) {
        BOOST_TEST_CONTEXT("D = " << d) {
            auto r = run({.config = delay(std::chrono::milliseconds(d)),
                          .dns = resolved_at(0, {"2001:db8::6", "127.0.0.1"}),
                          .net = {{"127.0.0.1", ok(0)}}});
            CHECK_LINES(r.attempts, "2001:db8::6 0.." + std::to_string(d) + " superseded",
                        "127.0.0.1 " + std::to_string(d) + ".." + std::to_string(d) + " won");
            BOOST_TEST(r.done_at == d);
        }
    }
}

BOOST_AUTO_TEST_CASE(connection_completing_after_the_winner_is_lost) {
    // Go TestDialParallelSpuriousConnection (and the historic serial-async
    // test): both handshakes succeed after 200 ms and ignore cancellation.
    // One wins; the other is reported lost (the dialer closes it), and the
    // dial completes only once it has reported.
    behaviour slow = ok(200);
    slow.ignores_cancel = true;
    auto r = run({.config = prefer4(100ms),
                  .dns = resolved_at(0, {"127.0.0.1", "::1"}),
                  .net = {{"127.0.0.1", slow}, {"::1", slow}}});
    CHECK_LINES(r.attempts, "127.0.0.1 0..200 won", "::1 100..300 lost");
    BOOST_TEST(r.winner == "127.0.0.1");
    BOOST_TEST(r.done_at == 300);
}

BOOST_AUTO_TEST_CASE(many_good_addresses_use_one_attempt) {
    // G13: 1000 working addresses; the first connects at once and no other
    // attempt is started.
    std::vector<std::string> addrs;
    for (int i = 1; i <= 1000; ++i) {
        std::ostringstream a;
        a << "2001:db8::" << std::hex << i;
        addrs.push_back(a.str());
    }
    auto r = run({.dns = resolved_at(0, addrs), .otherwise = ok(0)});
    CHECK_LINES(r.attempts, "2001:db8::1 0..0 won");
    BOOST_TEST(r.done_at == 0);
}

// ---------------------------------------------------------------------------
// curl (4.B, tests/unit/unit2600.c): every attempt fails after the given time.

BOOST_AUTO_TEST_CASE(curl_same_family_attempts_overlap_by_the_delay) {
    // C1, C3: one address; C2, C4: the second starts at +150 beside the first.
    for (auto [a, b] : {std::pair{"192.0.2.1", "192.0.2.2"}, std::pair{"2001:db8::1", "2001:db8::2"}}) {
        BOOST_TEST_CONTEXT(a) {
            auto r = run({.config = delay(150ms), .dns = resolved_at(0, {a}), .otherwise = rst(250)});
            CHECK_LINES(r.attempts, std::string(a) + " 0..250 failed");
            BOOST_TEST(r.done_at == 250);
            BOOST_TEST(r.max_in_flight == 1u);

            r = run({.config = delay(150ms), .dns = resolved_at(0, {a, b}), .otherwise = rst(250)});
            CHECK_LINES(r.attempts, std::string(a) + " 0..250 failed", std::string(b) + " 150..400 failed");
            BOOST_TEST(r.done_at == 400);
            BOOST_TEST(r.max_in_flight == 2u);
            BOOST_TEST(r.error == refused);
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv6_is_preferred_whatever_the_answer_order) {
    // C5, C6, N3: IPv6 first even when the A answer (or the list) comes first.
    for (bool a_first : {true, false}) {
        BOOST_TEST_CONTEXT("A answer first: " << a_first) {
            std::vector<answer> dns{A(0, {"192.0.2.1"}), AAAA(0, {"2001:db8::1"})};
            if (!a_first) std::swap(dns[0], dns[1]);
            auto r = run({.config = delay(150ms), .dns = dns, .otherwise = rst(250)});
            CHECK_LINES(r.attempts, "2001:db8::1 0..250 failed", "192.0.2.1 150..400 failed");
            BOOST_TEST(r.done_at == 400);
            BOOST_TEST(r.max_in_flight == 2u);
        }
    }
    // T9 with the RFC 8305 default (trio would start 1.1.1.1 first): ::3
    // starts at 0 and wins at 500, before any IPv4 attempt.
    auto r = run({.config = delay(1000ms),
                  .dns = {A(0, {"1.1.1.1", "2.2.2.2"}), AAAA(0, {"::3"})},
                  .net = {{"1.1.1.1", rst(10000)}, {"2.2.2.2", ok(1000)}, {"::3", ok(500)}}});
    CHECK_LINES(r.attempts, "::3 0..500 won");
}

BOOST_AUTO_TEST_CASE(prefer_ipv4_mirrors_the_order) {
    // Mirror of C5: IPv4 preferred, IPv6 after D.
    auto r =
        run({.config = prefer4(150ms), .dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}), .otherwise = rst(250)});
    CHECK_LINES(r.attempts, "192.0.2.1 0..250 failed", "2001:db8::1 150..400 failed");
    BOOST_TEST(r.done_at == 400);
}

BOOST_AUTO_TEST_CASE(family_filter_is_respected) {
    // C7, C8: the racer is told in start() which families are looked up; an
    // answer for another family is ignored.
    auto r = run({.config = {.attempt_delay = 150ms, .preference = family_preference::ipv4_only},
                  .dns = {AAAA(0, {"2001:db8::1"}), A(0, {"192.0.2.1"})},
                  .otherwise = rst(500),
                  .ipv6_pending = false});
    CHECK_LINES(r.attempts, "192.0.2.1 0..500 failed");
    BOOST_TEST(r.done_at == 500);

    r = run({.config = {.attempt_delay = 150ms, .preference = family_preference::ipv6_only},
             .dns = {A(0, {"192.0.2.1"}), AAAA(0, {"2001:db8::1"})},
             .otherwise = rst(500),
             .ipv4_pending = false});
    CHECK_LINES(r.attempts, "2001:db8::1 0..500 failed");
    BOOST_TEST(r.done_at == 500);
}

BOOST_AUTO_TEST_CASE(families_alternate_while_both_last) {
    // C9: ::1, v4, ::2, ::3 at D = 50; all fail after 400.
    auto r =
        run({.config = delay(50ms), .dns = resolved_at(0, {"::1", "192.0.2.1", "::2", "::3"}), .otherwise = rst(400)});
    CHECK_LINES(r.attempts, "::1 0..400 failed", "192.0.2.1 50..450 failed", "::2 100..500 failed",
                "::3 150..550 failed");
    BOOST_TEST(r.done_at == 550);
    BOOST_TEST(r.max_in_flight == 4u);
}

BOOST_AUTO_TEST_CASE(max_concurrent_caps_in_flight_and_drops_nothing) {
    // C10 with a cap of 6: curl drops the oldest attempt; we keep it and start
    // the next one when an attempt fails. All 9 addresses are tried.
    const std::vector<std::string> addrs{"::1", "192.0.2.1", "::2", "::3", "::4", "::5", "::6", "::7", "::8"};
    auto r = run(
        {.config = {.attempt_delay = 20ms, .max_concurrent = 6}, .dns = resolved_at(0, addrs), .otherwise = rst(500)});
    CHECK_LINES(r.attempts, "::1 0..500 failed", "192.0.2.1 20..520 failed", "::2 40..540 failed", "::3 60..560 failed",
                "::4 80..580 failed", "::5 100..600 failed", "::6 500..1000 failed", "::7 520..1020 failed",
                "::8 540..1040 failed");
    BOOST_TEST(r.max_in_flight == 6u);
    BOOST_TEST(r.done_at == 1040);

    // Without a cap all nine overlap.
    r = run({.config = delay(20ms), .dns = resolved_at(0, addrs), .otherwise = rst(500)});
    CHECK_TIMES(r.starts, 0, 20, 40, 60, 80, 100, 120, 140, 160);
    BOOST_TEST(r.max_in_flight == 9u);
    BOOST_TEST(r.done_at == 660);

    // An answer arriving at the cap, long after D, waits for a failure too.
    r = run({.config = {.max_concurrent = 2},
             .dns = {AAAA(0, {"2001:db8::a", "2001:db8::b"}), A(1000, {"192.0.2.1"})},
             .net = {{"2001:db8::b", rst(1250)}, {"192.0.2.1", ok(10)}}});
    CHECK_LINES(r.attempts, "2001:db8::a 0..1510 superseded", "2001:db8::b 250..1500 failed",
                "192.0.2.1 1500..1510 won");
}

BOOST_AUTO_TEST_CASE(cap_holds_against_black_holes_until_the_timeout) {
    // N13: nine black holes, cap 6: six sockets at most, until the timeout.
    const std::vector<std::string> addrs{"::1", "192.0.2.1", "::2", "::3", "::4", "::5", "::6", "::7", "::8"};
    auto r =
        run({.config = {.attempt_delay = 20ms, .max_concurrent = 6, .timeout = 1000ms}, .dns = resolved_at(0, addrs)});
    CHECK_TIMES(r.starts, 0, 20, 40, 60, 80, 100);
    for (const auto& l : r.attempts) BOOST_TEST(l.ends_with("..1000 cancelled"), l);
    BOOST_TEST(r.max_in_flight == 6u);
    BOOST_TEST(r.error == timeout);
    BOOST_TEST(r.done_at == 1000);
}

// ---------------------------------------------------------------------------
// hyper-util (4.D) in virtual time, refused after 30 ms, D = 250 ms.

BOOST_AUTO_TEST_CASE(black_hole_yields_to_the_other_family_at_the_delay) {
    // H9 beat-them variant: [198.18.0.25 hole, 127.0.0.1, ::1] is raced as
    // hole, ::1, 127.0.0.1, so ::1 wins at D.
    auto r = run({.config = prefer4(),
                  .dns = resolved_at(0, {"192.0.2.25", "127.0.0.1", "::1"}),
                  .net = {{"127.0.0.1", ok(0)}, {"::1", ok(0)}}});
    CHECK_LINES(r.attempts, "192.0.2.25 0..250 superseded", "::1 250..250 won");
    // H10 (mirror)
    r = run(
        {.dns = resolved_at(0, {"2001:db8::254", "::1", "127.0.0.1"}), .net = {{"127.0.0.1", ok(0)}, {"::1", ok(0)}}});
    CHECK_LINES(r.attempts, "2001:db8::254 0..250 superseded", "127.0.0.1 250..250 won");
}

BOOST_AUTO_TEST_CASE(black_hole_does_not_stall_the_same_family) {
    // 4.D single-family [198.18.0.25 hole, 127.0.0.1 ok], pitfall 6.1: Go and
    // hyper-util wait for the OS timeout; we connect at D = 250.
    auto r = run({.dns = resolved_at(0, {"192.0.2.25", "127.0.0.1"}), .net = {{"127.0.0.1", ok(0)}}});
    CHECK_LINES(r.attempts, "192.0.2.25 0..250 superseded", "127.0.0.1 250..250 won");
    BOOST_TEST(r.done_at == 250);
}

BOOST_AUTO_TEST_CASE(refusal_starts_the_next_interleaved_address_at_once) {
    // H5, H6: same family, at the refused time.
    auto r = run({.config = prefer4(),
                  .dns = resolved_at(0, {"127.0.0.2", "127.0.0.1"}),
                  .net = {{"127.0.0.2", rst(30)}, {"127.0.0.1", ok(0)}}});
    CHECK_LINES(r.attempts, "127.0.0.2 0..30 failed", "127.0.0.1 30..30 won");
    r = run({.dns = resolved_at(0, {"::2", "::1"}), .net = {{"::2", rst(30)}, {"::1", ok(0)}}});
    CHECK_LINES(r.attempts, "::2 0..30 failed", "::1 30..30 won");
    // H7, H8: hyper-util stays in the family; RFC 8305 interleaving makes the
    // other family the next attempt, also at the refused time.
    r = run({.config = prefer4(),
             .dns = resolved_at(0, {"127.0.0.2", "127.0.0.1", "::1"}),
             .net = {{"127.0.0.2", rst(30)}, {"127.0.0.1", ok(0)}, {"::1", ok(0)}}});
    CHECK_LINES(r.attempts, "127.0.0.2 0..30 failed", "::1 30..30 won");
    r = run({.dns = resolved_at(0, {"::2", "::1", "127.0.0.1"}),
             .net = {{"::2", rst(30)}, {"::1", ok(0)}, {"127.0.0.1", ok(0)}}});
    CHECK_LINES(r.attempts, "::2 0..30 failed", "127.0.0.1 30..30 won");
    // H11, H12: HE + refused.
    r = run({.config = prefer4(),
             .dns = resolved_at(0, {"192.0.2.4", "::2", "::1"}),
             .net = {{"::2", rst(30)}, {"::1", ok(0)}}});
    CHECK_LINES(r.attempts, "192.0.2.4 0..280 superseded", "::2 250..280 failed", "::1 280..280 won");
    r = run({.dns = resolved_at(0, {"2001:db8::6", "127.0.0.2", "127.0.0.1"}),
             .net = {{"127.0.0.2", rst(30)}, {"127.0.0.1", ok(0)}}});
    CHECK_LINES(r.attempts, "2001:db8::6 0..280 superseded", "127.0.0.2 250..280 failed", "127.0.0.1 280..280 won");
}

// ---------------------------------------------------------------------------
// DNS timing: mozilla/happy-eyeballs move-on table (4.E) and HEv3 (4.F),
// without HTTPS records. All endpoints are black holes; the caller cancels.

BOOST_AUTO_TEST_CASE(resolution_delay_move_on_table) {
    // 4.E section 4.2, for both preferences. Each row tells "started at once"
    // from "waited RD" from "waited for the preferred answer".
    struct row {
        const char* what;
        std::vector<answer> dns;  // written for prefer_ipv6
        address_family first;
        long at;
    };
    const std::vector<row> rows{
        {"AAAA+ alone", {AAAA(30, {"2001:db8::1"}), never(v4)}, v6, 30},
        {"A+ then AAAA+", {A(30, {"192.0.2.1"}), AAAA(40, {"2001:db8::1"})}, v6, 40},
        {"A+ then AAAA-", {A(30, {"192.0.2.1"}), negative(v6, 40)}, v4, 40},
        {"A+ then AAAA NXDOMAIN", {A(30, {"192.0.2.1"}), negative(v6, 40, nettrace::error::host_not_found)}, v4, 40},
        {"AAAA- then A+", {negative(v6, 30), A(40, {"192.0.2.1"})}, v4, 40},
        {"A+ alone: move on by timeout", {A(30, {"192.0.2.1"}), never(v6)}, v4, 80},
        {"A+ then AAAA+ after RD", {A(30, {"192.0.2.1"}), AAAA(90, {"2001:db8::1"})}, v4, 80},
    };
    const auto swap_family = [](address_family f) { return f == v6 ? v4 : v6; };
    const auto mirror_addr = [](const std::string& a) {
        return is_v6(a) ? std::string("192.0.2.1") : std::string("2001:db8::1");
    };
    for (bool mirrored : {false, true}) {
        for (const auto& row : rows) {
            BOOST_TEST_CONTEXT(row.what << (mirrored ? " (prefer_ipv4 mirror)" : "")) {
                auto dns = row.dns;
                if (mirrored)
                    for (auto& a : dns) {
                        a.family = swap_family(a.family);
                        for (auto& addr : a.addrs) addr = mirror_addr(addr);
                    }
                racer_config c;
                if (mirrored) c.preference = family_preference::prefer_ipv4;
                auto r = run({.config = c, .dns = dns, .cancel_at = 1000});
                const auto first = mirrored ? swap_family(row.first) : row.first;
                BOOST_TEST_REQUIRE(!r.addrs.empty());
                BOOST_TEST(r.addrs[0] == (first == v6 ? "2001:db8::1" : "192.0.2.1"));
                BOOST_TEST(r.starts[0] == row.at);
                if (row.at == 80) BOOST_TEST(r.armed(30, 80));  // Timer(50 ms) at the A answer
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(missing_aaaa_answer_costs_only_the_resolution_delay) {
    // N4, 6.4: A at 10 ms, AAAA never. IPv4 starts at 10 + RD = 60 (not at 10,
    // not at the resolver timeout); the win stops the AAAA lookup.
    auto r = run({.dns = {A(10, {"192.0.2.1"}), never(v6)}, .net = {{"192.0.2.1", ok(20)}}});
    CHECK_LINES(r.attempts, "192.0.2.1 60..80 won");
    BOOST_TEST(r.stopped_resolving_at == 80);
    BOOST_TEST(r.done_at == 80);
    // The delay counts from the A answer, not from the dial's start.
    r = run({.config = {.resolution_delay = 100ms},
             .dns = {A(70, {"192.0.2.1"}), never(v6)},
             .net = {{"192.0.2.1", ok(20)}}});
    CHECK_LINES(r.attempts, "192.0.2.1 170..190 won");
}

BOOST_AUTO_TEST_CASE(negative_preferred_answer_ends_the_resolution_delay) {
    // N5: A+ at 10, AAAA NODATA at 12: IPv4 starts at 12, not 60.
    auto r = run({.dns = {A(10, {"192.0.2.1"}), negative(v6, 12)}, .net = {{"192.0.2.1", ok(20)}}});
    CHECK_LINES(r.attempts, "192.0.2.1 12..32 won");
    BOOST_TEST(r.stopped_resolving_at == -1);
}

BOOST_AUTO_TEST_CASE(preferred_answer_starts_at_once_and_the_other_family_joins) {
    // D1: AAAA x2 at 30 starts IPv6 at once; A x2 at 32 joins the list.
    auto r =
        run({.dns = {AAAA(30, {"2001:db8::1", "2001:db8::2"}), A(32, {"192.0.2.1", "192.0.2.2"})}, .cancel_at = 1000});
    BOOST_TEST(r.addrs == (lines{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"}), tt::per_element());
    CHECK_TIMES(r.starts, 30, 280, 530, 780);
}

BOOST_AUTO_TEST_CASE(preferred_answer_within_the_resolution_delay_goes_first) {
    // D2: A at 30 arms the RD timer (80); AAAA at 40 starts IPv6 at 40 and
    // IPv4 follows after D. (HEv3 says "IPv6 + IPv4 at 40": the list is known
    // at 40, the IPv4 attempt is paced.)
    auto r = run({.dns = {A(30, {"192.0.2.1"}), AAAA(40, {"2001:db8::1"})}, .cancel_at = 1000});
    BOOST_TEST(r.addrs == (lines{"2001:db8::1", "192.0.2.1"}), tt::per_element());
    CHECK_TIMES(r.starts, 40, 290);
    BOOST_TEST(r.armed(30, 80));
}

BOOST_AUTO_TEST_CASE(late_preferred_answer_becomes_the_next_attempt) {
    // D3 (HEv3 section 7): A x2 at 30, IPv4 at 80; AAAA at 180 while the
    // first IPv4 attempt runs. It is not started at once (D since 80 has not
    // passed), nor after the second IPv4 address: it is the next attempt, at
    // 80 + 250 = 330.
    auto r = run({.dns = {A(30, {"192.0.2.1", "192.0.2.2"}), AAAA(180, {"2001:db8::1"})}, .cancel_at = 1000});
    BOOST_TEST(r.addrs == (lines{"192.0.2.1", "2001:db8::1", "192.0.2.2"}), tt::per_element());
    CHECK_TIMES(r.starts, 80, 330, 580);
}

BOOST_AUTO_TEST_CASE(late_answer_starts_at_once_when_the_delay_has_passed) {
    // D3 variant: the AAAA answer comes after D has passed: it starts at once.
    auto r = run({.dns = {A(30, {"192.0.2.1"}), AAAA(1000, {"2001:db8::1"})}, .cancel_at = 2000});
    BOOST_TEST(r.addrs == (lines{"192.0.2.1", "2001:db8::1"}), tt::per_element());
    CHECK_TIMES(r.starts, 80, 1000);
    // A failure while the other family is still resolving frees the slot:
    // the late answer then starts at once too, even within D.
    r = run({.dns = {A(30, {"192.0.2.1"}), AAAA(200, {"2001:db8::1"})},
             .net = {{"192.0.2.1", rst(20)}},
             .cancel_at = 2000});
    BOOST_TEST(r.addrs == (lines{"192.0.2.1", "2001:db8::1"}), tt::per_element());
    CHECK_TIMES(r.starts, 80, 200);
}

BOOST_AUTO_TEST_CASE(answers_in_one_instant_start_the_preferred_family) {
    // D4, D5 without HTTPS records: AAAA and A at 30 start IPv6 at 30, in
    // either delivery order (HEv3's 40 and 80 wait for the HTTPS answer).
    for (bool aaaa_first : {true, false}) {
        BOOST_TEST_CONTEXT("AAAA first: " << aaaa_first) {
            std::vector<answer> dns{AAAA(30, {"2001:db8::1"}), A(30, {"192.0.2.1"})};
            if (!aaaa_first) std::swap(dns[0], dns[1]);
            auto r = run({.dns = dns, .cancel_at = 1000});
            BOOST_TEST(r.addrs == (lines{"2001:db8::1", "192.0.2.1"}), tt::per_element());
            CHECK_TIMES(r.starts, 30, 280);
        }
    }
}

BOOST_AUTO_TEST_CASE(single_family_lookup_starts_on_its_answer) {
    // D8 without HTTPS: on an IPv4-only lookup (tcp4, or ipv4_only) nothing
    // else is pending, so the A answer at 30 starts at once, without RD,
    // even though IPv6 is the preferred family.
    auto r = run({.dns = {A(30, {"192.0.2.1"})}, .net = {{"192.0.2.1", ok(5)}}, .ipv6_pending = false});
    CHECK_LINES(r.attempts, "192.0.2.1 30..35 won");
    r = run({.config = {.preference = family_preference::ipv4_only},
             .dns = {A(30, {"192.0.2.1"})},
             .net = {{"192.0.2.1", ok(5)}}});
    CHECK_LINES(r.attempts, "192.0.2.1 30..35 won");
}

// ---------------------------------------------------------------------------
// Pitfall regressions (4.G, 6)

BOOST_AUTO_TEST_CASE(slow_working_route_is_never_cut_by_the_attempt_delay) {
    // N1, 6.2: the only working route has a 400 ms handshake.
    auto r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}), .net = {{"192.0.2.1", ok(400)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..650 superseded", "192.0.2.1 250..650 won");
    r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}), .net = {{"2001:db8::1", ok(400)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..400 won", "192.0.2.1 250..400 superseded");
}

BOOST_AUTO_TEST_CASE(slow_refusal_does_not_hold_back_the_other_family) {
    // N2, 6.10: IPv6 is refused only after 2 s (Windows); IPv4 wins at D + RTT.
    auto r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}),
                  .net = {{"2001:db8::1", rst(2000)}, {"192.0.2.1", ok(20)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..270 superseded", "192.0.2.1 250..270 won");
}

BOOST_AUTO_TEST_CASE(ten_millisecond_attempt_delay_is_honoured) {
    // N6: the 10 ms floor is applied by the dialer (make_dialer_state); the
    // racer uses its config as given, and a 10 ms delay spaces starts 10 ms apart.
    auto r = run({.config = {.attempt_delay = 10ms, .timeout = 100ms},
                  .dns = resolved_at(0, {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"})});
    CHECK_TIMES(r.starts, 0, 10, 20, 30, 40);
    BOOST_TEST(r.error == timeout);
    BOOST_TEST(r.done_at == 100);
}

BOOST_AUTO_TEST_CASE(cancel_during_dns_stops_resolving_and_ignores_late_answers) {
    // N8, during DNS: done at the cancel, the lookups are stopped, and a real
    // answer arriving later is ignored.
    virtual_network n({.dns = {AAAA(30, {"2001:db8::1"}), A(40, {"192.0.2.1"})}, .cancel_at = 5});
    auto r = n.run();
    BOOST_TEST(r.attempts.empty());
    BOOST_TEST(r.error == aborted);
    BOOST_TEST(r.stopped_resolving_at == 5);
    BOOST_TEST(r.done_at == 5);
    const std::vector addr{boost::asio::ip::make_address("2001:db8::1")};
    n.machine().on_answer(v6, addr, {}, at_ms(30));
    BOOST_TEST(!n.machine().next());
    BOOST_TEST(n.machine().attempts().empty());
    BOOST_TEST(n.machine().error() == aborted);
}

BOOST_AUTO_TEST_CASE(cancel_during_first_attempt_starts_nothing_more) {
    // N8, during the first attempt: the second (due at 250) never starts.
    auto r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}), .cancel_at = 100});
    CHECK_LINES(r.attempts, "2001:db8::1 0..100 cancelled");
    BOOST_TEST(r.error == aborted);
    BOOST_TEST(r.done_at == 100);
}

BOOST_AUTO_TEST_CASE(cancel_between_attempts_is_reported_not_swallowed) {
    // N8, between attempts: the first failed, the next address is not known
    // yet. The dial reports the cancellation, not the earlier refusal.
    auto r = run({.dns = {AAAA(0, {"2001:db8::1"}), never(v4)}, .net = {{"2001:db8::1", rst(10)}}, .cancel_at = 100});
    CHECK_LINES(r.attempts, "2001:db8::1 0..10 failed");
    BOOST_TEST(r.error == aborted);
    BOOST_TEST(r.stopped_resolving_at == 100);
    BOOST_TEST(r.done_at == 100);
}

BOOST_AUTO_TEST_CASE(cancel_at_the_instant_of_success) {
    // N8, at the instant of success. If the success is handled first, the dial
    // has connected and the cancel is too late.
    const scenario s{.dns = resolved_at(0, {"2001:db8::1"}), .net = {{"2001:db8::1", ok(300)}}, .cancel_at = 300};
    auto late = s;
    late.cancel_after_peers = true;
    auto r = run(late);
    CHECK_LINES(r.attempts, "2001:db8::1 0..300 won");
    BOOST_TEST(!r.error);
    BOOST_TEST(r.done_at == 300);
    // If the cancel is handled first, the connection that completes in the
    // same turn is closed (lost) and the caller sees operation_aborted.
    r = run(s);
    CHECK_LINES(r.attempts, "2001:db8::1 0..300 lost");
    BOOST_TEST(r.error == aborted);
    BOOST_TEST(r.winner.empty());
    BOOST_TEST(r.done_at == 300);
}

BOOST_AUTO_TEST_CASE(first_family_count_decides_how_many_preferred_go_first) {
    // N10 (aiohappyeyeballs interleave=2): [v6a rst@0, v6b ok, v4 ok].
    const scenario s{.dns = resolved_at(0, {"2001:db8::a", "2001:db8::b", "192.0.2.1"}),
                     .net = {{"2001:db8::a", rst(0)}, {"2001:db8::b", ok(10)}, {"192.0.2.1", ok(10)}}};
    auto two = s;
    two.config.first_family_count = 2;
    auto r = run(two);
    CHECK_LINES(r.attempts, "2001:db8::a 0..0 failed", "2001:db8::b 0..10 won");
    r = run(s);
    CHECK_LINES(r.attempts, "2001:db8::a 0..0 failed", "192.0.2.1 0..10 won");
}

BOOST_AUTO_TEST_CASE(families_interleave_after_first_family_count) {
    // RFC 8305 section 4: first_family_count preferred addresses, then
    // alternate; the rest of the longer family comes last.
    const std::vector<std::string> addrs{"2001:db8::1", "2001:db8::2", "2001:db8::3", "192.0.2.1", "192.0.2.2"};
    auto r = run({.dns = resolved_at(0, addrs), .cancel_at = 2000});
    BOOST_TEST(r.addrs == (lines{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"}),
               tt::per_element());
    CHECK_TIMES(r.starts, 0, 250, 500, 750, 1000);
    r = run({.config = {.first_family_count = 2}, .dns = resolved_at(0, addrs), .cancel_at = 2000});
    BOOST_TEST(r.addrs == (lines{"2001:db8::1", "2001:db8::2", "192.0.2.1", "2001:db8::3", "192.0.2.2"}),
               tt::per_element());
    r = run({.config = prefer4(), .dns = resolved_at(0, addrs), .cancel_at = 2000});
    BOOST_TEST(r.addrs == (lines{"192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2", "2001:db8::3"}),
               tt::per_element());
}

BOOST_AUTO_TEST_CASE(race_false_dials_serially) {
    // race = false: the next attempt starts only when the previous failed.
    auto r = run({.config = {.race = false},
                  .dns = resolved_at(0, {"2001:db8::1", "2001:db8::2", "192.0.2.1"}),
                  .net = {{"2001:db8::1", rst(100)}, {"192.0.2.1", ok(50)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..100 failed", "192.0.2.1 100..150 won");
    BOOST_TEST(r.max_in_flight == 1u);
    // ...so a black hole stalls it until the timeout (racing connects at 250:
    // black_hole_does_not_stall_the_same_family).
    r = run({.config = {.race = false, .timeout = 1000ms},
             .dns = resolved_at(0, {"192.0.2.25", "127.0.0.1"}),
             .net = {{"127.0.0.1", ok(0)}}});
    CHECK_LINES(r.attempts, "192.0.2.25 0..1000 cancelled");
    BOOST_TEST(r.error == timeout);
    // A late answer, long after D, does not start a second attempt beside it.
    r = run({.config = {.race = false, .timeout = 2000ms},
             .dns = {AAAA(0, {"2001:db8::1"}), A(500, {"192.0.2.1"})},
             .net = {{"192.0.2.1", ok(0)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..2000 cancelled");
}

BOOST_AUTO_TEST_CASE(timeout_cancels_every_black_hole_at_exactly_the_timeout) {
    auto r = run({.config = {.timeout = 1000ms}, .dns = resolved_at(0, {"1.1.1.1", "2.2.2.2", "3.3.3.3"})});
    CHECK_LINES(r.attempts, "1.1.1.1 0..1000 cancelled", "2.2.2.2 250..1000 cancelled", "3.3.3.3 500..1000 cancelled");
    BOOST_TEST(r.error == timeout);
    BOOST_TEST(r.winner.empty());
    BOOST_TEST(r.done_at == 1000);
}

BOOST_AUTO_TEST_CASE(timeout_also_bounds_dns) {
    // No answer at all: the dial times out and stops the lookups.
    auto r = run({.config = {.timeout = 300ms}, .dns = {never(v6), never(v4)}});
    BOOST_TEST(r.attempts.empty());
    BOOST_TEST(r.error == timeout);
    BOOST_TEST(r.stopped_resolving_at == 300);
    BOOST_TEST(r.done_at == 300);
    // A timeout shorter than the resolution delay ends the wait.
    r = run({.config = {.resolution_delay = 500ms, .timeout = 300ms}, .dns = {A(10, {"192.0.2.1"}), never(v6)}});
    BOOST_TEST(r.attempts.empty());
    BOOST_TEST(r.error == timeout);
    BOOST_TEST(r.done_at == 300);
}

BOOST_AUTO_TEST_CASE(late_events_after_completion_are_ignored) {
    // N8: a late DNS answer, a duplicate completion, a stale timer or a cancel
    // after the dial completed change nothing and queue no action.
    virtual_network n({.dns = {AAAA(0, {"2001:db8::1"}), never(v4)}, .net = {{"2001:db8::1", ok(10)}}});
    auto r = n.run();
    CHECK_LINES(r.attempts, "2001:db8::1 0..10 won");
    BOOST_TEST(r.stopped_resolving_at == 10);
    BOOST_TEST(r.done_at == 10);
    auto& he = n.machine();
    const std::vector addr{boost::asio::ip::make_address("192.0.2.1")};
    he.on_answer(v4, addr, {}, at_ms(20));
    he.on_attempt_done(0, refused, at_ms(30));
    he.on_timer(at_ms(250));
    he.cancel(aborted, at_ms(300));
    BOOST_TEST(!he.next());
    BOOST_TEST(he.attempts().size() == 1u);
    BOOST_TEST((he.attempts()[0].outcome == connect_outcome::won));
    BOOST_TEST((he.winner() == std::optional<std::size_t>(0)));
    BOOST_TEST(!he.error());
}

BOOST_AUTO_TEST_CASE(success_just_before_the_delay_starts_nothing_more) {
    // 6.9 (trio PR #632 launched one more attempt): a success at 249, or at
    // the delay's own instant when handled first, starts no second attempt.
    for (long t : {249L, 250L}) {
        BOOST_TEST_CONTEXT("success at " << t) {
            auto r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}),
                          .net = {{"2001:db8::1", ok(t)}, {"192.0.2.1", ok(0)}}});
            CHECK_LINES(r.attempts, "2001:db8::1 0.." + std::to_string(t) + " won");
        }
    }
}

BOOST_AUTO_TEST_CASE(most_telling_error_prefers_the_peer_over_local_failures) {
    // 6.16: a v4 RST is not hidden behind a v6 ENETUNREACH.
    auto r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}),
                  .net = {{"2001:db8::1", fail(0, asio_error::network_unreachable)}, {"192.0.2.1", rst(20)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..0 failed", "192.0.2.1 0..20 failed");
    BOOST_TEST(r.error == refused);
    BOOST_TEST(r.done_at == 20);
    // The first peer error in start order, not the last.
    r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}),
             .net = {{"2001:db8::1", rst(300)}, {"192.0.2.1", fail(10, asio_error::connection_reset)}}});
    BOOST_TEST(r.error == refused);
    // Only local failures: the first of them.
    r = run({.dns = resolved_at(0, {"2001:db8::1", "192.0.2.1"}),
             .net = {{"2001:db8::1", sockfail}, {"192.0.2.1", fail(5, asio_error::network_unreachable)}}});
    CHECK_LINES(r.attempts, "2001:db8::1 0..0 failed", "192.0.2.1 0..5 failed");
    BOOST_TEST(r.error == asio_error::address_family_not_supported);
}

BOOST_AUTO_TEST_CASE(error_helpers) {
    using nettrace::detail::combine_lookup_errors;
    using nettrace::detail::most_telling_error;
    auto attempt = [](error_code ec) {
        racer::attempt a;
        a.error = ec;
        return a;
    };
    const std::vector<racer::attempt> none;
    BOOST_TEST(most_telling_error(none) == no_addresses);
    const std::vector local{attempt(asio_error::network_unreachable), attempt(nettrace::error::no_local_address),
                            attempt(refused), attempt(asio_error::timed_out)};
    BOOST_TEST(most_telling_error(local) == refused);
    const std::vector only_local{attempt(nettrace::error::no_local_address), attempt(asio_error::network_unreachable)};
    BOOST_TEST(most_telling_error(only_local) == nettrace::error::no_local_address);

    const error_code nx = nettrace::error::host_not_found, servfail = nettrace::error::dns_failure;
    BOOST_TEST(combine_lookup_errors({}, {}) == no_addresses);
    BOOST_TEST(combine_lookup_errors(no_addresses, no_addresses) == no_addresses);
    BOOST_TEST(combine_lookup_errors(no_addresses, nx) == nx);
    BOOST_TEST(combine_lookup_errors(nx, no_addresses) == nx);
    BOOST_TEST(combine_lookup_errors(servfail, nx) == servfail);
}

BOOST_AUTO_TEST_CASE(complete_is_the_last_action) {
    // The racer's last action must be `complete`: a driver may act on it at
    // once. The cases where the dial ends in the same event as its last
    // attempt while a timer is armed (the attempt delay for an untried
    // address, or the dial timeout): cancel_timer comes before complete.
    auto r = run({.dns = resolved_at(0, {"::1", "192.0.2.4"}), .net = {{"::1", ok(0)}}});  // G4
    BOOST_TEST(r.after_complete.empty(), r.after_complete.size() << " action(s) after complete");
    r = run({.config = {.timeout = 1000ms}, .dns = resolved_at(0, {"192.0.2.1"}), .net = {{"192.0.2.1", rst(10)}}});
    BOOST_TEST(r.after_complete.empty(), r.after_complete.size() << " action(s) after complete");
}

// ---------------------------------------------------------------------------
// Durations at the edge of the clock: deadlines saturate, never wrap.

BOOST_AUTO_TEST_CASE(a_timeout_the_clock_cannot_hold_never_expires) {
    // now + clock::duration::max() would wrap to a deadline in the past.
    for (const auto t : {std::chrono::steady_clock::duration::max(),
                         std::chrono::steady_clock::duration::max() / 2 + std::chrono::nanoseconds(1)}) {
        auto r = run({.config = {.timeout = t}, .dns = resolved_at(0, {"1.2.3.4"}), .net = {{"1.2.3.4", ok(5000)}}});
        CHECK_LINES(r.attempts, "1.2.3.4 0..5000 won");
        BOOST_TEST(!r.error);
        BOOST_TEST(r.done_at == 5000);
    }
}

BOOST_AUTO_TEST_CASE(a_resolution_delay_the_clock_cannot_hold_waits_for_the_preferred_family) {
    // The A answer waits for AAAA however late it is; a wrapped deadline
    // would start 1.2.3.4 at once instead.
    auto r = run({.config = {.resolution_delay = std::chrono::steady_clock::duration::max()},
                  .dns = {A(0, {"1.2.3.4"}), AAAA(900, {"::1"})},
                  .net = {{"1.2.3.4", ok(10)}, {"::1", ok(10)}}});
    CHECK_LINES(r.attempts, "::1 900..910 won");
    BOOST_TEST(r.done_at == 910);
}

// ---------------------------------------------------------------------------
// The attempt pipeline: a stage after TCP (dial_tls's handshake) is part of
// the attempt. An attempt wins when its last stage completes, and a TCP
// connect restarts the attempt delay (HEv3's timer extension).

namespace {
racer_config tls_race(std::chrono::milliseconds d = 250ms) {
    return racer_config{.attempt_delay = d, .stages_after_connect = true};
}
}  // namespace

BOOST_AUTO_TEST_CASE(tls_stall_on_the_first_address_starts_the_next_one_delay_after_its_tcp_connect) {
    // ::1 connects at 10 and its handshake never ends; 127.0.0.1 is started
    // at 10 + 250 (not at 250), connects at 265 and handshakes by 275.
    auto r = run({.config = tls_race(),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", tls_stalls(10)}, {"127.0.0.1", tls_ok(5, 10)}}});
    CHECK_LINES(r.attempts, "::1 0..275 superseded", "127.0.0.1 260..275 won");
    BOOST_TEST(r.winner == "127.0.0.1");
    BOOST_TEST(r.done_at == 275);
    BOOST_TEST((r.connected == std::vector<std::pair<std::size_t, long>>{{0, 10}, {1, 265}}));
    BOOST_TEST(r.armed(10, 260));  // re-armed when ::1's TCP connected
}

BOOST_AUTO_TEST_CASE(a_tls_stall_costs_at_most_about_one_more_attempt_delay) {
    // TCP that connects just before the delay pushes the next start to about
    // two delays: the handshake gets its full delay, and no more.
    auto r = run({.config = tls_race(),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", tls_stalls(240)}, {"127.0.0.1", tls_ok(1, 1)}}});
    CHECK_LINES(r.attempts, "::1 0..492 superseded", "127.0.0.1 490..492 won");
}

BOOST_AUTO_TEST_CASE(a_tls_failure_starts_the_next_attempt_at_once) {
    auto r = run({.config = tls_race(),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", tls_fails(10, 20, asio_error::connection_reset)}, {"127.0.0.1", tls_ok(5, 5)}}});
    CHECK_LINES(r.attempts, "::1 0..30 failed", "127.0.0.1 30..40 won");
    BOOST_TEST(r.errors[0] == asio_error::connection_reset);
}

BOOST_AUTO_TEST_CASE(both_attempts_in_tls_and_the_second_finishes_first) {
    // ::1's handshake is slow (400 ms) but alive; 127.0.0.1 starts at 260,
    // connects at 270 and handshakes by 280, before ::1's ends at 410.
    auto r = run({.config = tls_race(),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", tls_ok(10, 400)}, {"127.0.0.1", tls_ok(10, 10)}}});
    CHECK_LINES(r.attempts, "::1 0..280 superseded", "127.0.0.1 260..280 won");
    BOOST_TEST((r.connected == std::vector<std::pair<std::size_t, long>>{{0, 10}, {1, 270}}));
}

BOOST_AUTO_TEST_CASE(cancellation_during_tls_ends_every_stage) {
    auto r = run({.config = tls_race(),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", tls_stalls(10)}, {"127.0.0.1", tls_stalls(10)}},
                  .cancel_at = 300});
    CHECK_LINES(r.attempts, "::1 0..300 cancelled", "127.0.0.1 260..300 cancelled");
    BOOST_TEST(r.error == aborted);
    BOOST_TEST(r.done_at == 300);
}

BOOST_AUTO_TEST_CASE(timeout_during_tls_ends_every_stage) {
    auto cfg = tls_race();
    cfg.timeout = 400ms;
    auto r = run({.config = cfg,
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", tls_stalls(10)}, {"127.0.0.1", tls_stalls(10)}}});
    CHECK_LINES(r.attempts, "::1 0..400 cancelled", "127.0.0.1 260..400 cancelled");
    BOOST_TEST(r.error == timeout);
    BOOST_TEST(r.done_at == 400);
}

BOOST_AUTO_TEST_CASE(a_tcp_connect_after_the_race_was_decided_is_lost_and_starts_no_stage) {
    // 127.0.0.1 wins at 20; ::1's TCP, ignoring the cancel, connects at 100.
    behaviour slow = tls_ok(100, 10);
    slow.ignores_cancel = true;
    auto r = run({.config = tls_race(10ms),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", slow}, {"127.0.0.1", tls_ok(5, 5)}}});
    CHECK_LINES(r.attempts, "::1 0..100 lost", "127.0.0.1 10..20 won");
}

BOOST_AUTO_TEST_CASE(a_control_hook_that_fails_an_attempt_starts_the_next_at_once) {
    // src/dial_op.hpp runs dial_options::control between open and connect;
    // its error ends the attempt inside its start, as a socket() failure does.
    behaviour refused_by_control = sockfail;
    refused_by_control.ec = asio_error::access_denied;
    auto r = run({.config = tls_race(),
                  .dns = resolved_at(0, {"::1", "127.0.0.1"}),
                  .net = {{"::1", refused_by_control}, {"127.0.0.1", tls_ok(5, 5)}}});
    CHECK_LINES(r.attempts, "::1 0..0 failed", "127.0.0.1 0..10 won");
    BOOST_TEST(r.errors[0] == asio_error::access_denied);
}
