// dial(ctx, network, endpoints): a list from service discovery raced on
// loopback, with ports of its own, in the interleaved or the caller's
// order, and the list errors named before any connect.
#define BOOST_TEST_MODULE endpoint_list
#include <boost/test/unit_test.hpp>

#include <nettrace/dial.hpp>
#include <nettrace/error.hpp>

#include "support/common.hpp"
#include "support/trace_recorder.hpp"

#include <optional>
#include <string>
#include <vector>

using nettrace::error;
namespace t = nettrace::testing;

namespace {

struct list_fixture {
    struct outcome {
        error_code error;
        std::optional<tcp::socket> socket;
    };

    outcome dial(const std::vector<tcp::endpoint>& list, const std::string& network = "tcp",
                 nettrace::dial_options o = {}) {
        rec = t::trace_recorder{};
        std::optional<outcome> out;
        nettrace::dialer(std::move(o))
            .dial(ioc.get_executor(), rec.attach(), network, list, [&](error_code ec, tcp::socket s) {
                rec.completed();
                out = outcome{ec, std::move(s)};
            });
        ioc.restart();
        while (!out && ioc.run_one_for(5s)) {
        }
        BOOST_TEST_REQUIRE(out.has_value());
        rec.check_contract();
        return std::move(*out);
    }

    // The endpoints attempted, in start order.
    std::vector<tcp::endpoint> started() const {
        std::vector<tcp::endpoint> out;
        for (const auto& e : rec.of("connect_start")) out.push_back(e.endpoint);
        return out;
    }

    asio::io_context ioc;
    t::trace_recorder rec;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(endpoint_lists, list_fixture)

BOOST_AUTO_TEST_CASE(endpoints_with_different_ports_are_raced_until_one_connects) {
    t::refused_port closed(v4);
    t::live_listener live(ioc.get_executor(), v4_other);
    const std::vector<tcp::endpoint> list{{v4, closed.port()}, {v4_other, live.port()}};
    auto r = dial(list);
    BOOST_TEST(!r.error, r.error.message());
    BOOST_TEST_REQUIRE(r.socket.has_value());
    BOOST_TEST(r.socket->remote_endpoint() == list[1]);
    BOOST_TEST(started() == list, boost::test_tools::per_element());
    BOOST_TEST(rec.of("dns_start").empty());  // no DNS, no DNS hooks
    const auto start = rec.of("dial_start");
    BOOST_TEST_REQUIRE(start.size() == 1u);
}

BOOST_AUTO_TEST_CASE(families_are_interleaved_ipv6_first_by_default, *boost::unit_test::precondition(ipv6_available())) {
    t::refused_port a(v4), b(v4_other), c(v6);
    const std::vector<tcp::endpoint> list{{v4, a.port()}, {v4_other, b.port()}, {v6, c.port()}};
    auto r = dial(list);
    BOOST_TEST(r.error == asio::error::connection_refused);
    BOOST_TEST(started() == (std::vector<tcp::endpoint>{list[2], list[0], list[1]}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(keep_endpoint_order_dials_in_the_caller_s_order, *boost::unit_test::precondition(ipv6_available())) {
    t::refused_port a(v4), b(v4_other), c(v6);
    const std::vector<tcp::endpoint> list{{v4, a.port()}, {v4_other, b.port()}, {v6, c.port()}};
    auto r = dial(list, "tcp", {.keep_endpoint_order = true});
    BOOST_TEST(r.error == asio::error::connection_refused);
    BOOST_TEST(started() == list, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_empty_list_fails_at_once_with_its_own_error) {
    auto r = dial({});
    BOOST_TEST(r.error == error::empty_endpoint_list);
    BOOST_TEST(started().empty());
    BOOST_TEST(rec.of("dial_done").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_list_the_network_excludes_entirely_fails_before_any_connect) {
    const std::vector<tcp::endpoint> list{{v6, 1}, {v6, 2}};
    auto r = dial(list, "tcp4");
    BOOST_TEST(r.error == error::no_suitable_address);
    BOOST_TEST(started().empty());
    auto only6 = dial({{v4, 1}}, "tcp", {.preference = nettrace::family_preference::ipv6_only});
    BOOST_TEST(only6.error == error::no_suitable_address);
}

BOOST_AUTO_TEST_CASE(a_repeated_endpoint_is_tried_once) {
    t::refused_port closed(v4);
    const std::vector<tcp::endpoint> list{{v4, closed.port()}, {v4, closed.port()}};
    auto r = dial(list);
    BOOST_TEST(r.error == asio::error::connection_refused);
    BOOST_TEST(started().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
