// proxy_handshake_test.cpp — the HTTP CONNECT and SOCKS5 handshake machines
// (src/detail/proxy_handshake.hpp) against scripted proxies: the bytes they
// write, the bytes they read and leave, and the outcome of each reply.
//
// The driver plays the socket: a proxy's reply is a list of arrivals; a
// peek waits for the next arrival when nothing is buffered and sees what is
// buffered, a read_exact takes exactly its bytes (waiting for arrivals) or
// ends short with eof. It checks the machine's contract as it goes: a
// read_exact never asks for more than the peek before it saw (HTTP), no
// action is empty, and the machine stops within the documented bound.
#define BOOST_TEST_MODULE proxy_handshake
#include <boost/test/unit_test.hpp>

#include "detail/proxy_handshake.hpp"

#include <nettrace/error.hpp>
#include <nettrace/proxy.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <deque>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace {

using boost::system::error_code;
using nettrace::error;
using nettrace::proxy_scheme;
using nettrace::detail::max_proxy_header;
using nettrace::detail::proxy_action;
using nettrace::detail::proxy_credentials;
using nettrace::detail::proxy_handshake;
using nettrace::detail::proxy_target;
namespace ip = boost::asio::ip;

std::string bytes(std::initializer_list<unsigned> b) {
    std::string s;
    for (unsigned x : b) s += char(x);
    return s;
}

// Each byte its own arrival: the most fragmented a proxy can be.
std::vector<std::string> one_by_one(const std::string& s) {
    std::vector<std::string> out;
    for (char c : s) out.emplace_back(1, c);
    return out;
}

struct outcome {
    error_code error;
    std::vector<std::string> writes;
    std::string consumed;  // every byte read_exact took
    std::string left;      // what the proxy sent that was never read
    int status = -1;
    std::string reason;
};

struct scripted_proxy {
    explicit scripted_proxy(std::vector<std::string> a = {}) : arrivals(a.begin(), a.end()) {}

    std::deque<std::string> arrivals;
    bool eof_as_error = false;                // at the end: a peek fails with eof (else sees 0 bytes)
    std::optional<proxy_action::type> fault;  // the first action of this kind fails with fault_ec
    error_code fault_ec = boost::asio::error::connection_reset;

    outcome run(proxy_handshake& m) {
        outcome o;
        std::string buffered;
        std::size_t last_peek = 0;
        bool peeked = false;
        auto arrive = [&] {
            if (arrivals.empty()) return false;
            buffered += arrivals.front();
            arrivals.pop_front();
            return true;
        };
        error_code ec;
        std::size_t n = 0;
        for (std::size_t steps = 0;; ++steps) {
            BOOST_TEST_REQUIRE(steps <= 2 * max_proxy_header + 2);
            const proxy_action a = m.resume(ec, n);
            ec = {};
            n = 0;
            if (a.kind == proxy_action::type::done) {
                o.error = a.error;
                break;
            }
            if (fault && *fault == a.kind) {
                fault.reset();
                ec = fault_ec;
                continue;
            }
            switch (a.kind) {
                case proxy_action::type::write:
                    BOOST_TEST_REQUIRE(!a.out.empty());
                    o.writes.emplace_back(a.out.begin(), a.out.end());
                    break;
                case proxy_action::type::peek:
                    BOOST_TEST_REQUIRE(!a.in.empty());
                    if (buffered.empty()) arrive();
                    n = std::min(buffered.size(), a.in.size());
                    std::copy_n(buffered.begin(), n, a.in.begin());
                    if (n == 0 && eof_as_error) ec = boost::asio::error::eof;
                    last_peek = n;
                    peeked = true;
                    break;
                case proxy_action::type::read_exact:
                    BOOST_TEST_REQUIRE(!a.in.empty());
                    if (peeked) BOOST_TEST_REQUIRE(a.in.size() <= last_peek);  // never waits for bytes past the header
                    peeked = false;
                    while (buffered.size() < a.in.size() && arrive()) {}
                    n = std::min(buffered.size(), a.in.size());
                    std::copy_n(buffered.begin(), n, a.in.begin());
                    o.consumed += buffered.substr(0, n);
                    buffered.erase(0, n);
                    if (n < a.in.size()) ec = boost::asio::error::eof;
                    break;
                case proxy_action::type::done:
                    break;
            }
        }
        // Done is sticky.
        const proxy_action again = m.resume({}, 0);
        BOOST_TEST((again.kind == proxy_action::type::done && again.error == o.error));
        o.left = buffered;
        for (const auto& s : arrivals) o.left += s;
        o.status = m.status();
        o.reason = m.reason();
        return o;
    }
};

proxy_target name_target(std::string host, std::uint16_t port) { return {std::move(host), std::nullopt, port}; }
proxy_target ip_target(const char* ip, std::uint16_t port) { return {ip, ip::make_address(ip), port}; }

outcome http(std::vector<std::string> arrivals, std::optional<proxy_credentials> creds = std::nullopt,
             proxy_target target = name_target("example.com", 443)) {
    proxy_handshake m(proxy_scheme::http, std::move(creds), std::move(target));
    scripted_proxy p(std::move(arrivals));
    return p.run(m);
}

outcome http(const std::string& reply) { return http(std::vector<std::string>{reply}); }

const std::string plain_request = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(http_connect)

BOOST_AUTO_TEST_CASE(request_without_credentials_is_exact) {
    const auto o = http("HTTP/1.1 200 OK\r\n\r\n");
    BOOST_TEST(o.writes == std::vector<std::string>{plain_request}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(request_with_credentials_carries_basic_base64) {
    // RFC 7617's example, then each padding length.
    const std::pair<proxy_credentials, const char*> cases[] = {
        {{"Aladdin", "open sesame"}, "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
        {{"a", ""}, "YTo="},
        {{"ab", ""}, "YWI6"},
        {{"a", "bc"}, "YTpiYw=="},
        {{"", ""}, "Og=="},
        {{"\xff\xfe", "\x80"}, "//46gA=="},
    };
    for (const auto& [creds, b64] : cases) {
        const auto o = http({"HTTP/1.1 200 OK\r\n\r\n"}, creds);
        BOOST_TEST_REQUIRE(o.writes.size() == 1u);
        BOOST_TEST(o.writes[0] ==
                   "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                   "Proxy-Authorization: Basic " +
                       std::string(b64) + "\r\n\r\n");
    }
}

BOOST_AUTO_TEST_CASE(a_proxy_from_a_url_gives_its_credentials) {
    for (const char* url : {"http://Aladdin:open%20sesame@proxy.test:3128", "http://proxy.test"}) {
        proxy_handshake m(nettrace::proxy(url), name_target("example.com", 443));
        scripted_proxy p({"HTTP/1.1 200 OK\r\n\r\n"});
        const auto o = p.run(m);
        BOOST_TEST(!o.error);
        BOOST_TEST(o.writes.at(0) == (url[7] == 'A' ? "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
                                                      "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
                                                    : plain_request));
    }
}

BOOST_AUTO_TEST_CASE(ipv6_target_is_bracketed) {
    const auto o = http({"HTTP/1.1 200 OK\r\n\r\n"}, std::nullopt, ip_target("2001:db8::1", 8443));
    BOOST_TEST(o.writes.at(0) == "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n");
    const auto z = http({"HTTP/1.1 200 OK\r\n\r\n"}, std::nullopt, name_target("fe80::1%eth0", 80));
    BOOST_TEST(z.writes.at(0) == "CONNECT [fe80::1%25eth0]:80 HTTP/1.1\r\nHost: [fe80::1%25eth0]:80\r\n\r\n");
    const auto v4 = http({"HTTP/1.1 200 OK\r\n\r\n"}, std::nullopt, {"", ip::make_address("192.0.2.1"), 80});
    BOOST_TEST(v4.writes.at(0) == "CONNECT 192.0.2.1:80 HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(host_with_control_bytes_fails_before_writing) {
    for (const char* h : {"a.test\r\nX-Injected: 1", "a b", "a\x7f", ""}) {
        const auto o = http({"HTTP/1.1 200 OK\r\n\r\n"}, std::nullopt, name_target(h, 80));
        BOOST_TEST(o.writes.empty());
        BOOST_TEST((o.error == (*h ? error::invalid_host : error::missing_host)));
    }
}

BOOST_AUTO_TEST_CASE(status_200_opens_the_tunnel_and_leaves_the_bytes_after_the_header) {
    const std::string header = "HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\nContent-Length: 5\r\n\r\n";
    const auto o = http(header + "\x16\x03\x01 tunnel");
    BOOST_TEST(!o.error);
    BOOST_TEST(o.status == 200);
    BOOST_TEST(o.reason == "Connection established");
    BOOST_TEST(o.consumed == header);
    BOOST_TEST(o.left == "\x16\x03\x01 tunnel");
}

BOOST_AUTO_TEST_CASE(any_2xx_opens_the_tunnel) {
    const auto o = http("HTTP/1.0 204\r\n\r\n");
    BOOST_TEST(!o.error);
    BOOST_TEST(o.status == 204);
    BOOST_TEST(o.reason == "");
}

BOOST_AUTO_TEST_CASE(header_arriving_one_byte_at_a_time_is_read_exactly) {
    const std::string header = "HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n";
    for (bool more_after : {false, true}) {
        auto arrivals = one_by_one(header + (more_after ? "TUNNEL" : ""));
        const auto o = http(arrivals);
        BOOST_TEST(!o.error);
        BOOST_TEST(o.consumed == header);
        BOOST_TEST(o.left == (more_after ? "TUNNEL" : ""));
    }
    // The terminator split between two arrivals, the tunnel bytes with its end.
    const auto o = http(std::vector<std::string>{"HTTP/1.1 200 OK\r\n\r", "\nTUNNEL"});
    BOOST_TEST(!o.error);
    BOOST_TEST(o.left == "TUNNEL");
}

BOOST_AUTO_TEST_CASE(status_407_is_proxy_auth_required) {
    const auto o = http(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
        "Content-Length: 0\r\n\r\n");
    BOOST_TEST((o.error == error::proxy_auth_required));
    BOOST_TEST(o.status == 407);
    BOOST_TEST(o.reason == "Proxy Authentication Required");
}

BOOST_AUTO_TEST_CASE(status_401_from_a_proxy_is_proxy_auth_required_too) {
    // tinyproxy 1.11 answers wrong credentials so.
    const auto o = http("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\n\r\n");
    BOOST_TEST((o.error == error::proxy_auth_required));
    BOOST_TEST(o.status == 401);
}

BOOST_AUTO_TEST_CASE(status_403_is_rejected_with_its_reason) {
    const auto o = http("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nbody");
    BOOST_TEST((o.error == error::proxy_rejected));
    BOOST_TEST(o.status == 403);
    BOOST_TEST(o.reason == "Forbidden");
    BOOST_TEST(o.left == "body");
    for (const char* line : {"HTTP/1.1 502 Bad Gateway", "HTTP/1.1 301 Moved", "HTTP/1.1 101 Switching Protocols"}) {
        const auto r = http(std::string(line) + "\r\n\r\n");
        BOOST_TEST((r.error == error::proxy_rejected), line);
    }
}

BOOST_AUTO_TEST_CASE(reason_is_printable_ascii_of_at_most_64_bytes) {
    const auto o = http("HTTP/1.1 403 Verboten\xc3\xa4\tno\rx \r\n\r\n");
    BOOST_TEST(o.reason == "Verboten???no?x");
    const auto l = http("HTTP/1.1 403 " + std::string(1000, 'r') + "\r\n\r\n");
    BOOST_TEST(l.reason == std::string(64, 'r'));
    BOOST_TEST((l.error == error::proxy_rejected));
}

BOOST_AUTO_TEST_CASE(interim_1xx_responses_are_skipped) {
    const std::string header =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
        "HTTP/1.1 200 OK\r\n\r\n";
    const auto o = http(one_by_one(header + "T"));
    BOOST_TEST(!o.error);
    BOOST_TEST(o.status == 200);
    BOOST_TEST(o.consumed == header);
    BOOST_TEST(o.left == "T");
    // An endless stream of them still ends at the bound.
    std::string flood;
    while (flood.size() < 2 * max_proxy_header) flood += "HTTP/1.1 100 Continue\r\n\r\n";
    const auto f = http(flood);
    BOOST_TEST((f.error == error::proxy_reply_too_large));
    BOOST_TEST(f.consumed.size() <= max_proxy_header);
}

BOOST_AUTO_TEST_CASE(header_over_the_bound_is_too_large) {
    const std::string huge = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(3 * max_proxy_header, 'p') + "\r\n\r\n";
    const auto o = http(huge);
    BOOST_TEST((o.error == error::proxy_reply_too_large));
    BOOST_TEST(o.consumed.size() == max_proxy_header);
    BOOST_TEST(o.status == -1);
}

BOOST_AUTO_TEST_CASE(header_of_exactly_the_bound_is_accepted) {
    std::string h = "HTTP/1.1 200 OK\r\nX-Pad: ";
    h += std::string(max_proxy_header - h.size() - 4, 'p') + "\r\n\r\n";
    BOOST_TEST_REQUIRE(h.size() == max_proxy_header);
    const auto o = http(h + "T");
    BOOST_TEST(!o.error);
    BOOST_TEST(o.left == "T");
    const auto over = http(h.insert(20, "p"));
    BOOST_TEST((over.error == error::proxy_reply_too_large));
}

BOOST_AUTO_TEST_CASE(truncated_reply_is_proxy_closed) {
    for (const char* cut : {"HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nVia: x\r\n\r", "H"}) {
        const auto o = http(cut);
        BOOST_TEST((o.error == error::proxy_closed), cut);
        BOOST_TEST(o.status == -1);
    }
}

BOOST_AUTO_TEST_CASE(eof_before_any_reply_is_proxy_closed) {
    for (bool as_error : {false, true}) {
        proxy_handshake m(proxy_scheme::http, std::nullopt, name_target("example.com", 443));
        scripted_proxy p;
        p.eof_as_error = as_error;
        const auto o = p.run(m);
        BOOST_TEST((o.error == error::proxy_closed));
        BOOST_TEST(o.writes.size() == 1u);
    }
}

BOOST_AUTO_TEST_CASE(other_io_errors_come_through_as_they_are) {
    for (auto kind : {proxy_action::type::write, proxy_action::type::peek, proxy_action::type::read_exact}) {
        proxy_handshake m(proxy_scheme::http, std::nullopt, name_target("example.com", 443));
        scripted_proxy p({"HTTP/1.1 200 OK\r\n\r\n"});
        p.fault = kind;
        const auto o = p.run(m);
        BOOST_TEST(o.error == boost::asio::error::connection_reset);
    }
}

BOOST_AUTO_TEST_CASE(garbage_is_malformed) {
    for (const char* reply :
         {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
          "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "http/1.1 200 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n",
          "HTTP/1.1 600 High\r\n\r\n", "HTTP/1.1\r\n\r\n", "HTTP/1.x 200 OK\r\n\r\n", "HTTP/1.1 200\rOK\r\n\r\n",
          "\r\n\r\n", "\n\n", " HTTP/1.1 200 OK\r\n\r\n"}) {
        const auto o = http(reply);
        BOOST_TEST((o.error == error::proxy_malformed_reply), reply);
        BOOST_TEST(o.status == -1);
    }
    // Binary garbage that never ends a header: the proxy closes first.
    const auto b = http(bytes({0x05, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x04, 0x38}));
    BOOST_TEST((b.error == error::proxy_closed));
}

BOOST_AUTO_TEST_CASE(lf_only_terminators_are_accepted) {
    for (const std::string header :
         {"HTTP/1.1 200 OK\nVia: x\n\n", "HTTP/1.1 200 OK\r\nVia: x\n\r\n", "HTTP/1.1 200 OK\n\r\n"}) {
        const auto o = http(header + "TUNNEL\r\n\r\n");
        BOOST_TEST(!o.error);
        BOOST_TEST(o.reason == "OK");
        BOOST_TEST(o.consumed == header);
        BOOST_TEST(o.left == "TUNNEL\r\n\r\n");
    }
    // A CR on its own is not a line end.
    const auto o = http("HTTP/1.1 200 OK\r\r\n\r\r\nX\r\n\r\nT");
    BOOST_TEST(!o.error);
    BOOST_TEST(o.left == "T");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

namespace {

outcome socks(proxy_target target, std::vector<std::string> arrivals,
              std::optional<proxy_credentials> creds = std::nullopt, proxy_scheme scheme = proxy_scheme::socks5) {
    proxy_handshake m(scheme, std::move(creds), std::move(target));
    scripted_proxy p(std::move(arrivals));
    return p.run(m);
}

const std::string no_auth = bytes({5, 0});
const std::string ok_v4 = bytes({5, 0, 0, 1, 198, 51, 100, 7, 0x1f, 0x90});  // BND 198.51.100.7:8080

}  // namespace

BOOST_AUTO_TEST_SUITE(socks5)

BOOST_AUTO_TEST_CASE(greeting_and_connect_for_ipv4_are_exact) {
    const auto o = socks(ip_target("192.0.2.1", 443), {no_auth, ok_v4 + "TUNNEL"});
    BOOST_TEST(!o.error);
    BOOST_TEST(o.status == 0);
    BOOST_TEST_REQUIRE(o.writes.size() == 2u);
    BOOST_TEST(o.writes[0] == bytes({5, 1, 0}));
    BOOST_TEST(o.writes[1] == bytes({5, 1, 0, 1, 192, 0, 2, 1, 0x01, 0xbb}));
    BOOST_TEST(o.left == "TUNNEL");
    BOOST_TEST(o.reason == "");
}

BOOST_AUTO_TEST_CASE(connect_for_ipv6_is_exact) {
    const auto o = socks(ip_target("2001:db8::5", 80), {no_auth, ok_v4});
    BOOST_TEST(!o.error);
    BOOST_TEST_REQUIRE(o.writes.size() == 2u);
    BOOST_TEST(o.writes[1] == bytes({5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 80}));
}

BOOST_AUTO_TEST_CASE(connect_for_a_name_is_exact) {
    const auto o = socks(name_target("example.com", 65535), {no_auth, ok_v4}, std::nullopt, proxy_scheme::socks5h);
    BOOST_TEST(!o.error);
    BOOST_TEST_REQUIRE(o.writes.size() == 2u);
    BOOST_TEST(o.writes[1] == bytes({5, 1, 0, 3, 11}) + "example.com" + bytes({0xff, 0xff}));
}

BOOST_AUTO_TEST_CASE(name_of_255_bytes_is_sent_and_of_256_fails_before_writing) {
    const std::string n255(255, 'n');
    const auto o = socks(name_target(n255, 1), {no_auth, ok_v4});
    BOOST_TEST(!o.error);
    BOOST_TEST(o.writes.at(1) == bytes({5, 1, 0, 3, 255}) + n255 + bytes({0, 1}));
    const auto l = socks(name_target(n255 + "n", 1), {no_auth, ok_v4});
    BOOST_TEST((l.error == error::host_too_long));
    BOOST_TEST(l.writes.empty());
    const auto e = socks(name_target("", 1), {no_auth, ok_v4});
    BOOST_TEST((e.error == error::missing_host));
}

BOOST_AUTO_TEST_CASE(username_and_password_are_sent_when_chosen) {
    for (unsigned version : {1u, 5u}) {  // 5: servers that answer RFC 1929 with the SOCKS version
        const auto o = socks(ip_target("192.0.2.1", 443), {bytes({5, 2}), bytes({version, 0}), ok_v4 + "T"},
                             proxy_credentials{"user", "secret"});
        BOOST_TEST(!o.error);
        BOOST_TEST_REQUIRE(o.writes.size() == 3u);
        BOOST_TEST(o.writes[0] == bytes({5, 2, 0, 2}));
        BOOST_TEST(o.writes[1] == bytes({1, 4}) + "user" + bytes({6}) + "secret");
        BOOST_TEST(o.writes[2] == bytes({5, 1, 0, 1, 192, 0, 2, 1, 0x01, 0xbb}));
        BOOST_TEST(o.left == "T");
    }
}

BOOST_AUTO_TEST_CASE(a_socks5_proxy_from_a_url_offers_its_credentials) {
    proxy_handshake m(nettrace::proxy("socks5h://u:p@proxy.test"), name_target("a.test", 443));
    scripted_proxy p({bytes({5, 2}), bytes({1, 0}), ok_v4});
    const auto o = p.run(m);
    BOOST_TEST(!o.error);
    BOOST_TEST_REQUIRE(o.writes.size() == 3u);
    BOOST_TEST(o.writes[0] == bytes({5, 2, 0, 2}));
    BOOST_TEST(o.writes[1] == bytes({1, 1, 'u', 1, 'p'}));
    BOOST_TEST(o.writes[2] == bytes({5, 1, 0, 3, 6}) + "a.test" + bytes({1, 0xbb}));
}

BOOST_AUTO_TEST_CASE(no_authentication_chosen_despite_credentials_skips_them) {
    const auto o = socks(ip_target("192.0.2.1", 443), {no_auth, ok_v4}, proxy_credentials{"u", "p"});
    BOOST_TEST(!o.error);
    BOOST_TEST(o.writes.size() == 2u);
}

BOOST_AUTO_TEST_CASE(refused_credentials_are_auth_failed) {
    const auto o =
        socks(ip_target("192.0.2.1", 443), {bytes({5, 2}), bytes({1, 1}), ok_v4}, proxy_credentials{"user", "wrong"});
    BOOST_TEST((o.error == error::socks_auth_failed));
    BOOST_TEST(o.writes.size() == 2u);
    const auto v =
        socks(ip_target("192.0.2.1", 443), {bytes({5, 2}), bytes({2, 0}), ok_v4}, proxy_credentials{"user", "pw"});
    BOOST_TEST((v.error == error::proxy_malformed_reply));
}

BOOST_AUTO_TEST_CASE(credentials_longer_than_255_bytes_fail_before_writing) {
    const auto o = socks(ip_target("192.0.2.1", 443), {bytes({5, 2})}, proxy_credentials{std::string(256, 'u'), "p"});
    BOOST_TEST((o.error == error::invalid_proxy_url));
    BOOST_TEST(o.writes.empty());
}

BOOST_AUTO_TEST_CASE(no_acceptable_method) {
    const auto o = socks(ip_target("192.0.2.1", 443), {bytes({5, 0xff})});
    BOOST_TEST((o.error == error::socks_no_acceptable_method));
    BOOST_TEST(o.writes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(method_not_offered_is_malformed) {
    for (unsigned m : {1u, 2u, 3u, 0x80u}) {  // 2 without credentials: not offered either
        const auto o = socks(ip_target("192.0.2.1", 443), {bytes({5, m}), ok_v4});
        BOOST_TEST((o.error == error::proxy_malformed_reply), m);
    }
}

BOOST_AUTO_TEST_CASE(wrong_version_is_malformed) {
    const auto g = socks(ip_target("192.0.2.1", 443), {bytes({4, 0}), ok_v4});
    BOOST_TEST((g.error == error::proxy_malformed_reply));
    const auto r = socks(ip_target("192.0.2.1", 443), {no_auth, bytes({4, 0, 0, 1, 1, 2, 3, 4, 0, 80})});
    BOOST_TEST((r.error == error::proxy_malformed_reply));
    BOOST_TEST(r.status == -1);
    const auto h = socks(ip_target("192.0.2.1", 443), {"HTTP/1.1 400 Bad Request\r\n\r\n"});
    BOOST_TEST((h.error == error::proxy_malformed_reply));
}

BOOST_AUTO_TEST_CASE(each_reply_code_is_its_error) {
    const error expected[] = {error::socks_general_failure,       error::socks_not_allowed,
                              error::socks_network_unreachable,   error::socks_host_unreachable,
                              error::socks_connection_refused,    error::socks_ttl_expired,
                              error::socks_command_not_supported, error::socks_address_type_not_supported};
    for (unsigned rep = 1; rep <= 0xff; ++rep) {
        const auto o = socks(ip_target("192.0.2.1", 443), {no_auth, bytes({5, rep, 0, 1, 0, 0, 0, 0, 0, 0})});
        BOOST_TEST((o.error == (rep <= 8 ? expected[rep - 1] : error::socks_general_failure)), rep);
        BOOST_TEST(o.status == int(rep));
    }
    // The portable conditions of error.hpp hold for what the machine reports.
    const auto r = socks(ip_target("192.0.2.1", 443), {no_auth, bytes({5, 5, 0, 1, 0, 0, 0, 0, 0, 0})});
    BOOST_TEST((r.error == boost::system::errc::connection_refused));
}

BOOST_AUTO_TEST_CASE(bound_address_of_each_type_is_consumed_exactly) {
    const std::string replies[] = {
        ok_v4,
        bytes({5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 80}),
        bytes({5, 0, 0, 3, 11}) + "proxy.local" + bytes({0, 80}),
        bytes({5, 0, 0, 3, 0, 0, 80}),
        bytes({5, 0, 0, 3, 255}) + std::string(255, 'b') + bytes({0, 80}),
    };
    for (const auto& reply : replies) {
        for (bool split : {false, true}) {
            std::vector<std::string> arrivals{no_auth};
            if (split) {
                for (auto& b : one_by_one(reply + "after")) arrivals.push_back(b);
            } else {
                arrivals.push_back(reply + "after");
            }
            const auto o = socks(ip_target("192.0.2.1", 443), arrivals);
            BOOST_TEST(!o.error);
            BOOST_TEST(o.consumed == no_auth + reply);
            BOOST_TEST(o.left == "after");
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_address_type_is_malformed) {
    for (unsigned atyp : {0u, 2u, 5u, 0xffu}) {
        const auto o = socks(ip_target("192.0.2.1", 443), {no_auth, bytes({5, 0, 0, atyp, 1, 2, 3, 4, 0, 80})});
        BOOST_TEST((o.error == error::proxy_malformed_reply), atyp);
        BOOST_TEST(o.status == -1);
        BOOST_TEST(o.consumed.size() == 2u + 5u);
    }
}

BOOST_AUTO_TEST_CASE(nonzero_reserved_byte_is_tolerated) {
    const auto o = socks(ip_target("192.0.2.1", 443), {no_auth, bytes({5, 0, 0x7f, 1, 1, 2, 3, 4, 0, 80})});
    BOOST_TEST(!o.error);
}

BOOST_AUTO_TEST_CASE(truncated_replies_are_proxy_closed) {
    const std::vector<std::vector<std::string>> cases = {
        {},
        {bytes({5})},
        {no_auth},
        {no_auth, bytes({5, 0, 0})},
        {no_auth, bytes({5, 0, 0, 1, 1, 2, 3})},
        {no_auth, bytes({5, 0, 0, 3, 200}) + "short"},
    };
    for (const auto& c : cases) {
        const auto o = socks(ip_target("192.0.2.1", 443), c);
        BOOST_TEST((o.error == error::proxy_closed));
        BOOST_TEST(o.status == -1);  // a success cut short has no status
    }
    const auto a = socks(ip_target("192.0.2.1", 443), {bytes({5, 2}), bytes({1})}, proxy_credentials{"u", "p"});
    BOOST_TEST((a.error == error::proxy_closed));
}

BOOST_AUTO_TEST_CASE(io_errors_come_through_as_they_are) {
    for (auto kind : {proxy_action::type::write, proxy_action::type::read_exact}) {
        proxy_handshake m(proxy_scheme::socks5, std::nullopt, ip_target("192.0.2.1", 443));
        scripted_proxy p({no_auth, ok_v4});
        p.fault = kind;
        const auto o = p.run(m);
        BOOST_TEST(o.error == boost::asio::error::connection_reset);
    }
}

BOOST_AUTO_TEST_SUITE_END()
