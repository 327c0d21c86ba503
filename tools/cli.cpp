// nettrace-dial's command line (cli.hpp): the usage text, the parser and the
// resolver a command line asks for.
#include "cli.hpp"

#include "text.hpp"

#include <nettrace/proxy.hpp>

#include <boost/system/system_error.hpp>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <utility>

namespace nettrace::tool {

const std::string_view usage_text = R"(usage: nettrace-dial [options] [NETWORK] ADDRESS
       nettrace-dial --demo [options]

Resolves ADDRESS and connects to it, racing its addresses with RFC 8305
Happy Eyeballs, and shows every DNS answer and connect attempt on a timeline.

  NETWORK   tcp (default), tcp4, tcp6 or unix
  ADDRESS   host:port, [ipv6]:port or [ipv6%zone]:port (port: number or service);
            for unix, the socket's path or @name (Linux's abstract namespace),
            which takes no TLS, resolver, proxy or family option

Racing:
  --attempt-delay MS       start the next attempt after MS (default 250, min 10)
  --resolution-delay MS    with only the A answer in, wait MS for AAAA (default 50)
  --first-family-count N   preferred-family addresses tried first (default 1)
  --max-attempts N         at most N attempts in flight (default 0: no cap)
  --no-race                one attempt at a time; the next starts on failure
  --timeout MS             give up after MS (default 0: never)
  -4, -6                   IPv4 only, IPv6 only
  --prefer-ipv4            try IPv4 before IPv6

Resolution:
  --resolve HOST:PORT:ADDR[,ADDR...]
                           pin HOST:PORT to these addresses, in this order, as
                           curl does (IPv6 in brackets: [::1]); repeatable
  --resolver dns|system|static
                           dns: pins, then c-ares (default when built with it)
                           system: pins, then getaddrinfo
                           static: pins only, no DNS at all
  --nameserver HOST[:PORT] ask this DNS server (repeatable); implies --resolver
                           dns and ignores /etc/resolv.conf
  --no-hosts               do not answer names from /etc/hosts
  --https-records auto|on|off
                           look up the host's HTTPS records (RFC 9460) and
                           dial their ports and hints first; auto (default):
                           with --tls only
  --nat64 auto|off|PREFIX  on a host without a route to an IPv4 address, dial
                           it through NAT64 (RFC 6052): auto (default) finds
                           the prefix by asking for ipv4only.arpa (RFC 7050);
                           PREFIX such as 64:ff9b::/96; off never synthesizes

TLS (dial_tls: each attempt's handshake is part of the race):
  --tls                    handshake after connecting; the first attempt whose
                           handshake completes wins
  --cafile FILE            trust the certificates in FILE (PEM) instead of the
                           system's store
  --insecure               do not verify the certificate or its name
  --alpn LIST              offer these ALPN protocols, comma-separated (h2,http/1.1)
  --sni NAME               send and verify NAME instead of ADDRESS's host
  --no-tls-race            decide the race at TCP connect and handshake on the
                           winner only (the old behaviour)

Proxies (as curl; the environment's https_proxy, http_proxy, all_proxy and
no_proxy apply unless --proxy or --noproxy say otherwise):
  --proxy URL              dial through this proxy: http://[user:pass@]host:port
                           (HTTP CONNECT), socks5://... (the target resolved
                           here) or socks5h://... (resolved by the proxy);
                           the default port is 1080
  --noproxy LIST           dial these hosts directly (comma-separated names,
                           domains, addresses, CIDR blocks; '*': every host),
                           instead of no_proxy's list

Output and runs:
  --json                   one JSON object per event on stdout
  --trace-json FILE        when the dials are over, write them to FILE in the
                           Chrome trace-event format (open in ui.perfetto.dev
                           or chrome://tracing)
  --svg FILE               when the dials are over, write them to FILE as an
                           SVG waterfall
  --count N                N concurrent dials of ADDRESS in one process
                           (1 to 1000: more would be a SYN flood, not a
                           measurement)
  --repeat N               N dials of ADDRESS one after another through the same
                           dialer (1 to 1000; excludes --count)
  --no-history             do not let the run's dials learn from one another
                           (by default a dial starts with the endpoints that
                           worked before and after those that failed)
  --demo                   race a black-holed [::1] against a live 127.0.0.1,
                           both on loopback (needs no network)
  -h, --help               show this help
  --version                show nettrace-dial's version

Exit status: 0 when every dial connected, 1 when one failed or FILE could not be
written, 2 for bad usage.
)";

namespace {

constexpr unsigned long long max_ms = 24ULL * 3600 * 1000;

// Whether two spellings name one file: the same inode when both exist
// (hard links, symlinks), else the same path once made absolute and with
// ".", ".." and the symlinks of its existing part resolved ("out", "./out").
bool same_file(const std::string& a, const std::string& b) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::equivalent(a, b, ec) && !ec) return true;
    // Absolute first: of a relative path none of whose parts exists,
    // weakly_canonical keeps it relative ("out" vs "/cwd/out").
    const auto ca = fs::weakly_canonical(fs::absolute(a, ec), ec);
    if (ec) return a == b;
    const auto cb = fs::weakly_canonical(fs::absolute(b, ec), ec);
    if (ec) return a == b;
    return ca == cb;
}

unsigned long long parse_number(std::string_view option, std::string_view text, unsigned long long min,
                                unsigned long long max) {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
        throw usage_error(std::string(option) + ": " + quoted(text) + " is not a whole number");
    if (ec == std::errc::result_out_of_range || value < min || value > max)
        throw usage_error(std::string(option) + ": " + std::string(text) + " is out of range (" + std::to_string(min) +
                          " to " + std::to_string(max) + ")");
    return value;
}

std::chrono::milliseconds parse_ms(std::string_view option, std::string_view text) {
    return std::chrono::milliseconds(parse_number(option, text, 0, max_ms));
}

// The library's static table knows hosts, not ports; curl's pins are per
// HOST:PORT. As one run dials one HOST:PORT, applying only the pins for that
// port gives curl's behaviour.
bool pin_applies(const pin& p, const nettrace::host_port& target) {
    const auto bare = [](std::string_view h) {
        if (!h.empty() && h.back() == '.') h.remove_suffix(1);
        return lowercase(h);
    };
    return !target.ip && p.port == target.port && bare(p.host) == bare(target.host);
}

}  // namespace

command_line parse_command_line(std::span<const std::string_view> args) {
    command_line cl;
    std::vector<std::string_view> positional;
    bool only_positional = false;
    int families = 0;  // -4, -6 and --prefer-ipv4 each set the preference
    bool count_given = false, repeat_given = false;

    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (only_positional || arg.size() < 2 || arg.front() != '-') {
            positional.push_back(arg);
            continue;
        }
        if (arg == "--") {
            only_positional = true;
            continue;
        }
        std::string_view name = arg;
        std::optional<std::string_view> attached;  // --option=value
        if (arg.starts_with("--"))
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                name = arg.substr(0, eq);
                attached = arg.substr(eq + 1);
            }
        const std::string option(name);
        const auto value = [&]() -> std::string_view {
            if (attached) return *attached;
            if (i + 1 >= args.size()) throw usage_error(option + " needs a value");
            return args[++i];
        };
        const auto flag = [&] {
            if (attached) throw usage_error(option + " takes no value");
        };
        auto& o = cl.options;

        if (name == "-h" || name == "--help") {
            cl.help = true;
            return cl;
        } else if (name == "--version") {
            flag();
            cl.version = true;
            return cl;
        } else if (name == "--json") {
            flag();
            cl.format = output_format::json;
        } else if (name == "--trace-json") {
            cl.trace_json_path = value();
            if (cl.trace_json_path.empty()) throw usage_error("--trace-json needs a file name");
        } else if (name == "--svg") {
            cl.svg_path = value();
            if (cl.svg_path.empty()) throw usage_error("--svg needs a file name");
        } else if (name == "--demo") {
            flag();
            cl.demo = true;
        } else if (name == "--timeout") {
            o.timeout = parse_ms(name, value());
        } else if (name == "--attempt-delay") {
            o.attempt_delay = parse_ms(name, value());
        } else if (name == "--resolution-delay") {
            o.resolution_delay = parse_ms(name, value());
        } else if (name == "--no-race") {
            flag();
            o.race = false;
        } else if (name == "--first-family-count") {
            o.first_family_count = static_cast<unsigned>(parse_number(name, value(), 1, 1000));
        } else if (name == "--max-attempts") {
            o.max_concurrent_attempts = static_cast<unsigned>(parse_number(name, value(), 0, 1000));
        } else if (name == "--resolve") {
            cl.pins.push_back(parse_resolve(value()));
        } else if (name == "--resolver") {
            const auto kind = value();
            if (kind == "dns")
                cl.resolver = resolver_kind::dns;
            else if (kind == "system")
                cl.resolver = resolver_kind::system;
            else if (kind == "static")
                cl.resolver = resolver_kind::static_only;
            else
                throw usage_error("--resolver: " + quoted(kind) + " is not 'dns', 'system' or 'static'");
            if (cl.resolver == resolver_kind::dns && !nettrace::dns_resolver_available())
                throw usage_error("--resolver dns: this build has no c-ares (meson option cares)");
            cl.resolver_given = true;
        } else if (name == "--nameserver") {
            cl.dns.nameservers.emplace_back(value());
            if (!nettrace::dns_resolver_available())
                throw usage_error("--nameserver: this build has no c-ares (meson option cares)");
            cl.resolver = resolver_kind::dns;
            cl.resolver_given = true;
        } else if (name == "--no-hosts") {
            flag();
            cl.dns.use_hosts_file = false;
        } else if (name == "--https-records") {
            const auto v = value();
            if (v == "auto")
                o.https_records = nettrace::https_records_mode::tls_only;
            else if (v == "on")
                o.https_records = nettrace::https_records_mode::always;
            else if (v == "off")
                o.https_records = nettrace::https_records_mode::never;
            else
                throw usage_error("--https-records takes auto, on or off, not " + quoted(v));
        } else if (name == "--nat64") {
            const auto v = value();
            if (v == "auto") {
                o.nat64.mode = nettrace::nat64_mode::automatic;
            } else if (v == "off") {
                o.nat64.mode = nettrace::nat64_mode::off;
            } else {
                boost::system::error_code ec;
                const auto prefix = nettrace::parse_nat64_prefix(v, ec);
                if (!prefix) throw usage_error("--nat64: " + quoted(v) + ": " + ec.message());
                o.nat64 = {.mode = nettrace::nat64_mode::fixed, .prefix = *prefix};
            }
        } else if (name == "--no-history") {
            flag();
            cl.history = false;
        } else if (name == "--tls") {
            flag();
            cl.tls = true;
        } else if (name == "--cafile") {
            cl.cafile = value();
            if (cl.cafile.empty()) throw usage_error("--cafile needs a file name");
            cl.tls = true;
        } else if (name == "--insecure") {
            flag();
            cl.tls_options.verify_peer = false;
            cl.tls = true;
        } else if (name == "--alpn") {
            const std::string list(value());
            cl.tls_options.alpn.clear();
            for (std::size_t start = 0;;) {
                const auto comma = list.find(',', start);
                const auto id = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                if (id.empty() || id.size() > 255)
                    throw usage_error("--alpn: " + quoted(std::string_view(list)) +
                                      " has an empty or over-long protocol");
                cl.tls_options.alpn.push_back(id);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
            cl.tls = true;
        } else if (name == "--sni") {
            cl.tls_options.server_name = value();
            if (cl.tls_options.server_name.empty()) throw usage_error("--sni needs a name");
            cl.tls = true;
        } else if (name == "--no-tls-race") {
            flag();
            cl.tls_options.race = false;
            cl.tls = true;
        } else if (name == "--proxy") {
            cl.proxy = std::string(value());
        } else if (name == "--noproxy") {
            cl.no_proxy = std::string(value());
        } else if (name == "--count") {
            cl.count = static_cast<unsigned>(parse_number(name, value(), 1, max_count));
            count_given = true;
        } else if (name == "--repeat") {
            cl.repeat = static_cast<unsigned>(parse_number(name, value(), 1, max_count));
            repeat_given = true;
        } else if (name == "-4") {
            ++families;
            o.preference = nettrace::family_preference::ipv4_only;
        } else if (name == "-6") {
            ++families;
            o.preference = nettrace::family_preference::ipv6_only;
        } else if (name == "--prefer-ipv4") {
            flag();
            ++families;
            o.preference = nettrace::family_preference::prefer_ipv4;
        } else {
            throw usage_error("unknown option " + quoted(arg));
        }
    }

    if (families > 1) throw usage_error("-4, -6 and --prefer-ipv4 exclude one another");
    if (count_given && repeat_given)
        throw usage_error("--count (at once) and --repeat (one after another) exclude one another");
    if (!cl.svg_path.empty() && !cl.trace_json_path.empty() && same_file(cl.svg_path, cl.trace_json_path))
        throw usage_error("--trace-json and --svg name the same file: " + quoted(std::string_view(cl.trace_json_path)) +
                          " and " + quoted(std::string_view(cl.svg_path)));

    if (cl.demo) {
        if (!positional.empty()) throw usage_error("--demo dials its own address; drop " + quoted(positional[0]));
        if (cl.tls) throw usage_error("--demo races plain TCP peers; the TLS options do not apply");
        if (!cl.pins.empty() || cl.resolver_given)
            throw usage_error("--demo pins dual.test itself; --resolve and --resolver do not apply");
        if (cl.proxy) throw usage_error("--demo races its own loopback peers; --proxy does not apply");
        return cl;
    }

    boost::system::error_code ec;
    if (positional.empty()) throw usage_error("missing ADDRESS (host:port)");
    if (positional.size() > 2) throw usage_error("too many arguments from " + quoted(positional[2]));
    if (positional.size() == 1 && positional[0] == "unix") throw usage_error("missing PATH after network 'unix'");
    if (positional.size() == 1 && nettrace::parse_network(positional[0], ec))
        throw usage_error("missing ADDRESS after network " + quoted(positional[0]));
    if (positional.size() == 2) cl.network = positional[0];
    cl.address = positional.back();

    // dial_unix: a path, no name to resolve, no proxy, no TLS. A path it
    // would refuse (empty, too long) is left to the dial, which says why.
    if (cl.network == "unix") {
        if (cl.tls) throw usage_error("network unix dials a socket path; the TLS options do not apply");
        if (!cl.pins.empty() || cl.resolver_given || !cl.dns.use_hosts_file)
            throw usage_error(
                "network unix resolves nothing; --resolve, --resolver, --nameserver and "
                "--no-hosts do not apply");
        if (cl.proxy || cl.no_proxy)
            throw usage_error("network unix dials no host; --proxy and --noproxy do not apply");
        if (families) throw usage_error("network unix has no address family; -4, -6 and --prefer-ipv4 do not apply");
        return cl;
    }

    // Bad input would fail the dial before any packet anyway; catching it
    // here makes it a usage error (exit 2) rather than a failed dial.
    const auto net = nettrace::parse_network(cl.network, ec);
    if (!net) throw usage_error("dial " + cl.network + " " + cl.address + ": " + ec.message());
    auto target = nettrace::parse_host_port(cl.address, ec);
    if (!target) throw usage_error("dial " + cl.network + " " + cl.address + ": " + ec.message());
    cl.target = std::move(*target);

    // curl's order: --proxy, else the environment; --noproxy, else no_proxy.
    auto& proxies = cl.options.proxy;
    if (cl.proxy) {
        try {
            proxies = nettrace::proxy_settings(nettrace::proxy(*cl.proxy));
        } catch (const boost::system::system_error& e) {
            throw usage_error(std::string("--proxy: ") + e.what());
        }
        try {
            proxies.no_proxy = nettrace::proxy_settings::from_environment().no_proxy;
        } catch (const boost::system::system_error& e) {
            // --proxy replaces the environment's proxies: a bad one there
            // does not matter, but no_proxy cannot be read past it.
            std::cerr << program << ": warning: no_proxy not read: " << e.what() << "\n";
        }
    } else {
        try {
            proxies = nettrace::proxy_settings::from_environment();
        } catch (const boost::system::system_error& e) {
            throw usage_error(e.what());
        }
    }
    if (cl.no_proxy) proxies.no_proxy = *cl.no_proxy;

    const auto pref = cl.options.preference;
    if ((*net == nettrace::network::tcp6 && pref == nettrace::family_preference::ipv4_only) ||
        (*net == nettrace::network::tcp4 && pref == nettrace::family_preference::ipv6_only))
        throw usage_error(std::string(pref == nettrace::family_preference::ipv4_only ? "-4" : "-6") + " and network " +
                          cl.network + " exclude one another");
    return cl;
}

std::shared_ptr<nettrace::resolver> make_resolver(const command_line& cl) {
    std::vector<std::pair<std::string, std::vector<boost::asio::ip::address>>> table;
    for (const auto& p : cl.pins) {
        if (pin_applies(p, cl.target))
            table.emplace_back(p.host, p.addrs);
        else
            std::cerr << program << ": warning: --resolve " << p.spec << " does not match " << cl.address
                      << "; ignored\n";
    }
    std::shared_ptr<nettrace::resolver> names;  // for hosts without a pin
    if (cl.resolver == resolver_kind::dns) {
        try {
            names = nettrace::make_dns_resolver(cl.dns);
        } catch (const boost::system::system_error& e) {
            throw usage_error(e.what());  // a --nameserver that is not an IP address
        }
    } else if (cl.resolver == resolver_kind::system) {
        names = nettrace::make_system_resolver();
    }
    if (table.empty() && names) return names;
    return nettrace::make_static_resolver(std::move(table), names);
}

}  // namespace nettrace::tool
