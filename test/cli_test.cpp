// nettrace-dial's command line (tools/cli.hpp), parsed in process: what each
// option sets, the usage errors and their texts, and how --proxy and
// --noproxy override the proxy environment variables. test/tool_test.cpp
// runs the program itself; these need no process and no socket.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "cli.hpp"
#include "support/proxy_environment.hpp"

#include <nettrace/dns_resolver.hpp>
#include <nettrace/proxy.hpp>

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using nettrace::family_preference;
using nettrace::tool::command_line;
using nettrace::tool::output_format;
using nettrace::tool::resolver_kind;
using nettrace::tool::usage_error;
using namespace std::chrono_literals;

// The arguments after the program's name.
command_line parse(std::initializer_list<std::string_view> args) {
    return nettrace::tool::parse_command_line(std::span<const std::string_view>(args.begin(), args.size()));
}

// The usage_error's text, or "parsed" when the arguments parse: a test that
// expected an error then shows what it got instead.
std::string usage_error_of(std::initializer_list<std::string_view> args) {
    try {
        parse(args);
    } catch (const usage_error& e) {
        return e.what();
    }
    return "parsed";
}

// Whether `text` starts with `prefix`; a failure shows the whole text.
boost::test_tools::predicate_result starts_with(const std::string& text, std::string_view prefix) {
    if (text.starts_with(prefix)) return true;
    boost::test_tools::predicate_result result(false);
    result.message() << "the text is \"" << text << '"';
    return result;
}

// Every parse outside demo mode reads the proxy environment, so each test
// starts from none of it set (support/proxy_environment.hpp).
using proxy_environment = nettrace::testing::clean_proxy_environment;

}  // namespace

BOOST_FIXTURE_TEST_SUITE(arguments, proxy_environment)

BOOST_AUTO_TEST_CASE(an_address_alone_is_one_tcp_dial_with_the_library_defaults) {
    const auto cl = parse({"example.test:80"});
    BOOST_TEST(!cl.help);
    BOOST_TEST(!cl.demo);
    BOOST_TEST(!cl.tls);
    BOOST_TEST(cl.network == "tcp");
    BOOST_TEST(cl.address == "example.test:80");
    BOOST_TEST(cl.target.host == "example.test");
    BOOST_TEST(cl.target.port == 80);
    BOOST_TEST(!cl.target.ip);
    BOOST_TEST(cl.count == 1u);
    BOOST_TEST((cl.format == output_format::timeline));
    BOOST_TEST(cl.options.timeout.count() == 0);
    BOOST_TEST(cl.options.attempt_delay.count() == 250);
    BOOST_TEST((cl.options.preference == family_preference::prefer_ipv6));
    BOOST_TEST(cl.trace_json_path.empty());
    BOOST_TEST(cl.svg_path.empty());
}

BOOST_AUTO_TEST_CASE(two_positionals_are_the_network_then_the_address) {
    const auto cl = parse({"tcp6", "[::1]:443"});
    BOOST_TEST(cl.network == "tcp6");
    BOOST_TEST(cl.address == "[::1]:443");
    BOOST_TEST(cl.target.ip.has_value());
    BOOST_TEST(cl.target.port == 443);
}

BOOST_AUTO_TEST_CASE(help_wins_over_whatever_follows_it) {
    BOOST_TEST(parse({"--help", "--no-such-option"}).help);
    BOOST_TEST(parse({"-h"}).help);
    BOOST_TEST(parse({"127.0.0.1:1", "-h", "extra", "arguments"}).help);
}

BOOST_AUTO_TEST_CASE(version_wins_over_whatever_follows_it_and_takes_no_value) {
    const auto cl = parse({"--version"});
    BOOST_TEST(cl.version);
    BOOST_TEST(!cl.help);
    BOOST_TEST(parse({"--version", "--no-such-option"}).version);
    BOOST_TEST(parse({"127.0.0.1:1", "--version", "extra"}).version);
    BOOST_TEST(!parse({"127.0.0.1:1"}).version);
    BOOST_TEST(usage_error_of({"--version=1"}) == "--version takes no value");
}

BOOST_AUTO_TEST_CASE(a_double_dash_makes_every_later_argument_positional) {
    const auto cl = parse({"--json", "--", "tcp4", "127.0.0.1:1"});
    BOOST_TEST((cl.format == output_format::json));
    BOOST_TEST(cl.network == "tcp4");
    BOOST_TEST(starts_with(usage_error_of({"--", "--json"}), "dial tcp --json: "));
}

BOOST_AUTO_TEST_CASE(a_long_option_takes_its_value_after_an_equals_sign_or_as_the_next_argument) {
    BOOST_TEST(parse({"--timeout=1500", "h.test:1"}).options.timeout == 1500ms);
    BOOST_TEST(parse({"--timeout", "1500", "h.test:1"}).options.timeout == 1500ms);
    BOOST_TEST(parse({"--sni=a=b", "h.test:1"}).tls_options.server_name == "a=b");
}

BOOST_AUTO_TEST_CASE(an_option_missing_its_value_says_so) {
    BOOST_TEST(usage_error_of({"h.test:1", "--timeout"}) == "--timeout needs a value");
    BOOST_TEST(usage_error_of({"h.test:1", "--proxy"}) == "--proxy needs a value");
}

BOOST_AUTO_TEST_CASE(a_flag_given_a_value_says_it_takes_none) {
    BOOST_TEST(usage_error_of({"--json=yes", "h.test:1"}) == "--json takes no value");
    BOOST_TEST(usage_error_of({"--no-race=", "h.test:1"}) == "--no-race takes no value");
    BOOST_TEST(usage_error_of({"--prefer-ipv4=1", "h.test:1"}) == "--prefer-ipv4 takes no value");
}

BOOST_AUTO_TEST_CASE(an_unknown_option_is_quoted_as_written) {
    BOOST_TEST(usage_error_of({"--frobnicate", "h.test:1"}) == "unknown option '--frobnicate'");
    BOOST_TEST(usage_error_of({"--frob=1", "h.test:1"}) == "unknown option '--frob=1'");
    // Short options have no attached form.
    BOOST_TEST(usage_error_of({"-4=1", "h.test:1"}) == "unknown option '-4=1'");
}

BOOST_AUTO_TEST_CASE(the_address_is_required_and_alone) {
    BOOST_TEST(usage_error_of({}) == "missing ADDRESS (host:port)");
    BOOST_TEST(usage_error_of({"--json"}) == "missing ADDRESS (host:port)");
    BOOST_TEST(usage_error_of({"tcp4"}) == "missing ADDRESS after network 'tcp4'");
    BOOST_TEST(usage_error_of({"tcp", "a.test:1", "b.test:2"}) == "too many arguments from 'b.test:2'");
}

BOOST_AUTO_TEST_CASE(what_would_fail_the_dial_before_any_packet_is_a_usage_error) {
    BOOST_TEST(starts_with(usage_error_of({"udp", "127.0.0.1:1"}), "dial udp 127.0.0.1:1: "));
    BOOST_TEST(starts_with(usage_error_of({"nohostport"}), "dial tcp nohostport: "));
    BOOST_TEST(starts_with(usage_error_of({"tcp4", "[::1"}), "dial tcp4 [::1: "));
}

BOOST_AUTO_TEST_CASE(network_unix_takes_a_path_not_a_host_and_port) {
    auto cl = parse({"--json", "unix", "/run/app.sock"});
    BOOST_TEST(cl.network == "unix");
    BOOST_TEST(cl.address == "/run/app.sock");
    BOOST_TEST(cl.target.host.empty());
    BOOST_TEST(!cl.target.ip);
    BOOST_TEST((cl.format == output_format::json));
    cl = parse({"--repeat", "2", "--timeout", "100", "unix", "@abstract"});
    BOOST_TEST(cl.address == "@abstract");
    BOOST_TEST(cl.repeat == 2u);
    BOOST_TEST(cl.options.timeout == 100ms);
    // A relative path, and one with a colon, are paths too.
    BOOST_TEST(parse({"unix", "app.sock"}).address == "app.sock");
    BOOST_TEST(parse({"unix", "h.test:1"}).address == "h.test:1");
    BOOST_TEST(usage_error_of({"unix"}) == "missing PATH after network 'unix'");
    // Only the network unix takes a path.
    BOOST_TEST(starts_with(usage_error_of({"/run/app.sock"}), "dial tcp /run/app.sock: "));
    BOOST_TEST(starts_with(usage_error_of({"tcp", "@abstract"}), "dial tcp @abstract: "));
}

BOOST_AUTO_TEST_CASE(network_unix_refuses_the_tls_resolver_proxy_and_family_options) {
    for (const auto option : {"--tls", "--insecure", "--no-tls-race"})
        BOOST_TEST(
            usage_error_of({option, "unix", "/s"}) == "network unix dials a socket path; the TLS options do not apply",
            option);
    BOOST_TEST(usage_error_of({"--cafile", "ca.pem", "unix", "/s"}) ==
               "network unix dials a socket path; the TLS options do not apply");
    BOOST_TEST(usage_error_of({"--sni", "a.test", "unix", "/s"}) ==
               "network unix dials a socket path; the TLS options do not apply");
    const std::string resolver =
        "network unix resolves nothing; --resolve, --resolver, --nameserver and --no-hosts do not apply";
    BOOST_TEST(usage_error_of({"--resolve", "a.test:1:127.0.0.1", "unix", "/s"}) == resolver);
    BOOST_TEST(usage_error_of({"--resolver", "system", "unix", "/s"}) == resolver);
    BOOST_TEST(usage_error_of({"--resolver", "static", "unix", "/s"}) == resolver);
    BOOST_TEST(usage_error_of({"--no-hosts", "unix", "/s"}) == resolver);
    if (nettrace::dns_resolver_available())
        BOOST_TEST(usage_error_of({"--nameserver", "127.0.0.1", "unix", "/s"}) == resolver);
    BOOST_TEST(usage_error_of({"--proxy", "http://p.test:8080", "unix", "/s"}) ==
               "network unix dials no host; --proxy and --noproxy do not apply");
    BOOST_TEST(usage_error_of({"--noproxy", "*", "unix", "/s"}) ==
               "network unix dials no host; --proxy and --noproxy do not apply");
    for (const auto option : {"-4", "-6", "--prefer-ipv4"})
        BOOST_TEST(usage_error_of({option, "unix", "/s"}) ==
                       "network unix has no address family; -4, -6 and --prefer-ipv4 do not apply",
                   option);
}

BOOST_AUTO_TEST_CASE(network_unix_does_not_read_the_proxy_environment) {
    set("http_proxy", "bad://p.test");
    set("no_proxy", "a.test");
    const auto cl = parse({"unix", "/s"});
    BOOST_TEST(!cl.options.proxy.http);
    BOOST_TEST(cl.options.proxy.no_proxy.empty());
}

BOOST_AUTO_TEST_CASE(output_options_set_the_format_and_the_files) {
    const auto cl = parse({"--json", "--trace-json", "t.json", "--svg=w.svg", "h.test:1"});
    BOOST_TEST((cl.format == output_format::json));
    BOOST_TEST(cl.trace_json_path == "t.json");
    BOOST_TEST(cl.svg_path == "w.svg");
}

BOOST_AUTO_TEST_CASE(an_empty_file_name_is_refused) {
    BOOST_TEST(usage_error_of({"--trace-json=", "h.test:1"}) == "--trace-json needs a file name");
    BOOST_TEST(usage_error_of({"--svg", "", "h.test:1"}) == "--svg needs a file name");
    BOOST_TEST(usage_error_of({"--cafile=", "h.test:1"}) == "--cafile needs a file name");
}

BOOST_AUTO_TEST_CASE(trace_json_and_svg_must_name_two_files_however_spelled) {
    BOOST_TEST(usage_error_of({"--trace-json", "same.out", "--svg", "./same.out", "h.test:1"}) ==
               "--trace-json and --svg name the same file: 'same.out' and './same.out'");
    BOOST_TEST(usage_error_of({"--trace-json", "same.out", "--svg", "same.out", "--demo"}) ==
               "--trace-json and --svg name the same file: 'same.out' and 'same.out'");
    BOOST_TEST(parse({"--trace-json", "a.out", "--svg", "b.out", "h.test:1"}).svg_path == "b.out");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(numbers, proxy_environment)

BOOST_AUTO_TEST_CASE(count_takes_1_to_1000) {
    BOOST_TEST(parse({"--count", "1", "h.test:1"}).count == 1u);
    BOOST_TEST(parse({"--count", "1000", "h.test:1"}).count == 1000u);
    BOOST_TEST(nettrace::tool::max_count == 1000u);
}

BOOST_AUTO_TEST_CASE(count_outside_its_bounds_names_them) {
    BOOST_TEST(usage_error_of({"--count", "0", "h.test:1"}) == "--count: 0 is out of range (1 to 1000)");
    BOOST_TEST(usage_error_of({"--count", "1001", "h.test:1"}) == "--count: 1001 is out of range (1 to 1000)");
    // Past unsigned long long too: still out of range, not "not a number".
    BOOST_TEST(usage_error_of({"--count", "99999999999999999999999", "h.test:1"}) ==
               "--count: 99999999999999999999999 is out of range (1 to 1000)");
}

BOOST_AUTO_TEST_CASE(count_must_be_a_whole_number) {
    BOOST_TEST(usage_error_of({"--count", "ten", "h.test:1"}) == "--count: 'ten' is not a whole number");
    BOOST_TEST(usage_error_of({"--count", "-1", "h.test:1"}) == "--count: '-1' is not a whole number");
    BOOST_TEST(usage_error_of({"--count", "5x", "h.test:1"}) == "--count: '5x' is not a whole number");
    BOOST_TEST(usage_error_of({"--count=", "h.test:1"}) == "--count: '' is not a whole number");
}

BOOST_AUTO_TEST_CASE(repeat_takes_1_to_1000_and_excludes_count) {
    const auto cl = parse({"--repeat", "3", "h.test:1"});
    BOOST_TEST(cl.repeat == 3u);
    BOOST_TEST(cl.count == 1u);
    BOOST_TEST(parse({"--repeat=1000", "h.test:1"}).repeat == 1000u);
    BOOST_TEST(parse({"h.test:1"}).repeat == 1u);
    BOOST_TEST(usage_error_of({"--repeat", "0", "h.test:1"}) == "--repeat: 0 is out of range (1 to 1000)");
    BOOST_TEST(usage_error_of({"--repeat", "1001", "h.test:1"}) == "--repeat: 1001 is out of range (1 to 1000)");
    BOOST_TEST(usage_error_of({"--repeat", "two", "h.test:1"}) == "--repeat: 'two' is not a whole number");
    BOOST_TEST(usage_error_of({"h.test:1", "--repeat"}) == "--repeat needs a value");
    // Even at 1 each: the run is either at once or in turn.
    for (const auto& args : {std::initializer_list<std::string_view>{"--count", "2", "--repeat", "2", "h.test:1"},
                             std::initializer_list<std::string_view>{"--repeat", "1", "--count", "1", "h.test:1"}})
        BOOST_TEST(usage_error_of(args) == "--count (at once) and --repeat (one after another) exclude one another");
}

BOOST_AUTO_TEST_CASE(millisecond_options_take_0_to_one_day) {
    const auto cl = parse({"--timeout", "86400000", "--attempt-delay", "0", "--resolution-delay", "75", "h.test:1"});
    BOOST_TEST(cl.options.timeout == 86400000ms);
    BOOST_TEST(cl.options.attempt_delay == 0ms);
    BOOST_TEST(cl.options.resolution_delay == 75ms);
    BOOST_TEST(usage_error_of({"--timeout", "86400001", "h.test:1"}) ==
               "--timeout: 86400001 is out of range (0 to 86400000)");
    BOOST_TEST(usage_error_of({"--attempt-delay", "abc", "h.test:1"}) ==
               "--attempt-delay: 'abc' is not a whole number");
}

BOOST_AUTO_TEST_CASE(racing_options_set_the_dial_options) {
    const auto cl = parse({"--first-family-count", "2", "--max-attempts", "3", "--no-race", "h.test:1"});
    BOOST_TEST(cl.options.first_family_count == 2u);
    BOOST_TEST(cl.options.max_concurrent_attempts == 3u);
    BOOST_TEST(!cl.options.race);
    BOOST_TEST(usage_error_of({"--first-family-count", "0", "h.test:1"}) ==
               "--first-family-count: 0 is out of range (1 to 1000)");
    BOOST_TEST(parse({"--max-attempts", "0", "h.test:1"}).options.max_concurrent_attempts == 0u);
    BOOST_TEST(usage_error_of({"--max-attempts", "1001", "h.test:1"}) ==
               "--max-attempts: 1001 is out of range (0 to 1000)");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(families, proxy_environment)

BOOST_AUTO_TEST_CASE(each_family_option_sets_the_preference) {
    BOOST_TEST((parse({"-4", "h.test:1"}).options.preference == family_preference::ipv4_only));
    BOOST_TEST((parse({"-6", "h.test:1"}).options.preference == family_preference::ipv6_only));
    BOOST_TEST((parse({"--prefer-ipv4", "h.test:1"}).options.preference == family_preference::prefer_ipv4));
}

BOOST_AUTO_TEST_CASE(family_options_exclude_one_another_even_when_repeated) {
    const std::string says = "-4, -6 and --prefer-ipv4 exclude one another";
    BOOST_TEST(usage_error_of({"-4", "-6", "h.test:1"}) == says);
    BOOST_TEST(usage_error_of({"-6", "--prefer-ipv4", "h.test:1"}) == says);
    BOOST_TEST(usage_error_of({"--prefer-ipv4", "-4", "h.test:1"}) == says);
    BOOST_TEST(usage_error_of({"-4", "-4", "h.test:1"}) == says);
}

BOOST_AUTO_TEST_CASE(a_family_option_must_agree_with_the_network) {
    BOOST_TEST(usage_error_of({"-4", "tcp6", "h.test:1"}) == "-4 and network tcp6 exclude one another");
    BOOST_TEST(usage_error_of({"-6", "tcp4", "h.test:1"}) == "-6 and network tcp4 exclude one another");
    BOOST_TEST(parse({"-4", "tcp4", "h.test:1"}).network == "tcp4");
    BOOST_TEST(parse({"--prefer-ipv4", "tcp6", "h.test:1"}).network == "tcp6");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(resolution, proxy_environment)

BOOST_AUTO_TEST_CASE(resolve_pins_accumulate_in_order) {
    const auto cl = parse({"--resolve", "a.test:1:127.0.0.1", "--resolve=b.test:2:[::1],127.0.0.2", "a.test:1"});
    BOOST_TEST_REQUIRE(cl.pins.size() == 2u);
    BOOST_TEST(cl.pins[0].host == "a.test");
    BOOST_TEST(cl.pins[1].port == 2);
    BOOST_TEST(cl.pins[1].addrs.size() == 2u);
    BOOST_TEST(starts_with(usage_error_of({"--resolve", "bad", "a.test:1"}), "--resolve 'bad': "));
}

BOOST_AUTO_TEST_CASE(resolver_names_one_of_three_kinds) {
    const auto cl = parse({"--resolver", "static", "h.test:1"});
    BOOST_TEST((cl.resolver == resolver_kind::static_only));
    BOOST_TEST(cl.resolver_given);
    BOOST_TEST((parse({"--resolver=system", "h.test:1"}).resolver == resolver_kind::system));
    BOOST_TEST(usage_error_of({"--resolver", "bogus", "h.test:1"}) ==
               "--resolver: 'bogus' is not 'dns', 'system' or 'static'");
    BOOST_TEST(!parse({"h.test:1"}).resolver_given);
}

BOOST_AUTO_TEST_CASE(dns_and_nameserver_need_c_ares) {
    if (nettrace::dns_resolver_available()) {
        BOOST_TEST((parse({"--resolver", "dns", "h.test:1"}).resolver == resolver_kind::dns));
        const auto cl = parse({"--resolver", "system", "--nameserver", "127.0.0.1:5353", "h.test:1"});
        BOOST_TEST((cl.resolver == resolver_kind::dns));  // --nameserver implies --resolver dns
        BOOST_TEST(cl.resolver_given);
        BOOST_TEST(cl.dns.nameservers == std::vector<std::string>{"127.0.0.1:5353"});
    } else {
        BOOST_TEST(usage_error_of({"--resolver", "dns", "h.test:1"}) ==
                   "--resolver dns: this build has no c-ares (meson option cares)");
        BOOST_TEST(usage_error_of({"--nameserver", "127.0.0.1", "h.test:1"}) ==
                   "--nameserver: this build has no c-ares (meson option cares)");
    }
}

BOOST_AUTO_TEST_CASE(no_hosts_turns_the_hosts_file_off) {
    BOOST_TEST(parse({"h.test:1"}).dns.use_hosts_file);
    BOOST_TEST(!parse({"--no-hosts", "h.test:1"}).dns.use_hosts_file);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(demo, proxy_environment)

BOOST_AUTO_TEST_CASE(demo_takes_no_address) {
    const auto cl = parse({"--demo", "--json", "--count", "3", "--no-race", "--timeout", "900"});
    BOOST_TEST(cl.demo);
    BOOST_TEST(cl.address.empty());
    BOOST_TEST(cl.count == 3u);
    BOOST_TEST(usage_error_of({"--demo", "h.test:1"}) == "--demo dials its own address; drop 'h.test:1'");
    BOOST_TEST(usage_error_of({"tcp", "--demo"}) == "--demo dials its own address; drop 'tcp'");
}

BOOST_AUTO_TEST_CASE(demo_refuses_every_tls_option) {
    const std::string says = "--demo races plain TCP peers; the TLS options do not apply";
    for (const auto& option : {"--tls", "--insecure", "--no-tls-race", "--alpn=h2", "--sni=x.test", "--cafile=ca.pem"})
        BOOST_TEST(usage_error_of({"--demo", option}) == says, option);
}

BOOST_AUTO_TEST_CASE(demo_refuses_resolve_and_resolver) {
    const std::string says = "--demo pins dual.test itself; --resolve and --resolver do not apply";
    BOOST_TEST(usage_error_of({"--demo", "--resolve", "a.test:1:127.0.0.1"}) == says);
    BOOST_TEST(usage_error_of({"--demo", "--resolver", "static"}) == says);
}

BOOST_AUTO_TEST_CASE(demo_refuses_proxy_but_not_noproxy) {
    BOOST_TEST(usage_error_of({"--demo", "--proxy", "http://p.test:3128"}) ==
               "--demo races its own loopback peers; --proxy does not apply");
    BOOST_TEST(parse({"--demo", "--noproxy", "*"}).demo);
}

BOOST_AUTO_TEST_CASE(demo_does_not_read_the_proxy_environment) {
    set("http_proxy", "bad://p.test");
    set("no_proxy", "a.test");
    const auto cl = parse({"--demo"});
    BOOST_TEST(!cl.options.proxy.http);
    BOOST_TEST(cl.options.proxy.no_proxy.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(tls, proxy_environment)

BOOST_AUTO_TEST_CASE(tls_keeps_the_library_defaults) {
    const auto cl = parse({"--tls", "h.test:443"});
    BOOST_TEST(cl.tls);
    BOOST_TEST(cl.cafile.empty());
    BOOST_TEST(cl.tls_options.verify_peer);
    BOOST_TEST(cl.tls_options.race);
    BOOST_TEST(cl.tls_options.alpn.empty());
    BOOST_TEST(cl.tls_options.server_name.empty());
    BOOST_TEST(usage_error_of({"--tls=1", "h.test:443"}) == "--tls takes no value");
}

BOOST_AUTO_TEST_CASE(every_tls_option_implies_tls) {
    for (const auto& option : {"--insecure", "--no-tls-race", "--alpn=h2", "--sni=x.test", "--cafile=ca.pem"})
        BOOST_TEST(parse({option, "h.test:443"}).tls, option);
    BOOST_TEST(!parse({"h.test:443"}).tls);
}

BOOST_AUTO_TEST_CASE(tls_options_set_what_they_name) {
    const auto cl = parse({"--cafile", "ca.pem", "--insecure", "--sni", "name.test", "--no-tls-race", "h.test:443"});
    BOOST_TEST(cl.cafile == "ca.pem");  // read when the dial starts, not here
    BOOST_TEST(!cl.tls_options.verify_peer);
    BOOST_TEST(cl.tls_options.server_name == "name.test");
    BOOST_TEST(!cl.tls_options.race);
    BOOST_TEST(usage_error_of({"--sni=", "h.test:443"}) == "--sni needs a name");
}

BOOST_AUTO_TEST_CASE(alpn_is_a_comma_separated_list_and_the_last_one_given_wins) {
    BOOST_TEST(parse({"--alpn", "h2,http/1.1", "h.test:443"}).tls_options.alpn ==
               (std::vector<std::string>{"h2", "http/1.1"}));
    BOOST_TEST(parse({"--alpn", "h2", "--alpn", "http/1.1", "h.test:443"}).tls_options.alpn ==
               std::vector<std::string>{"http/1.1"});
    const std::string longest(255, 'x');
    BOOST_TEST(parse({"--alpn", longest, "h.test:443"}).tls_options.alpn == std::vector<std::string>{longest});
}

BOOST_AUTO_TEST_CASE(alpn_refuses_an_empty_or_over_long_protocol) {
    BOOST_TEST(usage_error_of({"--alpn", "h2,,x", "h.test:443"}) ==
               "--alpn: 'h2,,x' has an empty or over-long protocol");
    BOOST_TEST(usage_error_of({"--alpn", "h2,", "h.test:443"}) == "--alpn: 'h2,' has an empty or over-long protocol");
    BOOST_TEST(usage_error_of({"--alpn=", "h.test:443"}) == "--alpn: '' has an empty or over-long protocol");
    const std::string too_long(256, 'x');
    BOOST_TEST(usage_error_of({"--alpn", too_long, "h.test:443"}) ==
               "--alpn: '" + too_long + "' has an empty or over-long protocol");
}

BOOST_AUTO_TEST_SUITE_END()

// curl's order: --proxy, else the environment's proxies; --noproxy, else
// no_proxy. The choice among http, https and all is the library's
// (proxy_settings_test.cpp).
BOOST_FIXTURE_TEST_SUITE(proxies, proxy_environment)

BOOST_AUTO_TEST_CASE(no_proxy_anywhere_dials_directly) {
    const auto cl = parse({"h.test:1"});
    const auto& p = cl.options.proxy;
    BOOST_TEST(!p.http);
    BOOST_TEST(!p.https);
    BOOST_TEST(!p.all);
    BOOST_TEST(p.no_proxy.empty());
}

BOOST_AUTO_TEST_CASE(without_options_the_environment_decides) {
    set("http_proxy", "http://plain.test:3128");
    set("HTTPS_PROXY", "http://secure.test:3129");
    set("ALL_PROXY", "socks5h://any.test");
    set("NO_PROXY", "direct.test");
    const auto cl = parse({"h.test:1"});
    const auto& p = cl.options.proxy;
    BOOST_TEST((p.http == nettrace::proxy("http://plain.test:3128")));
    BOOST_TEST((p.https == nettrace::proxy("http://secure.test:3129")));
    BOOST_TEST((p.all == nettrace::proxy("socks5h://any.test")));
    BOOST_TEST(p.no_proxy == "direct.test");
}

BOOST_AUTO_TEST_CASE(proxy_option_replaces_every_environment_proxy_and_keeps_no_proxy) {
    set("http_proxy", "http://plain.test:3128");
    set("https_proxy", "http://secure.test:3129");
    set("all_proxy", "http://any.test");
    set("no_proxy", "direct.test");
    const auto cl = parse({"--proxy", "socks5://cli.test:1081", "h.test:1"});
    BOOST_TEST((cl.proxy == std::optional<std::string>("socks5://cli.test:1081")));
    const auto& p = cl.options.proxy;
    BOOST_TEST((p.all == nettrace::proxy("socks5://cli.test:1081")));
    BOOST_TEST(!p.http);
    BOOST_TEST(!p.https);
    BOOST_TEST(p.no_proxy == "direct.test");
}

BOOST_AUTO_TEST_CASE(noproxy_option_replaces_no_proxy_and_keeps_the_environment_proxies) {
    set("https_proxy", "http://secure.test:3129");
    set("no_proxy", "direct.test");
    const auto cl = parse({"--noproxy", "other.test,10.0.0.0/8", "h.test:1"});
    const auto& p = cl.options.proxy;
    BOOST_TEST((p.https == nettrace::proxy("http://secure.test:3129")));
    BOOST_TEST(p.no_proxy == "other.test,10.0.0.0/8");
}

BOOST_AUTO_TEST_CASE(an_empty_noproxy_clears_the_environment_list) {
    set("NO_PROXY", "direct.test");
    BOOST_TEST(parse({"--noproxy=", "h.test:1"}).options.proxy.no_proxy.empty());
}

BOOST_AUTO_TEST_CASE(proxy_and_noproxy_together_ignore_the_environment) {
    set("http_proxy", "http://plain.test:3128");
    set("no_proxy", "direct.test");
    const auto cl = parse({"--proxy", "http://cli.test:8080", "--noproxy", "*", "h.test:1"});
    const auto& p = cl.options.proxy;
    BOOST_TEST((p.all == nettrace::proxy("http://cli.test:8080")));
    BOOST_TEST(!p.http);
    BOOST_TEST(p.no_proxy == "*");
}

BOOST_AUTO_TEST_CASE(a_malformed_proxy_option_is_a_usage_error_naming_the_option) {
    const auto says = usage_error_of({"--proxy", "ftp://p.test", "h.test:1"});
    BOOST_TEST(starts_with(says, "--proxy: "));
    BOOST_TEST(says.find("ftp") != std::string::npos, says);
}

BOOST_AUTO_TEST_CASE(a_malformed_environment_proxy_is_a_usage_error_naming_the_variable) {
    set("https_proxy", "http://a b");
    const auto says = usage_error_of({"h.test:1"});
    BOOST_TEST(starts_with(says, "https_proxy: "));
}

// --proxy makes the environment's proxies irrelevant, so a bad one there is
// only warned about (on stderr); no_proxy, read in the same pass, is lost
// with it unless --noproxy gives the list.
BOOST_AUTO_TEST_CASE(proxy_option_survives_a_malformed_environment_proxy) {
    set("http_proxy", "bad://p.test");
    set("no_proxy", "direct.test");
    const auto cl = parse({"--proxy", "http://cli.test:8080", "h.test:1"});
    BOOST_TEST((cl.options.proxy.all == nettrace::proxy("http://cli.test:8080")));
    BOOST_TEST(cl.options.proxy.no_proxy.empty());
    BOOST_TEST(parse({"--proxy", "http://cli.test:8080", "--noproxy", "x.test", "h.test:1"}).options.proxy.no_proxy ==
               "x.test");
}

BOOST_AUTO_TEST_SUITE_END()
