// The pre-connect hook (dial_options::control) and the built-in socket
// options, on real loopback sockets: what they set is on the socket the
// caller gets, and what they refuse fails that attempt only.
#define BOOST_TEST_MODULE control
#include <boost/test/unit_test.hpp>

#include <nettrace/nettrace.hpp>

#include "support/common.hpp"
#include "support/run_dial.hpp"
#include "support/trace_recorder.hpp"

#include <boost/asio/io_context.hpp>

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using nettrace::testing::trace_recorder;

namespace {

int int_option(tcp::socket& s, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    BOOST_TEST_REQUIRE(::getsockopt(s.native_handle(), level, name, &v, &len) == 0);
    return v;
}

// A live listener on 127.0.0.1 and 127.0.0.2 at one port, and a dialer
// whose name race.test is pinned to both (127.0.0.2 first).
struct two_live_addresses {
    asio::io_context ioc;
    nettrace::testing::live_listener first{ioc.get_executor(), v4_other};
    nettrace::testing::live_listener second{ioc.get_executor(), v4, first.port()};
    trace_recorder rec;

    nettrace::testing::dial_result dial(nettrace::dial_options o) {
        o.resolver = nettrace::make_static_resolver({{"race.test", {v4_other, v4}}});
        o.attempt_delay = 2s;  // a second attempt before 2 s is one the first's failure started
        return nettrace::testing::run_dial(ioc, nettrace::dialer(o), rec, host_port("race.test", first.port()));
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(control_hook, two_live_addresses)

BOOST_AUTO_TEST_CASE(an_option_set_in_the_control_hook_is_on_the_returned_socket) {
    nettrace::dial_options o;
    std::vector<nettrace::control_info> seen;
    o.control = [&](tcp::socket& s, const nettrace::control_info& info) {
        seen.push_back(info);
        const int tos = IPTOS_LOWDELAY;
        if (::setsockopt(s.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos) != 0)
            return error_code(errno, boost::system::system_category());
        return error_code();
    };
    auto r = dial(o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(int_option(*r.socket, IPPROTO_IP, IP_TOS) == IPTOS_LOWDELAY);
    BOOST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(seen[0].network == "tcp");
    BOOST_TEST(seen[0].endpoint == tcp::endpoint(v4_other, first.port()));
    BOOST_TEST(seen[0].attempt == 0u);
    rec.check_contract();
}

BOOST_AUTO_TEST_CASE(an_error_from_the_control_hook_fails_that_attempt_and_the_next_starts_at_once) {
    nettrace::dial_options o;
    o.control = [&](tcp::socket&, const nettrace::control_info& info) {
        return info.attempt == 0 ? error_code(asio::error::access_denied) : error_code();
    };
    auto r = dial(o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    BOOST_TEST(ms(r.elapsed) < 1000.0, "connected after " << ms(r.elapsed) << " ms; the delay is 2 s");
    const auto dones = rec.of("connect_done");
    BOOST_REQUIRE(dones.size() == 2u);
    BOOST_TEST(dones[0].error == asio::error::access_denied);
    BOOST_TEST((dones[0].outcome == nettrace::connect_outcome::failed));
    BOOST_TEST((dones[1].outcome == nettrace::connect_outcome::won));
    rec.check_contract();
}

BOOST_AUTO_TEST_CASE(a_control_hook_that_throws_fails_its_attempt_only) {
    nettrace::dial_options o;
    o.control = [&](tcp::socket&, const nettrace::control_info& info) -> error_code {
        if (info.attempt == 0) throw std::runtime_error("no policy for this address");
        return {};
    };
    auto r = dial(o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(r.socket->remote_endpoint().address() == v4);
    const auto dones = rec.of("connect_done");
    BOOST_REQUIRE(dones.size() == 2u);
    BOOST_TEST(dones[0].error == asio::error::fault);
    rec.check_contract();
}

BOOST_AUTO_TEST_CASE(a_control_hook_that_refuses_every_attempt_fails_the_dial_with_its_error) {
    nettrace::dial_options o;
    o.control = [&](tcp::socket&, const nettrace::control_info&) { return error_code(asio::error::access_denied); };
    auto r = dial(o);
    BOOST_TEST(r.ec == asio::error::access_denied, r.ec.message());
    BOOST_TEST(first.accepted() + second.accepted() == 0u);  // no SYN left
    rec.check_contract();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(socket_options, two_live_addresses)

BOOST_AUTO_TEST_CASE(no_delay_and_keep_alive_are_set_before_connecting) {
    nettrace::dial_options o;
    o.no_delay = true;
    o.keep_alive.enable = true;
    o.keep_alive.idle = 30s;
    o.keep_alive.interval = 5s;
    o.keep_alive.count = 4;
    bool set_before_connect = false;
    o.control = [&](tcp::socket& s, const nettrace::control_info&) {
        set_before_connect = int_option(s, IPPROTO_TCP, TCP_NODELAY) != 0;
        return error_code();
    };
    auto r = dial(o);
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(set_before_connect);
    BOOST_TEST(int_option(*r.socket, IPPROTO_TCP, TCP_NODELAY) != 0);
    BOOST_TEST(int_option(*r.socket, SOL_SOCKET, SO_KEEPALIVE) != 0);
    BOOST_TEST(int_option(*r.socket, IPPROTO_TCP, TCP_KEEPIDLE) == 30);
    BOOST_TEST(int_option(*r.socket, IPPROTO_TCP, TCP_KEEPINTVL) == 5);
    BOOST_TEST(int_option(*r.socket, IPPROTO_TCP, TCP_KEEPCNT) == 4);
}

BOOST_AUTO_TEST_CASE(by_default_the_socket_is_as_the_system_makes_it) {
    auto r = dial({});
    BOOST_TEST(!r.ec, r.ec.message());
    BOOST_REQUIRE(r.socket);
    BOOST_TEST(int_option(*r.socket, IPPROTO_TCP, TCP_NODELAY) == 0);
    BOOST_TEST(int_option(*r.socket, SOL_SOCKET, SO_KEEPALIVE) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
