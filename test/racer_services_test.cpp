// The racer's HEv3 inputs on a virtual clock: HTTPS service groups (when
// connecting waits for them, priority order, hints replaced by answers),
// endpoint lists (ports of their own, the caller's order) and NAT64
// synthesis. The racer is driven by hand here, one event at a time, so each
// test reads as the timeline it asserts.
#define BOOST_TEST_MODULE racer_services
#include <boost/test/unit_test.hpp>

#include "racer.hpp"
#include "support/virtual_clock.hpp"

#include <nettrace/error.hpp>
#include <nettrace/nat64.hpp>

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace nettrace::testing::virtual_clock;
using nettrace::detail::service_group;

// The racer and what it asked for so far: started endpoints ("[::1]:8443")
// with their start times, and the armed timer.
struct timeline {
    explicit timeline(racer_config config = {}, unsigned short port = 443) : r(config, port) {}

    // The race starts at 0, awaiting the answers named.
    void start(bool ipv6_pending, bool ipv4_pending, bool services_pending) {
        r.start(at_ms(0), ipv6_pending, ipv4_pending, services_pending);
        drain(0);
    }
    void drain(long now) {
        while (auto a = r.next()) {
            if (a->kind() == act::start_attempt) {
                const auto& e = r.attempts()[a->attempt()].endpoint;
                const std::string host =
                    e.address().is_v6() ? "[" + e.address().to_string() + "]" : e.address().to_string();
                starts.push_back(host + ":" + std::to_string(e.port()) + "@" + std::to_string(now));
            }
            if (a->kind() == act::set_timer) timer = ms_of(a->deadline());
            if (a->kind() == act::cancel_timer) timer.reset();
            if (a->kind() == act::stop_resolving) stopped = true;
        }
    }
    // Jumps to the armed timer, as the driver's steady_timer would fire.
    void fire_timer() {
        BOOST_TEST_REQUIRE(timer.has_value());
        const long now = *timer;
        timer.reset();
        r.on_timer(at_ms(now));
        drain(now);
    }
    void answer(address_family f, std::vector<address> addrs, long now) {
        r.on_answer(f, addrs,
                    addrs.empty() ? make_error_code(nettrace::error::no_addresses) : boost::system::error_code(),
                    at_ms(now));
        drain(now);
    }
    void services(std::vector<service_group> groups, long now) {
        r.on_services(groups, at_ms(now));
        drain(now);
    }

    racer r;
    std::vector<std::string> starts;
    std::optional<long> timer;
    bool stopped = false;
};

using strings = std::vector<std::string>;

const std::vector<address> v6_loop{ip("::1")};
const std::vector<address> v4_loop{ip("127.0.0.1")};

service_group group(std::uint16_t priority, std::uint16_t port, std::uint32_t id, std::span<const address> v6 = {},
                    std::span<const address> v4 = {}) {
    return {.priority = priority, .port = port, .uses_host = true, .ipv6 = v6, .ipv4 = v4, .id = id};
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_https_answer_first_makes_the_first_attempt_use_its_port) {
    timeline t;
    t.start(true, true, true);
    t.services({group(1, 8443, 0)}, 5);
    BOOST_TEST(t.starts.empty());  // no address yet
    t.answer(address_family::ipv6, v6_loop, 10);
    BOOST_TEST(t.starts == (strings{"[::1]:8443@10"}), boost::test_tools::per_element());
    BOOST_TEST(t.r.attempts()[0].service == 0);
}

BOOST_AUTO_TEST_CASE(a_late_https_answer_is_waited_for_up_to_the_resolution_delay) {
    timeline t;
    t.start(true, true, true);
    t.answer(address_family::ipv6, v6_loop, 10);
    t.answer(address_family::ipv4, v4_loop, 12);
    BOOST_TEST(t.starts.empty());            // HTTPS is still out
    BOOST_TEST(t.timer.value_or(-1) == 60);  // the first address at 10, plus 50 ms
    t.services({group(1, 8443, 0)}, 30);
    BOOST_TEST(t.starts == (strings{"[::1]:8443@30"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_https_answer_that_never_comes_delays_the_dial_by_the_resolution_delay_only) {
    timeline t;
    t.start(true, true, true);
    t.answer(address_family::ipv6, v6_loop, 10);
    t.answer(address_family::ipv4, v4_loop, 10);
    t.fire_timer();
    BOOST_TEST(t.starts == (strings{"[::1]:443@60"}), boost::test_tools::per_element());
    BOOST_TEST(t.r.services_pending());  // still asked: a late answer may add endpoints
}

BOOST_AUTO_TEST_CASE(a_negative_https_answer_lets_the_dial_go_on_at_once) {
    timeline t;
    t.start(true, true, true);
    t.answer(address_family::ipv6, v6_loop, 10);
    BOOST_TEST(t.starts.empty());
    t.services({}, 20);
    BOOST_TEST(t.starts == (strings{"[::1]:443@20"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_ipv6_hint_is_dialed_when_the_aaaa_answer_is_late) {
    timeline t;
    const std::vector<address> hint{ip("::2")};
    t.start(true, true, true);
    t.services({group(1, 8443, 0, hint)}, 5);
    t.answer(address_family::ipv4, v4_loop, 10);
    BOOST_TEST(t.starts.empty());  // the preferred family has not answered
    t.fire_timer();                // 5 + 50: the hint is the first address known
    BOOST_TEST(t.starts == (strings{"[::2]:8443@55"}), boost::test_tools::per_element());
    // The AAAA answer replaces the hint; the group interleaves on: the A
    // answer's address, then the AAAA's (the hint is not tried again).
    t.answer(address_family::ipv6, v6_loop, 70);
    t.fire_timer();  // 55 + 250
    BOOST_TEST(t.starts == (strings{"[::2]:8443@55", "127.0.0.1:8443@305"}), boost::test_tools::per_element());
    t.fire_timer();
    BOOST_TEST(t.starts.back() == "[::1]:8443@555");
}

BOOST_AUTO_TEST_CASE(the_lower_priority_group_is_tried_first_and_the_host_s_own_port_last) {
    timeline t;
    t.start(true, true, true);
    t.services({group(2, 2000, 0), group(1, 1000, 1)}, 1);
    t.answer(address_family::ipv6, v6_loop, 2);
    t.answer(address_family::ipv4, v4_loop, 2);
    t.fire_timer();
    t.fire_timer();
    t.fire_timer();
    t.fire_timer();
    t.fire_timer();
    BOOST_TEST(t.starts == (strings{"[::1]:1000@2", "127.0.0.1:1000@252", "[::1]:2000@502", "127.0.0.1:2000@752",
                                    "[::1]:443@1002", "127.0.0.1:443@1252"}),
               boost::test_tools::per_element());
    BOOST_TEST(!t.timer.has_value());  // nothing left to start
}

BOOST_AUTO_TEST_CASE(a_service_on_the_dialed_port_is_not_tried_twice) {
    timeline t;
    t.start(true, false, true);
    t.services({group(1, 443, 0)}, 1);
    t.answer(address_family::ipv6, v6_loop, 2);
    BOOST_TEST(t.starts == (strings{"[::1]:443@2"}), boost::test_tools::per_element());
    BOOST_TEST(!t.timer.has_value());
}

BOOST_AUTO_TEST_CASE(another_target_s_addresses_serve_its_group) {
    timeline t;
    const std::vector<address> target{ip("::5")};
    t.start(true, true, true);
    service_group g = group(1, 9000, 0, target);
    g.uses_host = false;
    t.services({g}, 1);
    t.answer(address_family::ipv6, v6_loop, 2);  // the host's own: the fallback
    BOOST_TEST(t.starts == (strings{"[::5]:9000@2"}), boost::test_tools::per_element());
    t.fire_timer();
    BOOST_TEST(t.starts.back() == "[::1]:443@252");
}

namespace {

// The starts of a race given 127.0.0.1:1001, 127.0.0.2:1002 and [::1]:1003
// as an endpoint list at 0, its timer fired twice.
strings starts_of_an_endpoint_list(racer_config config = {}) {
    timeline t(config);
    const std::vector<endpoint> list{{ip("127.0.0.1"), 1001}, {ip("127.0.0.2"), 1002}, {ip("::1"), 1003}};
    t.r.start(at_ms(0), true, true);
    t.r.on_endpoints(list, at_ms(0));
    t.drain(0);
    t.fire_timer();
    t.fire_timer();
    return t.starts;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_endpoint_list_is_interleaved_with_its_own_ports) {
    BOOST_TEST(starts_of_an_endpoint_list() == (strings{"[::1]:1003@0", "127.0.0.1:1001@250", "127.0.0.2:1002@500"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(keep_order_dials_an_endpoint_list_in_the_caller_s_order) {
    BOOST_TEST(starts_of_an_endpoint_list(racer_config{.keep_order = true}) ==
                   (strings{"127.0.0.1:1001@0", "127.0.0.2:1002@250", "[::1]:1003@500"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nat64_dials_an_ipv4_answer_at_its_synthesized_address_and_remembers_the_ipv4_one) {
    timeline t;
    t.r.start(at_ms(0), false, true);
    t.r.set_nat64({boost::asio::ip::make_address_v6("64:ff9b::"), 96}, at_ms(0));
    t.answer(address_family::ipv4, v4_loop, 1);
    BOOST_TEST(t.starts == (strings{"[64:ff9b::7f00:1]:443@1"}), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(t.r.attempts()[0].nat64_from.has_value());
    BOOST_TEST(t.r.attempts()[0].nat64_from->to_string() == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(a_dial_that_finishes_while_https_is_out_stops_resolving_and_completes_once_it_answers) {
    timeline t;
    t.start(true, false, true);
    t.answer(address_family::ipv6, {}, 5);  // NODATA; HTTPS still out
    BOOST_TEST(!t.r.finished());
    t.r.cancel(boost::asio::error::operation_aborted, at_ms(6));
    t.drain(6);
    BOOST_TEST(t.stopped);
    BOOST_TEST(!t.r.completed());
    t.services({}, 7);  // the cancelled lookup's answer
    BOOST_TEST(t.r.completed());
}
