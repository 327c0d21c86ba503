// proxy_settings_test.cpp — proxy URLs, NO_PROXY matching, the choice of
// proxy per dial and the proxy environment variables. Pure: no sockets.

#define BOOST_TEST_MODULE proxy_settings
#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>

#include <nettrace/error.hpp>
#include <nettrace/proxy.hpp>

#include "support/proxy_environment.hpp"

#include <boost/system/errc.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::literals;
using nettrace::error;
using nettrace::proxy;
using nettrace::proxy_scheme;
using nettrace::proxy_settings;
namespace data = boost::unit_test::data;

namespace nettrace {
// For BOOST_TEST's messages.
std::ostream& operator<<(std::ostream& os, proxy_scheme s) { return os << to_string(s); }
}  // namespace nettrace

namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// ---------------------------------------------------------------- NO_PROXY

struct no_proxy_case {
    std::string_view host;
    std::uint16_t port;
    std::string_view list;
    bool bypass;
};

std::ostream& operator<<(std::ostream& os, const no_proxy_case& c) {
    return os << "host \"" << c.host << "\" port " << c.port << " NO_PROXY \"" << c.list << "\" -> "
              << (c.bypass ? "direct" : "proxy");
}

const no_proxy_case no_proxy_cases[] = {
    // `*` is special only as the whole list (curl's strcmp("*", no_proxy)).
    {"example.com", 443, "*", true},
    {"192.0.2.1", 80, "*", true},
    {"::1", 80, "*", true},
    {"example.com", 443, "localhost,*", false},
    {"example.com", 443, " *", false},
    {"a.example.com", 80, "*.example.com", false},  // no wildcards in names
    {"", 80, "*", false},                           // no host, nothing to match

    // Names: the name itself and its subdomains, with or without a leading dot.
    {"example.com", 80, "example.com", true},
    {"a.example.com", 80, "example.com", true},
    {"a.b.example.com", 80, "example.com", true},
    {"example.com", 80, ".example.com", true},
    {"a.example.com", 80, ".example.com", true},
    {"notexample.com", 80, "example.com", false},
    {"notexample.com", 80, ".example.com", false},
    {"example.com.evil", 80, "example.com", false},
    {"com", 80, "example.com", false},
    {"example.com.", 80, "example.com", true},    // trailing dot on the host
    {"a.example.com", 80, "example.com.", true},  // and on the entry
    {"WWW.Example.COM", 80, "example.com", true},
    {"www.example.com", 80, "EXAMPLE.Com", true},
    {"localhost", 80, "localhost", true},
    {"example.com", 80, "192.0.2.1", false},   // names match names only
    {"example.com", 80, "10.0.0.0/8", false},  // names are not resolved

    // IPv4: exact, never a name or a prefix of another address.
    {"192.0.2.1", 80, "192.0.2.1", true},
    {"192.0.2.10", 80, "192.0.2.1", false},
    {"192.0.2.1", 80, "192.0.2.10", false},
    {"192.0.2.1", 80, "example.com", false},

    // IPv6: any spelling of the address, the target bracketed or not; a
    // bracketed entry matches nothing (curl: "without enclosing brackets").
    {"::1", 80, "::1", true},
    {"[::1]", 80, "::1", true},
    {"2001:db8::1", 80, "2001:DB8:0:0::1", true},
    {"::2", 80, "::1", false},
    {"::1", 80, "[::1]", false},
    {"fe80::1%eth0", 80, "fe80::1", true},  // the zone is no part of the address
    {"::ffff:192.0.2.1", 80, "192.0.2.1", false},
    {"::1", 80, "127.0.0.0/8", false},

    // CIDR, IPv4.
    {"10.1.2.3", 80, "10.0.0.0/8", true},
    {"11.0.0.1", 80, "10.0.0.0/8", false},
    {"192.168.0.255", 80, "192.168.0.0/24", true},
    {"192.168.1.1", 80, "192.168.0.0/24", false},
    {"192.168.0.1", 80, "192.168.0.1/32", true},
    {"192.168.0.1", 80, "192.168.0.0/32", false},
    {"192.168.0.1", 80, "192.168.0.1/33", false},
    {"192.168.0.1", 80, "192.168.0.0/16a", false},
    {"192.168.0.1", 80, "192.168.0.0/ 16", false},
    {"192.168.0.1", 80, "192.168.0.0/", false},
    {"10.0.0.1", 80, "0.0.0.0/0", false},  // curl: "/0" is the address alone
    {"0.0.0.0", 80, "0.0.0.0/0", true},
    {"10.0.0.1", 80, "::/0", false},  // families never mix

    // CIDR, IPv6.
    {"2001:db8::1", 80, "2001:db8::/32", true},
    {"2001:db9::1", 80, "2001:db8::/32", false},
    {"2001:db8::1", 80, "2001:db8::/72", true},
    {"2001:db8:8000::1", 80, "2001:db8::/65", false},
    {"2001:db8:0:0:ff::1", 80, "2001:db8::/65", true},
    {"2001:db8:0:0:8000::1", 80, "2001:db8::/65", false},
    {"::1", 80, "::1/128", true},
    {"::1", 80, "::/127", true},
    {"::1", 80, "::1/129", false},
    {"::1", 80, "[::1]/128", false},

    // Entries with a port match nothing, as in curl; a port-less entry
    // matches every port.
    {"example.com", 8080, "example.com:8080", false},
    {"example.com", 443, "example.com:8080", false},
    {"192.0.2.1", 80, "192.0.2.1:80", false},
    {"::1", 443, "[::1]:443", false},
    {"example.com", 8080, "example.com", true},

    // Separators: commas; blanks around entries and empty entries ignored;
    // blanks alone end the list (curl 8.9 and later).
    {"b.example", 80, "a.example,b.example", true},
    {"b.example", 80, "a.example, b.example", true},
    {"b.example", 80, " a.example ,\tb.example\t", true},
    {"b.example", 80, ",,a.example,,,b.example,", true},
    {"b.example", 80, "a.example,,,,,              b.example", true},
    {"a.example", 80, "a.example b.example", true},
    {"b.example", 80, "a.example b.example", false},
    {"b.example", 80, "", false},
    {"b.example", 80, "   ", false},
    {"b.example", 80, ",", false},
    {"b.example", 80, ".", false},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(no_proxy_matching)

BOOST_DATA_TEST_CASE(bypass_follows_curls_no_proxy_rules, data::make(no_proxy_cases), c) {
    proxy_settings s(proxy("http://proxy.test:3128"));
    s.no_proxy = c.list;
    BOOST_TEST(s.bypass(c.host, c.port) == c.bypass);
    // select() agrees: a bypassed target gets no proxy, whatever the dial.
    for (bool tls : {false, true}) BOOST_TEST((s.select(tls, c.host, c.port) == nullptr) == c.bypass);
}

BOOST_AUTO_TEST_CASE(an_empty_no_proxy_bypasses_nothing) {
    proxy_settings s;
    BOOST_TEST(!s.bypass("localhost", 80));
    BOOST_TEST(!s.bypass("127.0.0.1", 80));  // no implicit localhost rule (that is Go's)
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(selection)

BOOST_AUTO_TEST_CASE(select_uses_https_for_tls_and_http_otherwise) {
    proxy_settings s;
    s.http = proxy("http://plain.test:3128");
    s.https = proxy("http://secure.test:3128");
    s.all = proxy("socks5://all.test");
    BOOST_TEST(s.select(true, "example.com", 443) == &*s.https);
    BOOST_TEST(s.select(false, "example.com", 80) == &*s.http);
}

BOOST_AUTO_TEST_CASE(select_falls_back_to_all) {
    proxy_settings s;
    s.all = proxy("socks5h://all.test");
    BOOST_TEST(s.select(true, "example.com", 443) == &*s.all);
    BOOST_TEST(s.select(false, "example.com", 80) == &*s.all);
    s.https = proxy("http://secure.test");
    BOOST_TEST(s.select(true, "example.com", 443) == &*s.https);
    BOOST_TEST(s.select(false, "example.com", 80) == &*s.all);
}

BOOST_AUTO_TEST_CASE(select_returns_null_without_a_proxy) {
    proxy_settings s;
    BOOST_TEST(s.select(true, "example.com", 443) == nullptr);
    s.https = proxy("http://secure.test");
    BOOST_TEST(s.select(false, "example.com", 80) == nullptr);  // no http, no all
}

BOOST_AUTO_TEST_CASE(select_returns_null_for_a_bypassed_target) {
    proxy_settings s;
    s.https = proxy("http://secure.test");
    s.all = proxy("http://all.test");
    s.no_proxy = "internal.test, 10.0.0.0/8";
    BOOST_TEST(s.select(true, "api.internal.test", 443) == nullptr);
    BOOST_TEST(s.select(false, "10.1.2.3", 80) == nullptr);
    BOOST_TEST(s.select(true, "example.com", 443) == &*s.https);
    BOOST_TEST(s.select(false, "example.com", 80) == &*s.all);
}

BOOST_AUTO_TEST_CASE(a_proxy_converts_to_settings_that_use_it_for_every_dial) {
    const proxy p("socks5://proxy.test");
    const proxy_settings s = p;
    BOOST_TEST(!s.http.has_value());
    BOOST_TEST(!s.https.has_value());
    BOOST_REQUIRE(s.all.has_value());
    BOOST_TEST((*s.all == p));
    BOOST_TEST(s.select(true, "example.com", 443) == &*s.all);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- URLs

namespace {

struct good_url {
    std::string_view url;
    proxy_scheme scheme;
    std::string_view host;
    std::uint16_t port;
    std::string_view redacted;
    bool credentials = false;
    std::string_view user = {};
    std::string_view password = {};
};

std::ostream& operator<<(std::ostream& os, const good_url& c) { return os << '"' << c.url << '"'; }

const good_url good_urls[] = {
    {"http://proxy.test:3128", proxy_scheme::http, "proxy.test", 3128, "http://proxy.test:3128"},
    {"socks5://proxy.test", proxy_scheme::socks5, "proxy.test", 1080, "socks5://proxy.test:1080"},
    {"socks5h://proxy.test:1081", proxy_scheme::socks5h, "proxy.test", 1081, "socks5h://proxy.test:1081"},
    {"HTTP://proxy.test", proxy_scheme::http, "proxy.test", 1080, "http://proxy.test:1080"},
    {"SoCkS5H://proxy.test", proxy_scheme::socks5h, "proxy.test", 1080, "socks5h://proxy.test:1080"},
    {"http://proxy.test", proxy_scheme::http, "proxy.test", 1080, "http://proxy.test:1080"},  // curl's 1080
    {"proxy.test:3128", proxy_scheme::http, "proxy.test", 3128, "http://proxy.test:3128"},    // no scheme
    {"proxy.test", proxy_scheme::http, "proxy.test", 1080, "http://proxy.test:1080"},
    {"http://proxy.test:3128/", proxy_scheme::http, "proxy.test", 3128, "http://proxy.test:3128"},
    {"http://proxy_1.test.", proxy_scheme::http, "proxy_1.test.", 1080, "http://proxy_1.test.:1080"},
    {"http://192.0.2.1:8080", proxy_scheme::http, "192.0.2.1", 8080, "http://192.0.2.1:8080"},
    {"socks5://[2001:db8::1]:1080", proxy_scheme::socks5, "2001:db8::1", 1080, "socks5://[2001:db8::1]:1080"},
    {"http://[::1]", proxy_scheme::http, "::1", 1080, "http://[::1]:1080"},
    {"http://proxy.test:1", proxy_scheme::http, "proxy.test", 1, "http://proxy.test:1"},
    {"http://proxy.test:065535", proxy_scheme::http, "proxy.test", 65535, "http://proxy.test:65535"},
    {"http://user:secret@proxy.test:3128", proxy_scheme::http, "proxy.test", 3128, "http://user:***@proxy.test:3128",
     true, "user", "secret"},
    {"http://us%65r:p%40ss%3Aw%2fd%25@proxy.test", proxy_scheme::http, "proxy.test", 1080,
     "http://user:***@proxy.test:1080", true, "user", "p@ss:w/d%"},
    {"http://user:p@ss@proxy.test", proxy_scheme::http, "proxy.test", 1080,  // the last '@' counts
     "http://user:***@proxy.test:1080", true, "user", "p@ss"},
    {"socks5://user@[::1]:9050", proxy_scheme::socks5, "::1", 9050, "socks5://user@[::1]:9050", true, "user"},
    {"http://a%20b%40corp@proxy.test", proxy_scheme::http, "proxy.test", 1080, "http://a%20b%40corp@proxy.test:1080",
     true, "a b@corp"},
    {"http://:secret@proxy.test", proxy_scheme::http, "proxy.test", 1080, "http://:***@proxy.test:1080", true, "",
     "secret"},
    {"user:secret@proxy.test:3128", proxy_scheme::http, "proxy.test", 3128, "http://user:***@proxy.test:3128", true,
     "user", "secret"},
};

struct bad_url {
    std::string_view url;
    error expected;
    std::string_view problem;      // what() names it
    std::string_view secret = {};  // what() never shows it
};

std::ostream& operator<<(std::ostream& os, const bad_url& c) { return os << '"' << c.url << '"'; }

const std::string long_name(256, 'a');
const std::string long_user_url = "http://" + long_name + ":secret@proxy.test";
const std::string long_password_url = "http://user:" + long_name + "@proxy.test";
const std::string max_user_url = "http://" + std::string(255, 'a') + ":" + std::string(255, 'b') + "@proxy.test";

const bad_url bad_urls[] = {
    {"ftp://proxy.test", error::unsupported_proxy_scheme, "scheme \"ftp\""},
    {"https://proxy.test", error::unsupported_proxy_scheme, "scheme \"https\""},
    {"socks4://user:secret@proxy.test", error::unsupported_proxy_scheme, "scheme \"socks4\"", "secret"},
    {"", error::invalid_proxy_url, "empty URL"},
    {"http://", error::invalid_proxy_url, "empty host"},
    {"http:///", error::invalid_proxy_url, "empty host"},
    {"http://user:secret@", error::invalid_proxy_url, "empty host", "secret"},
    {"http://user:secret@:3128", error::invalid_proxy_url, "empty host", "secret"},
    {"http://[]:3128", error::invalid_proxy_url, "empty host"},
    {"http://user:secret@proxy.test:0", error::invalid_proxy_url, "port 0 is not in 1-65535", "secret"},
    {"http://proxy.test:65536", error::invalid_proxy_url, "port 65536 is not in 1-65535"},
    {"http://proxy.test:99999999999999999999", error::invalid_proxy_url, "is not in 1-65535"},
    {"http://proxy.test:", error::invalid_proxy_url, "empty port"},
    {"http://proxy.test:http", error::invalid_proxy_url, "port \"http\" is not a number"},
    {"http://user:secret@proxy.test:-1", error::invalid_proxy_url, "is not a number", "secret"},
    {"http://proxy.test/path", error::invalid_proxy_url, "a path is not allowed"},
    {"http://user:secret@proxy.test//", error::invalid_proxy_url, "a path is not allowed", "secret"},
    {"http://proxy.test?x=1", error::invalid_proxy_url, "a query"},
    {"http://proxy.test/?x=1", error::invalid_proxy_url, "a query"},
    {"http://proxy.test#top", error::invalid_proxy_url, "a fragment"},
    {"http://proxy .test", error::invalid_proxy_url, "control character or space"},
    {"http://user:sec\nret@proxy.test", error::invalid_proxy_url, "control character or space", "sec"},
    {"http://user:secret@proxy\x7f.test", error::invalid_proxy_url, "control character or space", "secret"},
    {"http://proxy.test\t", error::invalid_proxy_url, "control character or space"},
    {"http://bad$host.test", error::invalid_proxy_url, "invalid host name \"bad$host.test\""},
    {"http://-bad.test", error::invalid_proxy_url, "invalid host name"},
    {"http://b\xc3\xa4"
     "d.test",
     error::invalid_proxy_url, "invalid host name \"b\\xc3\\xa4d.test\""},
    {"http://::1", error::invalid_proxy_url, "an IPv6 address must be in brackets"},
    {"http://2001:db8::1:3128", error::invalid_proxy_url, "an IPv6 address must be in brackets"},
    {"http://[::1", error::invalid_proxy_url, "missing ']'"},
    {"http://[::1]3128", error::invalid_proxy_url, "unexpected text after ']'"},
    {"http://[192.0.2.1]:3128", error::invalid_proxy_url, "is not an IPv6 address"},
    {"http://[proxy.test]", error::invalid_proxy_url, "is not an IPv6 address"},
    {"http://[fe80::1%25eth0]", error::invalid_proxy_url, "IPv6 zone"},
    {"http://proxy[1].test", error::invalid_proxy_url, "invalid host name"},
    {"http://us%zzer:secret@proxy.test", error::invalid_proxy_url, "percent-encoding in the user name", "secret"},
    {"http://user:sec%2ret@proxy.test", error::invalid_proxy_url, "percent-encoding in the password", "sec"},
    {"http://user:secret%4@proxy.test", error::invalid_proxy_url, "percent-encoding in the password", "secret"},
    {"http://user:secret%@proxy.test", error::invalid_proxy_url, "percent-encoding in the password", "secret"},
    {long_user_url, error::invalid_proxy_url, "user name longer than 255 bytes", "secret"},
    {long_password_url, error::invalid_proxy_url, "password longer than 255 bytes", long_name},
    // Malformed URLs whose password a parse would cut elsewhere stay hidden.
    {"http://me:pa/ss@proxy.test", error::invalid_proxy_url, "a path is not allowed", "me:pa"},
    {"http://user:secret@proxy.test/a@b", error::invalid_proxy_url, "a path is not allowed", "secret"},
    {"user:p://w@proxy.test", error::invalid_proxy_url, "a path is not allowed", "p://w"},
    {"http://user:secret@proxy.test?q@r", error::invalid_proxy_url, "a query", "secret"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_urls)

BOOST_DATA_TEST_CASE(parses_each_scheme_host_port_and_credentials, data::make(good_urls), c) {
    const proxy p(c.url);
    BOOST_TEST(p.scheme() == c.scheme);
    BOOST_TEST(p.host() == c.host);
    BOOST_TEST(p.port() == c.port);
    BOOST_TEST(p.has_credentials() == c.credentials);
    BOOST_TEST(p.username() == c.user);
    BOOST_TEST(p.password() == c.password);
    BOOST_TEST(p.redacted() == c.redacted);

    // The non-throwing form agrees, and clears a stale error.
    boost::system::error_code ec = error::timeout;
    std::string why = "stale";
    const auto parsed = proxy::parse(c.url, ec, &why);
    BOOST_TEST(!ec);
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == p));
}

BOOST_DATA_TEST_CASE(rejects_malformed_urls_naming_the_problem_never_the_password, data::make(bad_urls), c) {
    try {
        proxy p(c.url);
        BOOST_ERROR("parsed: " << p.redacted());
    } catch (const boost::system::system_error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO("what(): " << what);
        BOOST_TEST(e.code() == c.expected);
        BOOST_TEST(e.code() == boost::system::errc::invalid_argument);
        BOOST_TEST(contains(what, "proxy URL \""));
        BOOST_TEST(contains(what, c.problem));
        if (!c.secret.empty()) BOOST_TEST(!contains(what, c.secret));
    }

    boost::system::error_code ec;
    std::string why;
    BOOST_TEST(!proxy::parse(c.url, ec, &why).has_value());
    BOOST_TEST(ec == c.expected);
    BOOST_TEST(contains(why, c.problem));
    if (!c.secret.empty()) BOOST_TEST(!contains(why, c.secret));
    BOOST_TEST(!proxy::parse(c.url, ec).has_value());  // `why` is optional
}

BOOST_AUTO_TEST_CASE(why_holds_the_text_what_would_hold) {
    constexpr auto url = "socks5://user:secret@proxy.test:70000"sv;
    boost::system::error_code ec;
    std::string why;
    BOOST_TEST(!proxy::parse(url, ec, &why).has_value());
    BOOST_CHECK_EXCEPTION(proxy{url}, boost::system::system_error,
                          [&](const boost::system::system_error& e) { return e.what() == why; });
    BOOST_TEST(contains(why, "proxy URL \"socks5://user:***@proxy.test:70000\": port 70000 is not in 1-65535"));
}

BOOST_AUTO_TEST_CASE(user_and_password_of_255_bytes_are_accepted) {
    const proxy p(max_user_url);
    BOOST_TEST(p.username() == std::string(255, 'a'));
    BOOST_TEST(p.password() == std::string(255, 'b'));
}

BOOST_AUTO_TEST_CASE(redacted_hides_the_password_and_parses_back) {
    const proxy with_password("socks5h://us%3Aer:hunter2@[2001:db8::1]:1080/");
    BOOST_TEST(with_password.redacted() == "socks5h://us%3Aer:***@[2001:db8::1]:1080");
    BOOST_TEST(!contains(with_password.redacted(), "hunter2"));

    const proxy user_only("http://a%2Fb@proxy.test:3128");
    BOOST_TEST((proxy(user_only.redacted()) == user_only));
    const proxy no_credentials("PROXY.test");
    BOOST_TEST((proxy(no_credentials.redacted()) == no_credentials));
}

BOOST_AUTO_TEST_CASE(an_empty_password_is_nothing_to_hide) {
    const proxy p("http://user:@proxy.test");
    BOOST_TEST(p.has_credentials());
    BOOST_TEST(p.password().empty());
    BOOST_TEST(p.redacted() == "http://user@proxy.test:1080");
}

BOOST_AUTO_TEST_CASE(schemes_have_their_url_names) {
    BOOST_TEST(nettrace::to_string(proxy_scheme::http) == "http");
    BOOST_TEST(nettrace::to_string(proxy_scheme::socks5) == "socks5");
    BOOST_TEST(nettrace::to_string(proxy_scheme::socks5h) == "socks5h");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- environment

namespace {

std::string host_of(const std::optional<proxy>& p) { return p ? p->host() : "(none)"; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(environment, nettrace::testing::clean_proxy_environment)

BOOST_AUTO_TEST_CASE(nothing_set_means_no_proxy) {
    const auto s = proxy_settings::from_environment();
    BOOST_TEST(!s.http.has_value());
    BOOST_TEST(!s.https.has_value());
    BOOST_TEST(!s.all.has_value());
    BOOST_TEST(s.no_proxy.empty());
}

BOOST_AUTO_TEST_CASE(each_variable_fills_its_field) {
    set("HTTPS_PROXY", "http://secure.test:3128");
    set("http_proxy", "plain.test");
    set("ALL_PROXY", "socks5h://all.test");
    set("NO_PROXY", "internal.test, 10.0.0.0/8");
    const auto s = proxy_settings::from_environment();
    BOOST_TEST(host_of(s.https) == "secure.test");
    BOOST_TEST(host_of(s.http) == "plain.test");
    BOOST_TEST(host_of(s.all) == "all.test");
    BOOST_TEST(s.all->scheme() == proxy_scheme::socks5h);
    BOOST_TEST(s.no_proxy == "internal.test, 10.0.0.0/8");
}

BOOST_AUTO_TEST_CASE(the_lower_case_name_wins) {
    set("https_proxy", "lower-s.test");
    set("HTTPS_PROXY", "upper-s.test");
    set("http_proxy", "lower.test");
    set("HTTP_PROXY", "upper.test");
    set("all_proxy", "lower-all.test");
    set("ALL_PROXY", "upper-all.test");
    set("no_proxy", "lower.example");
    set("NO_PROXY", "upper.example");
    const auto s = proxy_settings::from_environment();
    BOOST_TEST(host_of(s.https) == "lower-s.test");
    BOOST_TEST(host_of(s.http) == "lower.test");
    BOOST_TEST(host_of(s.all) == "lower-all.test");
    BOOST_TEST(s.no_proxy == "lower.example");
}

BOOST_AUTO_TEST_CASE(an_empty_variable_counts_as_unset) {
    set("https_proxy", "");
    set("HTTPS_PROXY", "upper-s.test");
    set("http_proxy", "");
    set("no_proxy", "");
    set("NO_PROXY", "upper.example");
    const auto s = proxy_settings::from_environment();
    BOOST_TEST(host_of(s.https) == "upper-s.test");
    BOOST_TEST(!s.http.has_value());
    BOOST_TEST(s.no_proxy == "upper.example");
}

BOOST_AUTO_TEST_CASE(upper_case_http_proxy_is_ignored_under_request_method) {
    set("REQUEST_METHOD", "GET");
    set("HTTP_PROXY", "http://attacker.test:8080");
    set("HTTPS_PROXY", "secure.test");
    auto s = proxy_settings::from_environment();
    BOOST_TEST(!s.http.has_value());
    BOOST_TEST(host_of(s.https) == "secure.test");  // only HTTP_PROXY is the request's

    set("http_proxy", "lower.test");  // a request cannot set the lower-case name
    s = proxy_settings::from_environment();
    BOOST_TEST(host_of(s.http) == "lower.test");
}

BOOST_AUTO_TEST_CASE(an_empty_request_method_is_no_cgi) {
    set("REQUEST_METHOD", "");
    set("HTTP_PROXY", "upper.test");
    BOOST_TEST(host_of(proxy_settings::from_environment().http) == "upper.test");
}

BOOST_AUTO_TEST_CASE(a_malformed_variable_throws_naming_it) {
    set("https_proxy", "http://user:secret@proxy.test:0");
    try {
        (void)proxy_settings::from_environment();
        BOOST_ERROR("no exception");
    } catch (const boost::system::system_error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO("what(): " << what);
        BOOST_TEST(e.code() == error::invalid_proxy_url);
        BOOST_TEST(what.rfind("https_proxy: ", 0) == 0);
        BOOST_TEST(contains(what, "http://user:***@proxy.test:0"));
        BOOST_TEST(contains(what, "port 0 is not in 1-65535"));
        BOOST_TEST(!contains(what, "secret"));
    }
}

BOOST_AUTO_TEST_CASE(an_unsupported_scheme_throws_naming_the_variable) {
    set("ALL_PROXY", "socks4://proxy.test");
    BOOST_CHECK_EXCEPTION((void)proxy_settings::from_environment(), boost::system::system_error,
                          [](const boost::system::system_error& e) {
                              return e.code() == error::unsupported_proxy_scheme &&
                                     std::string_view(e.what()).rfind("ALL_PROXY: ", 0) == 0;
                          });
}

BOOST_AUTO_TEST_CASE(a_variable_not_read_is_not_checked) {
    set("https_proxy", "secure.test");
    set("HTTPS_PROXY", "http://bad host");  // shadowed by https_proxy
    set("REQUEST_METHOD", "POST");
    set("HTTP_PROXY", "ftp://ignored.test");  // ignored in CGI
    const auto s = proxy_settings::from_environment();
    BOOST_TEST(host_of(s.https) == "secure.test");
    BOOST_TEST(!s.http.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
