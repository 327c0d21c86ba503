// connection_history and the race that learns from it: the store's bound,
// TTL and thread safety, and the racer's sort on a virtual clock (a
// black-holed address demoted, a win promoted by RTT, the learned family
// leading, and the old order back once what was learned expires).
#define BOOST_TEST_MODULE history
#include <boost/test/unit_test.hpp>

#include "racer.hpp"
#include "support/virtual_clock.hpp"

#include <nettrace/history.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace nettrace::testing::virtual_clock;
using nettrace::attempt_failure;
using nettrace::attempt_reason;
using nettrace::connection_history;

endpoint ep(const char* s, unsigned short port = 443) { return {ip(s), port}; }

// A race on the virtual clock: the addresses answer at 0, and each timer
// fires as armed; `starts` are the attempts' endpoints and start times.
struct race {
    explicit race(racer_config c) : r(c, 443) {}

    void answer(std::vector<address> v6, std::vector<address> v4) {
        r.start(at_ms(0), true, true);
        r.on_answer(address_family::ipv6, v6, {}, at_ms(0));
        r.on_answer(address_family::ipv4, v4, {}, at_ms(0));
        drain(0);
    }
    void drain(long now) {
        while (auto a = r.next()) {
            if (a->kind() == act::start_attempt) {
                const auto& at = r.attempts()[a->attempt()];
                starts.push_back(at.endpoint.address().to_string() + "@" + std::to_string(now));
                reasons.push_back(at.reason);
            }
            if (a->kind() == act::set_timer) timer = ms_of(a->deadline());
            if (a->kind() == act::cancel_timer) timer = -1;
        }
    }
    void run_timers(int n) {
        for (int i = 0; i < n && timer >= 0; ++i) {
            const long now = timer;
            timer = -1;
            r.on_timer(at_ms(now));
            drain(now);
        }
    }

    racer r;
    std::vector<std::string> starts;
    std::vector<attempt_reason> reasons;
    long timer = -1;
};

using strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(store)

BOOST_AUTO_TEST_CASE(an_outcome_counts_until_its_ttl_and_not_after) {
    connection_history h({.capacity = 16, .ttl = 60s});
    h.record_failure(ep("::1"), attempt_failure::superseded, at_ms(0));
    BOOST_TEST((h.lookup(ep("::1"), at_ms(59'000)).state == connection_history::verdict::kind::failed));
    BOOST_TEST((h.lookup(ep("::1"), at_ms(60'001)).state == connection_history::verdict::kind::unknown));
    BOOST_TEST((h.lookup(ep("::1", 444), at_ms(0)).state == connection_history::verdict::kind::unknown));  // per port
}

BOOST_AUTO_TEST_CASE(the_rtt_is_smoothed_as_tcp_does) {
    connection_history h;
    h.record_success(ep("127.0.0.1"), 8ms, at_ms(0));
    h.record_success(ep("127.0.0.1"), 16ms, at_ms(1));
    BOOST_TEST(h.lookup(ep("127.0.0.1"), at_ms(2)).rtt.count() == std::chrono::nanoseconds(9ms).count());
}

BOOST_AUTO_TEST_CASE(the_store_never_holds_more_than_its_capacity_and_forgets_the_least_recent) {
    connection_history h({.capacity = 3, .ttl = 300s});
    for (int i = 1; i <= 10; ++i)
        h.record_success(endpoint(boost::asio::ip::make_address_v4(0x7f000000u + i), 80), 1ms, at_ms(i));
    BOOST_TEST(h.size() == 3u);
    BOOST_TEST((h.lookup(ep("127.0.0.10", 80), at_ms(11)).state == connection_history::verdict::kind::won));
    BOOST_TEST((h.lookup(ep("127.0.0.1", 80), at_ms(11)).state == connection_history::verdict::kind::unknown));
}

BOOST_AUTO_TEST_CASE(a_black_holed_family_flips_and_flips_back) {
    connection_history h;
    h.record_family_blackhole("dual.test", address_family::ipv6, at_ms(0));
    BOOST_TEST((h.blackholed_family("DUAL.test", at_ms(1)) == std::optional(address_family::ipv6)));
    h.record_family_success("dual.test", address_family::ipv6, at_ms(2));
    BOOST_TEST(!h.blackholed_family("dual.test", at_ms(3)).has_value());
}

BOOST_AUTO_TEST_CASE(concurrent_dials_share_a_history_safely) {
    connection_history h({.capacity = 64, .ttl = 300s});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&h, t] {
            for (int i = 0; i < 2000; ++i) {
                const endpoint e(boost::asio::ip::make_address_v4(0x7f000000u + static_cast<unsigned>(i % 100)), 80);
                if ((i + t) % 3 == 0)
                    h.record_failure(e, attempt_failure::refused);
                else
                    h.record_success(e, std::chrono::microseconds(i));
                (void)h.lookup(e);
                h.record_family_blackhole("h" + std::to_string(i % 7), address_family::ipv6);
                (void)h.blackholed_family("h3");
            }
        });
    for (auto& th : threads) th.join();
    BOOST_TEST(h.size() <= 64u);
    BOOST_TEST(h.size() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(learned_race)

BOOST_AUTO_TEST_CASE(a_demoted_address_goes_after_the_healthy_one_and_is_still_tried) {
    connection_history h;
    h.record_failure(ep("::1"), attempt_failure::superseded, at_ms(0));
    race r(racer_config{.history = &h});
    r.answer({ip("::1")}, {ip("127.0.0.1")});
    r.run_timers(2);
    BOOST_TEST(r.starts == (strings{"127.0.0.1@0", "::1@250"}), boost::test_tools::per_element());
    BOOST_TEST((r.reasons[1] == attempt_reason::history_demoted));
}

BOOST_AUTO_TEST_CASE(without_history_the_same_answers_start_with_ipv6) {
    race r(racer_config{});
    r.answer({ip("::1")}, {ip("127.0.0.1")});
    r.run_timers(2);
    BOOST_TEST(r.starts == (strings{"::1@0", "127.0.0.1@250"}), boost::test_tools::per_element());
    BOOST_TEST((r.reasons[0] == attempt_reason::resolver_order));
    BOOST_TEST((r.reasons[1] == attempt_reason::interleave));
}

BOOST_AUTO_TEST_CASE(recent_wins_go_first_lower_rtt_first) {
    connection_history h;
    h.record_success(ep("127.0.0.2"), 5ms, at_ms(0));
    h.record_success(ep("127.0.0.3"), 1ms, at_ms(0));
    race r(racer_config{.history = &h});
    r.answer({}, {ip("127.0.0.1"), ip("127.0.0.2"), ip("127.0.0.3")});
    r.run_timers(3);
    BOOST_TEST(r.starts == (strings{"127.0.0.3@0", "127.0.0.2@250", "127.0.0.1@500"}),
               boost::test_tools::per_element());
    BOOST_TEST((r.reasons[0] == attempt_reason::history_promoted));
}

BOOST_AUTO_TEST_CASE(the_learned_family_leads_the_interleave) {
    race r(racer_config{.avoid = address_family::ipv6});
    r.answer({ip("::1"), ip("::2")}, {ip("127.0.0.1"), ip("127.0.0.2")});
    r.run_timers(4);
    BOOST_TEST(r.starts == (strings{"127.0.0.1@0", "::1@250", "127.0.0.2@500", "::2@750"}),
               boost::test_tools::per_element());
    BOOST_TEST((r.reasons[0] == attempt_reason::history_family));
}

BOOST_AUTO_TEST_CASE(once_the_ttl_has_passed_the_old_order_returns) {
    connection_history h({.capacity = 16, .ttl = 60s});
    h.record_failure(ep("::1"), attempt_failure::superseded, at_ms(-61'000));
    race r(racer_config{.history = &h});
    r.answer({ip("::1")}, {ip("127.0.0.1")});
    BOOST_TEST_REQUIRE(!r.starts.empty());
    BOOST_TEST(r.starts[0] == "::1@0");
}

BOOST_AUTO_TEST_CASE(a_race_won_by_ipv4_over_a_black_holed_ipv6_teaches_both_lessons) {
    connection_history h;
    race r(racer_config{});
    r.answer({ip("::1")}, {ip("127.0.0.1")});
    r.run_timers(1);  // 127.0.0.1 starts at 250
    r.r.on_attempt_done(1, {}, at_ms(252));
    r.drain(252);
    r.r.on_attempt_done(0, boost::asio::error::operation_aborted, at_ms(252));  // the black hole, cancelled
    r.drain(252);
    BOOST_TEST_REQUIRE(r.r.completed());
    nettrace::detail::learn_from(r.r, h, "dual.test", at_ms(253));
    const auto six = h.lookup(ep("::1"), at_ms(254));
    BOOST_TEST((six.state == connection_history::verdict::kind::failed));
    BOOST_TEST((six.failure == std::optional(attempt_failure::superseded)));
    BOOST_TEST((h.lookup(ep("127.0.0.1"), at_ms(254)).state == connection_history::verdict::kind::won));
    BOOST_TEST((h.blackholed_family("dual.test", at_ms(254)) == std::optional(address_family::ipv6)));
}

BOOST_AUTO_TEST_CASE(an_attempt_superseded_before_the_attempt_delay_teaches_nothing) {
    connection_history h;
    race r(racer_config{.attempt_delay = 250ms});
    r.answer({ip("::1"), ip("::2")}, {});
    r.run_timers(1);                         // ::2 starts at 250 beside ::1
    r.r.on_attempt_done(1, {}, at_ms(260));  // ::2 wins 10 ms later...
    r.drain(260);
    r.r.on_attempt_done(0, boost::asio::error::operation_aborted, at_ms(260));
    r.drain(260);
    nettrace::detail::learn_from(r.r, h, "six.test", at_ms(261));
    // ... ::1 ran 260 ms: the black-hole signature; ::2 won.
    BOOST_TEST((h.lookup(ep("::1"), at_ms(262)).state == connection_history::verdict::kind::failed));
    BOOST_TEST(!h.blackholed_family("six.test", at_ms(262)).has_value());  // its family won
}

BOOST_AUTO_TEST_SUITE_END()
