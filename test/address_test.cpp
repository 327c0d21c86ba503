// address_test.cpp — network names and "host:port" parsing.

#define BOOST_TEST_MODULE address
#include <boost/test/unit_test.hpp>

#include <nettrace/address.hpp>
#include <nettrace/dial.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

using namespace std::literals;
using nettrace::error;

namespace {

struct good_case {
    std::string_view input;
    std::string_view host;
    std::uint16_t port;
    std::string_view ip = {};  // empty: host is a name, ip must be unset
    unsigned long scope = 0;
    std::string_view zone = {};
};

struct bad_case {
    std::string_view input;
    error expected;
};

void check(const good_case& c) {
    BOOST_TEST_CONTEXT("address \"" << c.input << "\"") {
        // A stale error from an earlier call must not survive a success.
        boost::system::error_code ec = error::timeout;
        auto hp = nettrace::parse_host_port(c.input, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(hp.has_value());
        if (!hp) return;
        BOOST_TEST(hp->host == c.host);
        BOOST_TEST(hp->port == c.port);
        BOOST_TEST(hp->zone == c.zone);
        BOOST_TEST(hp->ip.has_value() == !c.ip.empty());
        if (!hp->ip || c.ip.empty()) return;
        auto expected = boost::asio::ip::make_address(std::string(c.ip));
        if (expected.is_v6()) {
            auto v6 = expected.to_v6();
            v6.scope_id(c.scope);
            expected = v6;
        }
        BOOST_TEST(*hp->ip == expected);
    }
}

void check(const bad_case& c) {
    BOOST_TEST_CONTEXT("address \"" << c.input << "\"") {
        boost::system::error_code ec;
        auto hp = nettrace::parse_host_port(c.input, ec);
        BOOST_TEST(!hp.has_value());
        BOOST_TEST(ec == nettrace::make_error_code(c.expected));
    }
}

template <class Table>
void check_all(const Table& table) {
    for (const auto& c : table) check(c);
}

std::string name_of_length(std::size_t n) {
    // Labels of 63 bytes joined by dots, cut to length n; never ends in '.'.
    std::string name;
    while (name.size() < n) name += (name.size() % 64 == 63) ? '.' : 'a';
    if (name.back() == '.') name.back() = 'b';
    return name;
}

}  // namespace

BOOST_AUTO_TEST_CASE(go_network_names_are_accepted) {
    for (auto n : {nettrace::network::tcp, nettrace::network::tcp4, nettrace::network::tcp6}) {
        boost::system::error_code ec = error::timeout;
        auto parsed = nettrace::parse_network(nettrace::to_string(n), ec);
        BOOST_TEST(!ec);
        BOOST_TEST((parsed == n));
    }
    BOOST_TEST(nettrace::to_string(nettrace::network::tcp) == "tcp");
    BOOST_TEST(nettrace::to_string(nettrace::network::tcp4) == "tcp4");
    BOOST_TEST(nettrace::to_string(nettrace::network::tcp6) == "tcp6");
}

BOOST_AUTO_TEST_CASE(other_network_names_are_unknown) {
    for (auto text : {"udp"sv, "TCP"sv, ""sv, "tcp5"sv, "tcp "sv, "ip"sv, "unix"sv}) {
        BOOST_TEST_CONTEXT("network \"" << text << "\"") {
            boost::system::error_code ec;
            BOOST_TEST(!nettrace::parse_network(text, ec).has_value());
            BOOST_TEST(ec == nettrace::make_error_code(error::unknown_network));
        }
    }
}

BOOST_AUTO_TEST_CASE(host_names_with_numeric_ports_parse) {
    const good_case table[] = {
        {"example.com:443", "example.com", 443},
        {"localhost:0", "localhost", 0},
        {"a.b-c_d.example.:65535", "a.b-c_d.example.", 65535},
        {"x:1", "x", 1},
        {"_sip._tcp.example.com:5060", "_sip._tcp.example.com", 5060},
        {"xn--bcher-kva.example:00080", "xn--bcher-kva.example", 80},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(service_names_resolve_to_ports) {
    const good_case table[] = {
        {"example.com:https", "example.com", 443},
        {"EXAMPLE.com:HTTP", "EXAMPLE.com", 80},  // service case-insensitive, host kept as written
        {"example.com:Ssh", "example.com", 22},
        {"example.com:http-alt", "example.com", 8080},
        {"example.com:postgresql", "example.com", 5432},
        {"[::1]:redis", "::1", 6379, "::1"},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(services_outside_the_builtin_table_come_from_the_system) {
    servent entry{};
    servent* found = nullptr;
    std::array<char, 4096> buffer;
    if (::getservbyname_r("finger", "tcp", &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
        BOOST_TEST_MESSAGE("no \"finger\" in the services database; skipped");
        return;
    }
    check(good_case{"example.com:finger", "example.com", ntohs(std::uint16_t(found->s_port))});
}

BOOST_AUTO_TEST_CASE(ip_literals_set_ip) {
    const good_case table[] = {
        {"127.0.0.1:80", "127.0.0.1", 80, "127.0.0.1"},
        {"0.0.0.0:0", "0.0.0.0", 0, "0.0.0.0"},
        {"255.255.255.255:65535", "255.255.255.255", 65535, "255.255.255.255"},
        {"[::1]:80", "::1", 80, "::1"},
        {"[::]:0", "::", 0, "::"},
        {"[2001:db8::1]:443", "2001:db8::1", 443, "2001:db8::1"},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(zones_become_the_scope_id) {
    const unsigned lo = ::if_nametoindex("lo");
    BOOST_TEST_REQUIRE(lo != 0u);
    const good_case table[] = {
        {"[fe80::1%lo]:80", "fe80::1", 80, "fe80::1", lo, "lo"},
    };
    check_all(table);
    // A numeric zone is an interface index, accepted when one has it.
    const std::string numeric = std::to_string(lo);
    check(good_case{"[fe80::1%" + numeric + "]:80", "fe80::1", 80, "fe80::1", lo, numeric});
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_ipv6_literals_stay_ipv6) {
    // Go unmaps these to IPv4; we keep the family the user wrote.
    check(good_case{"[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80, "::ffff:127.0.0.1"});
    boost::system::error_code ec;
    auto hp = nettrace::parse_host_port("[::ffff:127.0.0.1]:80", ec);
    BOOST_TEST_REQUIRE((hp && hp->ip));
    BOOST_TEST(hp->ip->is_v6());
    BOOST_TEST(hp->ip->to_v6().is_v4_mapped());
}

BOOST_AUTO_TEST_CASE(numeric_names_that_are_not_ipv4_literals_are_host_names) {
    // As in Go: these are not addresses, so they go to DNS (and fail there).
    const good_case table[] = {
        {"256.1.1.1:80", "256.1.1.1", 80},
        {"1.2.3:80", "1.2.3", 80},
        {"01.2.3.4:80", "01.2.3.4", 80},
        {"1234:80", "1234", 80},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(missing_parts_are_reported) {
    const bad_case table[] = {
        {"", error::missing_port},    {"example.com", error::missing_port}, {"[::1]", error::missing_port},
        {":80", error::missing_host}, {":", error::missing_host},           {"[]:80", error::missing_host},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(bad_ports_are_rejected) {
    const bad_case table[] = {
        {"example.com:", error::invalid_port},
        {"[::1]:", error::invalid_port},
        {"example.com:65536", error::invalid_port},
        {"example.com:99999999999999999999", error::invalid_port},
        {"example.com:4294967376", error::invalid_port},  // 80 after 32-bit wraparound
        {"example.com:-1", error::invalid_port},
        {"example.com:+80", error::invalid_port},
        {"example.com:0x50", error::invalid_port},
        {"example.com:nosuchservice", error::invalid_port},
        {"example.com:ht tp", error::invalid_port},
        {"example.com:http\0"sv, error::invalid_port},
        {"[::1]:80:90", error::invalid_port},
    };
    check_all(table);
}

// An IPv4 literal and a numeric port are parsed in one pass; whatever that
// pass does not take must fall to the general rules with the same answer.
BOOST_AUTO_TEST_CASE(ipv4_literals_near_the_one_pass_form_get_the_general_answer) {
    const good_case good[] = {
        {"1.2.3.4:080", "1.2.3.4", 80, "1.2.3.4"},
        {"1.2.3.4:http", "1.2.3.4", 80, "1.2.3.4"},
        {"1.2.3.4.5:80", "1.2.3.4.5", 80},
        {"1.2.3.400:80", "1.2.3.400", 80},
        {"1.2.3.4567:80", "1.2.3.4567", 80},
        {"1.2.3.04:80", "1.2.3.04", 80},
    };
    check_all(good);
    const bad_case bad[] = {
        {"1.2.3.4:", error::invalid_port},
        {"1.2.3.4:65536", error::invalid_port},
        {"1.2.3.4:8a", error::invalid_port},
        {"1.2.3.4:80:90", error::too_many_colons},
        {"1.2.3.4:[80]", error::unexpected_bracket},
        {"1.2.3.4%lo:80", error::zone_on_ipv4},
        {"1.2.3.4\0:80"sv, error::invalid_host},
    };
    check_all(bad);
}

BOOST_AUTO_TEST_CASE(ipv6_without_brackets_is_rejected) {
    const bad_case table[] = {
        {"::1:80", error::too_many_colons},          {"::1", error::too_many_colons},
        {"2001:db8::1:443", error::too_many_colons}, {"fe80::1%lo:80", error::too_many_colons},
        {"a:b:80", error::too_many_colons},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(brackets_must_enclose_an_ipv6_literal) {
    const bad_case table[] = {
        {"[::1", error::unclosed_bracket},
        {"[::1:80", error::unclosed_bracket},
        {"[::1]x:80", error::junk_after_bracket},
        {"[::1]80", error::junk_after_bracket},
        {"a]b:80", error::unexpected_bracket},
        {"a[b:80", error::unexpected_bracket},
        {"example.com:80]", error::unexpected_bracket},
        {"[[::1]]:80", error::unexpected_bracket},
        {"[::1]]:80", error::unexpected_bracket},
        {"[::1]:[80]", error::unexpected_bracket},
        {"[example.com]:80", error::invalid_host},
        {"[127.0.0.1]:80", error::invalid_host},
        {"[::g]:80", error::invalid_host},
        {"[%lo]:80", error::invalid_host},
        {"[::1\0junk]:80"sv, error::invalid_host},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(zones_must_name_an_interface) {
    const bad_case table[] = {
        {"[fe80::1%]:80", error::invalid_zone},
        {"[fe80::1%nosuchif0]:80", error::invalid_zone},
        {"[fe80::1%4294967296]:80", error::invalid_zone},
        // Numbers that no interface has: the scope would fail only at connect.
        {"[::1%99999]:80", error::invalid_zone},
        {"[fe80::1%4294967295]:80", error::invalid_zone},
        {"[fe80::1%0]:80", error::invalid_zone},
        {"[fe80::1%lo%lo]:80", error::invalid_zone},
        {"[fe80::1%a-very-long-interface-name]:80", error::invalid_zone},
        {"127.0.0.1%lo:80", error::zone_on_ipv4},
        {"127.0.0.1%:80", error::zone_on_ipv4},
        {"example.com%lo:80", error::invalid_host},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(invalid_host_names_are_rejected) {
    const bad_case table[] = {
        {"a b:80", error::invalid_host},
        {"exa$mple:80", error::invalid_host},
        {"-bad.example:80", error::invalid_host},
        {"bad-.example:80", error::invalid_host},
        {"a..b:80", error::invalid_host},
        {".:80", error::invalid_host},
        {".example:80", error::invalid_host},
        {"example..:80", error::invalid_host},
        {"b\xc3\xbc"
         "cher.example:80",
         error::invalid_host},
        {"127.0.0.1\0junk:80"sv, error::invalid_host},
    };
    check_all(table);
}

BOOST_AUTO_TEST_CASE(host_name_length_limits_follow_dns) {
    const std::string longest = name_of_length(253);
    const std::string too_long = name_of_length(254);
    const std::string label63(63, 'a');
    const std::string label64(64, 'a');

    check(good_case{longest + ":80", longest, 80});
    check(good_case{longest + ".:80", longest + ".", 80});  // the root dot does not count
    check(good_case{label63 + ".example:80", label63 + ".example", 80});
    check(bad_case{too_long + ":80", error::host_too_long});
    check(bad_case{too_long + ".:80", error::host_too_long});
    check(bad_case{label64 + ".example:80", error::invalid_host});
}

BOOST_AUTO_TEST_CASE(is_valid_host_name_follows_rfc_1123) {
    for (auto name : {"a"sv, "example.com"sv, "example.com."sv, "a-b.c_d"sv, "_dmarc.example"sv, "1.2.3"sv, "0a"sv,
                      "xn--bcher-kva"sv}) {
        BOOST_TEST_CONTEXT("name \"" << name << "\"") { BOOST_TEST(nettrace::is_valid_host_name(name)); }
    }
    for (auto name : {""sv, "."sv, ".."sv, "a..b"sv, "a.."sv, ".a"sv, "-a"sv, "a-"sv, "a.-b"sv, "a b"sv, "a$b"sv,
                      "a:b"sv, "a%b"sv, "a\0b"sv}) {
        BOOST_TEST_CONTEXT("name \"" << name << "\"") { BOOST_TEST(!nettrace::is_valid_host_name(name)); }
    }
    BOOST_TEST(nettrace::is_valid_host_name(name_of_length(253)));
    BOOST_TEST(!nettrace::is_valid_host_name(name_of_length(254)));
    BOOST_TEST(!nettrace::is_valid_host_name(std::string(64, 'a')));
}

// ---------------------------------------------------------------------------
// One literal parser behind every entry point.

BOOST_AUTO_TEST_CASE(parse_ip_literal_tells_literals_names_and_malformed_literals_apart) {
    boost::system::error_code ec = error::timeout;
    auto a = nettrace::parse_ip_literal("::1", ec);
    BOOST_TEST(!ec);
    BOOST_TEST((a && *a == boost::asio::ip::make_address("::1")));
    a = nettrace::parse_ip_literal("example.test", ec);
    BOOST_TEST(!ec);  // a name: no literal, no error
    BOOST_TEST(!a.has_value());
    a = nettrace::parse_ip_literal("127.1", ec);
    BOOST_TEST(!ec);  // inet_aton's shorthand is no literal here
    BOOST_TEST(!a.has_value());
    a = nettrace::parse_ip_literal("::1%garbage", ec);
    BOOST_TEST(!a.has_value());
    BOOST_TEST(ec == nettrace::make_error_code(error::invalid_zone));
    a = nettrace::parse_ip_literal("127.0.0.1\0evil.example"sv, ec);
    BOOST_TEST(!a.has_value());
    BOOST_TEST(ec == nettrace::make_error_code(error::invalid_host));
}

namespace {

// What resolve() makes of a bare host: names go to a static resolver with
// an empty table, so they fail with no_resolver without any DNS.
std::pair<boost::system::error_code, std::vector<boost::asio::ip::address>> resolve_now(std::string_view host) {
    nettrace::dial_options o;
    o.resolver = nettrace::make_static_resolver({});
    const nettrace::dialer d(o);
    boost::asio::io_context ioc;
    std::pair<boost::system::error_code, std::vector<boost::asio::ip::address>> out;
    int calls = 0;
    d.resolve(ioc.get_executor(), {}, host, [&](boost::system::error_code ec, std::vector<boost::asio::ip::address> a) {
        ++calls;
        out = {ec, std::move(a)};
    });
    ioc.run();
    BOOST_TEST(calls == 1);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(resolve_and_dial_agree_on_every_literal) {
    const std::string lo_index = std::to_string(::if_nametoindex("lo"));
    const std::string hosts[] = {
        "127.0.0.1",
        "0.0.0.0",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "2001:db8::1",
        "fe80::1%lo",
        "fe80::1%" + lo_index,
        // Malformed literals: each entry point refuses them alike.
        "::1%garbage",
        "::1%99999",
        "fe80::1%",
        std::string("127.0.0.1\0evil.example", 22),
        std::string("::1\0x", 5),
        "127.0.0.1%lo",
        "::g",
        "1:2:3:4:5:6:7:8:9",
        // Names, not literals: both hand them to the resolver.
        "127.1",
        "0x7f.0.0.1",
        "2130706433",
        "256.1.1.1",
        "1.2.3",
        "example.test",
    };
    for (const auto& host : hosts) {
        BOOST_TEST_CONTEXT("host \"" << host << "\" (" << host.size() << " bytes)") {
            const std::string address = host.find(':') != std::string::npos ? "[" + host + "]:80" : host + ":80";
            boost::system::error_code parse_ec;
            const auto hp = nettrace::parse_host_port(address, parse_ec);
            const auto [resolve_ec, addrs] = resolve_now(host);
            if (hp && hp->ip) {
                BOOST_TEST(!resolve_ec, resolve_ec.message());
                BOOST_TEST_REQUIRE(addrs.size() == 1u);
                BOOST_TEST(addrs[0] == *hp->ip);
            } else if (hp) {
                BOOST_TEST(resolve_ec == nettrace::make_error_code(error::no_resolver), resolve_ec.message());
            } else {
                BOOST_TEST(resolve_ec == parse_ec, resolve_ec.message() << " vs " << parse_ec.message());
                BOOST_TEST(addrs.empty());
            }
        }
    }
}
