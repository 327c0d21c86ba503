// What a broken or hostile proxy can do to a dial, with a scripted fake
// proxy on loopback: it must end in a named error, in bounded time, with
// the trace paired and nothing leaked; and a proxy that behaves must hand
// the caller every byte the target sent after the tunnel opened.
#define BOOST_TEST_MODULE proxy_hostile
#include <boost/test/unit_test.hpp>

#include <nettrace/error.hpp>

#include "support/common.hpp"
#include "support/proxy_peers.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>

#include <chrono>
#include <string>

using nettrace::error;
namespace t = nettrace::testing;

namespace {

std::string socks_reply(std::uint8_t code) {
    // Method "no authentication", then a reply with an IPv4 bound address.
    return std::string("\x05\x00", 2) + std::string("\x05", 1) + static_cast<char>(code) +
           std::string("\x00\x01\x7f\x00\x00\x01\x04\x00", 8);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(hostile_proxies, t::proxy_fixture)

BOOST_AUTO_TEST_CASE(bytes_sent_with_the_200_reach_the_caller) {
    // The target's first bytes in the same segment as the proxy's reply.
    t::scripted_proxy proxy(servers, "HTTP/1.1 200 Connection established\r\n\r\nEXTRA bytes");
    auto r = dial(via(proxy.url()), "127.0.0.1:9");
    BOOST_REQUIRE_MESSAGE(!r.error, r.error.message());
    BOOST_TEST(read_exactly(r.socket, 11) == "EXTRA bytes");
}

BOOST_AUTO_TEST_CASE(a_silent_proxy_cannot_hold_the_dial_past_its_timeout) {
    t::scripted_proxy proxy(servers, "");
    auto o = via(proxy.url());
    o.timeout = 300ms;
    o.proxy_timeout = 0ms;  // only the dial's timeout
    auto r = dial(o, "127.0.0.1:9");
    BOOST_TEST((r.error == error::timeout), r.error.message());
    BOOST_TEST(r.took >= 250ms);
    BOOST_TEST(r.took < 3s);
    BOOST_TEST((rec.of("proxy_connect_done")[0].outcome == nettrace::connect_outcome::cancelled));
}

BOOST_AUTO_TEST_CASE(a_silent_proxy_fails_its_attempt_at_the_proxy_timeout) {
    t::scripted_proxy proxy(servers, "");
    auto o = via(proxy.url());
    o.timeout = 0ms;
    o.proxy_timeout = 200ms;
    auto r = dial(o, "127.0.0.1:9");
    BOOST_TEST((r.error == error::proxy_timeout), r.error.message());
    BOOST_TEST((r.error == boost::system::errc::timed_out));
    BOOST_TEST(r.took >= 150ms);
    BOOST_TEST(r.took < 3s);
}

BOOST_AUTO_TEST_CASE(garbage_is_a_malformed_reply) {
    t::scripted_proxy proxy(servers, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    auto r = dial(via(proxy.url()), "127.0.0.1:9");
    BOOST_TEST((r.error == error::proxy_malformed_reply), r.error.message());
}

BOOST_AUTO_TEST_CASE(a_reply_cut_short_is_proxy_closed) {
    t::scripted_proxy proxy(servers, "HTTP/1.1 200 Connection est", true);
    auto r = dial(via(proxy.url()), "127.0.0.1:9");
    BOOST_TEST((r.error == error::proxy_closed), r.error.message());
}

BOOST_AUTO_TEST_CASE(a_huge_header_is_too_large) {
    std::string reply = "HTTP/1.1 200 OK\r\n";
    while (reply.size() < 20000) reply += "X-Padding: " + std::string(100, 'p') + "\r\n";
    t::scripted_proxy proxy(servers, reply + "\r\n");
    auto r = dial(via(proxy.url()), "127.0.0.1:9");
    BOOST_TEST((r.error == error::proxy_reply_too_large), r.error.message());
}

BOOST_AUTO_TEST_CASE(an_http_status_and_reason_name_the_failure) {
    t::scripted_proxy proxy(servers, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    auto r = dial(via(proxy.url()), "127.0.0.1:9");
    BOOST_TEST((r.error == error::proxy_rejected), r.error.message());
    const auto d = rec.of("dial_done")[0].description;
    BOOST_TEST(d.find("502 Bad Gateway") != std::string::npos, d);
    BOOST_TEST(d.find("proxy CONNECT") != std::string::npos, d);
}

BOOST_AUTO_TEST_CASE(a_wrong_socks_version_is_a_malformed_reply) {
    t::scripted_proxy proxy(servers, std::string("\x04\x00", 2));
    auto r = dial(via(proxy.url("socks5h")), "127.0.0.1:9");
    BOOST_TEST((r.error == error::proxy_malformed_reply), r.error.message());
}

BOOST_AUTO_TEST_CASE(each_socks_reply_code_is_its_own_error) {
    const error expected[] = {error::socks_general_failure,       error::socks_not_allowed,
                              error::socks_network_unreachable,   error::socks_host_unreachable,
                              error::socks_connection_refused,    error::socks_ttl_expired,
                              error::socks_command_not_supported, error::socks_address_type_not_supported};
    for (std::uint8_t code = 1; code <= 8; ++code) {
        const auto reply = socks_reply(code);
        t::scripted_proxy proxy(servers, reply.substr(0, 2), false, reply.substr(2));
        auto r = dial(via(proxy.url("socks5h")), "127.0.0.1:9");
        BOOST_TEST((r.error == expected[code - 1]), int(code) << ": " << r.error.message());
        BOOST_TEST(rec.of("proxy_connect_done")[0].status == code);
    }
}

BOOST_AUTO_TEST_CASE(cancelling_during_the_tunnel_ends_every_stage) {
    t::scripted_proxy proxy(servers, "");
    timed_cancellation cancel(client);
    std::optional<error_code> done;
    nettrace::dialer(via(proxy.url()))
        .dial(client.get_executor(), rec.attach(), "tcp", "127.0.0.1:9",
              asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, tcp::socket) {
                  rec.completed();
                  done = ec;
              }));
    cancel.emit_after(100ms);
    client.restart();
    while (!done && client.run_one_for(10s)) {}
    BOOST_REQUIRE(done);
    BOOST_TEST((*done == asio::error::operation_aborted), done->message());
    rec.check_contract();
    BOOST_TEST(rec.count("proxy_connect_done") == 1u);
}

BOOST_AUTO_TEST_CASE(a_dead_proxy_is_a_connect_failure_that_names_the_proxy) {
    const t::refused_port closed(v4);
    auto r = dial(via("http://user:hunter2@127.0.0.1:" + std::to_string(closed.port())), "127.0.0.1:9");
    BOOST_TEST((r.error == boost::system::errc::connection_refused), r.error.message());
    BOOST_TEST(rec.count("proxy_connect_start") == 0u);
    const auto d = rec.of("dial_done")[0].description;
    BOOST_TEST(d.find("proxy http://user:***@127.0.0.1:") != std::string::npos, d);
    BOOST_TEST(!trace_mentions("hunter2"));
}

BOOST_AUTO_TEST_SUITE_END()
